namespace MLOps.Core.Registry;

// Records kept in the registry (Table storage). They are also wire formats: add members, never rename.

/// <summary>A validated dataset, pinned by content hash, with the immutable copy that training reads.</summary>
public sealed record DatasetRecord
{
    public required string Model { get; init; }
    public required string Sha256 { get; init; }
    /// <summary>The original upload's blob name (container-relative).</summary>
    public required string Source { get; init; }
    /// <summary>Blob URI of the immutable snapshot.</summary>
    public required string SnapshotUri { get; init; }
    public long Rows { get; init; }
    public long Bytes { get; init; }
    public IReadOnlyList<string> Columns { get; init; } = [];
    public string? ReportUri { get; init; }
    public string? WorkflowHash { get; init; }
    public DateTimeOffset RegisteredAt { get; init; }
}

public enum ModelVersionStatus { PendingApproval, Approved, Rejected, Expired, Retired }

/// <summary>What a run asks the registry to record; the registry assigns the version number.</summary>
public sealed record NewModelVersion
{
    public required string Model { get; init; }
    public required string RunId { get; init; }
    public required string ArtifactUri { get; init; }
    public required string ArtifactSha256 { get; init; }
    public required string DatasetSha256 { get; init; }
    public required string WorkflowHash { get; init; }
    public required string Trainer { get; init; }
    public IReadOnlyDictionary<string, double> Metrics { get; init; } = new Dictionary<string, double>();
    public string? ReferenceProfileUri { get; init; }
    public string? EvaluationUri { get; init; }
    public required string CreatedBy { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
}

/// <summary>A registered model version with its lineage, metrics, evidence and decision.</summary>
public sealed record ModelVersion
{
    public required string Model { get; init; }
    public required int Version { get; init; }
    public required string RunId { get; init; }
    public required ModelVersionStatus Status { get; init; }
    public required string ArtifactUri { get; init; }
    public required string ArtifactSha256 { get; init; }
    public required string DatasetSha256 { get; init; }
    public required string WorkflowHash { get; init; }
    public required string Trainer { get; init; }
    public IReadOnlyDictionary<string, double> Metrics { get; init; } = new Dictionary<string, double>();
    public string? ReferenceProfileUri { get; init; }
    public string? EvaluationUri { get; init; }
    public required string CreatedBy { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public IReadOnlyList<string> ApprovedBy { get; init; } = [];
    public string? DecisionBy { get; init; }
    public string? DecisionReason { get; init; }
    public DateTimeOffset? DecidedAt { get; init; }
    public string? ETag { get; init; }
}

/// <summary>Where an alias (e.g. <c>production</c>) points, and where it pointed before.</summary>
public sealed record AliasRecord
{
    public required string Model { get; init; }
    public required string Alias { get; init; }
    public required int Version { get; init; }
    public int? PreviousVersion { get; init; }
    public required DateTimeOffset ChangedAt { get; init; }
    public required string ChangedBy { get; init; }
    public required string Reason { get; init; }
    public string? ETag { get; init; }
}

/// <summary>Thrown when an optimistic-concurrency check fails (another writer won).</summary>
public sealed class ConcurrencyException : Exception
{
    public ConcurrencyException() { }
    public ConcurrencyException(string message) : base(message) { }
    public ConcurrencyException(string message, Exception inner) : base(message, inner) { }
}

public static class Aliases
{
    public const string Production = "production";
}
