using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using MLOps.Cli;
using MLOps.Core.Monitoring;
using MLOps.Core.Ports;
using MLOps.Core.Registry;
using MLOps.Core.Rollout;
using MLOps.Core.Samples;
using MLOps.Integration.Tests.Fixtures;
using MLOps.Integration.Tests.Support;
using MLOps.Lifecycle.Services;
using MLOps.Local;
using Xunit.Abstractions;

namespace MLOps.Integration.Tests.Rollout;

/// <summary>Canary and shadow rollouts on the local host (durable engine on Azurite), with workflows registered
/// from YAML written here and traffic driven by the test while the steps bake.</summary>
[Collection("Azurite")]
public sealed class RolloutTests(AzuriteFixture azurite, ITestOutputHelper output)
{
    private const string Model = "credit-risk";

    // No gates: a candidate trained on inverted labels must reach the rollout, where only the guards can stop it.
    private static string Workflow(string rollout) => $"""
        model:
          name: {Model}
          task: binary
          label: default
          id: application_id
        data:
          min_rows: 1000
        {TestWorkflows.CreditRiskColumns}
        training:
          trainer: fasttree
          parameters: {"{"} trees: 40, leaves: 16, min_leaf: 20, learning_rate: 0.2 {"}"}
        approval:
          required: 1
          timeout: 1h
        {rollout}
        """;

    private const string Canary = """
        rollout:
          strategy: canary
          steps: [20, 100]
          bake_time: 2s
          max_bakes: 20
          guards: { max_error_rate: 0.05, max_latency_p99_ms: 2000, max_prediction_drift: 0.4, min_requests: 15 }
        """;

    private const string Shadow = """
        rollout:
          strategy: shadow
          duration: 3s
          sampling: 0.5
          max_bakes: 20
          guards: { max_error_rate: 0.05, max_prediction_drift: 0.4, min_requests: 15 }
        """;

    [Fact]
    public async Task Canary_HealthyCandidate_AdvancesThroughEveryStepAndPromotes()
    {
        await using var host = await StartAsync(Workflow(Canary));
        using var api = ApiClient.For(host.Url);
        var first = await DeployFirstVersionAsync(host, api);

        var clock = Stopwatch.StartNew();
        var runId = await UploadAndApproveAsync(host, api, "v2.csv", seed: 8, invertLabels: false, except: first);
        var (done, answers) = await DriveTrafficUntilDoneAsync(api, runId);
        output.WriteLine($"canary run completed {clock.Elapsed.TotalSeconds:F1} s after upload; {answers.Count} requests");

        var result = done.GetProperty("result");
        Assert.Equal("Deployed", result.GetProperty("outcome").GetString());
        Assert.Equal(2, result.GetProperty("version").GetInt32());
        Assert.Equal(1, result.GetProperty("previousVersion").GetInt32());
        Assert.Equal("promoted", done.GetProperty("status").GetProperty("rollout").GetProperty("stage").GetString());
        var rollout = result.GetProperty("rollout");
        Assert.Equal("Promoted", rollout.GetProperty("outcome").GetString());
        var step = Assert.Single(rollout.GetProperty("steps").EnumerateArray());
        Assert.Equal(20, step.GetProperty("percent").GetInt32());
        Assert.Equal("Pass", step.GetProperty("report").GetProperty("verdict").GetString());
        output.WriteLine(step.GetProperty("report").GetProperty("summary").GetString());

        // Both arms answered while the canary baked; production is the candidate now and the split is gone.
        Assert.Contains(answers, a => a.Arm == Arms.Candidate && a.Version == 2);
        Assert.Contains(answers, a => a.Arm == Arms.Stable && a.Version == 1);
        var model = (await api.GetAsync($"models/{Model}")).Body;
        Assert.Equal(2, model.GetProperty("production").GetProperty("version").GetInt32());
        Assert.Equal([1, 2], model.GetProperty("aliasHistory").EnumerateArray().Select(a => a.GetProperty("version").GetInt32()));
        Assert.Equal(JsonValueKind.Null, model.GetProperty("traffic").ValueKind);
        var after = await api.PostAsync($"models/{Model}/predict", new { rows = CreditRiskData.FeatureRows(1, seed: 99) });
        Assert.Equal(2, after.Body.GetProperty("version").GetInt32());

        var types = await EventTypesAsync(api);
        Assert.Contains("MLOps.Rollout.StepStarted", types);
        Assert.Contains("MLOps.Rollout.StepPassed", types);
        Assert.Contains("MLOps.Rollout.Promoted", types);
        Assert.DoesNotContain("MLOps.Rollout.RolledBack", types);
    }

