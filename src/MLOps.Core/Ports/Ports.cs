using MLOps.Core.Budgets;
using MLOps.Core.Events;
using MLOps.Core.Monitoring;
using MLOps.Core.Registry;
using MLOps.Core.Rollout;
using MLOps.Core.Workflows;

namespace MLOps.Core.Ports;

// The core owns these small interfaces; MLOps.Infrastructure implements them on Blob, Table and Event Grid.

/// <summary>An opened upload: its bytes and the ETag they were read at.</summary>
public sealed record UploadedBlob(Stream Content, string ETag, long Length, string Uri) : IAsyncDisposable
{
    /// <summary>Who uploaded it (blob metadata <c>author</c>), when known.</summary>
    public string? Author { get; init; }

    public ValueTask DisposeAsync() => Content.DisposeAsync();
}

/// <summary>A stored artifact: where it is and what it hashes to.</summary>
public sealed record ArtifactRef(string Uri, string Sha256, long Length, string? ETag);

/// <summary>Uploaded datasets (container <c>datasets</c>), their immutable snapshots, reports and quarantine.</summary>
public interface IDatasetStore
{
    /// <summary>Uploads a dataset as a user would (name like <c>credit-risk/2026-11.csv</c>); the author is kept in
    /// the blob's metadata (<c>author</c>) and becomes the author of the run it starts.</summary>
    Task<string> UploadAsync(string uploadName, Stream content, string? author = null, CancellationToken cancellationToken = default);

    /// <summary>Opens an upload for reading; null when it no longer exists.</summary>
    Task<UploadedBlob?> OpenUploadAsync(string uploadName, CancellationToken cancellationToken = default);

    /// <summary>Copies the upload, as read at <paramref name="etag"/>, to an immutable content-addressed snapshot
    /// (<c>{model}/{sha256}.csv</c>, or <c>.parquet</c> for a Parquet upload, in container <c>lineage</c>). Idempotent; returns the snapshot URI.</summary>
    Task<string> SnapshotAsync(string uploadName, string etag, string model, string sha256, CancellationToken cancellationToken = default);

    /// <summary>Stores the validation report beside the snapshot — JSON, and the human HTML report when given
    /// (<c>.report.html</c>); returns the JSON report's URI.</summary>
    Task<string> SaveReportAsync(string model, string sha256, string reportJson, string? reportHtml = null, CancellationToken cancellationToken = default);

    /// <summary>Moves an invalid upload to container <c>quarantine</c> (same name) with its report beside it
    /// (<c>.report.json</c>), then deletes the original. Returns the quarantined blob URI. Idempotent.</summary>
    Task<string> QuarantineAsync(string uploadName, string etag, string reportJson, string? reportHtml = null, CancellationToken cancellationToken = default);

    /// <summary>Downloads any blob of this account by URI to a local file.</summary>
    Task DownloadAsync(string blobUri, string localPath, CancellationToken cancellationToken = default);

    /// <summary>Names of blobs currently in the upload container (for the local listener).</summary>
    IAsyncEnumerable<(string Name, string ETag)> ListUploadsAsync(CancellationToken cancellationToken = default);
}

/// <summary>Model artifacts and evidence (container <c>artifacts</c>).</summary>
public interface IArtifactStore
{
    /// <summary>Writes <paramref name="content"/> at <paramref name="path"/> (overwrites: paths are per run).</summary>
    Task<ArtifactRef> SaveAsync(string path, Stream content, CancellationToken cancellationToken = default);
    Task<ArtifactRef> SaveJsonAsync<T>(string path, T value, CancellationToken cancellationToken = default);
    Task<Stream> OpenReadAsync(string uri, CancellationToken cancellationToken = default);
    /// <summary>Opens <paramref name="length"/> bytes of the artifact at <paramref name="uri"/> from
    /// <paramref name="offset"/> (one ranged read): what reads one feature of a stored binary profile.</summary>
    Task<Stream> OpenReadRangeAsync(string uri, long offset, long length, CancellationToken cancellationToken = default);
    Task<T?> ReadJsonAsync<T>(string uri, CancellationToken cancellationToken = default);
    /// <summary>True when an artifact is stored at <paramref name="uri"/> (one metadata request, no content).</summary>
    Task<bool> ExistsAsync(string uri, CancellationToken cancellationToken = default);
    /// <summary>Reads JSON stored at a container-relative path; null when nothing is stored there.</summary>
    Task<T?> TryReadJsonAtAsync<T>(string path, CancellationToken cancellationToken = default);
}

