using MLOps.Core.Drift;
using MLOps.Core.Workflows;
using static MLOps.Core.Tests.Drift.DriftTestData;

namespace MLOps.Core.Tests.Drift;

public sealed class DriftAnalyzerTests
{
    private static DatasetProfile Dataset(params FeatureProfile[] features) => new() { Features = features, Rows = features.Max(f => f.Rows) };

    private static MonitoringSpec Spec(string method = "auto", double? threshold = null, int minRows = 100, double share = 0.5)
        => new() { MinRows = minRows, Drift = new DriftSpec { Method = method, Threshold = threshold, DatasetShare = share } };

    [Fact]
    public void Auto_small_reference_uses_ks_chi_square_and_z_test()
    {
        var reference = Dataset(
            Num("income", Normal(800, 0, 1, 1)),
            Cat("region", ("EU", 300), ("US", 300), ("APAC", 200)),
            Cat("owner", ("yes", 400), ("no", 400)),
            Num("children", Normal(800, 0, 1, 2).Select(x => Math.Abs(Math.Round(x))).ToArray()));
        var current = Dataset(
            Num("income", Normal(500, 0.5, 1, 3)),
            Cat("region", ("EU", 100), ("US", 100), ("APAC", 300)),
            Cat("owner", ("yes", 250), ("no", 250)),
            Num("children", Normal(500, 0, 1, 4).Select(x => Math.Abs(Math.Round(x))).ToArray()));
        var report = DriftAnalyzer.Compare(reference, current, Spec());
        var byName = report.Features.ToDictionary(f => f.Feature);

        Assert.Equal("ks", byName["income"].Method);
        Assert.True(byName["income"].Drifted);
        Assert.Equal(0.05, byName["income"].Threshold);
        Assert.Equal(byName["income"].Metrics["ks_p_value"], byName["income"].Value);

        Assert.Equal("chi_square", byName["region"].Method);
        Assert.True(byName["region"].Drifted);
        Assert.Equal("z_test", byName["owner"].Method);
        Assert.False(byName["owner"].Drifted);
        Assert.Equal(1.0, byName["owner"].Value, 12);
        // Integer feature with ≤ 5 distinct values: treated as categorical (chi-square), not KS.
        Assert.Equal("chi_square", byName["children"].Method);
        Assert.False(byName["children"].Drifted);

        foreach (var m in new[] { "psi", "ks", "ks_p_value", "wasserstein", "wasserstein_norm", "jensen_shannon", "mean_ref", "mean_cur", "null_rate_ref", "null_rate_cur" })
            Assert.True(byName["income"].Metrics.ContainsKey(m), m);
        foreach (var m in new[] { "chi_square", "chi_square_p_value", "jensen_shannon", "psi" })
            Assert.True(byName["region"].Metrics.ContainsKey(m), m);
        Assert.True(byName["owner"].Metrics.ContainsKey("z_test_p_value"));

        Assert.Equal(2, report.DriftedFeatures);
        Assert.True(report.DatasetDrift); // 2 of 4 = 0.5 ≥ 0.5
        Assert.True(report.Judged);
        Assert.StartsWith("2 of 4 features drifted (income: ks p ", report.Summary, StringComparison.Ordinal);
    }

    [Fact]
    public void Auto_large_reference_uses_normalized_wasserstein_and_jensen_shannon()
    {
        var reference = Dataset(
            Num("income", Normal(5000, 10, 2, 1)),
            Num("age", Normal(5000, 40, 10, 2)),
            Cat("region", ("EU", 2000), ("US", 2000), ("APAC", 1000)));
        var current = Dataset(
            Num("income", Normal(2000, 10.6, 2, 3)), // shift 0.3 σ
            Num("age", Normal(2000, 40.1, 10, 4)),   // shift 0.01 σ: a p-value test on huge samples might flag, a distance does not
            Cat("region", ("EU", 800), ("US", 800), ("APAC", 400)));
        var report = DriftAnalyzer.Compare(reference, current, Spec());
        var byName = report.Features.ToDictionary(f => f.Feature);
        Assert.Equal("wasserstein_norm", byName["income"].Method);
        Assert.True(byName["income"].Drifted);
        Assert.InRange(byName["income"].Value, 0.2, 0.4);
        Assert.Equal(0.1, byName["income"].Threshold);
        Assert.Equal("wasserstein_norm", byName["age"].Method);
        Assert.False(byName["age"].Drifted);
        Assert.Equal("jensen_shannon", byName["region"].Method);
        Assert.False(byName["region"].Drifted);
        Assert.Equal(0.0, byName["region"].Value, 12);
        Assert.Equal(1, report.DriftedFeatures);
        Assert.False(report.DatasetDrift); // 1/3 < 0.5
        Assert.Contains("income: wasserstein_norm 0.", report.Summary, StringComparison.Ordinal);
        Assert.Contains(" ≥ 0.10", report.Summary, StringComparison.Ordinal);
    }

