using System.Collections;
using System.Reflection;
using System.Text;
using System.Text.Json;
using Azure.Storage.Blobs;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Microsoft.Extensions.DependencyInjection;
using MLOps.Core.Ports;
using MLOps.Core.Registry;
using MLOps.Functions.Activities;
using MLOps.Functions.Triggers;
using MLOps.Infrastructure.Storage;
using MLOps.Integration.Tests.Fixtures;
using MLOps.Integration.Tests.Support;
using MLOps.Lifecycle;
using MLOps.Lifecycle.Contracts;
using MLOps.Lifecycle.Handlers;
using MLOps.Lifecycle.Orchestrations;
using MLOps.Local;

namespace MLOps.Integration.Tests.Functions;

/// <summary>State shared by <see cref="FunctionTriggerTests"/>: one host, and one run started through the blob
/// trigger (training happens once for the class).</summary>
public sealed class FunctionTriggerState : IAsyncLifetime
{
    public const string Model = "credit-risk";
    public const string Blob = Model + "/fn-upload.csv";

    private readonly SemaphoreSlim _gate = new(1, 1);
    private string? _runId;

    public SharedLocalHost Shared { get; } = new();

    /// <summary>Uploads a dataset as alice and calls <see cref="DatasetUploadTrigger.Run"/> on it, once; returns
    /// the run id the trigger started (found from the registered dataset).</summary>
    public async Task<string> UploadedRunAsync(LocalHost host)
    {
        await _gate.WaitAsync();
        try
        {
            if (_runId is null)
            {
                await TestHosts.UploadCsvAsync(host.Services, Blob, rows: 6000, seed: 7, author: "alice");
                var trigger = new DatasetUploadTrigger(host.Services.GetRequiredService<DatasetUploadHandler>());
                await trigger.Run(BlobFor(host, Shared.Options.StoragePrefix, Blob), Blob, host.Client, new TestFunctionContext());
                var dataset = Assert.Single(await host.Services.GetRequiredService<IModelRegistry>().ListDatasetsAsync(Model));
                _runId = $"{Model}-{dataset.Sha256[..12]}";
            }

            return _runId;
        }
        finally
        {
            _gate.Release();
        }
    }

    public static BlobClient BlobFor(LocalHost host, string prefix, string name) =>
        new BlobServiceClient(host.StorageConnectionString, new BlobClientOptions(BlobClientOptions.ServiceVersion.V2026_06_06))
            .GetBlobContainerClient(prefix + StorageNames.Datasets).GetBlobClient(name);

    public Task InitializeAsync() => Shared.InitializeAsync();

    public async Task DisposeAsync()
    {
        await Shared.DisposeAsync();
        _gate.Dispose();
    }
}

/// <summary>The Functions app's trigger methods called directly, with the real handlers and durable client of a
/// local host (same lifecycle code, same storage): what the Functions host would do after binding.</summary>
[Collection(AzuriteTestGroup.Name)]
public sealed class FunctionTriggerTests(AzuriteFixture azurite, FunctionTriggerState state) : IClassFixture<FunctionTriggerState>
{
    private Task<LocalHost> HostAsync() => state.Shared.GetAsync(azurite.ConnectionString);

    private static HttpRequest Request(object? body = null, string? rawBody = null, params (string Name, string Value)[] headers)
    {
        var context = new DefaultHttpContext();
        var json = rawBody ?? (body is null ? "" : JsonSerializer.Serialize(body, Json.Options));
        context.Request.Method = "POST";
        context.Request.ContentType = "application/json";
        context.Request.Body = new MemoryStream(Encoding.UTF8.GetBytes(json));
        foreach (var (name, value) in headers)
        {
            context.Request.Headers[name] = value;
        }

        return context.Request;
    }

    /// <summary>The status code and the body as the client would read it (serialized with the app's options).</summary>
    private static (int Status, JsonElement Body) Read(IActionResult action)
    {
        var json = Assert.IsType<JsonResult>(action);
        Assert.NotNull(json.StatusCode);
        return (json.StatusCode.Value, JsonSerializer.SerializeToElement(json.Value, Json.Options));
    }

