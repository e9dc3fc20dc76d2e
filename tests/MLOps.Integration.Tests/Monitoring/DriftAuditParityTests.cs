using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MLOps.Core.Drift;
using MLOps.Core.Events;
using MLOps.Core.Monitoring;
using MLOps.Core.Ports;
using MLOps.Core.Samples;
using MLOps.Integration.Tests.Fixtures;
using MLOps.Integration.Tests.Support;
using MLOps.Lifecycle.Contracts;
using MLOps.Lifecycle.Orchestrations;
using MLOps.Lifecycle.Services;
using MLOps.Local;
using Xunit.Abstractions;
using nietras.SeparatedValues;

namespace MLOps.Integration.Tests.Monitoring;

/// <summary>
/// The offline command (<c>mlops drift --reference --current --workflow --json</c>, run as a process) and the
/// audit path (<see cref="DriftAuditOrchestrator"/> on the local durable engine, fanning out profile activities over
/// ranges of the traffic captured in Blob storage on Azurite, then merging) give the same metric values for the same
/// data; the audit keeps its history, applies alert_after over stored audits, and links its HTML report from the
/// DriftAudited event.
/// </summary>
[Collection(AzuriteTestGroup.Name)]
public sealed class DriftAuditParityTests(AzuriteFixture azurite, ITestOutputHelper output) : IAsyncLifetime
{
    private const string Model = "credit-risk";

    /// <summary>Two captures per profile activity: the 6 captures of a 600-row window fan out to 3 partitions.</summary>
    private static readonly DriftAuditOptions FanOut = new() { CapturesPerPartition = 2, MaxPartitions = 16 };

    private readonly string _dir = Directory.CreateTempSubdirectory("mlops-drift-parity-").FullName;
    private readonly PerTestLocalHost _local = new(azurite.ConnectionString);

    private LocalHost Host => _local.Host;

    private T Get<T>() where T : notnull => _local.Get<T>();

    public Task InitializeAsync() => _local.StartAsync();

