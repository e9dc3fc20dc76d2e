using MLOps.Core.Gates;
using MLOps.Core.Workflows;

namespace MLOps.Core.Tests.Gates;

public sealed class SegmentGateTests
{
    private static readonly Dictionary<string, double> Overall = new() { ["auc"] = 0.80 };

    private static Dictionary<string, SegmentMetrics> Segment(string name, long rows, double auc) =>
        new() { [name] = new SegmentMetrics { Rows = rows, Metrics = new Dictionary<string, double> { ["auc"] = auc } } };

    [Fact]
    public void SegmentGate_EnoughRows_JudgesTheSegmentMetric()
    {
        var gate = new GateSpec { Metric = "auc", Min = 0.65, Segment = "eu", MinRows = 200 };
        var report = GateEvaluator.Evaluate([gate], Overall, null, Segment("eu", 400, 0.61), null);
        var result = Assert.Single(report.Results);
        Assert.False(report.Passed);
        Assert.Equal("eu", result.Segment);
        Assert.Equal("segment eu (400 rows): auc 0.610 < 0.650 (minimum)", result.Message);
    }

    [Fact]
    public void SegmentGate_TooFewRows_FailsAndSaysNotJudged()
    {
        var gate = new GateSpec { Metric = "auc", Min = 0.65, Segment = "eu", MinRows = 200 };
        var report = GateEvaluator.Evaluate([gate], Overall, null, Segment("eu", 120, 0.99), null);
        var result = Assert.Single(report.Results);
        Assert.False(report.Passed);
        Assert.Equal(GateEvaluator.SegmentKind, result.Kind);
        Assert.StartsWith("segment eu has 120 holdout rows < min_rows 200: not judged", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SegmentGate_TooFewRowsWithSkip_PassesButStillSaysNotJudged()
    {
        var gate = new GateSpec { Metric = "auc", Min = 0.65, Segment = "eu", MinRows = 200, OnSmallSegment = "skip" };
        var report = GateEvaluator.Evaluate([gate], Overall, null, Segment("eu", 120, 0.1), null);
        Assert.True(report.Passed);
        Assert.Equal("segment eu has 120 holdout rows < min_rows 200: not judged (on_small_segment: skip)", Assert.Single(report.Results).Message);
    }

    [Fact]
    public void SegmentGate_NoSegmentMetrics_Fails()
    {
        var gate = new GateSpec { Metric = "auc", Min = 0.65, Segment = "eu" };
        var report = GateEvaluator.Evaluate([gate], Overall, null);
        Assert.False(report.Passed);
        Assert.Contains("segment eu was not evaluated", Assert.Single(report.Results).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SegmentGate_RelativeToChampion_UsesTheChampionsSegment()
    {
        var gate = new GateSpec { Metric = "auc", MinAbsoluteChange = -0.02, Segment = "eu" };
        var report = GateEvaluator.Evaluate([gate], Overall, Overall, Segment("eu", 500, 0.70), Segment("eu", 500, 0.75));
        var result = Assert.Single(report.Results);
        Assert.False(result.Passed);
        Assert.Equal(0.75, result.Baseline);
    }

    [Fact]
    public void SegmentGate_ChampionWithoutTheSegment_FailsRelativeGate()
    {
        var gate = new GateSpec { Metric = "auc", MinAbsoluteChange = -0.02, Segment = "eu" };
        var report = GateEvaluator.Evaluate([gate], Overall, Overall, Segment("eu", 500, 0.70), null);
        Assert.False(report.Passed);
        Assert.Contains("champion has no value", Assert.Single(report.Results).Message, StringComparison.Ordinal);
    }
}
