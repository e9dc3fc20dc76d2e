using MLOps.Core.Drift;

namespace MLOps.Core.Tests.Drift;

/// <summary>The radix sort and the one-pass KS/Wasserstein merge against plain reference implementations.</summary>
public class SortAndMergeTests
{
    private static double[] Sample(int n, int seed, Func<Random, double> draw)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => draw(rng)).ToArray();
    }

    public static TheoryData<string> Shapes => ["normal", "ties", "signed zeros and NaN", "constant", "one digit", "huge range", "small", "medium", "large signed zeros and NaN"];

    private static double[] Shape(string shape, int seed) => shape switch
    {
        "normal" => Sample(200_000, seed, r => Math.Sqrt(-2 * Math.Log(1 - r.NextDouble())) * Math.Cos(2 * Math.PI * r.NextDouble())),
        "ties" => Sample(100_000, seed, r => r.Next(-5, 6) * 0.5),
        "signed zeros and NaN" => Sample(10_000, seed, r => r.Next(4) switch { 0 => 0.0, 1 => -0.0, 2 => double.NaN, _ => r.NextDouble() - 0.5 }),
        "constant" => Enumerable.Repeat(3.75, 5000).ToArray(),
        "one digit" => Sample(5000, seed, r => BitConverter.Int64BitsToDouble(BitConverter.DoubleToInt64Bits(1.0) + r.Next(2048))),
        "huge range" => Sample(100_000, seed, r => (r.NextDouble() - 0.5) * Math.Pow(10, r.Next(-300, 300))),
        "medium" => Sample(20_000, seed, r => r.NextDouble() * 1000),
        "large signed zeros and NaN" => Sample(80_000, seed, r => r.Next(5) switch { 0 => 0.0, 1 => -0.0, 2 => double.NaN, 3 => -r.NextDouble(), _ => r.NextDouble() * 1e-300 }),
        _ => Sample(100, seed, r => r.NextDouble()),
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void SortedCopy_equals_array_sort_without_nan(string shape)
    {
        var values = Shape(shape, 1);
        var expected = values.Where(v => !double.IsNaN(v)).ToArray();
        Array.Sort(expected);
        var sorted = DriftStatistics.SortedCopy(values);
        Assert.Equal(expected.Length, sorted.Length);
        for (int i = 0; i < sorted.Length; i++) Assert.True(expected[i] == sorted[i], $"{shape}: at {i} {sorted[i]:R} ≠ {expected[i]:R}");
        for (int i = 1; i < sorted.Length; i++) Assert.True(sorted[i - 1] <= sorted[i]);

        var inPlace = values.Where(v => !double.IsNaN(v)).ToArray();
        DriftStatistics.SortInPlace(inPlace);
        Assert.Equal(sorted, inPlace);
    }

    /// <summary>Straight from the definitions (as SciPy): the CDFs at every value of the union.</summary>
    private static (double Ks, double W) Reference(double[] a, double[] b)
    {
        var all = a.Concat(b).Distinct().Order().ToArray();
        double ks = 0, w = 0;
        for (int k = 0; k < all.Length; k++)
        {
            double fa = (double)a.Count(v => v <= all[k]) / a.Length, fb = (double)b.Count(v => v <= all[k]) / b.Length;
            ks = Math.Max(ks, Math.Abs(fa - fb));
            if (k < all.Length - 1) w += Math.Abs(fa - fb) * (all[k + 1] - all[k]);
        }
        return (ks, w);
    }

    [Theory]
    [InlineData(300, 200, 1)]
    [InlineData(1, 50, 2)]
    [InlineData(400, 400, 3)]
    public void EmpiricalDistanceSorted_equals_the_definitions_with_ties_within_and_across_samples(int n1, int n2, int seed)
    {
        var rng = new Random(seed);
        var a = DriftStatistics.SortedCopy(Enumerable.Range(0, n1).Select(_ => (double)rng.Next(0, 60) / 4).ToArray());
        var b = DriftStatistics.SortedCopy(Enumerable.Range(0, n2).Select(_ => (double)rng.Next(10, 80) / 4).ToArray());
        var (ks, w) = DriftStatistics.EmpiricalDistanceSorted(a, b);
        var expected = Reference(a, b);
        Assert.Equal(expected.Ks, ks, 12);
        Assert.Equal(expected.W, w, 12);
        Assert.Equal(ks, DriftStatistics.KolmogorovSmirnovStatisticSorted(b, a), 12);
        Assert.Equal(w, DriftStatistics.WassersteinSorted(b, a), 12);
    }
}
