using MLOps.Core.Drift;
using MLOps.Core.Workflows;
using static MLOps.Core.Tests.Drift.DriftTestData;

namespace MLOps.Core.Tests.Drift;

/// <summary>threshold_mode, fdr and alert_after: parser, analyzer (pure) and the k-of-n rule.</summary>
public sealed class DriftPolicyTests
{
    private static DatasetProfile Dataset(params FeatureProfile[] features) => new() { Features = features, Rows = features.Max(f => f.Rows) };

    private static MonitoringSpec Spec(string mode = "fixed", string fdr = "none", int minRows = 10, string method = "auto", double? threshold = null)
        => new() { MinRows = minRows, Drift = new DriftSpec { Method = method, ThresholdMode = mode, Fdr = fdr, Threshold = threshold } };

    [Fact]
    public void BenjaminiHochberg_matches_hand_computed_values()
    {
        // sorted: 0.01 (1), 0.03 (2), 0.04 (3), 0.20 (4); m·p/rank = 0.04, 0.06, 0.05333, 0.20; running minimum from the top.
        var adjusted = DriftAnalyzer.BenjaminiHochberg([0.01, 0.04, 0.03, 0.20]);
        Assert.Equal(0.04, adjusted[0], 12);
        Assert.Equal(0.16 / 3, adjusted[1], 12);
        Assert.Equal(0.16 / 3, adjusted[2], 12);
        Assert.Equal(0.20, adjusted[3], 12);

        // Capped at 1; NaN ignored and not counted in m.
        var capped = DriftAnalyzer.BenjaminiHochberg([0.9, double.NaN, 0.8]);
        Assert.Equal(0.9, capped[0], 12);
        Assert.True(double.IsNaN(capped[1]));
        Assert.Equal(0.9, capped[2], 12);
    }

    [Fact]
    public void Fdr_adjusts_p_values_across_features_and_decides_on_adjusted()
    {
        // 20 same-distribution numeric features on a small reference: KS decides. Raw p-values spread over (0, 1).
        var features = Enumerable.Range(0, 20).Select(i => (Ref: Num($"f{i}", Normal(400, 0, 1, 100 + i)), Cur: Num($"f{i}", Normal(200, 0, 1, 500 + i)))).ToList();
        var shifted = (Ref: Num("shifted", Normal(400, 0, 1, 7)), Cur: Num("shifted", Normal(200, 1.0, 1, 8)));
        features.Add(shifted);
        var reference = Dataset([.. features.Select(f => f.Ref)]);
        var current = Dataset([.. features.Select(f => f.Cur)]);

        var raw = DriftAnalyzer.Compare(reference, current, Spec());
        var bh = DriftAnalyzer.Compare(reference, current, Spec(fdr: "benjamini_hochberg"));

        var expected = DriftAnalyzer.BenjaminiHochberg([.. raw.Features.Select(f => f.Value)]);
        for (int i = 0; i < bh.Features.Count; i++)
        {
            var f = bh.Features[i];
            Assert.Equal("ks", f.Method);
            Assert.Equal(raw.Features[i].Value, f.Metrics["p_value"], 15);
            Assert.Equal(raw.Features[i].Metrics["ks_p_value"], f.Metrics["p_value"], 15);
            Assert.Equal(expected[i], f.Metrics["p_value_bh"], 15);
            Assert.Equal(expected[i], f.Value, 15);
            Assert.Equal(f.Value < 0.05, f.Drifted);
            Assert.True(f.Value >= raw.Features[i].Value - 1e-12);
        }
        Assert.True(bh.Features.Single(f => f.Feature == "shifted").Drifted);
        Assert.True(bh.DriftedFeatures <= raw.DriftedFeatures);
        Assert.Equal(1, bh.DriftedFeatures);
    }

