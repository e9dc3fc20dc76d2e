using System.Diagnostics;
using System.Text.Json;
using MLOps.Integration.Tests.Support;

namespace MLOps.Integration.Tests.Functions;

/// <summary>The generated <c>functions.metadata</c> is the deployment contract with the Functions host: every
/// trigger the product relies on must be in it, with the right binding.</summary>
public sealed class FunctionsMetadataTests
{
    private static readonly Lazy<JsonElement[]> Functions = new(() =>
    {
        var path = Path.Combine(RepoPaths.FunctionsOutput, "functions.metadata");
        Assert.True(File.Exists(path), $"functions.metadata not found at {path}: build the Functions app first");
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        return doc.RootElement.EnumerateArray().Select(e => e.Clone()).ToArray();
    });

    private static JsonElement Binding(string function, string type)
    {
        var entry = Functions.Value.SingleOrDefault(f => f.GetProperty("name").GetString() == function);
        Assert.True(entry.ValueKind == JsonValueKind.Object, $"function '{function}' is missing from functions.metadata");
        var bindings = entry.GetProperty("bindings").EnumerateArray().ToList();
        var binding = bindings.SingleOrDefault(b => string.Equals(b.GetProperty("type").GetString(), type, StringComparison.OrdinalIgnoreCase));
        Assert.True(binding.ValueKind == JsonValueKind.Object, $"function '{function}' has no {type} binding; it has {string.Join(", ", bindings.Select(b => b.GetProperty("type").GetString()))}");
        return binding;
    }

