using System.Globalization;
using System.Text;
using Cronos;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MLOps.Core.Drift;
using MLOps.Core.Events;
using MLOps.Core.Monitoring;
using MLOps.Core.Ports;
using MLOps.Core.Registry;
using MLOps.Core.Reports;
using MLOps.Lifecycle.Contracts;
using MLOps.Lifecycle.Handlers;
using MLOps.Lifecycle.Logging;
using MLOps.Lifecycle.Orchestrations;

namespace MLOps.Lifecycle.Services;

/// <summary>
/// Audits a model's captured production traffic against the training reference of the version that serves it,
/// keeps every metric, publishes the result, and starts a retraining run when the workflow's retraining policy
/// says so (enough drifted features, outside the cooldown). An audit runs as a <see cref="DriftAuditOrchestrator"/>:
/// <see cref="PlanAsync"/> lists the window's captures in ranges, <see cref="ProfilePartitionAsync"/> profiles each
/// range in parallel and stores the profile, <see cref="AnalyzeAsync"/> merges them and does the rest. The triggers
/// (timer, local scheduler, HTTP) start that orchestration through <see cref="StartAsync"/>, which claims the model's
/// window in Table storage so one audit runs per window (DriftAuditService.Start.cs).
/// </summary>
public sealed partial class DriftAuditService(
    IWorkflowStore workflows,
    IModelRegistry registry,
    IArtifactStore artifacts,
    IInferenceStore inference,
    IMonitoringStore monitoring,
    IMetricHistory history,
    IEventPublisher events,
    TimeProvider time,
    ILogger<DriftAuditService> logger,
    IOptions<DriftAuditOptions>? options = null)
{
    private readonly DriftAuditOptions _options = options?.Value ?? new DriftAuditOptions();

    /// <summary>Starts an audit of every model whose monitoring schedule has come due since its last audit (or all
    /// when <paramref name="force"/>), for the window ending at the due occurrence: a timer and a scheduler firing
    /// for the same occurrence start one audit. Called by the timer trigger; returns the instance ids started or found.</summary>
    public async Task<IReadOnlyList<string>> AuditDueAsync(DurableTaskClient client, bool force, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        var now = time.GetUtcNow();
        var started = new List<string>();
        foreach (var workflow in await workflows.ListCurrentAsync(cancellationToken))
        {
            var recent = await monitoring.ListAuditsAsync(workflow.Model, 1, cancellationToken);
            var last = recent.Count > 0 ? recent[0] : null;
            var due = DueOccurrence(workflow.Definition.Monitoring.Schedule, last?.AuditedAt, now);
            if (due is null && !force)
            {
                continue;
            }

            started.Add(await StartAsync(client, workflow.Model, due ?? now, "schedule", cancellationToken));
        }

        return started;
    }

    /// <summary>True when the cron schedule has an occurrence after the last audit (or ever, with none).</summary>
    public static bool IsDue(string schedule, DateTimeOffset? lastAudit, DateTimeOffset now) => DueOccurrence(schedule, lastAudit, now) is not null;

    /// <summary>The latest occurrence of the cron schedule after the last audit (within 31 days when there is none)
    /// and at or before <paramref name="now"/>; null when none is due.</summary>
    public static DateTimeOffset? DueOccurrence(string schedule, DateTimeOffset? lastAudit, DateTimeOffset now)
    {
        var cron = CronExpression.Parse(schedule);
        var from = lastAudit ?? now.AddDays(-31);
        DateTime? latest = null;
        foreach (var occurrence in cron.GetOccurrences(from.UtcDateTime, now.UtcDateTime, TimeZoneInfo.Utc, fromInclusive: false, toInclusive: true))
        {
            latest = occurrence;
        }

        return latest is { } due ? new DateTimeOffset(due, TimeSpan.Zero) : null;
    }

    /// <summary>The orchestration instance id of the audit of <paramref name="model"/> for the window ending at
    /// <paramref name="windowEnd"/>: the same model and window give the same id.</summary>
    public static string InstanceIdFor(string model, DateTimeOffset windowEnd) =>
        $"drift-{model}-{windowEnd.UtcDateTime.ToString("yyyyMMdd'T'HHmmssfff'Z'", CultureInfo.InvariantCulture)}";

    private async Task<DriftAuditRecord?> FindAuditAsync(string model, string auditId, CancellationToken cancellationToken) =>
        (await monitoring.ListAuditsAsync(model, 20, cancellationToken)).FirstOrDefault(a => a.AuditId == auditId);

    /// <summary>Step 1 of an audit: resolves the version serving the model and its reference profile, lists the
    /// window's captures and cuts them into at most <see cref="PlanDriftAuditInput.MaxPartitions"/> contiguous ranges of
    /// at least <see cref="PlanDriftAuditInput.CapturesPerPartition"/> captures. Returns names, never data.</summary>
    public async Task<DriftAuditPlan> PlanAsync(PlanDriftAuditInput input, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        var model = input.Model;
        var workflow = await workflows.GetCurrentAsync(model, cancellationToken);
        var alias = await registry.GetAliasAsync(model, Aliases.Production, cancellationToken);
        if (workflow is null || alias is null)
        {
            return new DriftAuditPlan { Model = model, Skipped = $"model '{model}' has no '{Aliases.Production}' version to audit" };
        }

        var version = await registry.GetVersionAsync(model, alias.Version, cancellationToken)
            ?? throw new InvalidDataException($"'{model}' production points at missing version {alias.Version}");
        if (version.ReferenceProfileUri is null)
        {
            throw new InvalidDataException($"version {version.Version} of '{model}' has no reference profile");
        }

        var end = input.WindowEnd;
        var start = end - workflow.Definition.Monitoring.Window;
        var names = new List<string>();
        await foreach (var name in inference.ListAsync(model, start, end, cancellationToken))
        {
            names.Add(name);
        }

        return new DriftAuditPlan
        {
            Model = model,
            Version = version.Version,
            WorkflowHash = workflow.Hash,
            ReferenceProfileUri = version.ReferenceProfileUri,
            WindowStart = start,
            WindowEnd = end,
            Captures = names.Count,
            Partitions = Partition(names, input.CapturesPerPartition, input.MaxPartitions),
        };
    }

    /// <summary>Cuts names (in order) into contiguous ranges: as many as the names allow at
    /// <paramref name="perPartition"/> each, at most <paramref name="maxPartitions"/>, sizes differing by one at most.</summary>
    public static IReadOnlyList<CaptureRange> Partition(IReadOnlyList<string> names, int perPartition, int maxPartitions)
    {
        ArgumentNullException.ThrowIfNull(names);
        ArgumentOutOfRangeException.ThrowIfLessThan(perPartition, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPartitions, 1);
        if (names.Count == 0)
        {
            return [];
        }

        var count = Math.Clamp(names.Count / perPartition, 1, maxPartitions);
        var ranges = new List<CaptureRange>(count);
        var at = 0;
        for (var i = 0; i < count; i++)
        {
            var size = (names.Count / count) + (i < names.Count % count ? 1 : 0);
            ranges.Add(new CaptureRange(names[at], names[at + size - 1], size));
            at += size;
        }

        return ranges;
    }

    /// <summary>Step 2 of an audit, one per range, in parallel: streams the audited version's rows of the range into a
    /// <see cref="ProfileAccumulator"/> (no list of rows; the same profile as <see cref="ProfileBuilder.FromRows"/> in a
    /// single pass) and its captured predictions into the <see cref="PredictionFeature"/>, and stores them in the binary
    /// format of <see cref="ProfileBinary"/> (staged in a temporary file, so the samples are not copied in memory);
    /// returns its URI.</summary>
    public async Task<PartitionProfileRef> ProfilePartitionAsync(ProfilePartitionInput input, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        var workflow = await workflows.GetAsync(input.Model, input.WorkflowHash, cancellationToken)
            ?? throw new InvalidDataException($"workflow {input.WorkflowHash} of '{input.Model}' does not exist");
        var profile = new ProfileAccumulator(workflow.Definition);
        var predictions = PredictionFeature.Enabled(workflow.Definition) ? PredictionFeature.Create(workflow.Definition) : null;
        var records = 0;
        await foreach (var record in inference.ReadRangeAsync(input.Model, input.WindowStart, input.WindowEnd, input.Range, cancellationToken))
        {
            if (record.Version == input.Version)
            {
                records++;
                foreach (var row in record.Rows)
                {
                    profile.Add(row);
                }

                predictions?.Add(record);
            }
        }

        await using var staged = new FileStream(Path.Combine(Path.GetTempPath(), $"mlops-profile-{Guid.NewGuid():N}.tmp"), FileMode.CreateNew,
            FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.DeleteOnClose | FileOptions.Asynchronous);
        profile.WriteBinary(staged, predictions);
        staged.Position = 0;
        var saved = await artifacts.SaveAsync(input.ProfilePath, staged, cancellationToken);
        return new PartitionProfileRef { Uri = saved.Uri, Records = records, Rows = profile.Rows, Bytes = saved.Length };
    }

    /// <summary>Step 3 of an audit: merges the partition profiles feature by feature (<see cref="PartitionProfileMerge"/>:
    /// one feature's section of every partition in memory at a time, in window order; exact when the window's values
    /// fit the sample size), compares each with the reference feature as it is merged (<see cref="DriftComparison.CompareAsync"/>;
    /// the reference is read one feature at a time too, from its binary form beside the JSON), applies
    /// alert_after over the stored audits, decides on retraining (starting the run through <paramref name="client"/>),
    /// stores the audit (every metric, per-feature history in Table storage) and its HTML report, and publishes the
    /// events. Idempotent by audit id: a retry after the audit was stored returns it as stored and publishes its events
    /// again (same ids and data; the audit trail keeps one entry per id, Event Grid subscribers dedupe by id), so a
    /// failure between storing and publishing loses no event.</summary>
    public async Task<DriftAuditResult> AnalyzeAsync(AnalyzeDriftInput input, DurableTaskClient client, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(client);
        var model = input.Model;
        if (await FindAuditAsync(model, input.AuditId, cancellationToken) is { } done)
        {
            await PublishAsync(done, input.ProfileUris.Count, cancellationToken);
            return Summarize(done, input, done.ReportUri);
        }

        var workflow = await workflows.GetAsync(model, input.WorkflowHash, cancellationToken)
            ?? throw new InvalidDataException($"workflow {input.WorkflowHash} of '{model}' does not exist");
        var reference = await OpenReferenceAsync(input, cancellationToken);
        var spec = workflow.Definition.Monitoring;
        var merge = input.ProfileUris.Count == 0 ? null : await OpenPartitionsAsync(input, cancellationToken);
        var empty = merge is null ? ProfileBuilder.FromRows([], workflow.Definition) : null;
        // The prediction feature is judged when both sides have it (flagged in partition profiles; older ones mark it by
        // its reserved name, which the reader turns into the flag).
        var currentHasPrediction = merge is not null && merge.Parts.Count > 0 && merge.Parts[0].Features.Any(f => f.IsPrediction);
        var histograms = new List<string>();
        // One feature at a time: the reference's (a ranged read of its binary form), merged from every partition,
        // compared, drawn, then let go.
        var report = await DriftComparison.CompareAsync(
            reference,
            (name, ct) => merge is null ? Task.FromResult(empty!.Features.FirstOrDefault(f => f.Name == name)) : merge.MergeFeatureAsync(name, ct),
            merge?.Rows ?? empty!.Rows,
            currentHasPrediction,
            spec,
            (referenceFeature, current, drift) => histograms.Add(DriftReportHtml.HistogramSvg(referenceFeature, current, drift.Kind)),
            cancellationToken);

        var alertAfter = spec.Drift.AlertAfter;
        if (alertAfter.N > 1)
        {
            // Previous judged windows of the same version decide, with this one, whether to alert.
            var previous = await monitoring.ListAuditsAsync(model, Math.Max(20, alertAfter.N * 4), cancellationToken);
            report = DriftAnalyzer.ApplyAlertAfter(report, previous.Where(a => a.Version == input.Version).OrderByDescending(a => a.AuditedAt).Select(a => a.Report), alertAfter);
        }
        else
        {
            report = DriftAnalyzer.ApplyAlertAfter(report, [], alertAfter);
        }

        var auditId = input.AuditId;
        var end = input.WindowEnd;
        var version = input.Version;
        var (decision, retrainRunId) = await DecideAsync(model, workflow, report, auditId, client, end, cancellationToken);
        var audit = new DriftAuditRecord
        {
            AuditId = auditId,
            Model = model,
            Version = version,
            WindowStart = input.WindowStart,
            WindowEnd = end,
            Report = report,
            AuditedAt = end,
            RetrainRunId = retrainRunId,
            Decision = decision,
        };
        var reportUri = await SaveHtmlReportAsync(audit, histograms, cancellationToken);
        audit = audit with { ReportUri = reportUri };
        await monitoring.SaveAuditAsync(audit, cancellationToken);
        await PublishAsync(audit, input.ProfileUris.Count, cancellationToken);
        Log.DriftAudited(logger, auditId, model, version, report.Summary, decision);
        return Summarize(audit, input, reportUri);
    }

    /// <summary>Opens the audited version's reference profile: its binary form, read feature by feature, when it was
    /// stored beside the JSON (<see cref="ReferenceProfiles"/>); the JSON, read whole, for a version registered before.</summary>
    private async Task<StoredProfile> OpenReferenceAsync(AnalyzeDriftInput input, CancellationToken cancellationToken)
    {
        var reference = await ReferenceProfiles.OpenAsync(artifacts, input.ReferenceProfileUri, cancellationToken)
            ?? throw new InvalidDataException($"version {input.Version} of '{input.Model}': reference profile {input.ReferenceProfileUri} not found");
        if (!reference.IsStreamed)
        {
            Log.DriftReferenceReadWhole(logger, input.AuditId, input.Model, input.Version, input.ReferenceProfileUri);
        }

        return reference;
    }

    /// <summary>Reads the headers of the partition profiles (binary; a JSON profile written before the binary format,
    /// by an audit in flight across an upgrade, is read whole and served from memory).</summary>
    private async Task<PartitionProfileMerge> OpenPartitionsAsync(AnalyzeDriftInput input, CancellationToken cancellationToken)
    {
        var sources = new ProfileRangeSource[input.ProfileUris.Count];
        for (var i = 0; i < sources.Length; i++)
        {
            var uri = input.ProfileUris[i];
            var prefix = new byte[4];
            await using (var head = await artifacts.OpenReadRangeAsync(uri, 0, prefix.Length, cancellationToken))
            {
                await head.ReadAtLeastAsync(prefix, prefix.Length, throwOnEndOfStream: false, cancellationToken);
            }

            if (ProfileBinary.IsBinary(prefix))
            {
                sources[i] = (offset, length, ct) => artifacts.OpenReadRangeAsync(uri, offset, length, ct);
            }
            else
            {
                var json = await artifacts.ReadJsonAsync<DatasetProfile>(uri, cancellationToken)
                    ?? throw new InvalidDataException($"partition profile {uri} of drift audit {input.AuditId} not found");
                sources[i] = ProfileBinary.FromBytes(ProfileBinary.ToBytes(json));
            }
        }

        return await PartitionProfileMerge.OpenAsync(sources, input.ProfileUris, cancellationToken: cancellationToken);
    }

    /// <summary>Publishes the audit's events (DriftAudited, and DriftDetected when it alerts) with ids and data that
    /// depend on the stored audit only, so publishing again repeats them exactly.</summary>
    private async Task PublishAsync(DriftAuditRecord audit, int partitions, CancellationToken cancellationToken)
    {
        var (auditId, model, version, report, end) = (audit.AuditId, audit.Model, audit.Version, audit.Report, audit.WindowEnd);
        await events.PublishAsync(LifecycleEvent.Create(auditId, LifecycleEventTypes.DriftAudited, model, $"models/{model}/versions/{version}", end,
            new { auditId, Version = version, report.Judged, report.DriftedFeatures, report.DatasetDrift, report.CurrentRows, report.WindowsDrifted, report.Alert, report.Summary, audit.Decision, reportUri = audit.ReportUri, Partitions = partitions }, "drift-monitor"), cancellationToken);
        if (report.Alert)
        {
            await events.PublishAsync(LifecycleEvent.Create(auditId + "-drift", LifecycleEventTypes.DriftDetected, model, $"models/{model}/versions/{version}", end,
                new { auditId, Version = version, Features = report.Features.Where(f => f.Drifted).Select(f => new { f.Feature, f.Method, f.Value, f.Threshold }), report.Summary }, "drift-monitor"), cancellationToken);
        }
    }

    private static DriftAuditResult Summarize(DriftAuditRecord audit, AnalyzeDriftInput input, string? reportUri) => new()
    {
        Model = audit.Model,
        AuditId = audit.AuditId,
        Version = audit.Version,
        WindowStart = audit.WindowStart,
        WindowEnd = audit.WindowEnd,
        Partitions = input.ProfileUris.Count,
        CurrentRows = audit.Report.CurrentRows,
        Judged = audit.Report.Judged,
        DriftedFeatures = audit.Report.DriftedFeatures,
        Alert = audit.Report.Alert,
        Summary = audit.Report.Summary,
        Decision = audit.Decision,
        RetrainRunId = audit.RetrainRunId,
        ReportUri = reportUri,
        ProfileUris = input.ProfileUris,
    };

    /// <summary>Most features whose history is drawn as a sparkline in the HTML report (one table query each).</summary>
    public const int ReportHistoryFeatures = 100;

    /// <summary>Renders the audit's HTML report (histograms drawn while merging, metrics, history sparklines) and stores
    /// it in the artifacts container at <c>{model}/audits/{auditId}.html</c>; returns its URI.</summary>
    private async Task<string> SaveHtmlReportAsync(DriftAuditRecord audit, IReadOnlyList<string> histograms, CancellationToken cancellationToken)
    {
        var sparklines = new Dictionary<string, IReadOnlyList<double>>(StringComparer.Ordinal);
        foreach (var feature in audit.Report.Features.Take(ReportHistoryFeatures))
        {
            var past = await history.GetFeatureHistoryAsync(audit.Model, feature.Feature, 30, cancellationToken);
            sparklines[feature.Feature] = [.. past.Where(p => p.Method == feature.Method).Reverse().Select(p => p.Value), feature.Value];
        }

        var html = DriftReportHtml.RenderWithHistograms(audit, histograms, sparklines);
        await using var stream = new MemoryStream(Encoding.UTF8.GetBytes(html), writable: false);
        var saved = await artifacts.SaveAsync($"{audit.Model}/audits/{audit.AuditId}.html", stream, cancellationToken);
        return saved.Uri;
    }

    /// <summary>The raw drift values of one feature over past audits, newest first (Table storage).</summary>
    public Task<IReadOnlyList<FeatureMetricPoint>> GetFeatureHistoryAsync(string model, string feature, int take = 50, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(model);
        ArgumentException.ThrowIfNullOrEmpty(feature);
        return history.GetFeatureHistoryAsync(model, feature, take, cancellationToken);
    }

    private async Task<(string Decision, string? RunId)> DecideAsync(
        string model, StoredWorkflow workflow, DriftReport report, string auditId, DurableTaskClient client, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var policy = workflow.Definition.Retraining;
        if (!report.Judged)
        {
            return ("not judged: " + report.Summary, null);
        }

        if (report.DriftedFeatures > 0 && !report.Alert)
        {
            var after = workflow.Definition.Monitoring.Drift.AlertAfter;
            return ($"no retraining: no alert yet, {report.WindowsDrifted} of the last {after.N} judged windows drifted, alert_after needs {after.K}", null);
        }

        if (!policy.OnDrift || report.DriftedFeatures < policy.MinDriftedFeatures)
        {
            return ($"no retraining: {report.DriftedFeatures} drifted feature(s), policy needs {policy.MinDriftedFeatures}", null);
        }

        var lastRetrain = (await monitoring.ListAuditsAsync(model, 50, cancellationToken)).FirstOrDefault(a => a.RetrainRunId is not null);
        if (lastRetrain is not null && now - lastRetrain.AuditedAt < policy.Cooldown)
        {
            return ($"no retraining: cooldown until {lastRetrain.AuditedAt + policy.Cooldown:u} (last run {lastRetrain.RetrainRunId})", null);
        }

        var dataset = (await registry.ListDatasetsAsync(model, cancellationToken)).MaxBy(d => d.RegisteredAt);
        if (dataset is null)
        {
            return ("no retraining: no registered dataset", null);
        }

        var runId = $"{model}-retrain-{auditId[..12]}";
        await RunStarter.StartOnceAsync(client, new LifecycleRunInput
        {
            RunId = runId,
            Model = model,
            WorkflowHash = workflow.Hash,
            DatasetSha256 = dataset.Sha256,
            DatasetUri = dataset.SnapshotUri,
            DatasetRows = dataset.Rows,
            Trigger = RunTriggers.Drift,
            Author = "drift-monitor",
            Reason = $"drift audit {auditId}: {report.Summary}",
        }, cancellationToken);
        await events.PublishAsync(LifecycleEvent.Create(auditId + "-retrain", LifecycleEventTypes.RetrainingStarted, model, $"runs/{runId}", now,
            new { auditId, runId, report.DriftedFeatures, DatasetSha256 = dataset.Sha256 }, "drift-monitor"), cancellationToken);
        return ($"retraining started: run {runId}", runId);
    }
}
