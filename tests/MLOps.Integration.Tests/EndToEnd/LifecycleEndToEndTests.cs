using System.Text;
using System.Text.Json;
using Azure.Storage.Blobs;
using Microsoft.Extensions.DependencyInjection;
using MLOps.Cli;
using MLOps.Cli.Commands;
using MLOps.Core.Samples;
using MLOps.Integration.Tests.Fixtures;
using MLOps.Integration.Tests.Support;
using MLOps.Local;

namespace MLOps.Integration.Tests.EndToEnd;

/// <summary>The whole lifecycle through the HTTP API of the local host, on Azurite and the durable engine.</summary>
[Collection("Azurite")]
public sealed class LifecycleEndToEndTests(AzuriteFixture azurite)
{
    private const string Model = "credit-risk";

    [Fact]
    public async Task Lifecycle_UploadApproveScoreDriftRetrainRollback_EndsWithVerifiedTrail()
    {
        await using var host = await LocalHost.StartAsync(TestHosts.Options(azurite.ConnectionString));
        using var api = ApiClient.For(host.Url);

        await TestHosts.UploadCsvAsync(host.Services, $"{Model}/train.csv", rows: 6000, seed: 7, author: "alice");
        var runId = await TestHosts.WaitForRunIdAsync(api, Model);
        var waiting = await TestHosts.WaitForStageAsync(api, runId, "awaiting-approval");
        Assert.Equal("awaiting-approval", waiting.GetProperty("status").GetProperty("stage").GetString());
        var auc = waiting.GetProperty("status").GetProperty("metrics").GetProperty("auc").GetDouble();
        Assert.InRange(auc, 0.7, 1.0);

        // The author cannot approve; an unknown run is 404; a second person can.
        var self = await api.PostAsync($"runs/{runId}/approve", new { }, "alice");
        Assert.Equal(403, self.Status);
        Assert.Contains("author", self.Error, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(404, (await api.PostAsync("runs/nope/approve", new { }, "bob")).Status);
        Assert.Equal(202, (await api.PostAsync($"runs/{runId}/approve", new { comment = "ok" }, "bob")).Status);
        var done = await TestHosts.WaitForCompletionAsync(api, runId);
        var result = done.GetProperty("result");
        Assert.Equal("Deployed", result.GetProperty("outcome").GetString());
        Assert.Equal(1, result.GetProperty("version").GetInt32());

        // Scoring answers with version 1 and is captured.
        var normal = await api.PostAsync($"models/{Model}/predict", new { rows = CreditRiskData.FeatureRows(300, seed: 11) });
        Assert.Equal(200, normal.Status);
        Assert.Equal(1, normal.Body.GetProperty("version").GetInt32());
        Assert.Equal(300, normal.Body.GetProperty("predictions").GetArrayLength());
        Assert.All(normal.Body.GetProperty("predictions").EnumerateArray(), p => Assert.InRange(p.GetProperty("probability").GetDouble(), 0, 1));
        var bad = await api.PostAsync($"models/{Model}/predict", new { rows = new[] { new Dictionary<string, string> { ["age"] = "abc" } } });
        Assert.Equal(400, bad.Status);
        Assert.Contains("age", bad.Error, StringComparison.Ordinal);

        var calm = (await DriftAudits.RunAsync(api, Model, follow: true, TimeSpan.FromMinutes(2))).EnsureSuccess("drift audit").Body;
        Assert.False(calm.GetProperty("report").GetProperty("datasetDrift").GetBoolean(), calm.ToString());
        Assert.Equal(JsonValueKind.Null, calm.GetProperty("retrainRunId").ValueKind);

        // Drifted traffic makes the next audit start a retraining run.
        Assert.Equal(200, (await api.PostAsync($"models/{Model}/predict", new { rows = CreditRiskData.FeatureRows(900, seed: 12, DemoCommand.Drift) })).Status);
        var drifted = (await DriftAudits.RunAsync(api, Model, follow: true, TimeSpan.FromMinutes(2))).EnsureSuccess("drift audit").Body;
        Assert.True(drifted.GetProperty("report").GetProperty("driftedFeatures").GetInt32() >= 2, drifted.ToString());
        var retrainId = drifted.GetProperty("retrainRunId").GetString()!;
        Assert.Equal("awaiting-approval", (await TestHosts.WaitForStageAsync(api, retrainId, "awaiting-approval")).GetProperty("status").GetProperty("stage").GetString());
        Assert.Equal(202, (await api.PostAsync($"runs/{retrainId}/approve", new { }, "bob")).Status);

        // The sample rolls out by canary (10 → 50 → 100 %): scoring traffic during the bakes gives the guards data,
        // and the run's view shows the rollout's steps as they advance.
        var (retrained, percents) = await TestHosts.DriveTrafficUntilDoneAsync(api, Model, retrainId, n => CreditRiskData.FeatureRows(5, seed: 3000 + n, DemoCommand.Drift));
        var retrainResult = retrained.GetProperty("result");
        Assert.Equal("Deployed", retrainResult.GetProperty("outcome").GetString());
        Assert.Equal(2, retrainResult.GetProperty("version").GetInt32());
        Assert.Equal(1, retrainResult.GetProperty("previousVersion").GetInt32());
        var rollout = retrainResult.GetProperty("rollout");
        Assert.Equal("Promoted", rollout.GetProperty("outcome").GetString());
        Assert.Equal([10, 50], rollout.GetProperty("steps").EnumerateArray().Select(s => s.GetProperty("percent").GetInt32()));
        Assert.All(rollout.GetProperty("steps").EnumerateArray(), s => Assert.Equal("Pass", s.GetProperty("report").GetProperty("verdict").GetString()));
        Assert.Contains(10, percents);
        Assert.Contains(50, percents);
        Assert.Equal("promoted", retrained.GetProperty("status").GetProperty("rollout").GetProperty("stage").GetString());

        // Rollback returns production to version 1, and the history says who moved it when.
        var rollback = await api.PostAsync($"models/{Model}/rollback", new { reason = "test" }, "carol");
        Assert.Equal(200, rollback.Status);
        Assert.Equal(1, rollback.Body.GetProperty("to").GetInt32());
        var model = (await api.GetAsync($"models/{Model}")).Body;
        Assert.Equal(1, model.GetProperty("production").GetProperty("version").GetInt32());
        Assert.Equal(new[] { 1, 2, 1 }, model.GetProperty("aliasHistory").EnumerateArray().Select(a => a.GetProperty("version").GetInt32()));
        Assert.Equal("carol", model.GetProperty("aliasHistory")[2].GetProperty("changedBy").GetString());
        Assert.Equal(1, (await api.PostAsync($"models/{Model}/predict", new { rows = CreditRiskData.FeatureRows(1, seed: 13) })).Body.GetProperty("version").GetInt32());

        // Every decision is in the audit trail, and the chain verifies.
        var trail = (await api.GetAsync($"models/{Model}/audit-trail")).Body;
        Assert.True(trail.GetProperty("verification").GetProperty("valid").GetBoolean(), trail.GetProperty("verification").ToString());
        var types = trail.GetProperty("entries").EnumerateArray().Select(e => e.GetProperty("event").GetProperty("type").GetString()).ToList();
        foreach (var expected in new[]
                 {
                     "MLOps.Dataset.Validated", "MLOps.Run.Started", "MLOps.Model.Trained", "MLOps.Model.GatesEvaluated",
                     "MLOps.Model.VersionRegistered", "MLOps.Approval.Requested", "MLOps.Approval.Refused", "MLOps.Approval.Recorded",
                     "MLOps.Model.Deployed", "MLOps.Run.Completed", "MLOps.Monitoring.DriftAudited", "MLOps.Monitoring.DriftDetected",
                     "MLOps.Retraining.Started", "MLOps.Rollout.StepStarted", "MLOps.Rollout.StepPassed", "MLOps.Rollout.Promoted",
                     "MLOps.Model.RolledBack",
                 })
        {
            Assert.Contains(expected, types);
        }
    }

    [Fact]
    public async Task InvalidUpload_IsQuarantinedWithReport_AndNothingIsLost()
    {
        var options = TestHosts.Options(azurite.ConnectionString);
        await using var host = await LocalHost.StartAsync(options);
        using var api = ApiClient.For(host.Url);
        var csv = new StringBuilder("application_id,age,income,loan_amount,debt_to_income,credit_score,employment_years,num_credit_lines,region,home_ownership,default\n");
        csv.Append("A1,34,52000,12000,0.3,700,5,4,EU,RENT,false\n");
        csv.Append("A2,forty,52000,12000,0.3,700,5,4,EU,RENT,true\n");
        csv.Append("A3,51,61000,9000,0.2,720,9,6,MARS,OWN,false\n");
        var bytes = Encoding.UTF8.GetBytes(csv.ToString());
        await host.Services.GetRequiredService<MLOps.Core.Ports.IDatasetStore>().UploadAsync($"{Model}/broken.csv", new MemoryStream(bytes), "alice");

        var trail = await TestHosts.WaitAsync(async () => (await api.GetAsync($"models/{Model}/audit-trail")).Body,
            t => t.ValueKind == JsonValueKind.Object && t.GetProperty("entries").EnumerateArray().Any(e => e.GetProperty("event").GetProperty("type").GetString() == "MLOps.Dataset.Rejected"),
            TimeSpan.FromSeconds(60), "the rejection event");
        var rejected = trail.GetProperty("entries").EnumerateArray().Select(e => e.GetProperty("event")).Single(e => e.GetProperty("type").GetString() == "MLOps.Dataset.Rejected");
        var messages = rejected.GetProperty("data").GetProperty("issues").EnumerateArray().Select(i => i.GetProperty("message").GetString()!).ToList();
        Assert.Contains(messages, m => m.Contains("row 2", StringComparison.Ordinal) && m.Contains("'age'", StringComparison.Ordinal) && m.Contains("broken.csv", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.Contains("row 3", StringComparison.Ordinal) && m.Contains("'region'", StringComparison.Ordinal));

        // The original bytes are kept in quarantine with the report beside them; the upload is gone; no run started.
        var service = new BlobServiceClient(azurite.ConnectionString, new BlobClientOptions(BlobClientOptions.ServiceVersion.V2026_06_06));
        var quarantine = service.GetBlobContainerClient($"{options.StoragePrefix}quarantine");
        var kept = (await quarantine.GetBlobClient($"{Model}/broken.csv").DownloadContentAsync()).Value.Content.ToArray();
        Assert.Equal(bytes, kept);
        var report = (await quarantine.GetBlobClient($"{Model}/broken.csv.report.json").DownloadContentAsync()).Value.Content.ToString();
        Assert.Contains("forty", report, StringComparison.Ordinal);
        var html = (await quarantine.GetBlobClient($"{Model}/broken.csv.report.html").DownloadContentAsync()).Value.Content.ToString();
        Assert.Contains("<svg", html, StringComparison.Ordinal);
        Assert.Contains("forty", html, StringComparison.Ordinal);
        Assert.False(await service.GetBlobContainerClient($"{options.StoragePrefix}datasets").GetBlobClient($"{Model}/broken.csv").ExistsAsync());
        Assert.Equal(0, (await api.GetAsync($"runs?model={Model}")).Body.GetArrayLength());
    }
}