    private static string? Prop(JsonElement binding, string name) =>
        binding.EnumerateObject().FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase)).Value is { ValueKind: not JsonValueKind.Undefined } v
            ? v.ToString()
            : binding.TryGetProperty("properties", out var props) && props.ValueKind == JsonValueKind.Object
                ? props.EnumerateObject().FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase)).Value.ToString()
                : null;

    [Fact]
    public void BlobTrigger_WatchesDatasetsThroughEventGrid()
    {
        var blob = Binding("DatasetUploadTrigger", "blobTrigger");
        Assert.Equal("datasets/{name}", Prop(blob, "path"));
        Assert.Equal("EventGrid", Prop(blob, "source"));
        Assert.Equal("MLOpsStorage", Prop(blob, "connection"));
        Binding("DatasetUploadTrigger", "durableClient");
    }

    [Fact]
    public void TimerTrigger_RunsDriftAuditsEveryFifteenMinutes()
    {
        var timer = Binding("DriftAuditTrigger", "timerTrigger");
        Assert.Equal("0 */15 * * * *", Prop(timer, "schedule"));
        Binding("DriftAuditTrigger", "durableClient");
    }

    [Fact]
    public void DriftAnalysis_BindsADurableClientToStartRetraining()
    {
        Binding("AnalyzeDriftActivity", "activityTrigger");
        Binding("AnalyzeDriftActivity", "durableClient");
    }

    [Theory]
    [InlineData("ListRuns", "runs", "get")]
    [InlineData("GetRun", "runs/{runId}", "get")]
    [InlineData("ApproveRun", "runs/{runId}/approve", "post")]
    [InlineData("RejectRun", "runs/{runId}/reject", "post")]
    [InlineData("ListModels", "models", "get")]
    [InlineData("GetModel", "models/{model}", "get")]
    [InlineData("Predict", "models/{model}/predict", "post")]
    [InlineData("Rollback", "models/{model}/rollback", "post")]
    [InlineData("AuditDrift", "models/{model}/drift-audits", "post")]
    [InlineData("GetDriftAudit", "models/{model}/drift-audits/{instanceId}", "get")]
    [InlineData("GetAuditTrail", "models/{model}/audit-trail", "get")]
    [InlineData("GetBudget", "models/{model}/budget", "get")]
    [InlineData("GetFeatureDriftHistory", "models/{model}/features/{feature}/drift-history", "get")]
    public void HttpTriggers_HaveTheirRoutesAndMethods(string function, string route, string method)
    {
        var http = Binding(function, "httpTrigger");
        Assert.Equal(route, Prop(http, "route"));
        Assert.Contains(method, Prop(http, "methods") ?? "", StringComparison.OrdinalIgnoreCase);
        Assert.Equal("Function", Prop(http, "authLevel"), ignoreCase: true);
    }

    [Theory]
    [InlineData("LifecycleOrchestrator")]
    [InlineData("ApprovalOrchestrator")]
    [InlineData("RolloutOrchestrator")]
    [InlineData("DriftAuditOrchestrator")]
    public void Orchestrations_AreOrchestrationTriggers(string function)
    {
        Binding(function, "orchestrationTrigger");
    }

    [Theory]
    [InlineData("LoadWorkflowActivity")]
    [InlineData("TrainModelActivity")]
    [InlineData("EvaluateGatesActivity")]
    [InlineData("RegisterVersionActivity")]
    [InlineData("RecordDecisionActivity")]
    [InlineData("DeployActivity")]
    [InlineData("PublishEventActivity")]
    [InlineData("SetTrafficActivity")]
    [InlineData("ClearTrafficActivity")]
    [InlineData("EvaluateRolloutGuardsActivity")]
    [InlineData("IssueApprovalTokensActivity")]
    [InlineData("ReserveBudgetActivity")]
    [InlineData("ChargeBudgetActivity")]
    [InlineData("PlanDriftAuditActivity")]
    [InlineData("ProfilePartitionActivity")]
    [InlineData("AnalyzeDriftActivity")]
    public void Activities_AreActivityTriggers(string function)
    {
        Binding(function, "activityTrigger");
    }

    [Fact]
    public void HostJson_StampsRunsWithTheCurrentLifecycleVersion()
    {
        // Azure stamps new runs with host.json's defaultVersion: it must follow LifecycleVersions.Current, or runs in
        // Azure would silently skip the newest paths (and workers would reject their own runs as newer).
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(RepoPaths.Root, "host.json")));
        var durable = doc.RootElement.GetProperty("extensions").GetProperty("durableTask");

        Assert.Equal(MLOps.Lifecycle.Orchestrations.LifecycleVersions.Current, durable.GetProperty("defaultVersion").GetString());
        Assert.Equal("CurrentOrOlder", durable.GetProperty("versionMatchStrategy").GetString());
        Assert.Equal("Reject", durable.GetProperty("versionFailureStrategy").GetString());
    }

    [Fact]
    public async Task Publish_PutsHostJsonAndFunctionsMetadataAtTheRoot()
    {
        var output = Directory.CreateTempSubdirectory("mlops-publish-");
        try
        {
            var project = Path.Combine(RepoPaths.Root, "src", "MLOps.Functions", "MLOps.Functions.csproj");
            var info = new ProcessStartInfo("dotnet", ["publish", project, "-c", RepoPaths.Configuration, "--no-build", "-o", output.FullName, "-nologo", "-v:q"])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            using var process = Process.Start(info)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
            await process.WaitForExitAsync(timeout.Token);
            Assert.True(process.ExitCode == 0, $"dotnet publish failed: {await stdout}{await stderr}");
            Assert.Equal(File.ReadAllText(Path.Combine(RepoPaths.Root, "host.json")), File.ReadAllText(Path.Combine(output.FullName, "host.json")));
            Assert.True(File.Exists(Path.Combine(output.FullName, "functions.metadata")));
            Assert.True(File.Exists(Path.Combine(output.FullName, "workflows", "credit-risk.yaml")), "the sample workflow ships with the app");
            Assert.True(File.Exists(Path.Combine(output.FullName, "workflows", "house-prices.yaml")), "the regression sample ships with the app");
        }
        finally
        {
            output.Delete(recursive: true);
        }
    }
}
