using System.Text;
using Cronos;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;
using MLOps.Core.Drift;
using MLOps.Core.Events;
using MLOps.Core.Monitoring;
using MLOps.Core.Ports;
using MLOps.Core.Registry;
using MLOps.Core.Reports;
using MLOps.Lifecycle.Contracts;
using MLOps.Lifecycle.Handlers;
using MLOps.Lifecycle.Logging;

namespace MLOps.Lifecycle.Services;

/// <summary>
/// Audits a model's captured production traffic against the training reference of the version that serves it,
/// keeps every metric, publishes the result, and starts a retraining run when the workflow's retraining policy
/// says so (enough drifted features, outside the cooldown).
/// </summary>
public sealed class DriftAuditService(
    IWorkflowStore workflows,
    IModelRegistry registry,
    IArtifactStore artifacts,
    IInferenceStore inference,
    IMonitoringStore monitoring,
    IMetricHistory history,
    IEventPublisher events,
    TimeProvider time,
    ILogger<DriftAuditService> logger)
{
    /// <summary>Audits every model whose monitoring schedule has come due since its last audit (or all when
    /// <paramref name="force"/>). Called by the timer trigger.</summary>
    public async Task<IReadOnlyList<DriftAuditRecord>> AuditDueAsync(DurableTaskClient client, bool force, CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow();
        var results = new List<DriftAuditRecord>();
        foreach (var workflow in await workflows.ListCurrentAsync(cancellationToken))
        {
            var recent = await monitoring.ListAuditsAsync(workflow.Model, 1, cancellationToken);
            var last = recent.Count > 0 ? recent[0] : null;
            if (!force && !IsDue(workflow.Definition.Monitoring.Schedule, last?.AuditedAt, now))
            {
                continue;
            }

            var audit = await AuditAsync(workflow.Model, client, cancellationToken);
            if (audit is not null)
            {
                results.Add(audit);
            }
        }

        return results;
    }

    /// <summary>True when the cron schedule has an occurrence after the last audit (or ever, with none).</summary>
    public static bool IsDue(string schedule, DateTimeOffset? lastAudit, DateTimeOffset now)
    {
        var cron = CronExpression.Parse(schedule);
        var from = lastAudit ?? now.AddDays(-31);
        var next = cron.GetNextOccurrence(from.UtcDateTime, TimeZoneInfo.Utc);
        return next is { } due && due <= now.UtcDateTime;
    }

    /// <summary>Audits one model now; null when no version serves it.</summary>
    public async Task<DriftAuditRecord?> AuditAsync(string model, DurableTaskClient client, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        var workflow = await workflows.GetCurrentAsync(model, cancellationToken);
        var alias = await registry.GetAliasAsync(model, Aliases.Production, cancellationToken);
        if (workflow is null || alias is null)
        {
            return null;
        }

        var version = await registry.GetVersionAsync(model, alias.Version, cancellationToken)
            ?? throw new InvalidDataException($"'{model}' production points at missing version {alias.Version}");
        var reference = version.ReferenceProfileUri is null ? null : await artifacts.ReadJsonAsync<DatasetProfile>(version.ReferenceProfileUri, cancellationToken);
        if (reference is null)
        {
            throw new InvalidDataException($"version {version.Version} of '{model}' has no reference profile");
        }

        var spec = workflow.Definition.Monitoring;
        var end = time.GetUtcNow();
        var start = end - spec.Window;
        var rows = new List<IReadOnlyDictionary<string, string?>>();
        await foreach (var record in inference.ReadAsync(model, start, end, cancellationToken))
        {
            if (record.Version == version.Version)
            {
                rows.AddRange(record.Rows);
            }
        }

        var current = ProfileBuilder.FromRows(rows, workflow.Definition);
        var report = DriftAnalyzer.Compare(reference, current, spec);
        var alertAfter = spec.Drift.AlertAfter;
        if (alertAfter.N > 1)
        {
            // Previous judged windows of the same version decide, with this one, whether to alert.
            var previous = await monitoring.ListAuditsAsync(model, Math.Max(20, alertAfter.N * 4), cancellationToken);
            report = DriftAnalyzer.ApplyAlertAfter(report, previous.Where(a => a.Version == version.Version).OrderByDescending(a => a.AuditedAt).Select(a => a.Report), alertAfter);
        }
        else
        {
            report = DriftAnalyzer.ApplyAlertAfter(report, [], alertAfter);
        }

        var auditId = Guid.NewGuid().ToString("N");
        var (decision, retrainRunId) = await DecideAsync(model, workflow, report, auditId, client, end, cancellationToken);
        var audit = new DriftAuditRecord
        {
            AuditId = auditId,
            Model = model,
            Version = version.Version,
            WindowStart = start,
            WindowEnd = end,
            Report = report,
            AuditedAt = end,
            RetrainRunId = retrainRunId,
            Decision = decision,
        };
        var reportUri = await SaveHtmlReportAsync(audit, reference, current, cancellationToken);
        await monitoring.SaveAuditAsync(audit, cancellationToken);
        await events.PublishAsync(LifecycleEvent.Create(auditId, LifecycleEventTypes.DriftAudited, model, $"models/{model}/versions/{version.Version}", end,
            new { auditId, version.Version, report.Judged, report.DriftedFeatures, report.DatasetDrift, report.CurrentRows, report.WindowsDrifted, report.Alert, report.Summary, Decision = decision, reportUri }, "drift-monitor"), cancellationToken);
        if (report.Alert)
        {
            await events.PublishAsync(LifecycleEvent.Create(auditId + "-drift", LifecycleEventTypes.DriftDetected, model, $"models/{model}/versions/{version.Version}", end,
                new { auditId, version.Version, Features = report.Features.Where(f => f.Drifted).Select(f => new { f.Feature, f.Method, f.Value, f.Threshold }), report.Summary }, "drift-monitor"), cancellationToken);
        }

        Log.DriftAudited(logger, auditId, model, version.Version, report.Summary, decision);
        return audit;
    }

    /// <summary>Most features whose history is drawn as a sparkline in the HTML report (one table query each).</summary>
    public const int ReportHistoryFeatures = 100;

    /// <summary>Renders the audit's HTML report (histograms, metrics, history sparklines) and stores it in the
    /// artifacts container at <c>{model}/audits/{auditId}.html</c>; returns its URI.</summary>
    private async Task<string> SaveHtmlReportAsync(DriftAuditRecord audit, DatasetProfile reference, DatasetProfile current, CancellationToken cancellationToken)
    {
        var sparklines = new Dictionary<string, IReadOnlyList<double>>(StringComparer.Ordinal);
        foreach (var feature in audit.Report.Features.Take(ReportHistoryFeatures))
        {
            var past = await history.GetFeatureHistoryAsync(audit.Model, feature.Feature, 30, cancellationToken);
            sparklines[feature.Feature] = [.. past.Where(p => p.Method == feature.Method).Reverse().Select(p => p.Value), feature.Value];
        }

        var html = DriftReportHtml.Render(audit, reference, current, sparklines);
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
