using MLOps.Core.Drift;
using MLOps.Core.Workflows;
using static MLOps.Core.Tests.Drift.DriftTestData;

namespace MLOps.Core.Tests.Drift;

/// <summary>
/// The edges of method <c>auto</c> (Evidently's rules): 1000 against 1001 non-null reference values, 5 against 6
/// distinct values, binary features, nulls left out of the count, and a workflow threshold applied to whichever test
/// auto picks.
/// </summary>
public sealed class AutoMethodTests
{
    private static DatasetProfile Dataset(params FeatureProfile[] features) => new() { Features = features, Rows = features.Max(f => f.Rows) };

    private static MonitoringSpec Spec(double? threshold = null, string mode = "fixed")
        => new() { MinRows = 1, Drift = new DriftSpec { Method = "auto", Threshold = threshold, ThresholdMode = mode } };

    private static FeatureDrift Judge(FeatureProfile reference, FeatureProfile current, double? threshold = null)
        => Assert.Single(DriftAnalyzer.Compare(Dataset(reference), Dataset(current), Spec(threshold)).Features);

    /// <summary>n values cycling through <paramref name="distinct"/> integers from <paramref name="start"/>.</summary>
    private static double[] Cycle(int n, int distinct, int start = 0) => [.. Enumerable.Range(0, n).Select(i => (double)(start + (i % distinct)))];

    private static FeatureProfile Categories(int n, params string[] keys)
        => Cat("c", [.. keys.Select((k, i) => (k, (long)((n / keys.Length) + (i < n % keys.Length ? 1 : 0))))]);

    [Fact]
    public void Numeric_reference_of_1000_values_takes_ks_and_of_1001_normalized_wasserstein()
    {
        var current = Num("x", Normal(400, 0, 1, 9));
        var at = Judge(Num("x", Normal(1000, 0, 1, 1)), current);
        Assert.Equal("ks", at.Method);
        Assert.Equal(DriftAnalyzer.DefaultAlpha, at.Threshold);
        Assert.Equal(at.Metrics["ks_p_value"], at.Value);

        var above = Judge(Num("x", Normal(1001, 0, 1, 1)), current);
        Assert.Equal("wasserstein_norm", above.Method);
        Assert.Equal(DriftAnalyzer.DefaultDistanceThreshold, above.Threshold);
        Assert.Equal(above.Metrics["wasserstein_norm"], above.Value);
    }

    [Fact]
    public void Categorical_reference_of_1000_values_takes_chi_square_and_of_1001_jensen_shannon()
    {
        var current = Categories(300, "a", "b", "c");
        var at = Judge(Categories(1000, "a", "b", "c"), current);
        Assert.Equal("chi_square", at.Method);
        Assert.Equal(at.Metrics["chi_square_p_value"], at.Value);

        var above = Judge(Categories(1001, "a", "b", "c"), current);
        Assert.Equal("jensen_shannon", above.Method);
        Assert.Equal(above.Metrics["jensen_shannon"], above.Value);
    }

    [Fact]
    public void Numeric_feature_with_5_distinct_values_is_categorical_and_with_6_is_numeric()
    {
        // Small reference: chi-square at 5 distinct values, KS at 6.
        var five = Judge(Num("x", Cycle(600, 5)), Num("x", Cycle(300, 5)));
        Assert.Equal("chi_square", five.Method);
        Assert.Equal(five.Metrics["chi_square_p_value"], five.Value);
        var six = Judge(Num("x", Cycle(600, 6)), Num("x", Cycle(300, 6)));
        Assert.Equal("ks", six.Method);

        // Distinct values are counted over both samples: 5 in the reference plus a sixth in the current make 6.
        var union = Judge(Num("x", Cycle(600, 5)), Num("x", Cycle(300, 5, start: 1)));
        Assert.Equal("ks", union.Method);

        // Large reference: Jensen–Shannon over the value counts at 5, normalized Wasserstein at 6.
        var fiveLarge = Judge(Num("x", Cycle(2000, 5)), Num("x", [.. Cycle(200, 5), .. Enumerable.Repeat(0.0, 100)]));
        Assert.Equal("jensen_shannon", fiveLarge.Method);
        var counts = new Dictionary<string, long> { ["0"] = 400, ["1"] = 400, ["2"] = 400, ["3"] = 400, ["4"] = 400 };
        var currentCounts = new Dictionary<string, long> { ["0"] = 140, ["1"] = 40, ["2"] = 40, ["3"] = 40, ["4"] = 40 };
        Assert.Equal(DriftStatistics.JensenShannonCategorical(counts, currentCounts), fiveLarge.Value, 15);
        var sixLarge = Judge(Num("x", Cycle(2000, 6)), Num("x", Cycle(300, 6)));
        Assert.Equal("wasserstein_norm", sixLarge.Method);
    }

    [Fact]
    public void Binary_numeric_feature_takes_the_z_test()
    {
        // 0/1 with 30 % ones in the reference and 45 % in the current.
        double[] reference = [.. Enumerable.Range(0, 800).Select(i => i % 10 < 3 ? 1.0 : 0.0)];
        double[] current = [.. Enumerable.Range(0, 400).Select(i => i % 20 < 9 ? 1.0 : 0.0)];
        var f = Judge(Num("flag", reference), Num("flag", current));
        Assert.Equal("z_test", f.Method);
        Assert.Equal(f.Metrics["z_test_p_value"], f.Value);
        double z = DriftStatistics.TwoProportionZ(560, 800, 220, 400);
        Assert.Equal(DriftStatistics.NormalTwoSidedPValue(z), f.Value, 15);
        Assert.True(f.Drifted, $"p {f.Value}");

        var binaryCategory = Judge(Cat("owner", ("yes", 560), ("no", 240)), Cat("owner", ("yes", 220), ("no", 180)));
        Assert.Equal("z_test", binaryCategory.Method);
        Assert.Equal(f.Value, binaryCategory.Value, 15);
    }

