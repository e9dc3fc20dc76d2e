using MLOps.Core.Drift;

namespace MLOps.Core.Tests.Drift;

/// <summary>Generated samples and profiles shared by the drift tests.</summary>
internal static class DriftTestData
{
    /// <summary>Deterministic normal sample (Box–Muller).</summary>
    public static double[] Normal(int n, double mean, double sd, int seed)
    {
        var rng = new Random(seed);
        var v = new double[n];
        for (int i = 0; i < n; i++)
        {
            double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
            v[i] = mean + sd * Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
        }

        return v;
    }

    public static FeatureProfile Num(string name, double[] values) => new() { Name = name, Kind = FeatureKind.Numeric, Values = values, Rows = values.Length };

    public static FeatureProfile Cat(string name, params (string Key, long Count)[] counts) => new()
    {
        Name = name,
        Kind = FeatureKind.Categorical,
        Counts = counts.ToDictionary(c => c.Key, c => c.Count),
        Rows = counts.Sum(c => c.Count),
    };
}