    [Fact]
    public void Window_below_min_rows_is_not_judged()
    {
        var reference = Dataset(Num("income", Normal(500, 0, 1, 1)));
        var current = Dataset(Num("income", Normal(50, 5, 1, 2)));
        var report = DriftAnalyzer.Compare(reference, current, Spec(minRows: 100));
        Assert.False(report.Judged);
        Assert.Equal(0, report.DriftedFeatures);
        Assert.False(report.DatasetDrift);
        Assert.All(report.Features, f => Assert.False(f.Drifted));
        Assert.Contains("not judged", report.Summary, StringComparison.Ordinal);
        Assert.Contains("50 rows", report.Summary, StringComparison.Ordinal);
        Assert.Contains("minimum of 100", report.Summary, StringComparison.Ordinal);
        // The raw values are still kept.
        Assert.True(report.Features[0].Metrics["wasserstein"] > 4);
    }

    [Fact]
    public void Dataset_share_decides_dataset_drift()
    {
        var reference = Dataset(Num("a", Normal(3000, 0, 1, 1)), Num("b", Normal(3000, 0, 1, 2)), Num("c", Normal(3000, 0, 1, 3)));
        var current = Dataset(Num("a", Normal(3000, 1, 1, 4)), Num("b", Normal(3000, 0, 1, 5)), Num("c", Normal(3000, 0, 1, 6)));
        Assert.False(DriftAnalyzer.Compare(reference, current, Spec(share: 0.5)).DatasetDrift);
        var low = DriftAnalyzer.Compare(reference, current, Spec(share: 0.3));
        Assert.True(low.DatasetDrift);
        Assert.Equal(1, low.DriftedFeatures);
        Assert.StartsWith("1 of 3 features drifted (a: wasserstein_norm", low.Summary, StringComparison.Ordinal);
    }

    [Fact]
    public void Explicit_psi_uses_default_significant_band_or_the_given_threshold()
    {
        var reference = Dataset(Num("x", Normal(5000, 0, 1, 1)));
        var current = Dataset(Num("x", Normal(5000, 0.35, 1, 2))); // PSI ≈ 0.12: "moderate"
        var byDefault = DriftAnalyzer.Compare(reference, current, Spec("psi")).Features[0];
        Assert.Equal("psi", byDefault.Method);
        Assert.Equal(0.25, byDefault.Threshold);
        Assert.InRange(byDefault.Value, 0.1, 0.25);
        Assert.False(byDefault.Drifted);
        var strict = DriftAnalyzer.Compare(reference, current, Spec("psi", threshold: 0.1)).Features[0];
        Assert.True(strict.Drifted);
        Assert.Equal(0.1, strict.Threshold);
    }

    [Fact]
    public void Explicit_methods_pick_their_statistic()
    {
        var reference = Dataset(Num("x", Normal(3000, 0, 1, 1)), Cat("r", ("a", 100), ("b", 100)));
        var current = Dataset(Num("x", Normal(3000, 0.2, 1, 2)), Cat("r", ("a", 150), ("b", 50)));
        var ks = DriftAnalyzer.Compare(reference, current, Spec("ks")).Features;
        Assert.Equal("ks", ks[0].Method);
        Assert.True(ks[0].Drifted);
        Assert.Equal("chi_square", ks[1].Method);
        Assert.True(ks[1].Drifted);
        var js = DriftAnalyzer.Compare(reference, current, Spec("jensen_shannon", threshold: 0.5)).Features;
        Assert.All(js, f => Assert.Equal("jensen_shannon", f.Method));
        Assert.All(js, f => Assert.False(f.Drifted));
        var w = DriftAnalyzer.Compare(reference, current, Spec("wasserstein")).Features;
        Assert.Equal("wasserstein_norm", w[0].Method);
        Assert.True(w[0].Drifted);
        Assert.Equal("jensen_shannon", w[1].Method);
    }

    [Fact]
    public void New_category_gives_zero_p_value_and_serializable_metrics()
    {
        var reference = Dataset(Cat("r", ("a", 300), ("b", 300), ("c", 300)));
        var current = Dataset(Cat("r", ("a", 100), ("b", 100), ("c", 100), ("new", 50)));
        var f = DriftAnalyzer.Compare(reference, current, Spec()).Features[0];
        Assert.Equal("chi_square", f.Method);
        Assert.True(f.Drifted);
        Assert.Equal(0.0, f.Value);
        Assert.False(f.Metrics.ContainsKey("chi_square")); // infinite: left out
        Assert.All(f.Metrics.Values, v => Assert.True(double.IsFinite(v)));
        string json = System.Text.Json.JsonSerializer.Serialize(DriftAnalyzer.Compare(reference, current, Spec()));
        Assert.Contains("chi_square_p_value", json, StringComparison.Ordinal);
    }

    [Fact]
    public void Psi_and_distances_are_zero_for_identical_samples()
    {
        var v = Normal(2000, 3, 2, 9);
        var s = DriftStatistics.SortedCopy(v);
        Assert.Equal(0.0, DriftStatistics.PsiSorted(s, s), 12);
        Assert.Equal(0.0, DriftStatistics.WassersteinSorted(s, s), 12);
        Assert.Equal(0.0, DriftStatistics.JensenShannonBinnedSorted(s, s), 12);
        Assert.Equal(0.0, DriftStatistics.KolmogorovSmirnovStatisticSorted(s, s), 12);
        var sorted = (double[])v.Clone();
        System.Array.Sort(sorted);
        Assert.Equal(sorted, s); // the radix sort agrees with Array.Sort
    }
}
