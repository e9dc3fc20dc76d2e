using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using MLOps.Core.Ports;
using MLOps.Core.Samples;
using MLOps.Local;

namespace MLOps.Cli.Commands;

/// <summary>
/// <c>mlops demo</c>: a whole lifecycle of the sample credit-risk model on the local host — upload, validation,
/// training, gates, approval by a second person, scoring, drifted traffic, drift audit, the retraining run it starts
/// and its canary rollout (10 → 50 → 100 % with scoring traffic during the bakes), and a rollback — printing each
/// step with its figures.
/// </summary>
public static class DemoCommand
{
    /// <summary>The shift the demo applies to production traffic to make it drift.</summary>
    public static DataShift Drift { get; } = new() { IncomeFactor = 0.55, AgeOffset = 12, DebtToIncomeOffset = 0.25, ApacShare = 0.6 };

    public static Command Create()
    {
        var rows = new Option<int>("--rows") { Description = "Rows of the training dataset", DefaultValueFactory = _ => 20_000 };
        var dataDir = CommonOptions.DataDir();
        var storage = new Option<string?>("--storage") { Description = "Storage connection string (default: embedded Azurite)" };
        var command = new Command("demo", "Run a whole lifecycle of the sample model on the local host and print each step") { rows, dataDir, storage };
        command.SetAction(async (parse, ct) =>
        {
            var stamp = DateTime.UtcNow.ToString("MMddHHmmss", CultureInfo.InvariantCulture);
            var options = new LocalHostOptions
            {
                Port = 0,
                DataDirectory = parse.GetValue(dataDir)!,
                StorageConnectionString = parse.GetValue(storage) ?? Environment.GetEnvironmentVariable("MLOPS_STORAGE"),
                StoragePrefix = $"demo{stamp}",
                TaskHub = $"demo{stamp}",
                WorkerId = $"demo-{stamp}",
                DriftCheckInterval = TimeSpan.FromHours(1),
                LogLevel = Microsoft.Extensions.Logging.LogLevel.Error,
            };
            return await RunAsync(options, parse.GetValue(rows), Console.Out, ct);
        });
        return command;
    }