    [Fact]
    public void Fdr_leaves_distance_methods_alone()
    {
        var reference = Dataset(Num("x", Normal(3000, 0, 1, 1)));
        var current = Dataset(Num("x", Normal(500, 0.5, 1, 2)));
        var report = DriftAnalyzer.Compare(reference, current, Spec(fdr: "benjamini_hochberg"));
        var f = Assert.Single(report.Features);
        Assert.Equal("wasserstein_norm", f.Method);
        Assert.False(f.Metrics.ContainsKey("p_value_bh"));
        Assert.True(f.Drifted);
    }

    [Fact]
    public void Calibrated_threshold_does_not_alert_on_small_same_distribution_window()
    {
        var reference = Dataset(Num("income", Normal(5000, 50_000, 10_000, 11)));
        var same = Dataset(Num("income", Normal(25, 50_000, 10_000, 12)));
        var moved = Dataset(Num("income", Normal(25, 60_000, 10_000, 13)));

        var fixedReport = DriftAnalyzer.Compare(reference, same, Spec());
        var calibrated = DriftAnalyzer.Compare(reference, same, Spec(mode: "calibrated"));
        var calibratedMoved = DriftAnalyzer.Compare(reference, moved, Spec(mode: "calibrated"));

        var f = Assert.Single(fixedReport.Features);
        Assert.Equal("wasserstein_norm", f.Method);
        Assert.Equal(0.1, f.Threshold);
        Assert.True(f.Drifted, $"fixed 0.1 on 25 rows should flag sampling noise; value {f.Value}");

        var c = Assert.Single(calibrated.Features);
        Assert.Equal("wasserstein_norm", c.Method);
        Assert.Equal(f.Value, c.Value, 15);
        Assert.Equal(10, c.Metrics["calibration_chunks"]);
        Assert.Equal(c.Metrics["calibration_mean"] + 3 * c.Metrics["calibration_sd"], c.Threshold, 12);
        Assert.True(c.Threshold > 0.1);
        Assert.False(c.Drifted, $"calibrated threshold {c.Threshold}, value {c.Value}");
        Assert.False(calibrated.Alert);

        var m = Assert.Single(calibratedMoved.Features);
        Assert.True(m.Drifted, $"a one-sigma shift must still drift: value {m.Value}, threshold {m.Threshold}");
    }

    [Fact]
    public void Calibrated_threshold_never_below_floor_and_p_tests_use_their_statistic()
    {
        // Large windows: chunk noise is tiny, so the floor (the spec's threshold) wins.
        var reference = Dataset(Num("x", Normal(50_000, 0, 1, 21)));
        var current = Dataset(Num("x", Normal(20_000, 0, 1, 22)));
        var floored = Assert.Single(DriftAnalyzer.Compare(reference, current, Spec(mode: "calibrated", method: "psi", threshold: 0.2)).Features);
        Assert.Equal("psi", floored.Method);
        Assert.Equal(0.2, floored.Threshold);
        Assert.False(floored.Drifted);

        var small = Dataset(Num("x", Normal(600, 0, 1, 23)), Cat("region", ("EU", 300), ("US", 200), ("APAC", 100)));
        var cur = Dataset(Num("x", Normal(60, 0, 1, 24)), Cat("region", ("EU", 30), ("US", 20), ("APAC", 10)));
        var report = DriftAnalyzer.Compare(small, cur, Spec(mode: "calibrated"));
        var byName = report.Features.ToDictionary(f => f.Feature);
        Assert.Equal("ks_statistic", byName["x"].Method);
        Assert.Equal(byName["x"].Metrics["ks"], byName["x"].Value, 15);
        Assert.False(byName["x"].Drifted);
        Assert.Equal("chi_square_statistic", byName["region"].Method);
        Assert.False(byName["region"].Drifted);
        Assert.True(byName["region"].Threshold >= DriftAnalyzer.DefaultCalibrationFloor);
    }