/// <summary>The model registry: datasets, versions, aliases with history (Table storage).</summary>
public interface IModelRegistry
{
    /// <summary>Idempotent by (model, sha256).</summary>
    Task<DatasetRecord> RegisterDatasetAsync(DatasetRecord dataset, CancellationToken cancellationToken = default);
    Task<DatasetRecord?> GetDatasetAsync(string model, string sha256, CancellationToken cancellationToken = default);
    Task<IReadOnlyList<DatasetRecord>> ListDatasetsAsync(string model, CancellationToken cancellationToken = default);

    /// <summary>Assigns the next version number (ETag-guarded counter). Idempotent by run id: the same run
    /// registers the same version again.</summary>
    Task<ModelVersion> RegisterVersionAsync(NewModelVersion candidate, CancellationToken cancellationToken = default);
    Task<ModelVersion?> GetVersionAsync(string model, int version, CancellationToken cancellationToken = default);
    Task<IReadOnlyList<ModelVersion>> ListVersionsAsync(string model, CancellationToken cancellationToken = default);
    Task<IReadOnlyList<string>> ListModelsAsync(CancellationToken cancellationToken = default);

    /// <summary>Records a decision (approval, rejection, expiry, retirement) on a version, ETag-guarded.</summary>
    Task<ModelVersion> SetStatusAsync(string model, int version, ModelVersionStatus status, string actor, string? reason, IReadOnlyList<string>? approvedBy = null, CancellationToken cancellationToken = default);

    Task<AliasRecord?> GetAliasAsync(string model, string alias, CancellationToken cancellationToken = default);

    /// <summary>Points an alias at a version and appends the change to the alias history. When
    /// <paramref name="expectedETag"/> is given and the alias changed since, throws <see cref="ConcurrencyException"/>;
    /// null expects the alias not to exist yet... unless <paramref name="force"/> is true.</summary>
    Task<AliasRecord> SetAliasAsync(string model, string alias, int version, string actor, string reason, string? expectedETag, bool force = false, CancellationToken cancellationToken = default);

    /// <summary>Every change of an alias, oldest first (which version was live when).</summary>
    Task<IReadOnlyList<AliasRecord>> GetAliasHistoryAsync(string model, string alias, CancellationToken cancellationToken = default);

    /// <summary>The model's live traffic split (canary or shadow), or null when <c>production</c> answers everything.</summary>
    Task<TrafficSplit?> GetTrafficAsync(string model, CancellationToken cancellationToken = default);

    /// <summary>Sets the traffic split. <paramref name="expectedETag"/> null expects no split to exist; otherwise the
    /// split must still be at that ETag. Throws <see cref="ConcurrencyException"/> when another writer won.</summary>
    Task<TrafficSplit> SetTrafficAsync(TrafficSplit split, string? expectedETag, CancellationToken cancellationToken = default);

    /// <summary>Removes the split (ETag-guarded when <paramref name="expectedETag"/> is given). False when none existed.</summary>
    Task<bool> ClearTrafficAsync(string model, string? expectedETag, CancellationToken cancellationToken = default);
}

/// <summary>Captured scoring traffic (container <c>inference</c>, one blob per request, partitioned by hour). Reading a
/// capture that is not a valid record throws <see cref="InvalidDataException"/> naming it (bad data, not retried).</summary>
public interface IInferenceStore
{
    Task CaptureAsync(InferenceRecord record, CancellationToken cancellationToken = default);
    IAsyncEnumerable<InferenceRecord> ReadAsync(string model, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken = default);

    /// <summary>The names of the captures (one per request) in the window, in the order <see cref="ReadAsync"/> reads
    /// them (names sort by time), without reading them: what a fanned-out audit partitions.</summary>
    IAsyncEnumerable<string> ListAsync(string model, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken = default);

    /// <summary>The records of the window whose capture names lie in <paramref name="range"/> (both ends included),
    /// in name order.</summary>
    IAsyncEnumerable<InferenceRecord> ReadRangeAsync(string model, DateTimeOffset from, DateTimeOffset to, CaptureRange range, CancellationToken cancellationToken = default);
}

