namespace MLOps.Core.Drift;

public enum FeatureKind { Numeric, Categorical }

/// <summary>The values of one feature in a reference or a production window: numeric values (a uniform
/// sample when large) or category counts. Nulls are counted apart.</summary>
public sealed record FeatureProfile
{
    public required string Name { get; init; }
    public required FeatureKind Kind { get; init; }
    public double[] Values { get; init; } = [];
    public IReadOnlyDictionary<string, long> Counts { get; init; } = new Dictionary<string, long>();
    public long Nulls { get; init; }
    public long Rows { get; init; }
    /// <summary>True for the model's output (<see cref="PredictionFeature"/>), false for an input column.</summary>
    public bool IsPrediction { get; init; }
    /// <summary>Smallest numeric value seen (all values, not only the sample); null for categorical features, for
    /// features without values and in profiles written before this was kept.</summary>
    public double? Min { get; init; }
    /// <summary>Largest numeric value seen (all values, not only the sample).</summary>
    public double? Max { get; init; }
}

/// <summary>Profiles of every feature of a dataset or window.</summary>
public sealed record DatasetProfile
{
    public required IReadOnlyList<FeatureProfile> Features { get; init; }
    public long Rows { get; init; }
}

/// <summary>Every drift value computed for one feature, the deciding method and its verdict.</summary>
public sealed record FeatureDrift
{
    public required string Feature { get; init; }
    public required FeatureKind Kind { get; init; }
    /// <summary>Name of the deciding method (psi, ks, wasserstein_norm, jensen_shannon, chi_square, z_test).</summary>
    public required string Method { get; init; }
    public required double Value { get; init; }
    public required double Threshold { get; init; }
    public required bool Drifted { get; init; }
    /// <summary>All values computed: psi, ks, ks_p_value, wasserstein, wasserstein_norm, jensen_shannon, chi_square, chi_square_p_value, …</summary>
    public IReadOnlyDictionary<string, double> Metrics { get; init; } = new Dictionary<string, double>();
    public long ReferenceRows { get; init; }
    public long CurrentRows { get; init; }
    /// <summary>True for the model's output (<see cref="PredictionFeature.Name"/>): judged like any feature, counted
    /// among the drifted features only under <c>monitoring.drift.prediction: count</c>.</summary>
    public bool IsPrediction { get; init; }
}

public sealed record DriftReport
{
    public required IReadOnlyList<FeatureDrift> Features { get; init; }
    public int DriftedFeatures { get; init; }
    public bool DatasetDrift { get; init; }
    public long ReferenceRows { get; init; }
    public long CurrentRows { get; init; }
    /// <summary>False when the window had fewer rows than the monitoring spec's minimum: nothing was judged.</summary>
    public bool Judged { get; init; } = true;
    public string Summary { get; init; } = "";
    /// <summary>Judged windows that drifted among the last <c>alert_after.n</c> (this one included); offline,
    /// without history, 1 when this window drifted.</summary>
    public int WindowsDrifted { get; init; }
    /// <summary>True when at least <c>alert_after.k</c> of the last <c>alert_after.n</c> judged windows drifted.</summary>
    public bool Alert { get; init; }
    /// <summary>Whether the model's output drifted; null when it was not judged (no prediction feature on both
    /// sides, <c>prediction: off</c>, or a window too small to judge).</summary>
    public bool? PredictionDrift { get; init; }
    /// <summary>Why something was left out of the judgement (e.g. a reference without a prediction feature).</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];
}