    public async Task DisposeAsync()
    {
        await _local.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    private string Workflow(string extraDrift)
    {
        // The sample's own drift policy keys give way to the ones under test.
        var sample = File.ReadAllLines(Path.Combine(RepoPaths.Workflows, "credit-risk.yaml"))
            .Where(l => !l.StartsWith("    threshold_mode:", StringComparison.Ordinal) && !l.StartsWith("    threshold:", StringComparison.Ordinal)
                        && !l.StartsWith("    fdr:", StringComparison.Ordinal) && !l.StartsWith("    alert_after:", StringComparison.Ordinal));
        var yaml = (string.Join('\n', sample) + "\n")
            .Replace("  on_drift: true", "  on_drift: false", StringComparison.Ordinal)
            .Replace("    dataset_share: 0.5\n", "    dataset_share: 0.5\n" + extraDrift, StringComparison.Ordinal);
        var path = Path.Combine(_dir, "workflow.yaml");
        File.WriteAllText(path, yaml);
        return path;
    }

    private string Csv(string name, int rows, int seed, DataShift? shift)
    {
        var path = Path.Combine(_dir, name);
        using var writer = new StreamWriter(path, false, new UTF8Encoding(false));
        CreditRiskData.WriteCsv(writer, rows, seed, shift);
        return path;
    }

    private async Task<DriftAuditService> ArrangeAsync(string workflowPath, string referenceCsv, string currentCsv, TimeSpan? spacing = null, DateTimeOffset? before = null,
        IEventPublisher? publisher = null)
    {
        var workflow = await Get<IWorkflowStore>().RegisterAsync(await File.ReadAllTextAsync(workflowPath), "credit-risk.yaml");
        DatasetProfile reference;
        await using (var stream = File.OpenRead(referenceCsv))
        {
            reference = ProfileBuilder.FromCsv(stream, workflow.Definition);
        }

        var (version, _) = await TestRegistry.PublishReferenceAsync(Host, workflow, reference, $"{Model}/runs/parity/reference-profile.json", "parity");

        // Capture the current CSV's rows as scoring traffic, 100 rows per request, exactly as text.
        var rows = new List<IReadOnlyDictionary<string, string?>>();
        using (var reader = Sep.Reader(o => o with { Unescape = true }).FromFile(currentCsv))
        {
            var names = reader.Header.ColNames;
            foreach (var row in reader)
            {
                var values = new Dictionary<string, string?>(StringComparer.Ordinal);
                for (int i = 0; i < names.Count; i++) values[names[i]] = row[i].ToString();
                rows.Add(values);
            }
        }

        var inference = Get<IInferenceStore>();
        var step = spacing ?? TimeSpan.FromSeconds(1);
        var at = (before ?? DateTimeOffset.UtcNow).AddHours(-1) - (step * ((rows.Count + 99) / 100));
        int request = 0;
        foreach (var chunk in rows.Chunk(100))
        {
            await inference.CaptureAsync(new InferenceRecord
            {
                RequestId = $"r{request++:D4}",
                Model = Model,
                Version = version.Version,
                Timestamp = at + (step * request),
                Rows = chunk,
                Predictions = [.. chunk.Select(_ => new Core.Training.Prediction(0.5, 0.5, null))],
            });
        }

        return new DriftAuditService(Get<IWorkflowStore>(), Get<IModelRegistry>(), Get<IArtifactStore>(), inference, Get<IMonitoringStore>(), Get<IMetricHistory>(),
            publisher ?? Get<IEventPublisher>(), TimeProvider.System, NullLogger<DriftAuditService>.Instance, Options.Create(FanOut));
    }

    private DurableTaskClient Client => Host.Client;

    private static async Task<JsonElement> RunOfflineAsync(params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "mlops.dll"));
        foreach (var a in args) info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(process.ExitCode == 0, $"mlops drift exited {process.ExitCode}: {await stderr}");
        return JsonDocument.Parse(await stdout).RootElement.Clone();
    }

    /// <summary>Every value the offline command printed equals the audit's; returns how many were compared.</summary>
    private static int AssertSameMetrics(JsonElement offline, DriftReport report)
    {
        Assert.Equal(offline.GetProperty("currentRows").GetInt64(), report.CurrentRows);
        Assert.Equal(offline.GetProperty("referenceRows").GetInt64(), report.ReferenceRows);
        Assert.Equal(offline.GetProperty("driftedFeatures").GetInt32(), report.DriftedFeatures);
        var offlineFeatures = offline.GetProperty("features").EnumerateArray().ToList();
        Assert.Equal(offlineFeatures.Count, report.Features.Count);
        int compared = 0;
        foreach (var (o, f) in offlineFeatures.Zip(report.Features))
        {
            Assert.Equal(o.GetProperty("feature").GetString(), f.Feature);
            Assert.Equal(o.GetProperty("method").GetString(), f.Method);
            Assert.Equal(o.GetProperty("value").GetDouble(), f.Value);
            Assert.Equal(o.GetProperty("threshold").GetDouble(), f.Threshold);
            Assert.Equal(o.GetProperty("drifted").GetBoolean(), f.Drifted);
            var metrics = o.GetProperty("metrics").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetDouble());
            Assert.Equal(metrics.Keys.Order(), f.Metrics.Keys.Order());
            foreach (var (name, value) in metrics)
            {
                Assert.True(value == f.Metrics[name], $"{f.Feature}.{name}: offline {value:R}, audit {f.Metrics[name]:R}");
                compared++;
            }
        }

        return compared;
    }

    [Fact]
    public async Task Audit_over_captures_in_several_hours_fans_out_and_merges_to_the_offline_numbers()
    {
        var workflow = Workflow("    threshold_mode: calibrated\n");
        var referenceCsv = Csv("reference.csv", 3000, 1, null);
        var currentCsv = Csv("current.csv", 700, 4, new DataShift { IncomeFactor = 0.8, AgeOffset = 3 });
        // 7 captures of 100 rows, 25 minutes apart: the window's captures lie in 3 or 4 hour folders.
        var service = await ArrangeAsync(workflow, referenceCsv, currentCsv, TimeSpan.FromMinutes(25));
        var offline = await RunOfflineAsync("drift", "--reference", referenceCsv, "--current", currentCsv, "--workflow", workflow, "--json");

        var clock = Stopwatch.StartNew();
        var instanceId = await service.StartAsync(Client, Model, DateTimeOffset.UtcNow, "request");
        var result = await DriftAuditService.WaitAsync(Client, instanceId, TimeSpan.FromMinutes(2));
        output.WriteLine($"audit of {result.Captures} captures in {result.Partitions} partitions: {clock.Elapsed.TotalMilliseconds:F0} ms");

        // Fanned out: 7 captures at 2 per partition make 3 profile activities (sizes 3, 2, 2), each with a stored profile.
        Assert.Equal(7, result.Captures);
        Assert.Equal(3, result.Partitions);
        Assert.Equal(3, result.ProfileUris.Distinct().Count());
        // The partition profiles are stored in the binary format and merge, feature by feature, to the offline profile.
        var artifacts = Get<IArtifactStore>();
        var sources = new List<ProfileRangeSource>();
        for (var i = 0; i < result.ProfileUris.Count; i++)
        {
            var uri = result.ProfileUris[i];
            Assert.EndsWith(DriftAuditOrchestrator.ProfilePath(Model, instanceId, i), uri, StringComparison.Ordinal);
            await using (var head = await artifacts.OpenReadRangeAsync(uri, 0, 4))
            {
                var magic = new byte[4];
                await head.ReadExactlyAsync(magic);
                Assert.True(ProfileBinary.IsBinary(magic), $"partition profile {uri} is not binary");
            }

            sources.Add((offset, length, ct) => artifacts.OpenReadRangeAsync(uri, offset, length, ct));
        }

        var merge = await PartitionProfileMerge.OpenAsync(sources, result.ProfileUris);
        Assert.Equal([300L, 200L, 200L], merge.Parts.Select(p => p.Rows));
        DatasetProfile whole;
        await using (var csv = File.OpenRead(currentCsv))
        {
            whole = ProfileBuilder.FromCsv(csv, (await Get<IWorkflowStore>().GetCurrentAsync(Model))!.Definition);
        }

        var merged = await merge.MergeAllAsync();
        Assert.Equal(whole.Rows, merged.Rows);
        // The partitions carry the captured predictions too, last, under the prediction feature's reserved name.
        Assert.Equal([.. whole.Features.Select(f => f.Name), PredictionFeature.Name], merged.Features.Select(f => f.Name));
        var predictions = merged.Features[^1];
        Assert.Equal(700, predictions.Rows);
        Assert.Equal(0, predictions.Nulls);
        Assert.All(predictions.Values, p => Assert.Equal(0.5, p));
        foreach (var (w, m) in whole.Features.Zip(merged.Features))
        {
            Assert.Equal(w.Nulls, m.Nulls);
            Assert.Equal(w.Values, m.Values);
            Assert.Equal(w.Counts.OrderBy(c => c.Key, StringComparer.Ordinal), m.Counts.OrderBy(c => c.Key, StringComparer.Ordinal));
        }

        // The orchestration's output is a small summary (references, no samples).
        var state = await Client.GetInstanceAsync(instanceId, getInputsAndOutputs: true);
        Assert.NotNull(state);
        Assert.True(state.SerializedOutput!.Length < 4096, $"output of {state.SerializedOutput.Length} chars");

        // The merged partitions give exactly the offline numbers.
        var audit = (await Get<IMonitoringStore>().ListAuditsAsync(Model)).Single(a => a.AuditId == result.AuditId);
        Assert.Equal(700, audit.Report.CurrentRows);
        Assert.True(AssertSameMetrics(offline, audit.Report) > 50);
        Assert.Equal(audit.Report.DriftedFeatures, result.DriftedFeatures);

        // Starting the same model and window again finds the same instance: one audit.
        Assert.Equal(instanceId, await service.StartAsync(Client, Model, result.WindowEnd, "schedule"));
        Assert.Single(await Get<IMonitoringStore>().ListAuditsAsync(Model));

        // The request path (what the HTTP route and the CLI call) on the warm engine: same numbers, new window.
        clock.Restart();
        var again = await service.AuditAsync(Model, Client);
        output.WriteLine($"request audit on the warm engine: {clock.Elapsed.TotalMilliseconds:F0} ms");
        Assert.NotNull(again);
        Assert.NotEqual(audit.AuditId, again.AuditId);
        Assert.True(AssertSameMetrics(offline, again.Report) > 50);
    }

    [Fact]
    public async Task Timer_and_scheduler_firing_for_the_same_due_window_run_one_audit()
    {
        var workflow = Workflow("");
        var now = DateTimeOffset.UtcNow;
        // The sample audits every six hours: the window ends at the latest six-hour mark; traffic lies before it.
        var due = DriftAuditService.DueOccurrence("0 */6 * * *", null, now)!.Value;
        var referenceCsv = Csv("reference.csv", 3000, 1, null);
        var currentCsv = Csv("current.csv", 600, 5, new DataShift { IncomeFactor = 0.75, AgeOffset = 4 });
        var service = await ArrangeAsync(workflow, referenceCsv, currentCsv, before: due);
        var offline = await RunOfflineAsync("drift", "--reference", referenceCsv, "--current", currentCsv, "--workflow", workflow, "--json");

        // Two fires (the Functions timer and the local scheduler, or a timer retry) before the audit is stored.
        // (The host's other sample model has no production version: its audits end skipped.)
        var prefix = $"drift-{Model}-";
        var first = (await service.AuditDueAsync(Client, force: false)).Where(i => i.StartsWith(prefix, StringComparison.Ordinal)).ToList();
        var second = (await service.AuditDueAsync(Client, force: false)).Where(i => i.StartsWith(prefix, StringComparison.Ordinal)).ToList();

        var instanceId = Assert.Single(first);
        Assert.Equal(DriftAuditService.InstanceIdFor(Model, due), instanceId);
        Assert.Equal(first, second);
        var result = await DriftAuditService.WaitAsync(Client, instanceId, TimeSpan.FromMinutes(2));
        Assert.Equal(due, result.WindowEnd);
        Assert.Equal(600, result.CurrentRows);
        Assert.Equal(3, result.Partitions);
        var stored = Assert.Single(await Get<IMonitoringStore>().ListAuditsAsync(Model));
        Assert.Equal(result.AuditId, stored.AuditId);
        Assert.Equal(due, stored.WindowEnd);

        // The timer path's audit has exactly the offline command's numbers: every metric of every feature, the deciding
        // method, threshold and verdict (the shifted income and age drift, so verdicts of both kinds are compared).
        var compared = AssertSameMetrics(offline, stored.Report);
        Assert.True(compared > 50, $"only {compared} metric values compared");
        Assert.True(stored.Report.DriftedFeatures > 0, stored.Report.Summary);
        Assert.Contains(stored.Report.Features, f => !f.Drifted);
        Assert.Equal(stored.Report.DriftedFeatures, result.DriftedFeatures);

        // Once audited, the window is not due again.
        Assert.DoesNotContain(await service.AuditDueAsync(Client, force: false), i => i.StartsWith(prefix, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Offline_command_and_timer_audit_give_identical_metrics()
    {
        var workflow = Workflow("    threshold_mode: calibrated\n");
        var referenceCsv = Csv("reference.csv", 3000, 1, null);
        var currentCsv = Csv("current.csv", 600, 2, new DataShift { IncomeFactor = 0.7, AgeOffset = 5 });
        var service = await ArrangeAsync(workflow, referenceCsv, currentCsv);

        var offline = await RunOfflineAsync("drift", "--reference", referenceCsv, "--current", currentCsv, "--workflow", workflow, "--json");
        var audit = await service.AuditAsync(Model, Client);

        Assert.NotNull(audit);
        var report = audit.Report;
        Assert.True(report.DriftedFeatures > 0, report.Summary);
        var compared = AssertSameMetrics(offline, report);
        Assert.True(compared > 50, $"only {compared} metric values compared");

        // The raw history is queryable per feature, and equals the audit's values.
        var history = await service.GetFeatureHistoryAsync(Model, "income");
        var point = Assert.Single(history);
        var income = report.Features.Single(f => f.Feature == "income");
        Assert.Equal(audit.AuditId, point.AuditId);
        Assert.Equal(income.Value, point.Value);
        Assert.Equal(income.Metrics["wasserstein_norm"], point.Metrics["wasserstein_norm"]);

        // The HTML report is stored and linked from the DriftAudited event.
        var entries = await Get<IAuditTrail>().ReadAsync(Model);
        var audited = entries.Single(e => e.Event.Type == LifecycleEventTypes.DriftAudited).Event;
        var reportUri = audited.Data.GetProperty("reportUri").GetString()!;
        Assert.EndsWith($"{Model}/audits/{audit.AuditId}.html", reportUri, StringComparison.Ordinal);
        await using var html = await Get<IArtifactStore>().OpenReadAsync(reportUri);
        var text = await new StreamReader(html).ReadToEndAsync();
        Assert.Equal(report.Features.Count, System.Text.RegularExpressions.Regex.Count(text, "<svg class=\"hist\""));
    }

    [Fact]
    public async Task Alert_after_k_of_n_reads_previous_audits_from_table_storage()
    {
        var workflow = Workflow("    alert_after: {k: 2, n: 3}\n");
        var referenceCsv = Csv("reference.csv", 3000, 1, null);
        var currentCsv = Csv("current.csv", 400, 3, new DataShift { IncomeFactor = 0.6, AgeOffset = 10 });
        var service = await ArrangeAsync(workflow, referenceCsv, currentCsv);

        var first = await service.AuditAsync(Model, Client);
        var second = await service.AuditAsync(Model, Client);

        Assert.True(first!.Report.DriftedFeatures > 0);
        Assert.Equal(1, first.Report.WindowsDrifted);
        Assert.False(first.Report.Alert);
        Assert.Contains("alert_after needs 2", first.Decision, StringComparison.Ordinal);
        Assert.Equal(2, second!.Report.WindowsDrifted);
        Assert.True(second.Report.Alert);

        var entries = await Get<IAuditTrail>().ReadAsync(Model);
        Assert.Single(entries, e => e.Event.Type == LifecycleEventTypes.DriftDetected);
        var stored = await Get<IMonitoringStore>().ListAuditsAsync(Model);
        Assert.Equal([2, 1], stored.Select(a => a.Report.WindowsDrifted));
        Assert.Equal(2, (await service.GetFeatureHistoryAsync(Model, "income")).Count);
    }

    /// <summary>Publishes through the real publisher but fails once, before publishing, on the first event of one type:
    /// a worker dying between storing the audit and publishing it.</summary>
    private sealed class FailOncePublisher(IEventPublisher inner, string failType) : IEventPublisher
    {
        private int _failed;

        public Task PublishAsync(LifecycleEvent lifecycleEvent, CancellationToken cancellationToken = default)
        {
            if (lifecycleEvent.Type == failType && Interlocked.Exchange(ref _failed, 1) == 0)
            {
                throw new IOException($"simulated failure before publishing {lifecycleEvent.Type} {lifecycleEvent.Id}");
            }

            return inner.PublishAsync(lifecycleEvent, cancellationToken);
        }
    }

    [Theory]
    [InlineData(LifecycleEventTypes.DriftAudited)]
    [InlineData(LifecycleEventTypes.DriftDetected)]
    public async Task Analysis_retried_after_a_failure_between_storing_and_publishing_publishes_each_event_once(string failType)
    {
        var workflow = Workflow("");
        var publisher = new FailOncePublisher(Get<IEventPublisher>(), failType);
        var service = await ArrangeAsync(workflow, Csv("reference.csv", 3000, 1, null), Csv("current.csv", 600, 2, new DataShift { IncomeFactor = 0.6, AgeOffset = 8 }),
            publisher: publisher);

        // The activities of one audit, run as the orchestration runs them.
        var plan = await service.PlanAsync(new PlanDriftAuditInput { Model = Model, WindowEnd = DateTimeOffset.UtcNow, CapturesPerPartition = 2, MaxPartitions = 16 });
        var uris = new List<string>();
        for (var i = 0; i < plan.Partitions.Count; i++)
        {
            var stored = await service.ProfilePartitionAsync(new ProfilePartitionInput
            {
                Model = Model, Version = plan.Version, WorkflowHash = plan.WorkflowHash, WindowStart = plan.WindowStart, WindowEnd = plan.WindowEnd,
                Range = plan.Partitions[i], ProfilePath = DriftAuditOrchestrator.ProfilePath(Model, "retry-" + failType, i),
            });
            uris.Add(stored.Uri);
        }

        var input = new AnalyzeDriftInput
        {
            AuditId = Guid.NewGuid().ToString("N"), Model = Model, Version = plan.Version, WorkflowHash = plan.WorkflowHash,
            ReferenceProfileUri = plan.ReferenceProfileUri, WindowStart = plan.WindowStart, WindowEnd = plan.WindowEnd, ProfileUris = uris,
        };
        var failure = await Assert.ThrowsAsync<IOException>(() => service.AnalyzeAsync(input, Client));
        Assert.Contains(failType, failure.Message, StringComparison.Ordinal);

        // The audit was stored before the failure; the event that failed is not in the trail yet.
        var audit = Assert.Single(await Get<IMonitoringStore>().ListAuditsAsync(Model));
        Assert.Equal(input.AuditId, audit.AuditId);
        Assert.True(audit.Report.Alert, audit.Report.Summary);
        Assert.NotNull(audit.ReportUri);
        async Task<int> CountAsync(string id) => (await Get<IAuditTrail>().ReadAsync(Model)).Count(e => e.Event.Id == id);
        var failedId = failType == LifecycleEventTypes.DriftAudited ? input.AuditId : input.AuditId + "-drift";
        Assert.Equal(0, await CountAsync(failedId));

        // The activity's retry finds the stored audit and publishes its events: each id once, however often it runs.
        var retried = await service.AnalyzeAsync(input, Client);
        var again = await service.AnalyzeAsync(input, Client);

        Assert.Equal(input.AuditId, retried.AuditId);
        Assert.Equal(audit.ReportUri, retried.ReportUri);
        Assert.Equal(retried, again with { ProfileUris = retried.ProfileUris });
        Assert.Equal(1, await CountAsync(input.AuditId));
        Assert.Equal(1, await CountAsync(input.AuditId + "-drift"));
        var entries = await Get<IAuditTrail>().ReadAsync(Model);
        var audited = entries.Single(e => e.Event.Id == input.AuditId).Event;
        Assert.Equal(LifecycleEventTypes.DriftAudited, audited.Type);
        Assert.Equal(audit.ReportUri, audited.Data.GetProperty("reportUri").GetString());
        Assert.Equal(uris.Count, audited.Data.GetProperty("partitions").GetInt32());
        Assert.Equal(LifecycleEventTypes.DriftDetected, entries.Single(e => e.Event.Id == input.AuditId + "-drift").Event.Type);
        Assert.Single(await Get<IMonitoringStore>().ListAuditsAsync(Model));
    }
}
