using System.Text.Json;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;
using MLOps.Core.Data;
using MLOps.Core.Drift;
using MLOps.Core.Events;
using MLOps.Core.Ports;
using MLOps.Core.Registry;
using MLOps.Core.Reports;
using MLOps.Lifecycle.Contracts;
using MLOps.Lifecycle.Logging;
using MLOps.Lifecycle.Orchestrations;

namespace MLOps.Lifecycle.Handlers;

public enum UploadStatus { Validated, Quarantined, Ignored }

/// <summary>What happened to one upload.</summary>
public sealed record UploadOutcome(UploadStatus Status, string Blob, string Message, string? RunId = null, string? Sha256 = null, long Rows = 0, string? QuarantineUri = null, DatasetValidationReport? Report = null);

/// <summary>
/// An upload to <c>datasets/&lt;model&gt;/&lt;file&gt;.csv</c> or <c>.parquet</c> (format by extension and magic bytes):
/// validated against the model's current data contract.
/// When the model has a <c>production</c> version, the upload is also compared with that version's reference profile
/// (its training data): unseen categories, category shift and the reference range (<see cref="ReferenceSignals"/>).
/// Valid: snapshot, register, start the lifecycle run. Invalid: quarantine with a report, emit an event.
/// Idempotent: the same bytes start the same run once (the run id comes from the content hash).
/// </summary>
public sealed class DatasetUploadHandler(
    IWorkflowStore workflows,
    IDatasetStore datasets,
    IModelRegistry registry,
    IArtifactStore artifacts,
    IEventPublisher events,
    TimeProvider time,
    ILogger<DatasetUploadHandler> logger)
{
    public static readonly JsonSerializerOptions ReportJson = new() { WriteIndented = true, Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() } };

    public async Task<UploadOutcome> HandleAsync(string blobName, DurableTaskClient client, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(blobName);
        ArgumentNullException.ThrowIfNull(client);
        var slash = blobName.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0 || !DatasetFormats.IsDatasetName(blobName))
        {
            Log.UploadIgnored(logger, blobName, "not <model>/<file>.csv or .parquet");
            return new UploadOutcome(UploadStatus.Ignored, blobName, "expected a name like <model>/<file>.csv or <model>/<file>.parquet");
        }

        var model = blobName[..slash];
        await using var upload = await datasets.OpenUploadAsync(blobName, cancellationToken);
        if (upload is null)
        {
            Log.UploadIgnored(logger, blobName, "no longer exists");
            return new UploadOutcome(UploadStatus.Ignored, blobName, "the upload no longer exists (already handled)");
        }

        var workflow = await workflows.GetCurrentAsync(model, cancellationToken);
        DatasetValidationReport report;
        if (workflow is null)
        {
            report = new DatasetValidationReport
            {
                File = blobName,
                IsValid = false,
                Sha256 = "",
                Issues = [new ValidationIssue(0, null, "workflow", model, $"{blobName}: no workflow is registered for model '{model}'")],
                IssueCount = 1,
                Summary = $"no workflow is registered for model '{model}'",
            };
        }
        else
        {
            report = await DatasetValidator.ValidateDatasetAsync(upload.Content, blobName, workflow.Definition.Data, cancellationToken: cancellationToken);
            report = await AddReferenceSignalsAsync(report, model, blobName, upload.ETag, workflow.Definition.Data, cancellationToken);
        }

        var reportJson = JsonSerializer.Serialize(report, ReportJson);
        var reportHtml = ValidationReportHtml.Render(report);
        var now = time.GetUtcNow();
        if (!report.IsValid || workflow is null)
        {
            var quarantined = await datasets.QuarantineAsync(blobName, upload.ETag, reportJson, reportHtml, cancellationToken);
            await events.PublishAsync(LifecycleEvent.Create(
                EventId("rejected", blobName, upload.ETag), LifecycleEventTypes.DatasetRejected, model, $"datasets/{blobName}", now,
                new { Blob = blobName, Quarantine = quarantined, report.Summary, report.IssueCount, Issues = report.Issues.Take(10) }, upload.Author ?? "uploader"), cancellationToken);
            Log.UploadQuarantined(logger, blobName, quarantined, report.Summary);
            return new UploadOutcome(UploadStatus.Quarantined, blobName, report.Summary, QuarantineUri: quarantined, Report: report);
        }

        var snapshot = await datasets.SnapshotAsync(blobName, upload.ETag, model, report.Sha256, cancellationToken);
        var reportUri = await datasets.SaveReportAsync(model, report.Sha256, reportJson, reportHtml, cancellationToken);
        var dataset = await registry.RegisterDatasetAsync(new DatasetRecord
        {
            Model = model,
            Sha256 = report.Sha256,
            Source = blobName,
            SnapshotUri = snapshot,
            Rows = report.Rows,
            Bytes = report.Bytes,
            Columns = report.Header,
            ReportUri = reportUri,
            WorkflowHash = workflow.Hash,
            RegisteredAt = now,
        }, cancellationToken);
        await events.PublishAsync(LifecycleEvent.Create(
            EventId("validated", model, report.Sha256), LifecycleEventTypes.DatasetValidated, model, $"datasets/{blobName}", now,
            new { Blob = blobName, dataset.Sha256, dataset.Rows, dataset.SnapshotUri, dataset.ReportUri, report.Summary }, upload.Author ?? "uploader"), cancellationToken);

        var runId = $"{model}-{report.Sha256[..12]}";
        var started = await RunStarter.StartOnceAsync(client, new LifecycleRunInput
        {
            RunId = runId,
            Model = model,
            WorkflowHash = workflow.Hash,
            DatasetSha256 = dataset.Sha256,
            DatasetUri = dataset.SnapshotUri,
            DatasetRows = dataset.Rows,
            Trigger = RunTriggers.Upload,
            Author = upload.Author ?? "uploader",
            Reason = $"new dataset {blobName}",
        }, cancellationToken);
        Log.UploadAccepted(logger, blobName, report.Rows, report.Sha256, runId, started ? "started" : "already exists");
        return new UploadOutcome(UploadStatus.Validated, blobName, report.Summary, runId, report.Sha256, report.Rows, Report: report);
    }

    /// <summary>Compares the upload with the reference profile of the model's production version, reading the upload a
    /// second time (at the same ETag). No production version: the report as it is. A reference that cannot be read
    /// does not block the upload: the report says why the signals are missing.</summary>
    private async Task<DatasetValidationReport> AddReferenceSignalsAsync(DatasetValidationReport report, string model, string blobName,
        string etag, MLOps.Core.Workflows.DataContract contract, CancellationToken cancellationToken)
    {
        if (report.Rows == 0 || report.Issues.Any(i => i.Rule == "malformed"))
        {
            return report; // unreadable: never read a poison file twice
        }
        var alias = await registry.GetAliasAsync(model, Aliases.Production, cancellationToken);
        if (alias is null)
        {
            return report;
        }
        var version = await registry.GetVersionAsync(model, alias.Version, cancellationToken);
        var referenceName = $"{model} v{alias.Version} ({Aliases.Production})";
        try
        {
            var profile = version?.ReferenceProfileUri is { } uri ? await artifacts.ReadJsonAsync<DatasetProfile>(uri, cancellationToken) : null;
            if (profile is null)
            {
                return Unavailable("it has no reference profile");
            }
            await using var again = await datasets.OpenUploadAsync(blobName, cancellationToken);
            if (again is null || again.ETag != etag)
            {
                return Unavailable("the upload changed while it was read");
            }
            return await ReferenceSignals.ApplyAsync(report, again.Content, contract, profile, referenceName, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return Unavailable(ex.Message);
        }

        DatasetValidationReport Unavailable(string why)
        {
            Log.ReferenceSignalsSkipped(logger, blobName, referenceName, why);
            return report with { Warnings = [.. report.Warnings, $"{blobName}: not compared with the reference {referenceName}: {why}"] };
        }
    }

    private static string EventId(string kind, string a, string b) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"{kind}|{a}|{b}")))[..32];
}

/// <summary>Starts a lifecycle run unless one with the same id exists (ids are derived from what caused the run).</summary>
public static class RunStarter
{
    public static async Task<bool> StartOnceAsync(DurableTaskClient client, LifecycleRunInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(input);
        var existing = await client.GetInstanceAsync(input.RunId, getInputsAndOutputs: false, cancellationToken);
        if (existing is not null)
        {
            return false;
        }

        await client.ScheduleNewOrchestrationInstanceAsync(nameof(LifecycleOrchestrator), input,
            new StartOrchestrationOptions(input.RunId), cancellationToken);
        return true;
    }
}