    public static async Task<int> RunAsync(LocalHostOptions options, int rows, TextWriter output, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(output);
        var total = Stopwatch.StartNew();
        var step = 0;
        void Step(string title) => output.WriteLine($"\n[{++step}] {title}  (t = {total.Elapsed.TotalSeconds:F1} s)");
        void Say(string line) => output.WriteLine("    " + line);

        Step("Starting the local host: Azurite, durable engine (gRPC sidecar on Azure Storage), API, upload listener");
        await using var host = await LocalHost.StartAsync(options, ct);
        using var api = ApiClient.For(host.Url);
        Say($"API {host.Url}; task hub '{options.TaskHub}'; storage prefix '{options.StoragePrefix}'");
        foreach (var w in host.Workflows)
        {
            Say($"workflow {w.Model} registered, pinned by sha256 {w.Hash[..12]}");
        }

        const string model = "credit-risk";
        var datasets = host.Services.GetRequiredService<IDatasetStore>();

        Step("An invalid upload is quarantined with a report naming rows and columns");
        var bad = new StringBuilder();
        using (var writer = new StringWriter(bad, CultureInfo.InvariantCulture))
        {
            CreditRiskData.WriteCsv(writer, 50, seed: 3);
        }

        var badText = bad.ToString().Split('\n');
        badText[5] = badText[5].Replace(badText[5].Split(',')[1], "forty", StringComparison.Ordinal);
        await datasets.UploadAsync($"{model}/broken.csv", new MemoryStream(Encoding.UTF8.GetBytes(string.Join('\n', badText))), "alice", ct);
        var quarantined = await WaitAsync(async () =>
        {
            var trail = await api.GetAsync($"models/{model}/audit-trail", ct);
            return trail.IsSuccess ? trail.Body.GetProperty("entries").EnumerateArray()
                .Select(e => e.GetProperty("event")).FirstOrDefault(e => e.GetProperty("type").GetString() == "MLOps.Dataset.Rejected") : default;
        }, e => e.ValueKind == JsonValueKind.Object, TimeSpan.FromSeconds(60), ct);
        var rejectedData = quarantined.GetProperty("data");
        Say($"rejected: {rejectedData.GetProperty("summary").GetString()}");
        foreach (var issue in rejectedData.GetProperty("issues").EnumerateArray().Take(3))
        {
            Say($"  {issue.GetProperty("message").GetString()}");
        }

        Say($"kept at {rejectedData.GetProperty("quarantine").GetString()} (with .report.json beside it)");

        Step($"Uploading {rows:N0} rows of credit-risk data as alice");
        var csv = new MemoryStream();
        await using (var writer = new StreamWriter(csv, new UTF8Encoding(false), leaveOpen: true))
        {
            CreditRiskData.WriteCsv(writer, rows, seed: 7);
        }

        csv.Position = 0;
        await datasets.UploadAsync($"{model}/applications-2026-11.csv", csv, "alice", ct);
        Say($"uploaded datasets/{model}/applications-2026-11.csv ({csv.Length / 1024.0 / 1024.0:F1} MiB)");

        Step("Validation, training and gates (the lifecycle orchestration)");
        var run = await WaitForRunAsync(api, r => r.GetProperty("input").GetProperty("trigger").GetString() == "upload", "awaiting-approval", ct);
        var runId = run.GetProperty("runId").GetString()!;
        var status = run.GetProperty("status");
        Say($"run {runId}: stage {status.GetProperty("stage").GetString()}, version {status.GetProperty("version")}");
        Say($"holdout metrics: {Metrics(status.GetProperty("metrics"))}");

        Step("Approval: the author may not approve; a second person does");
        var self = await api.PostAsync($"runs/{runId}/approve", new { comment = "looks good to me" }, "alice", ct);
        Say($"alice (author) → HTTP {self.Status}: {self.Error}");
        var approved = await api.PostAsync($"runs/{runId}/approve", new { comment = "reviewed metrics and gates" }, "bob", ct);
        Say($"bob → HTTP {approved.Status}");
        run = await WaitForCompletionAsync(api, runId, ct);
        Say($"run {runId}: {run.GetProperty("result").GetProperty("outcome")} — {run.GetProperty("result").GetProperty("reason").GetString()}");
        if (run.GetProperty("result").TryGetProperty("rollout", out var firstRollout) && firstRollout.ValueKind == JsonValueKind.Object)
        {
            Say($"rollout ({firstRollout.GetProperty("strategy").GetString()}): {firstRollout.GetProperty("reason").GetString()}");
        }

        Step("Scoring 300 production requests with the production version (each captured for monitoring)");
        var normal = CreditRiskData.FeatureRows(300, seed: 11);
        var scored = await api.PostAsync($"models/{model}/predict", new { rows = normal }, null, ct);
        scored.EnsureSuccess("predict");
        var predictions = scored.Body.GetProperty("predictions").EnumerateArray().ToList();
        Say($"version {scored.Body.GetProperty("version")} answered {predictions.Count} rows; mean probability {predictions.Average(p => p.GetProperty("probability").GetDouble()):F3}");

        Step("Drift audit on normal traffic");
        var audit = (await DriftAudits.RunAsync(api, model, follow: true, TimeSpan.FromMinutes(5), Say, ct: ct)).EnsureSuccess("drift audit").Body;
        PrintAudit(audit, Say);

        Step("Drifted traffic (lower income, older applicants, more APAC) and another audit");
        var shifted = CreditRiskData.FeatureRows(600, seed: 12, Drift);
        (await api.PostAsync($"models/{model}/predict", new { rows = shifted }, null, ct)).EnsureSuccess("predict");
        audit = (await DriftAudits.RunAsync(api, model, follow: true, TimeSpan.FromMinutes(5), Say, ct: ct)).EnsureSuccess("drift audit").Body;
        PrintAudit(audit, Say);

        if (audit.TryGetProperty("retrainRunId", out var retrainId) && retrainId.ValueKind == JsonValueKind.String)
        {
            Step($"The retraining run the audit started: {retrainId.GetString()}");
            var retrain = await WaitForRunAsync(api, r => r.GetProperty("runId").GetString() == retrainId.GetString(), "awaiting-approval", ct);
            var retrainStatus = retrain.GetProperty("status");
            Say($"stage {retrainStatus.GetProperty("stage").GetString()}, version {retrainStatus.GetProperty("version")}, metrics {Metrics(retrainStatus.GetProperty("metrics"))}");
            (await api.PostAsync($"runs/{retrainId.GetString()}/approve", new { comment = "retrained on drift" }, "bob", ct)).EnsureSuccess("approve");

            Step("Canary rollout of the retrained version, with scoring traffic (sticky by request key) during every bake");
            retrain = await CanaryWithTrafficAsync(api, model, retrainId.GetString()!, total, Say, ct);
            Say($"{retrain.GetProperty("result").GetProperty("outcome")}: {retrain.GetProperty("result").GetProperty("reason").GetString()}");
        }

        Step("Rollback: production goes back to the previous approved version");
        var rollback = await api.PostAsync($"models/{model}/rollback", new { reason = "demo rollback" }, "carol", ct);
        Say(rollback.IsSuccess ? $"production moved from version {rollback.Body.GetProperty("from")} to {rollback.Body.GetProperty("to")}" : $"HTTP {rollback.Status}: {rollback.Error}");

        Step("The registry and the audit trail");
        var shown = (await api.GetAsync($"models/{model}", ct)).EnsureSuccess("model").Body;
        foreach (var v in shown.GetProperty("versions").EnumerateArray())
        {
            Say($"version {v.GetProperty("version")}: {v.GetProperty("status").GetString()}, run {v.GetProperty("runId").GetString()}, auc {v.GetProperty("metrics").GetProperty("auc").GetDouble():F3}, dataset {v.GetProperty("datasetSha256").GetString()![..12]}");
        }

        foreach (var change in shown.GetProperty("aliasHistory").EnumerateArray())
        {
            Say($"production → v{change.GetProperty("version")} at {change.GetProperty("changedAt").GetDateTimeOffset():HH:mm:ss} by {change.GetProperty("changedBy").GetString()} ({change.GetProperty("reason").GetString()})");
        }

        var trailBody = (await api.GetAsync($"models/{model}/audit-trail", ct)).EnsureSuccess("audit trail").Body;
        var verification = trailBody.GetProperty("verification");
        Say($"audit trail: {verification.GetProperty("message").GetString()} (valid: {verification.GetProperty("valid")})");
        output.WriteLine($"\nDemo finished in {total.Elapsed.TotalSeconds:F1} s.");
        return verification.GetProperty("valid").GetBoolean() ? 0 : 1;
    }

