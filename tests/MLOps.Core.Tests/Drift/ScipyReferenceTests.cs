using System.Text.Json;
using MLOps.Core.Drift;
using MLOps.Core.Workflows;
using Xunit.Abstractions;

namespace MLOps.Core.Tests.Drift;

/// <summary>C# statistics against SciPy's values in reference/scipy_reference.json (made by make_reference.py).</summary>
public sealed class ScipyReferenceTests(ITestOutputHelper output)
{
    private const double Tolerance = 1e-9;

    /// <summary>Exact two-sample KS p-values (SciPy 'auto' below 10,000 values): SciPy's compiled path-counting
    /// and this forward recursion round differently; they agree to 1e-12 in practice, asserted at 1e-10.</summary>
    private const double ExactKsTolerance = 1e-10;

    private static readonly Lazy<JsonDocument> Reference = new(() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Drift", "reference", "scipy_reference.json"))));

    private static JsonElement Root => Reference.Value.RootElement;

    private static double[] Array(JsonElement e) => e.EnumerateArray().Select(x => x.GetDouble()).ToArray();

    private static void Close(double expected, double actual, double tolerance, string what)
        => Assert.True(Math.Abs(expected - actual) <= tolerance, $"{what}: expected {expected:R}, got {actual:R}, diff {Math.Abs(expected - actual):E2}");

    [Fact]
    public void Numeric_cases_match_scipy()
    {
        foreach (var c in Root.GetProperty("numeric").EnumerateArray())
        {
            string name = c.GetProperty("name").GetString()!;
            var a = DriftStatistics.SortedCopy(Array(c.GetProperty("a")));
            var b = DriftStatistics.SortedCopy(Array(c.GetProperty("b")));
            var auto = DriftStatistics.KolmogorovSmirnovSorted(a, b, KsMethod.Auto);
            var asymp = DriftStatistics.KolmogorovSmirnovSorted(a, b, KsMethod.Asymptotic);
            double w = DriftStatistics.WassersteinSorted(a, b);
            output.WriteLine($"{name}: D {auto.Statistic:R} p_auto {auto.PValue:R} ({auto.Method}) p_asymp {asymp.PValue:R} W {w:R}");
            Close(c.GetProperty("ks_statistic").GetDouble(), auto.Statistic, Tolerance, name + " ks");
            Close(c.GetProperty("ks_pvalue_asymp").GetDouble(), asymp.PValue, Tolerance, name + " ks p asymp");
            double autoTolerance = auto.Method == KsMethod.Exact ? ExactKsTolerance : Tolerance;
            Close(c.GetProperty("ks_pvalue_auto").GetDouble(), auto.PValue, autoTolerance, name + " ks p auto");
            Close(c.GetProperty("wasserstein").GetDouble(), w, Tolerance, name + " wasserstein");
            Close(c.GetProperty("std_a_population").GetDouble(), DriftStatistics.PopulationStandardDeviation(a), Tolerance, name + " std");
        }
    }

    [Fact]
    public void Kolmogorov_survival_matches_scipy_kstwo_in_every_region()
    {
        int count = 0;
        foreach (var c in Root.GetProperty("kstwo").EnumerateArray())
        {
            long n = c.GetProperty("n").GetInt64();
            double d = c.GetProperty("d").GetDouble();
            double sf = DriftStatistics.KolmogorovSurvival(n, d);
            Close(c.GetProperty("sf").GetDouble(), sf, Tolerance, $"kstwo.sf({d:R}, {n})");
            count++;
        }
        Assert.True(count > 50);
    }

    [Fact]
    public void Jensen_shannon_matches_scipy()
    {
        foreach (var c in Root.GetProperty("jensenshannon").EnumerateArray())
        {
            double js = DriftStatistics.JensenShannonDistance(Array(c.GetProperty("p")), Array(c.GetProperty("q")));
            Close(c.GetProperty("distance").GetDouble(), js, Tolerance, "jensenshannon");
        }
    }

    private static Dictionary<string, long> Counts(JsonElement e)
        => e.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt64(), StringComparer.Ordinal);

    private static DatasetProfile Profile(FeatureProfile feature) => new() { Features = [feature], Rows = feature.Rows };