/// <summary>Drift audit results, every metric of every feature, and the claims that let one starter schedule each
/// audit window (Table storage).</summary>
public interface IMonitoringStore
{
    Task SaveAuditAsync(DriftAuditRecord audit, CancellationToken cancellationToken = default);
    Task<IReadOnlyList<DriftAuditRecord>> ListAuditsAsync(string model, int take = 20, CancellationToken cancellationToken = default);

    /// <summary>Adds the claim on its model and window; false when the window is already claimed (insert-only, atomic).</summary>
    Task<bool> TryAddAuditClaimAsync(DriftAuditClaim claim, CancellationToken cancellationToken = default);

    /// <summary>The claim on the window, with its ETag; null when none.</summary>
    Task<DriftAuditClaim?> GetAuditClaimAsync(string model, DateTimeOffset windowEnd, CancellationToken cancellationToken = default);

    /// <summary>Replaces the claim if it is still at <see cref="DriftAuditClaim.ETag"/>; false when another starter
    /// changed it first (or it is gone).</summary>
    Task<bool> TryReplaceAuditClaimAsync(DriftAuditClaim claim, CancellationToken cancellationToken = default);
}

/// <summary>Publishes lifecycle events: appended to the audit trail, then sent to Event Grid when configured.</summary>
public interface IEventPublisher
{
    Task PublishAsync(LifecycleEvent lifecycleEvent, CancellationToken cancellationToken = default);
}

/// <summary>The hash-chained, append-only audit trail (Table storage), one chain per model.</summary>
public interface IAuditTrail
{
    /// <summary>Appends an event. Idempotent by event id: appending the same id again returns the first entry.</summary>
    Task<AuditEntry> AppendAsync(LifecycleEvent lifecycleEvent, CancellationToken cancellationToken = default);
    Task<IReadOnlyList<AuditEntry>> ReadAsync(string model, CancellationToken cancellationToken = default);
    Task<AuditVerification> VerifyAsync(string model, CancellationToken cancellationToken = default);
}

/// <summary>A workflow as registered: its content hash pins it.</summary>
public sealed record StoredWorkflow(string Model, string Hash, string Yaml, WorkflowDefinition Definition, DateTimeOffset RegisteredAt);

/// <summary>Registered workflows by content hash (blob) and the current one per model (table).</summary>
public interface IWorkflowStore
{
    /// <summary>Parses (throws <see cref="WorkflowValidationException"/>), stores by hash, makes it current.</summary>
    Task<StoredWorkflow> RegisterAsync(string yaml, string fileName, CancellationToken cancellationToken = default);
    Task<StoredWorkflow?> GetCurrentAsync(string model, CancellationToken cancellationToken = default);
    Task<StoredWorkflow?> GetAsync(string model, string hash, CancellationToken cancellationToken = default);
    Task<IReadOnlyList<StoredWorkflow>> ListCurrentAsync(CancellationToken cancellationToken = default);
}

/// <summary>Nonces of approval tokens already used: a token counts once (kept in the registry table).</summary>
public interface IApprovalNonceStore
{
    /// <summary>Records the nonce; false when it was recorded before (the token is being reused).</summary>
    Task<bool> TryConsumeAsync(string model, string runId, string nonce, string approver, CancellationToken cancellationToken = default);
}

/// <summary>Monthly budget usage per model (table <c>budgets</c>). Updates are optimistic: read with the ETag, change,
/// write with If-Match; a concurrent writer's change makes the write fail (412) and the change is applied again to
/// the fresh row, so two writers never both win.</summary>
public interface IBudgetLedger
{
    /// <summary>The month's usage (zeros when nothing is stored).</summary>
    Task<BudgetUsage> GetAsync(string model, string month, CancellationToken cancellationToken = default);

    /// <summary>Applies <paramref name="change"/> to the current usage and stores the result if the row did not change
    /// meanwhile, else reads again and retries. A null result from <paramref name="change"/> writes nothing. Returns
    /// the usage stored (or read, when nothing was written).</summary>
    Task<BudgetUsage> UpdateAsync(string model, string month, Func<BudgetUsage, BudgetUsage?> change, CancellationToken cancellationToken = default);
}