    [Fact]
    public async Task Canary_CandidateWithInvertedScores_IsRolledBackOnPredictionDrift()
    {
        await using var host = await StartAsync(Workflow(Canary));
        using var api = ApiClient.For(host.Url);
        var first = await DeployFirstVersionAsync(host, api);

        var clock = Stopwatch.StartNew();
        var runId = await UploadAndApproveAsync(host, api, "inverted.csv", seed: 8, invertLabels: true, except: first);
        var (done, answers) = await DriveTrafficUntilDoneAsync(api, runId);
        output.WriteLine($"canary run completed {clock.Elapsed.TotalSeconds:F1} s after upload; {answers.Count} requests");

        var result = done.GetProperty("result");
        Assert.Equal("RolledBack", result.GetProperty("outcome").GetString());
        Assert.Contains("max_prediction_drift", result.GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.Equal("max_prediction_drift", result.GetProperty("rollout").GetProperty("guard").GetString());
        output.WriteLine(result.GetProperty("reason").GetString());

        // Production never moved; the split is gone; the version stays approved (it was, and may be retried).
        var model = (await api.GetAsync($"models/{Model}")).Body;
        Assert.Equal(1, model.GetProperty("production").GetProperty("version").GetInt32());
        Assert.Single(model.GetProperty("aliasHistory").EnumerateArray());
        Assert.Equal(JsonValueKind.Null, model.GetProperty("traffic").ValueKind);
        var v2 = model.GetProperty("versions").EnumerateArray().Single(v => v.GetProperty("version").GetInt32() == 2);
        Assert.Equal("Approved", v2.GetProperty("status").GetString());
        Assert.Equal(1, (await api.PostAsync($"models/{Model}/predict", new { rows = CreditRiskData.FeatureRows(1, seed: 99), routingKey = "any" })).Body.GetProperty("version").GetInt32());

        var trail = (await api.GetAsync($"models/{Model}/audit-trail")).Body;
        var rolledBack = trail.GetProperty("entries").EnumerateArray().Select(e => e.GetProperty("event"))
            .Single(e => e.GetProperty("type").GetString() == "MLOps.Rollout.RolledBack");
        Assert.Equal("max_prediction_drift", rolledBack.GetProperty("data").GetProperty("guard").GetString());
        Assert.True(trail.GetProperty("verification").GetProperty("valid").GetBoolean());
    }

    [Fact]
    public async Task Routing_SameKeySameArm_AndThousandKeysSplitNearThePercentage()
    {
        await using var host = await StartAsync(Workflow(Canary));
        using var api = ApiClient.For(host.Url);
        await DeployFirstVersionAsync(host, api);

        // A second approved version (same artifact) and a 30 % canary split set directly in the registry.
        var registry = host.Services.GetRequiredService<IModelRegistry>();
        var v1 = (await registry.GetVersionAsync(Model, 1))!;
        var v2 = await registry.RegisterVersionAsync(new NewModelVersion
        {
            Model = Model, RunId = "manual-v2", ArtifactUri = v1.ArtifactUri, ArtifactSha256 = v1.ArtifactSha256, DatasetSha256 = v1.DatasetSha256,
            WorkflowHash = v1.WorkflowHash, Trainer = v1.Trainer, CreatedBy = "test",
        });
        await registry.SetStatusAsync(Model, v2.Version, ModelVersionStatus.Approved, "bob", "routing test");
        await registry.SetTrafficAsync(new TrafficSplit
        {
            Model = Model, StableVersion = 1, CandidateVersion = v2.Version, Mode = TrafficMode.Canary, Percent = 30, RunId = "manual", Step = 1,
        }, expectedETag: null);

        var scoring = host.Services.GetRequiredService<ScoringService>();
        var row = CreditRiskData.FeatureRows(1, seed: 5).Select(r => (IReadOnlyDictionary<string, string?>)r).ToList();
        var clock = Stopwatch.StartNew();
        var arms = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < 1000; i++)
        {
            var key = "customer-" + i.ToString(CultureInfo.InvariantCulture);
            var answer = await scoring.ScoreAsync(Model, row, requestId: null, routingKey: key);
            Assert.Equal(answer.Arm == Arms.Candidate ? v2.Version : 1, answer.Version);
            arms[key] = answer.Arm;
        }

        output.WriteLine($"1000 routed requests in {clock.Elapsed.TotalSeconds:F1} s; candidate {arms.Values.Count(a => a == Arms.Candidate)}");
        Assert.InRange(arms.Values.Count(a => a == Arms.Candidate), 300 - 58, 300 + 58); // ±4 sd of Binomial(1000, 0.3)

        // Sticky: again through the service, and through HTTP (header, body, row id).
        foreach (var key in arms.Keys.Take(50))
        {
            Assert.Equal(arms[key], (await scoring.ScoreAsync(Model, row, requestId: null, routingKey: key)).Arm);
        }

        using var http = new HttpClient { BaseAddress = new Uri(host.Url) };
        foreach (var key in arms.Keys.Skip(50).Take(20))
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"api/models/{Model}/predict") { Content = JsonContent.Create(new { rows = row }) };
            request.Headers.Add("x-routing-key", key);
            using var response = await http.SendAsync(request);
            var body = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal(arms[key], body.GetProperty("arm").GetString());
            Assert.Equal(arms[key], (await api.PostAsync($"models/{Model}/predict", new { rows = row, routingKey = key })).Body.GetProperty("arm").GetString());
        }

        var byRowId = row[0]["application_id"]!;
        var expected = TrafficRouter.Route((await registry.GetTrafficAsync(Model))!, byRowId);
        Assert.All(Enumerable.Range(0, 5), _ => Assert.Equal(expected, api.PostAsync($"models/{Model}/predict", new { rows = row }).Result.Body.GetProperty("arm").GetString()));
    }

    [Fact]
    public async Task Shadow_StableAlwaysAnswers_CandidateScoresTheSampledShare_ThenPromotes()
    {
        await using var host = await StartAsync(Workflow(Shadow));
        using var api = ApiClient.For(host.Url);
        var first = await DeployFirstVersionAsync(host, api);
        var started = DateTimeOffset.UtcNow;

        var runId = await UploadAndApproveAsync(host, api, "v2.csv", seed: 8, invertLabels: false, except: first);
        var (done, answers) = await DriveTrafficUntilDoneAsync(api, runId);

        var result = done.GetProperty("result");
        Assert.Equal("Deployed", result.GetProperty("outcome").GetString());
        Assert.Equal("Promoted", result.GetProperty("rollout").GetProperty("outcome").GetString());
        Assert.Equal(2, (await api.GetAsync($"models/{Model}")).Body.GetProperty("production").GetProperty("version").GetInt32());

        // Every answer during the shadow came from the stable version.
        var during = answers.Where(a => a.Version == 1 || a.Arm != Arms.Stable).ToList();
        Assert.All(during, a => Assert.Equal((Arms.Stable, 1), (a.Arm, a.Version)));

        // The candidate scored exactly the mirrored requests, on the same rows, and about half of them.
        var records = new List<InferenceRecord>();
        await foreach (var r in host.Services.GetRequiredService<IInferenceStore>().ReadAsync(Model, started, DateTimeOffset.UtcNow.AddMinutes(1)))
        {
            records.Add(r);
        }

        var shadows = records.Where(r => r.Arm == Arms.Shadow).ToList();
        var stableDuringSplit = records.Where(r => r.Arm == Arms.Stable && r.Version == 1 && r.RoutingKey is not null).ToList();
        output.WriteLine($"{stableDuringSplit.Count} stable answers during the shadow, {shadows.Count} mirrored");
        Assert.NotEmpty(shadows);
        Assert.All(shadows, s =>
        {
            Assert.Equal(2, s.Version);
            var original = stableDuringSplit.Single(r => r.RequestId + ".shadow" == s.RequestId);
            Assert.Equal(original.RoutingKey, s.RoutingKey);
            Assert.Equal(original.Rows.Count, s.Predictions.Count);
        });
        var share = (double)shadows.Count / stableDuringSplit.Count;
        Assert.InRange(share, 0.3, 0.7);
    }

    // ---- helpers ----------------------------------------------------------------------------------------------

    private sealed record Answer(string Arm, int Version);

    private async Task<LocalHost> StartAsync(string yaml)
    {
        var options = TestHosts.Options(azurite.ConnectionString);
        var workflows = Path.Combine(options.DataDirectory, "workflows");
        Directory.CreateDirectory(workflows);
        await File.WriteAllTextAsync(Path.Combine(workflows, Model + ".yaml"), yaml);
        return await LocalHost.StartAsync(options with { WorkflowsDirectory = workflows });
    }

    /// <summary>Version 1: with no production yet there is nothing to compare with, so it is deployed directly.</summary>
    private async Task<string> DeployFirstVersionAsync(LocalHost host, ApiClient api)
    {
        var clock = Stopwatch.StartNew();
        var runId = await UploadAndApproveAsync(host, api, "v1.csv", seed: 7, invertLabels: false, except: null);
        JsonElement done;
        try
        {
            done = await TestHosts.WaitForCompletionAsync(api, runId, TimeSpan.FromSeconds(60));
        }
        catch (TimeoutException)
        {
            var run = await host.Client.GetInstanceAsync(runId, getInputsAndOutputs: true);
            output.WriteLine($"run: {run?.RuntimeStatus} {run?.SerializedCustomStatus}");
            throw;
        }

        Assert.Equal("Deployed", done.GetProperty("result").GetProperty("outcome").GetString());
        Assert.Equal(1, done.GetProperty("result").GetProperty("version").GetInt32());
        output.WriteLine($"version 1 deployed {clock.Elapsed.TotalSeconds:F1} s after upload");
        return runId;
    }

    private static async Task<string> UploadAndApproveAsync(LocalHost host, ApiClient api, string name, int seed, bool invertLabels, string? except)
    {
        var writer = new StringWriter { NewLine = "\n" };
        CreditRiskData.WriteCsv(writer, 3000, seed);
        var csv = writer.ToString();
        if (invertLabels)
        {
            csv = string.Join('\n', csv.Split('\n').Select((line, i) =>
                i == 0 || line.Length == 0 ? line
                : line.EndsWith(",true", StringComparison.Ordinal) ? line[..^4] + "false"
                : line[..^5] + "true"));
        }

        await host.Services.GetRequiredService<IDatasetStore>().UploadAsync($"{Model}/{name}", new MemoryStream(Encoding.UTF8.GetBytes(csv)), "alice");
        var runId = await TestHosts.WaitForRunIdAsync(api, Model, r => r.GetProperty("runId").GetString() != except);
        await TestHosts.WaitForStageAsync(api, runId, "awaiting-approval");
        Assert.Equal(202, (await api.PostAsync($"runs/{runId}/approve", new { comment = "rollout test" }, "bob")).Status);
        return runId;
    }

    /// <summary>Sends scoring requests (5 rows each, fresh routing keys) until the run completes.</summary>
    private static async Task<(JsonElement Run, List<Answer> Answers)> DriveTrafficUntilDoneAsync(ApiClient api, string runId)
    {
        var answers = new List<Answer>();
        var deadline = DateTime.UtcNow.AddSeconds(180);
        var n = 0;
        while (DateTime.UtcNow < deadline)
        {
            var run = (await api.GetAsync($"runs/{runId}")).Body;
            if (run.GetProperty("runtimeStatus").GetString() is "Completed" or "Failed" or "Terminated")
            {
                return (run, answers);
            }

            for (var i = 0; i < 10; i++, n++)
            {
                var response = await api.PostAsync($"models/{Model}/predict",
                    new { rows = CreditRiskData.FeatureRows(5, seed: 1000 + n), routingKey = "k" + n.ToString(CultureInfo.InvariantCulture) });
                Assert.Equal(200, response.Status);
                answers.Add(new Answer(response.Body.GetProperty("arm").GetString()!, response.Body.GetProperty("version").GetInt32()));
            }
        }

        throw new TimeoutException($"run {runId} did not complete; {answers.Count} requests sent");
    }

    private static async Task<List<string>> EventTypesAsync(ApiClient api) =>
        [.. (await api.GetAsync($"models/{Model}/audit-trail")).Body.GetProperty("entries").EnumerateArray()
            .Select(e => e.GetProperty("event").GetProperty("type").GetString()!)];
}
