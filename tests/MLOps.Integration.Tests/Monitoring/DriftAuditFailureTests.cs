using MLOps.Cli;
using MLOps.Cli.Commands;
using MLOps.Core.Drift;
using MLOps.Core.Ports;
using MLOps.Core.Registry;
using MLOps.Core.Samples;
using MLOps.Infrastructure.Storage;
using MLOps.Integration.Tests.Fixtures;
using MLOps.Integration.Tests.Support;
using MLOps.Lifecycle.Activities;
using MLOps.Lifecycle.Contracts;
using MLOps.Lifecycle.Services;
using MLOps.Local;

namespace MLOps.Integration.Tests.Monitoring;

/// <summary>
/// How drift audits fail on the local durable engine over Azurite, which keeps only the message of a failed
/// orchestration: bad data (an unreadable capture of the window, a missing reference profile) stops the audit after
/// one attempt of the step that found it and answers 422 naming the problem, the same as on Azure Functions, because
/// the problem travels in the audit's output rather than as an exception type; a storage failure is retried, and
/// recovers. Attempts are counted from the engine's history.
/// </summary>
[Collection(AzuriteTestGroup.Name)]
public sealed class DriftAuditFailureTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private const string Model = "credit-risk";
    private const string ReferencePath = Model + "/runs/failure-tests/reference-profile.json";
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    private readonly PerTestLocalHost _local = new(azurite.ConnectionString);

    private LocalHost Host => _local.Host;

    private T Get<T>() where T : notnull => _local.Get<T>();

    public Task InitializeAsync() => _local.StartAsync();

    public async Task DisposeAsync() => await _local.DisposeAsync();

    /// <summary>A production version with a reference profile and 300 rows of captured traffic (3 requests, one
    /// profile partition) in the hour before now; returns the reference's URI.</summary>
    private async Task<string> ArrangeAsync()
    {
        var workflow = Host.Workflows.Single(w => w.Model == Model);
        var reference = ProfileBuilder.FromRows(CreditRiskData.FeatureRows(1000, seed: 1), workflow.Definition);
        var (version, profileUri) = await TestRegistry.PublishReferenceAsync(Host, workflow, reference, ReferencePath, "failure-tests");
        await TestRegistry.CaptureSampleTrafficAsync(Host, Model, version.Version, "f");
        return profileUri;
    }

    [Fact]
    public async Task HttpAudit_UnreadableCapture_StopsAfterOneProfileAttemptAndAnswers422NamingTheCapture()
    {
        await ArrangeAsync();
        var names = new List<string>();
        await foreach (var name in Get<IInferenceStore>().ListAsync(Model, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow))
        {
            names.Add(name);
        }

        // The second capture of the window is cut off in the middle of its rows.
        var broken = names[1];
        await Get<StorageContext>().Container(StorageNames.Inference).GetBlobClient(broken)
            .UploadAsync(BinaryData.FromString("{\"requestId\":\"f0002\",\"model\":\"credit-risk\",\"rows\":[{\"age\":\"41\"},"), overwrite: true);

        using var api = ApiClient.For(Host.Url);
        var response = await api.PostAsync($"models/{Model}/drift-audits?wait=120", null);

        Assert.Equal(422, response.Status);
        Assert.Contains(broken, response.Error, StringComparison.Ordinal);
        Assert.Contains("line 1", response.Error, StringComparison.Ordinal);
        var detail = response.Body.GetProperty("detail");
        Assert.Equal("failed", detail.GetProperty("status").GetString());
        var problem = detail.GetProperty("problem");
        Assert.Equal(DataProblem.InvalidData, problem.GetProperty("kind").GetString());
        Assert.Equal(nameof(ProfilePartitionActivity), problem.GetProperty("step").GetString());

        // One attempt of the step that found it, and the audit went no further.
        var instanceId = detail.GetProperty("instanceId").GetString()!;
        Assert.Equal(1, await _local.History.AttemptsAsync(instanceId, nameof(ProfilePartitionActivity)));
        Assert.Equal(0, await _local.History.AttemptsAsync(instanceId, nameof(AnalyzeDriftActivity)));
        Assert.Equal(0, await _local.History.FailuresAsync(instanceId));
        Assert.Empty(await Get<IMonitoringStore>().ListAuditsAsync(Model));

        // The status route and the CLI following it say the same.
        var followed = await DriftAudits.FollowAsync(api, Model, instanceId, Timeout);
        Assert.Equal(422, followed.Status);
        Assert.Contains(broken, followed.Body.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task WaitAsync_MissingReferenceProfile_StopsAfterOneAnalyzeAttemptWithInvalidData()
    {
        var referenceUri = await ArrangeAsync();
        await TestRegistry.DeleteReferenceAsync(Host, referenceUri);
        var service = Get<DriftAuditService>();

        var instanceId = await service.StartAsync(Host.Client, Model, DateTimeOffset.UtcNow, "request");
        var error = await Assert.ThrowsAsync<InvalidDataException>(() => DriftAuditService.WaitAsync(Host.Client, instanceId, Timeout));

        Assert.Contains(referenceUri, error.Message, StringComparison.Ordinal);
        Assert.Equal(1, await _local.History.AttemptsAsync(instanceId, nameof(AnalyzeDriftActivity)));
        Assert.Equal(1, await _local.History.AttemptsAsync(instanceId, nameof(ProfilePartitionActivity)));
        var status = await service.GetStatusAsync(Host.Client, Model, instanceId);
        Assert.Equal(DriftAuditStatus.Failed, status!.Status);
        Assert.Equal(nameof(AnalyzeDriftActivity), status.Problem!.Step);
        Assert.Contains("reference profile", status.Error, StringComparison.Ordinal);
        Assert.Equal(typeof(InvalidDataException).FullName, status.ErrorType);
    }

    [Fact]
    public async Task HttpAudit_CapturesContainerMissingForAMoment_IsRetriedAndCompletes()
    {
        await ArrangeAsync();
        var version = (await Get<IModelRegistry>().GetAliasAsync(Model, Aliases.Production))!.Version;
        var captures = Get<StorageContext>().Container(StorageNames.Inference);
        await captures.DeleteAsync();
        var service = Get<DriftAuditService>();

        // Planning lists the window's captures: with their container gone it fails (a storage error, not bad data).
        var instanceId = await service.StartAsync(Host.Client, Model, DateTimeOffset.UtcNow, "request");
        var deadline = DateTime.UtcNow + Timeout;
        while (await _local.History.FailuresAsync(instanceId) == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "planning never failed");
            await Task.Delay(50);
        }

        // Back before the retries run out: a later attempt plans and the audit completes.
        await captures.CreateIfNotExistsAsync();
        await TestRegistry.CaptureSampleTrafficAsync(Host, Model, version, "f");
        var result = await DriftAuditService.WaitAsync(Host.Client, instanceId, Timeout);

        Assert.Equal(300, result.CurrentRows);
        Assert.Null(result.Problem);
        var attempts = await _local.History.AttemptsAsync(instanceId, nameof(PlanDriftAuditActivity));
        Assert.InRange(attempts, 2, 4);
        Assert.Equal(attempts - 1, await _local.History.FailuresAsync(instanceId));
        Assert.Single(await Get<IMonitoringStore>().ListAuditsAsync(Model));
    }
}