    [Fact]
    public async Task DatasetUploadTrigger_ValidUpload_StartsRunPinnedToCurrentWorkflow()
    {
        var host = await HostAsync();
        var runId = await state.UploadedRunAsync(host);

        var run = await LifecycleSteps.WaitAsync(host.Client, runId, v => v.Status is not null, "a status");
        Assert.Equal(nameof(LifecycleOrchestrator), run.Name);
        Assert.Equal("alice", run.Input!.Author);
        Assert.Equal(RunTriggers.Upload, run.Input.Trigger);
        Assert.Equal(6000, run.Input.DatasetRows);
        var current = await host.Services.GetRequiredService<IWorkflowStore>().GetCurrentAsync(FunctionTriggerState.Model);
        Assert.Equal(current!.Hash, run.Input.WorkflowHash);

        // The same blob event delivered again (Event Grid delivers at least once) starts nothing new.
        var again = new DatasetUploadTrigger(host.Services.GetRequiredService<DatasetUploadHandler>());
        await again.Run(FunctionTriggerState.BlobFor(host, state.Shared.Options.StoragePrefix, FunctionTriggerState.Blob),
            FunctionTriggerState.Blob, host.Client, new TestFunctionContext());
        var runs = Read(await RunsTriggers.ListRuns(Request(), host.Client));
        Assert.Equal(200, runs.Status);
        Assert.Equal([runId], runs.Body.EnumerateArray().Select(r => r.GetProperty("runId").GetString()));
    }

    [Fact]
    public async Task Approve_ByIdentity_AnswersUnauthorizedForbiddenThenAccepted()
    {
        var host = await HostAsync();
        var runId = await state.UploadedRunAsync(host);
        await LifecycleSteps.WaitForStageAsync(host.Client, runId, RunStages.AwaitingApproval);
        var triggers = new RunsTriggers(host.Services.GetRequiredService<RunsApi>());

        var anonymous = Read(await triggers.Approve(Request(new { comment = "who am I" }), host.Client, runId));
        Assert.Equal(401, anonymous.Status);
        Assert.Contains("identity", anonymous.Body.GetProperty("error").GetString(), StringComparison.Ordinal);

        // The platform header wins over the local one and the body: alice (the author) cannot hide behind them.
        var author = Read(await triggers.Approve(
            Request(new { approver = "bob" }, headers: [(CallerIdentity.PlatformHeader, "ALICE"), (CallerIdentity.LocalHeader, "bob")]), host.Client, runId));
        Assert.Equal(403, author.Status);
        Assert.Contains("author", author.Body.GetProperty("error").GetString(), StringComparison.Ordinal);

        var accepted = Read(await triggers.Approve(
            Request(new { comment = "metrics reviewed" }, headers: [(CallerIdentity.PlatformHeader, "bob@example.com"), (CallerIdentity.LocalHeader, "alice")]), host.Client, runId));
        Assert.Equal(202, accepted.Status);
        Assert.Equal("bob@example.com", accepted.Body.GetProperty("approver").GetString());
        Assert.Equal("approved", accepted.Body.GetProperty("decision").GetString());

        var done = await LifecycleSteps.WaitForEndAsync(host.Client, runId);
        Assert.Equal(RunOutcome.Deployed, done.Result!.Outcome);
        Assert.Equal(["bob@example.com"], done.Result.ApprovedBy);

        // Once decided, the run no longer waits: another decision is a conflict, and GetRun shows the result.
        var late = Read(await triggers.Reject(Request(headers: [(CallerIdentity.PlatformHeader, "carol")]), host.Client, runId));
        Assert.Equal(409, late.Status);
        var view = Read(await RunsTriggers.GetRun(Request(), host.Client, runId));
        Assert.Equal(200, view.Status);
        Assert.Equal("Deployed", view.Body.GetProperty("result").GetProperty("outcome").GetString());
    }

    [Fact]
    public async Task GetRunAndApprove_UnknownRun_Answer404()
    {
        var host = await HostAsync();
        var triggers = new RunsTriggers(host.Services.GetRequiredService<RunsApi>());
        Assert.Equal(404, Read(await RunsTriggers.GetRun(Request(), host.Client, "no-such-run")).Status);
        Assert.Equal(404, Read(await triggers.Approve(Request(headers: [(CallerIdentity.PlatformHeader, "bob")]), host.Client, "no-such-run")).Status);
    }