    [Fact]
    public void Calibrated_is_deterministic()
    {
        var reference = Dataset(Num("x", Normal(3000, 0, 1, 31)), Cat("c", ("a", 2000), ("b", 900), ("c", 100)));
        var current = Dataset(Num("x", Normal(200, 0, 1, 32)), Cat("c", ("a", 130), ("b", 60), ("c", 10)));
        var a = DriftAnalyzer.Compare(reference, current, Spec(mode: "calibrated"));
        var b = DriftAnalyzer.Compare(reference, current, Spec(mode: "calibrated"));
        Assert.Equal(a.Features.Select(f => f.Threshold), b.Features.Select(f => f.Threshold));
    }

    private static DriftReport Window(bool drifted, bool judged = true) => new()
    {
        Features = [],
        DriftedFeatures = drifted ? 1 : 0,
        Judged = judged,
    };

    [Theory]
    [InlineData(new[] { true }, 2, 3, 1, false)]             // first drifted window: 1 of 1
    [InlineData(new[] { true, true }, 2, 3, 2, true)]        // two in a row
    [InlineData(new[] { true, false, true }, 2, 3, 2, true)] // 2 of the last 3
    [InlineData(new[] { true, false, false, true }, 2, 3, 1, false)] // the old one is out of the last 3
    [InlineData(new[] { false }, 1, 1, 0, false)]
    [InlineData(new[] { true }, 1, 1, 1, true)]
    public void AlertAfter_k_of_n(bool[] oldestFirst, int k, int n, int expectedWindows, bool expectedAlert)
    {
        var history = oldestFirst.Select(d => Window(d)).Reverse().ToList();
        var current = history[0];
        var previous = history.Skip(1);
        var result = DriftAnalyzer.ApplyAlertAfter(current, previous, new AlertAfterSpec { K = k, N = n });
        Assert.Equal(expectedWindows, result.WindowsDrifted);
        Assert.Equal(expectedAlert, result.Alert);
    }

    [Fact]
    public void AlertAfter_skips_unjudged_windows_and_never_alerts_unjudged()
    {
        var spec = new AlertAfterSpec { K = 2, N = 2 };
        var withGap = DriftAnalyzer.ApplyAlertAfter(Window(true), [Window(false, judged: false), Window(true)], spec);
        Assert.True(withGap.Alert);
        Assert.Equal(2, withGap.WindowsDrifted);
        var unjudged = DriftAnalyzer.ApplyAlertAfter(Window(false, judged: false), [Window(true), Window(true)], spec);
        Assert.False(unjudged.Alert);
    }

    [Fact]
    public void Compare_without_history_alerts_only_when_k_is_one()
    {
        var reference = Dataset(Num("x", Normal(3000, 0, 1, 41)));
        var current = Dataset(Num("x", Normal(500, 2, 1, 42)));
        var once = DriftAnalyzer.Compare(reference, current, Spec());
        Assert.True(once.Alert);
        Assert.Equal(1, once.WindowsDrifted);
        var spec = Spec() with { Drift = new DriftSpec { AlertAfter = new AlertAfterSpec { K = 2, N = 3 } } };
        var twice = DriftAnalyzer.Compare(reference, current, spec);
        Assert.False(twice.Alert);
        Assert.Equal(1, twice.DriftedFeatures);
    }

