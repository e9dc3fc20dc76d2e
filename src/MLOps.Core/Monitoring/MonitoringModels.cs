using MLOps.Core.Drift;

namespace MLOps.Core.Monitoring;

/// <summary>One scoring request as captured for monitoring: inputs, outputs, which version answered.</summary>
public sealed record InferenceRecord
{
    public required string RequestId { get; init; }
    public required string Model { get; init; }
    public required int Version { get; init; }
    public required DateTimeOffset Timestamp { get; init; }
    public required IReadOnlyList<IReadOnlyDictionary<string, string?>> Rows { get; init; }
    public required IReadOnlyList<Training.Prediction> Predictions { get; init; }
    /// <summary>Which arm of a rollout answered (<see cref="Rollout.Arms"/>): <c>stable</c> without a split.</summary>
    public string? Arm { get; init; }
    /// <summary>Time spent scoring the request, in milliseconds.</summary>
    public double? LatencyMs { get; init; }
    /// <summary>True when scoring failed on the server side (the record then has no predictions).</summary>
    public bool Error { get; init; }
    /// <summary>The key the request was routed by.</summary>
    public string? RoutingKey { get; init; }
}

/// <summary>A contiguous run of captures of one window, by name (first and last included): a reference a fanned-out
/// audit passes around instead of the data.</summary>
public sealed record CaptureRange(string First, string Last, int Count);

/// <summary>One drift audit of one model's production window, kept whole (every metric, not just alerts).</summary>
public sealed record DriftAuditRecord
{
    public required string AuditId { get; init; }
    public required string Model { get; init; }
    public required int Version { get; init; }
    public required DateTimeOffset WindowStart { get; init; }
    public required DateTimeOffset WindowEnd { get; init; }
    public required DriftReport Report { get; init; }
    public DateTimeOffset AuditedAt { get; init; }
    /// <summary>The retraining run the audit started, if any.</summary>
    public string? RetrainRunId { get; init; }
    public string? Decision { get; init; }
    /// <summary>URI of the audit's HTML report (null in audits stored before it was recorded).</summary>
    public string? ReportUri { get; init; }
}