    [Theory]
    [InlineData("{not json", "the body is not JSON")]
    [InlineData("{\"rows\": 5}", "expected a JSON array of rows")]
    [InlineData("[1, 2]", "row 1 is not a JSON object")]
    [InlineData("{\"rows\": []}", "no rows")]
    public async Task Predict_BadBody_Answers400(string body, string message)
    {
        var host = await HostAsync();
        var triggers = new ModelsTriggers(host.Services.GetRequiredService<ModelsApi>());
        var (status, error) = Read(await triggers.Predict(Request(rawBody: body), "rollback-only"));
        Assert.Equal(400, status);
        Assert.Contains(message, error.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rollback_NothingToRollBackTo_Answers404Or409()
    {
        var host = await HostAsync();
        var triggers = new ModelsTriggers(host.Services.GetRequiredService<ModelsApi>());
        var registry = host.Services.GetRequiredService<IModelRegistry>();
        var caller = (CallerIdentity.PlatformHeader, "carol");

        // No production version at all.
        var none = Read(await triggers.Rollback(Request(new { reason = "bad" }, headers: [caller]), "never-deployed"));
        Assert.Equal(404, none.Status);

        // Production serves version 2; version 1 was rejected: there is nothing approved to go back to.
        const string model = "rollback-only";
        foreach (var (number, status) in new[] { (1, ModelVersionStatus.Rejected), (2, ModelVersionStatus.Approved) })
        {
            var version = await registry.RegisterVersionAsync(new NewModelVersion
            {
                Model = model,
                RunId = $"run-{number}",
                ArtifactUri = $"https://example.invalid/{number}.zip",
                ArtifactSha256 = new string('a', 64),
                DatasetSha256 = new string('b', 64),
                WorkflowHash = "hash",
                Trainer = "fasttree",
                CreatedBy = "alice",
                CreatedAt = DateTimeOffset.UtcNow,
            });
            Assert.Equal(number, version.Version);
            await registry.SetStatusAsync(model, number, status, "bob", "test");
        }

        await registry.SetAliasAsync(model, Aliases.Production, 2, "bob", "deploy", expectedETag: null);
        var nothing = Read(await triggers.Rollback(Request(new { reason = "bad" }, headers: [caller]), model));
        Assert.Equal(409, nothing.Status);
        Assert.Contains("no approved version before 2", nothing.Body.GetProperty("error").GetString(), StringComparison.Ordinal);

        var notApproved = Read(await triggers.Rollback(Request(new { toVersion = 1 }, headers: [caller]), model));
        Assert.Equal(409, notApproved.Status);
        Assert.Contains("not an approved version", notApproved.Body.GetProperty("error").GetString(), StringComparison.Ordinal);

        var anonymous = Read(await triggers.Rollback(Request(new { reason = "bad" }), model));
        Assert.Equal(401, anonymous.Status);
        Assert.Equal(2, (await registry.GetAliasAsync(model, Aliases.Production))!.Version);
    }

    [Fact]
    public void FunctionsApp_DeclaresEveryDurableTaskTheLocalWorkerRegisters()
    {
        var registry = new DurableTaskRegistry().AddLifecycleTasks();
        var activities = RegisteredNames(registry, "Activities");
        var orchestrators = RegisteredNames(registry, "Orchestrators");
        Assert.Contains(nameof(LifecycleOrchestrator), orchestrators);
        Assert.Contains(nameof(MLOps.Lifecycle.Activities.TrainModelActivity), activities);

        var functions = typeof(ActivityFunctions).Assembly.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly))
            .Select(m => (Method: m, Name: m.GetCustomAttribute<FunctionAttribute>()?.Name))
            .Where(f => f.Name is not null)
            .ToList();
        string[] Triggered<TTrigger>()
            where TTrigger : Attribute =>
            functions.Where(f => f.Method.GetParameters().Any(p => p.GetCustomAttribute<TTrigger>() is not null)).Select(f => f.Name!).Order(StringComparer.Ordinal).ToArray();

        // Both ways: nothing the orchestrator calls is missing in Azure, and nothing in Azure is unknown locally.
        Assert.Equal(activities, Triggered<ActivityTriggerAttribute>());
        Assert.Equal(orchestrators, Triggered<OrchestrationTriggerAttribute>());
    }

    private static string[] RegisteredNames(DurableTaskRegistry registry, string property)
    {
        var value = typeof(DurableTaskRegistry).GetProperty(property, BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public)?.GetValue(registry);
        // An internal map of TaskName to factory (its exact type varies between SDK versions): read the keys.
        var entries = Assert.IsAssignableFrom<IEnumerable>(value).Cast<object>().ToList();
        Assert.NotEmpty(entries);
        return entries.Select(e => (TaskName)e.GetType().GetProperty("Key")!.GetValue(e)!).Select(n => n.Name).Order(StringComparer.Ordinal).ToArray();
    }
}

/// <summary>The least a trigger needs from its <see cref="FunctionContext"/>: a cancellation token.</summary>
internal sealed class TestFunctionContext(CancellationToken cancellationToken = default) : FunctionContext
{
    public override string InvocationId { get; } = Guid.NewGuid().ToString();
    public override string FunctionId => "test";
    public override TraceContext TraceContext => throw new NotSupportedException();
    public override BindingContext BindingContext => throw new NotSupportedException();
    public override Microsoft.Azure.Functions.Worker.RetryContext RetryContext => throw new NotSupportedException();
    public override IServiceProvider InstanceServices { get; set; } = new ServiceCollection().BuildServiceProvider();
    public override FunctionDefinition FunctionDefinition => throw new NotSupportedException();
    public override IDictionary<object, object> Items { get; set; } = new Dictionary<object, object>();
    public override IInvocationFeatures Features => throw new NotSupportedException();
    public override CancellationToken CancellationToken { get; } = cancellationToken;
}
