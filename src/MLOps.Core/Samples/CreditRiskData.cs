namespace MLOps.Core.Samples;

/// <summary>Shifts applied to generated data, to produce drifted production traffic.</summary>
public sealed record DataShift
{
    public double IncomeFactor { get; init; } = 1.0;
    public double AgeOffset { get; init; }
    public double DebtToIncomeOffset { get; init; }
    /// <summary>Probability of the APAC region (default 0.2).</summary>
    public double? ApacShare { get; init; }
    public static DataShift None { get; } = new();
}

/// <summary>Deterministic generator of the credit-risk sample dataset (real signal, numeric and categorical
/// features, binary label). TODO(helper A1): implement.</summary>
public static class CreditRiskData
{
    /// <summary>Writes a CSV with a header and <paramref name="rows"/> rows; same seed, same bytes.</summary>
    public static void WriteCsv(TextWriter writer, int rows, int seed, DataShift? shift = null) => throw new NotImplementedException();

    /// <summary>Feature rows without the label, as a scoring client would send them.</summary>
    public static IReadOnlyList<Dictionary<string, string?>> FeatureRows(int rows, int seed, DataShift? shift = null) => throw new NotImplementedException();
}