    private static FeatureProfile NumericFeature(double[] values) => new() { Name = "x", Kind = FeatureKind.Numeric, Values = values, Rows = values.Length };

    private static FeatureProfile CategoricalFeature(Dictionary<string, long> counts)
        => new() { Name = "c", Kind = FeatureKind.Categorical, Counts = counts, Rows = counts.Values.Sum() };

    /// <summary>Any spec will do: the analyzer keeps every metric, whichever one decides.</summary>
    private static readonly MonitoringSpec AnySpec = new() { MinRows = 1 };

    [Fact]
    public void Jensen_shannon_on_binned_numeric_values_matches_numpy_histogram_and_scipy()
    {
        int count = 0;
        foreach (var c in Root.GetProperty("jensenshannon_binned").EnumerateArray())
        {
            string name = c.GetProperty("name").GetString()!;
            double[] rawA = Array(c.GetProperty("a")), rawB = Array(c.GetProperty("b"));
            var a = DriftStatistics.SortedCopy(rawA);
            var b = DriftStatistics.SortedCopy(rawB);

            // The bins themselves: every count equals numpy.histogram's over the union's range.
            double lo = Math.Min(a[0], b[0]), hi = Math.Max(a[^1], b[^1]);
            var histA = new double[DriftStatistics.DefaultJensenShannonBins];
            var histB = new double[DriftStatistics.DefaultJensenShannonBins];
            DriftStatistics.HistogramSorted(a, lo, hi, histA);
            DriftStatistics.HistogramSorted(b, lo, hi, histB);
            Assert.True(Array(c.GetProperty("hist_a")).SequenceEqual(histA), $"{name} reference histogram: numpy [{string.Join(", ", Array(c.GetProperty("hist_a")))}], ours [{string.Join(", ", histA)}]");
            Assert.True(Array(c.GetProperty("hist_b")).SequenceEqual(histB), $"{name} current histogram: numpy [{string.Join(", ", Array(c.GetProperty("hist_b")))}], ours [{string.Join(", ", histB)}]");

            double expected = c.GetProperty("distance").GetDouble();
            double js = DriftStatistics.JensenShannonBinnedSorted(a, b);
            output.WriteLine($"{name}: js {js:R} scipy {expected:R}");
            Close(expected, js, Tolerance, name + " binned jensen-shannon");
            // The analyzer's kept value is the same number.
            var report = DriftAnalyzer.Compare(Profile(NumericFeature(rawA)), Profile(NumericFeature(rawB)), AnySpec);
            Close(expected, report.Features[0].Metrics["jensen_shannon"], Tolerance, name + " analyzer jensen_shannon");
            count++;
        }
        Assert.True(count >= 8);
    }

    [Fact]
    public void Jensen_shannon_over_the_union_of_categories_matches_scipy()
    {
        int count = 0;
        foreach (var c in Root.GetProperty("jensenshannon_categorical").EnumerateArray())
        {
            string name = c.GetProperty("name").GetString()!;
            var reference = Counts(c.GetProperty("reference"));
            var current = Counts(c.GetProperty("current"));
            double expected = c.GetProperty("distance").GetDouble();
            Close(expected, DriftStatistics.JensenShannonCategorical(reference, current), Tolerance, name + " categorical jensen-shannon");
            var report = DriftAnalyzer.Compare(Profile(CategoricalFeature(reference)), Profile(CategoricalFeature(current)), AnySpec);
            Close(expected, report.Features[0].Metrics["jensen_shannon"], Tolerance, name + " analyzer jensen_shannon");
            count++;
        }
        Assert.True(count >= 6);
    }