    [Fact]
    public void Nulls_do_not_count_towards_the_1000_value_cutoff()
    {
        // 1001 rows of which 2 are null: 999 values, a small reference for Evidently (it drops nulls before it chooses).
        var values = Normal(999, 0, 1, 1);
        var withNulls = new FeatureProfile { Name = "x", Kind = FeatureKind.Numeric, Values = values, Rows = 1001, Nulls = 2 };
        var current = Num("x", Normal(400, 0, 1, 9));
        var f = Judge(withNulls, current);
        Assert.Equal("ks", f.Method);
        Assert.Equal(1001, f.ReferenceRows);
        Assert.Equal(2.0 / 1001, f.Metrics["null_rate_ref"], 15);

        // 1001 values and 5 nulls: large.
        var large = new FeatureProfile { Name = "x", Kind = FeatureKind.Numeric, Values = Normal(1001, 0, 1, 1), Rows = 1006, Nulls = 5 };
        Assert.Equal("wasserstein_norm", Judge(large, current).Method);

        // Categories: 1000 counted values in 1200 rows.
        var categories = Categories(1000, "a", "b", "c") with { Rows = 1200, Nulls = 200 };
        Assert.Equal("chi_square", Judge(categories, Categories(300, "a", "b", "c")).Method);
        Assert.Equal(1000, DriftAnalyzer.NonNullCount(categories));
    }

    [Fact]
    public void Workflow_threshold_applies_to_whichever_test_auto_picks()
    {
        // Small reference, shifted current: KS decides with a tiny p-value; an alpha below it means no drift.
        var reference = Num("x", Normal(800, 0, 1, 1));
        var shifted = Num("x", Normal(400, 0.6, 1, 2));
        var byDefault = Judge(reference, shifted);
        Assert.Equal("ks", byDefault.Method);
        Assert.True(byDefault.Drifted);
        double alpha = byDefault.Value / 2;
        var strict = Judge(reference, shifted, alpha);
        Assert.Equal("ks", strict.Method);
        Assert.Equal(alpha, strict.Threshold);
        Assert.False(strict.Drifted);

        // Same distribution: a loose alpha above the p-value flags it.
        var same = Judge(reference, Num("x", Normal(400, 0, 1, 3)));
        Assert.False(same.Drifted);
        var loose = Judge(reference, Num("x", Normal(400, 0, 1, 3)), Math.Min(0.99, same.Value * 1.5));
        Assert.True(loose.Drifted, $"p {loose.Value} vs alpha {loose.Threshold}");

        // Large reference: normalized Wasserstein decides and the threshold is its limit.
        var large = Num("x", Normal(3000, 0, 1, 4));
        var drifted = Judge(large, shifted);
        Assert.Equal("wasserstein_norm", drifted.Method);
        Assert.True(drifted.Drifted);
        var raised = Judge(large, shifted, drifted.Value + 0.01);
        Assert.Equal(drifted.Value + 0.01, raised.Threshold);
        Assert.False(raised.Drifted);

        // Categorical, large: Jensen–Shannon with the given limit.
        var cats = Judge(Categories(3000, "a", "b", "c"), Cat("c", ("a", 200), ("b", 100), ("c", 100)), 0.5);
        Assert.Equal("jensen_shannon", cats.Method);
        Assert.Equal(0.5, cats.Threshold);
        Assert.False(cats.Drifted);
        Assert.True(Judge(Categories(3000, "a", "b", "c"), Cat("c", ("a", 200), ("b", 100), ("c", 100))).Drifted);
    }

    [Fact]
    public void Sample_workflow_threshold_is_the_calibrated_floor_for_distances_only()
    {
        // credit-risk.yaml: method auto, threshold_mode calibrated, threshold 0.1 — as its comment says.
        var monitoring = WorkflowParser.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "workflows", "credit-risk.yaml")), "credit-risk.yaml").Monitoring;
        Assert.Equal(("auto", "calibrated", 0.1), (monitoring.Drift.Method, monitoring.Drift.ThresholdMode, monitoring.Drift.Threshold));
        monitoring = monitoring with { MinRows = 1 };

        // Large chunks: the chunk-to-chunk noise is far below 0.1, so a distance's calibrated threshold sits on the floor.
        var reference = Dataset(Num("x", Normal(50_000, 0, 1, 21)));
        var current = Dataset(Num("x", Normal(20_000, 0, 1, 22)));
        var distance = Assert.Single(DriftAnalyzer.Compare(reference, current, monitoring).Features);
        Assert.Equal("wasserstein_norm", distance.Method);
        Assert.True(distance.Metrics["calibration_mean"] + 3 * distance.Metrics["calibration_sd"] < 0.1);
        Assert.Equal(0.1, distance.Threshold);

        // A p-value test is calibrated on its statistic; 0.1 is no floor for a KS D (the floor is 0.01).
        var ks = Assert.Single(DriftAnalyzer.Compare(reference, current, monitoring with { Drift = monitoring.Drift with { Method = "ks" } }).Features);
        Assert.Equal("ks_statistic", ks.Method);
        Assert.Equal(ks.Metrics["calibration_mean"] + 3 * ks.Metrics["calibration_sd"], ks.Threshold, 12);
        Assert.InRange(ks.Threshold, DriftAnalyzer.DefaultCalibrationFloor, 0.0999);
    }
}
