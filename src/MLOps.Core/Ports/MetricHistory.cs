namespace MLOps.Core.Ports;

/// <summary>One feature's drift values from one audit: the deciding method's value and every other metric.</summary>
public sealed record FeatureMetricPoint
{
    public required string Model { get; init; }
    public required string Feature { get; init; }
    public required string AuditId { get; init; }
    public required int Version { get; init; }
    public required DateTimeOffset AuditedAt { get; init; }
    public DateTimeOffset WindowStart { get; init; }
    public DateTimeOffset WindowEnd { get; init; }
    public required string Method { get; init; }
    public double Value { get; init; }
    public double Threshold { get; init; }
    public bool Drifted { get; init; }
    /// <summary><c>Numeric</c> or <c>Categorical</c> (null in rows written before it was kept).</summary>
    public string? Kind { get; init; }
    /// <summary>True for the model's output (the <c>prediction</c> feature).</summary>
    public bool IsPrediction { get; init; }
    public long ReferenceRows { get; init; }
    public long CurrentRows { get; init; }
    /// <summary>Every metric computed for the feature (psi, ks, wasserstein_norm, …).</summary>
    public IReadOnlyDictionary<string, double> Metrics { get; init; } = new Dictionary<string, double>();
}

/// <summary>Per-feature drift history (kept beside the audits by the monitoring store), newest first.</summary>
public interface IMetricHistory
{
    Task<IReadOnlyList<FeatureMetricPoint>> GetFeatureHistoryAsync(string model, string feature, int take = 50, CancellationToken cancellationToken = default);
}