    /// <summary>The sample workflow with its drift policy keys replaced by <paramref name="drift"/>.</summary>
    private static string Workflow(string drift)
    {
        var lines = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "workflows", "credit-risk.yaml"))
            .Where(l => !l.StartsWith("    threshold_mode:", StringComparison.Ordinal) && !l.StartsWith("    threshold:", StringComparison.Ordinal)
                        && !l.StartsWith("    fdr:", StringComparison.Ordinal) && !l.StartsWith("    alert_after:", StringComparison.Ordinal));
        return string.Join('\n', lines).Replace("    dataset_share: 0.5\n", "    dataset_share: 0.5\n" + drift, StringComparison.Ordinal) + "\n";
    }

    [Fact]
    public void Parser_reads_policy_keys()
    {
        var yaml = Workflow("    threshold_mode: fixed\n    fdr: benjamini_hochberg\n    alert_after: {k: 2, n: 3}\n");
        var drift = WorkflowParser.Parse(yaml, "w.yaml").Monitoring.Drift;
        Assert.Equal("fixed", drift.ThresholdMode);
        Assert.Equal("benjamini_hochberg", drift.Fdr);
        Assert.Equal(2, drift.AlertAfter.K);
        Assert.Equal(3, drift.AlertAfter.N);
        Assert.Equal("calibrated", WorkflowParser.Parse(Workflow("    threshold_mode: calibrated\n"), "w.yaml").Monitoring.Drift.ThresholdMode);

        var defaults = WorkflowParser.Parse(Workflow(""), "w.yaml").Monitoring.Drift;
        Assert.Equal("fixed", defaults.ThresholdMode);
        Assert.Equal("none", defaults.Fdr);
        Assert.Equal(1, defaults.AlertAfter.K);
        Assert.Equal(1, defaults.AlertAfter.N);
    }

    /// <summary>Benjamini–Hochberg adjusts p-values: calibrated thresholds (statistics, no p-values) and distance methods
    /// leave none, so the parser names the fdr key's line and column instead of ignoring it.</summary>
    [Theory]
    [InlineData("    threshold_mode: calibrated\n    fdr: benjamini_hochberg\n", "threshold_mode: calibrated")]
    [InlineData("    fdr: benjamini_hochberg\n    threshold_mode: calibrated\n", "threshold_mode: calibrated")]
    [InlineData("    fdr: benjamini_hochberg\n", "method: psi")]
    public void Parser_rejects_benjamini_hochberg_where_no_p_value_decides(string drift, string mentions)
    {
        var yaml = Workflow(drift);
        if (mentions == "method: psi") yaml = yaml.Replace("    method: auto ", "    method: psi  ", StringComparison.Ordinal);
        var ex = Assert.Throws<WorkflowValidationException>(() => WorkflowParser.Parse(yaml, "w.yaml"));
        var error = Assert.Single(ex.Errors);
        var lines = yaml.Split('\n');
        int line = Array.FindIndex(lines, l => l.StartsWith("    fdr:", StringComparison.Ordinal)) + 1;
        Assert.Equal(("w.yaml", line, 10), (error.File, error.Line, error.Column));
        Assert.StartsWith($"w.yaml({line},10): 'monitoring.drift.fdr': fdr: benjamini_hochberg adjusts p-values, but {mentions}", error.ToString(), StringComparison.Ordinal);

        // The analyzer refuses the same combination when a spec is built in code.
        var spec = WorkflowParser.Parse(Workflow(""), "w.yaml").Monitoring;
        var bad = spec with { Drift = spec.Drift with { Fdr = "benjamini_hochberg", ThresholdMode = mentions == "method: psi" ? "fixed" : "calibrated", Method = mentions == "method: psi" ? "psi" : "auto" } };
        var profile = new DatasetProfile { Features = [Num("x", Normal(200, 0, 1, 1))], Rows = 200 };
        var thrown = Assert.Throws<ArgumentException>(() => DriftAnalyzer.Compare(profile, profile, bad));
        Assert.Contains(mentions, thrown.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("    threshold_mode: adaptive\n", "threshold_mode")]
    [InlineData("    fdr: bonferroni\n", "fdr")]
    [InlineData("    alert_after: {k: 4, n: 3}\n", "alert_after.k")]
    [InlineData("    alert_after: {k: 0, n: 3}\n", "alert_after.k")]
    [InlineData("    alert_after: {k: 1, m: 3}\n", "m")]
    public void Parser_rejects_bad_policy(string drift, string mentions)
    {
        var ex = Assert.Throws<WorkflowValidationException>(() => WorkflowParser.Parse(Workflow(drift), "w.yaml"));
        Assert.Contains(ex.Errors, e => e.ToString()!.Contains(mentions, StringComparison.Ordinal));
    }
}