    [Fact]
    public void Psi_matches_an_independent_numpy_computation()
    {
        int count = 0;
        foreach (var c in Root.GetProperty("psi_numeric").EnumerateArray())
        {
            string name = c.GetProperty("name").GetString()!;
            double[] rawA = Array(c.GetProperty("a")), rawB = Array(c.GetProperty("b"));
            var a = DriftStatistics.SortedCopy(rawA);
            // The inner edges are numpy.quantile's to the last bit.
            var edges = Array(c.GetProperty("edges"));
            var ours = Enumerable.Range(1, DriftStatistics.DefaultPsiBins - 1)
                .Select(k => DriftStatistics.QuantileSorted(a, (double)k / DriftStatistics.DefaultPsiBins))
                .Aggregate(new List<double>(), (list, e) => { if (list.Count == 0 || e > list[^1]) list.Add(e); return list; });
            Assert.Equal(edges, ours);
            double expected = c.GetProperty("psi").GetDouble();
            double psi = DriftStatistics.Psi(rawA, rawB);
            output.WriteLine($"{name}: psi {psi:R} numpy {expected:R}");
            Close(expected, psi, Tolerance, name + " psi");
            var report = DriftAnalyzer.Compare(Profile(NumericFeature(rawA)), Profile(NumericFeature(rawB)), AnySpec);
            Close(expected, report.Features[0].Metrics["psi"], Tolerance, name + " analyzer psi");
            count++;
        }
        foreach (var c in Root.GetProperty("psi_categorical").EnumerateArray())
        {
            string name = c.GetProperty("name").GetString()!;
            var reference = Counts(c.GetProperty("reference"));
            var current = Counts(c.GetProperty("current"));
            double expected = c.GetProperty("psi").GetDouble();
            Close(expected, DriftAnalyzer.CategoricalPsi(reference, current), Tolerance, name + " categorical psi");
            var report = DriftAnalyzer.Compare(Profile(CategoricalFeature(reference)), Profile(CategoricalFeature(current)), AnySpec);
            Close(expected, report.Features[0].Metrics["psi"], Tolerance, name + " analyzer psi");
            count++;
        }
        Assert.True(count >= 8);
    }

    [Fact]
    public void Chi_square_matches_scipy()
    {
        foreach (var c in Root.GetProperty("chisquare").EnumerateArray())
        {
            var obs = Array(c.GetProperty("observed"));
            var refCounts = Array(c.GetProperty("reference"));
            var res = DriftStatistics.ChiSquare(obs, Array(c.GetProperty("expected")));
            Close(c.GetProperty("statistic").GetDouble(), res.Statistic, Tolerance, "chisquare statistic");
            Close(c.GetProperty("pvalue").GetDouble(), res.PValue, Tolerance, "chisquare p");
            // Same through the categorical API (reference proportions × current total).
            var r = refCounts.Select((v, i) => (i, v)).ToDictionary(t => $"c{t.i:D2}", t => (long)t.v);
            var o = obs.Select((v, i) => (i, v)).ToDictionary(t => $"c{t.i:D2}", t => (long)t.v);
            var cat = DriftStatistics.ChiSquareCategorical(r, o);
            Close(c.GetProperty("statistic").GetDouble(), cat.Statistic, Tolerance, "chisquare categorical statistic");
            Close(c.GetProperty("pvalue").GetDouble(), cat.PValue, Tolerance, "chisquare categorical p");
        }
        foreach (var c in Root.GetProperty("chi2_sf").EnumerateArray())
        {
            double sf = DriftStatistics.ChiSquareSurvival(c.GetProperty("x").GetDouble(), c.GetProperty("dof").GetDouble());
            Close(c.GetProperty("sf").GetDouble(), sf, Tolerance, "chi2.sf");
            // Relative accuracy too, for the small tails.
            double expected = c.GetProperty("sf").GetDouble();
            if (expected > 0) Assert.True(Math.Abs(sf / expected - 1) < 1e-10, $"chi2.sf relative {sf:R} vs {expected:R}");
        }
    }

    [Fact]
    public void Normal_two_sided_p_matches_scipy()
    {
        foreach (var c in Root.GetProperty("normal_two_sided").EnumerateArray())
        {
            double z = c.GetProperty("z").GetDouble(), expected = c.GetProperty("p").GetDouble();
            double p = DriftStatistics.NormalTwoSidedPValue(z);
            Close(expected, p, Tolerance, $"p(z={z})");
            if (expected > 1e-300) Assert.True(Math.Abs(p / expected - 1) < 1e-12, $"relative p(z={z}): {p:R} vs {expected:R}");
        }
    }
}