    /// <summary>Sends scoring traffic (drifted population, 10 rows a request, a fresh request key each) from a few
    /// concurrent callers (paced) until the run completes, printing every change of the rollout's step; then the judged steps.</summary>
    private static async Task<JsonElement> CanaryWithTrafficAsync(ApiClient api, string model, string runId, Stopwatch total, Action<string> say, CancellationToken ct)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var sent = 0;
        var byArm = new System.Collections.Concurrent.ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        var senders = Enumerable.Range(0, 4).Select(lane => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var n = Interlocked.Increment(ref sent);
                var rows = CreditRiskData.FeatureRows(10, seed: 5000 + n, Drift);
                try
                {
                    var answer = await api.PostAsync($"models/{model}/predict", new { rows, routingKey = $"customer-{n}" }, null, stop.Token);
                    if (answer.IsSuccess)
                    {
                        byArm.AddOrUpdate(answer.Body.GetProperty("arm").GetString() ?? "?", 1, (_, c) => c + 1);
                    }
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    break;
                }

                // A short pause per caller (at most about 130 requests a second in all on an idle machine): enough
                // for the 10 % step's minimum within a bake or two, without starving the host that judges the guards.
                try
                {
                    await Task.Delay(20, stop.Token);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }, CancellationToken.None)).ToList();

        JsonElement run;
        var shown = "";
        var deadline = DateTime.UtcNow.AddMinutes(3);
        while (true)
        {
            run = (await api.GetAsync($"runs/{runId}", ct)).Body;
            if (run.ValueKind == JsonValueKind.Object && run.GetProperty("status") is { ValueKind: JsonValueKind.Object } status
                && status.TryGetProperty("rollout", out var rollout) && rollout.ValueKind == JsonValueKind.Object)
            {
                var line = $"{rollout.GetProperty("stage").GetString()}: {rollout.GetProperty("message").GetString()}";
                if (line != shown)
                {
                    shown = line;
                    say($"t = {total.Elapsed.TotalSeconds,5:F1} s  {line}");
                }
            }

            if (run.ValueKind == JsonValueKind.Object && run.GetProperty("runtimeStatus").GetString() is "Completed" or "Failed" or "Terminated")
            {
                break;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"run {runId} did not finish its rollout within 3 minutes");
            }

            await Task.Delay(100, ct);
        }

        await stop.CancelAsync();
        await Task.WhenAll(senders);
        say($"{sent} scoring requests during the rollout: {string.Join(", ", byArm.OrderBy(a => a.Key, StringComparer.Ordinal).Select(a => $"{a.Value} answered by {a.Key}"))}");
        if (run.GetProperty("result").TryGetProperty("rollout", out var result) && result.ValueKind == JsonValueKind.Object)
        {
            foreach (var judged in result.GetProperty("steps").EnumerateArray())
            {
                var report = judged.GetProperty("report");
                say($"step {judged.GetProperty("step")} at {judged.GetProperty("percent")} %: {report.GetProperty("verdict").GetString()} after {judged.GetProperty("bakes")} bake(s), "
                    + $"{report.GetProperty("candidateRequests")} candidate / {report.GetProperty("controlRequests")} control requests");
                foreach (var check in report.GetProperty("checks").EnumerateArray())
                {
                    say($"  {check.GetProperty("message").GetString()}");
                }
            }
        }

        return run;
    }

    private static void PrintAudit(JsonElement audit, Action<string> say)
    {
        var report = audit.GetProperty("report");
        say($"{report.GetProperty("currentRows")} rows in the window: {report.GetProperty("summary").GetString()}");
        foreach (var f in report.GetProperty("features").EnumerateArray())
        {
            say($"  {f.GetProperty("feature").GetString(),-18} {f.GetProperty("method").GetString(),-16} {f.GetProperty("value").GetDouble(),8:F3} (threshold {f.GetProperty("threshold").GetDouble():F3}) {(f.GetProperty("drifted").GetBoolean() ? "DRIFT" : "ok")}");
        }

        say($"decision: {audit.GetProperty("decision").GetString()}");
    }

    private static string Metrics(JsonElement metrics) =>
        metrics.ValueKind != JsonValueKind.Object ? "" : string.Join(", ", metrics.EnumerateObject().Select(m => $"{m.Name} {m.Value.GetDouble():F3}"));

    private static async Task<JsonElement> WaitForRunAsync(ApiClient api, Func<JsonElement, bool> which, string stage, CancellationToken ct)
    {
        return await WaitAsync(async () =>
        {
            var runs = await api.GetAsync("runs", ct);
            if (!runs.IsSuccess)
            {
                return default;
            }

            foreach (var r in runs.Body.EnumerateArray())
            {
                if (r.GetProperty("input").ValueKind == JsonValueKind.Object && which(r))
                {
                    if (r.GetProperty("runtimeStatus").GetString() is "Completed" or "Failed" && r.GetProperty("status").GetProperty("stage").GetString() != stage)
                    {
                        throw new InvalidOperationException($"run {r.GetProperty("runId")} ended at stage {r.GetProperty("status").GetProperty("stage")}: {r.GetProperty("status").GetProperty("message")}");
                    }

                    return r;
                }
            }

            return default;
        }, r => r.ValueKind == JsonValueKind.Object && r.GetProperty("status").ValueKind == JsonValueKind.Object && r.GetProperty("status").GetProperty("stage").GetString() == stage,
        TimeSpan.FromMinutes(3), ct);
    }

    private static Task<JsonElement> WaitForCompletionAsync(ApiClient api, string runId, CancellationToken ct) =>
        WaitAsync(async () => (await api.GetAsync($"runs/{runId}", ct)).Body,
            r => r.ValueKind == JsonValueKind.Object && r.GetProperty("runtimeStatus").GetString() is "Completed" or "Failed" or "Terminated",
            TimeSpan.FromMinutes(3), ct);

    private static async Task<T> WaitAsync<T>(Func<Task<T>> read, Func<T, bool> done, TimeSpan timeout, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var value = await read();
            if (done(value))
            {
                return value;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"gave up waiting after {timeout.TotalSeconds:F0} s");
            }

            await Task.Delay(200, ct);
        }
    }
}
