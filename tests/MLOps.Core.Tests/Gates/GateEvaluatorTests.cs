using MLOps.Core.Gates;
using MLOps.Core.Workflows;

namespace MLOps.Core.Tests.Gates;

public sealed class GateEvaluatorTests
{
    private static Dictionary<string, double> M(params (string Name, double Value)[] values) => values.ToDictionary(v => v.Name, v => v.Value);

    public static TheoryData<string, GateSpec, double, double?, bool, string> Cases => new()
    {
        // name, gate, candidate, champion, passed, message
        { "min passes", new GateSpec { Metric = "auc", Min = 0.7 }, 0.812, null, true, "auc 0.812 >= 0.700" },
        { "min on the line passes", new GateSpec { Metric = "auc", Min = 0.7 }, 0.7, null, true, "auc 0.700 >= 0.700" },
        { "min fails", new GateSpec { Metric = "auc", Min = 0.7 }, 0.65, null, false, "auc 0.650 < 0.700 (minimum)" },
        { "max passes", new GateSpec { Metric = "log_loss", Max = 0.5 }, 0.41, null, true, "log_loss 0.410 <= 0.500" },
        { "max fails", new GateSpec { Metric = "log_loss", Max = 0.5 }, 0.61, null, false, "log_loss 0.610 > 0.500 (maximum)" },
        { "tolerated degradation exceeded", new GateSpec { Metric = "auc", MinAbsoluteChange = -0.02 }, 0.790, 0.811, false,
            "auc 0.790 is 0.021 below champion 0.811; allowed change >= -0.020" },
        { "tolerated degradation within", new GateSpec { Metric = "auc", MinAbsoluteChange = -0.02 }, 0.800, 0.811, true,
            "auc 0.800 is 0.011 below champion 0.811; allowed change >= -0.020" },
        { "required improvement met", new GateSpec { Metric = "auc", MinAbsoluteChange = 0.01 }, 0.83, 0.811, true,
            "auc 0.830 is 0.019 above champion 0.811; required change >= 0.010" },
        { "required improvement missed", new GateSpec { Metric = "auc", MinAbsoluteChange = 0.01 }, 0.815, 0.811, false,
            "auc 0.815 is 0.004 above champion 0.811; required change >= 0.010" },
        { "lower is better: decrease is improvement", new GateSpec { Metric = "rmse", MinAbsoluteChange = 0.01 }, 0.42, 0.45, true,
            "rmse 0.420 is 0.030 below champion 0.450 (lower is better); required change >= 0.010" },
        { "lower is better: increase is degradation", new GateSpec { Metric = "log_loss", MinAbsoluteChange = 0 }, 0.47, 0.45, false,
            "log_loss 0.470 is 0.020 above champion 0.450 (lower is better); allowed change >= 0.000" },
        { "lower is better: mae tolerated", new GateSpec { Metric = "mae", MinAbsoluteChange = -0.05 }, 1.02, 1.0, true,
            "mae 1.020 is 0.020 above champion 1.000 (lower is better); allowed change >= -0.050" },
        { "relative improvement met", new GateSpec { Metric = "auc", MinRelativeChange = 0.01 }, 0.82, 0.80, true,
            "auc 0.820 is 0.020 above champion 0.800 (2.5% better); required change >= 1.0%" },
        { "relative degradation beyond tolerance", new GateSpec { Metric = "auc", MinRelativeChange = -0.01 }, 0.78, 0.80, false,
            "auc 0.780 is 0.020 below champion 0.800 (2.5% worse); allowed change >= -1.0%" },
        { "relative lower is better", new GateSpec { Metric = "rmse", MinRelativeChange = 0.05 }, 0.9, 1.0, true,
            "rmse 0.900 is 0.100 below champion 1.000 (10.0% better; lower is better); required change >= 5.0%" },
        { "relative from zero champion", new GateSpec { Metric = "r2", MinRelativeChange = 0.1 }, 0.3, 0.0, true,
            "r2 0.300 is 0.300 above champion 0.000; relative change from a champion value of 0 is undefined; required change >= 10.0%" },
        { "equal to champion", new GateSpec { Metric = "auc", MinAbsoluteChange = 0 }, 0.8, 0.8, true,
            "auc 0.800 equals champion 0.800; allowed change >= 0.000" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Evaluate_SingleThreshold(string name, GateSpec gate, double candidate, double? champion, bool passed, string message)
    {
        var report = GateEvaluator.Evaluate([gate], M((gate.Metric, candidate)), champion is { } c ? M((gate.Metric, c)) : null);

        var result = Assert.Single(report.Results);
        Assert.True(passed == result.Passed, name);
        Assert.Equal(passed, report.Passed);
        Assert.Equal(message, result.Message);
        Assert.Equal(candidate, result.Actual);
        Assert.Equal(gate.Min is null && gate.Max is null ? GateEvaluator.RelativeKind : GateEvaluator.AbsoluteKind, result.Kind);
        Assert.Equal(champion is null ? null : champion, result.Baseline);
    }

    [Fact]
    public void Evaluate_FirstModel_RelativeGatesPassAndSaySo()
    {
        GateSpec[] gates =
        [
            new() { Metric = "auc", Min = 0.7, MinAbsoluteChange = -0.02 },
            new() { Metric = "log_loss", MinRelativeChange = 0.05 },
        ];

        var report = GateEvaluator.Evaluate(gates, M(("auc", 0.8), ("log_loss", 0.6)), champion: null);

        Assert.True(report.Passed);
        Assert.True(report.FirstModel);
        Assert.Equal(3, report.Results.Count);
        Assert.Equal("auc 0.800 >= 0.700", report.Results[0].Message);
        Assert.All(report.Results.Skip(1), r =>
        {
            Assert.True(r.Passed);
            Assert.Equal(GateEvaluator.RelativeKind, r.Kind);
            Assert.Equal("first model: no champion to compare with", r.Message);
            Assert.Null(r.Baseline);
        });
    }

    [Fact]
    public void Evaluate_FirstModel_AbsoluteGatesStillApply()
    {
        var report = GateEvaluator.Evaluate([new GateSpec { Metric = "auc", Min = 0.9, MinAbsoluteChange = 0 }], M(("auc", 0.8)), null);

        Assert.False(report.Passed);
        Assert.True(report.FirstModel);
        Assert.False(report.Results[0].Passed);
        Assert.True(report.Results[1].Passed);
    }

    [Fact]
    public void Evaluate_MetricMissingFromCandidate_Fails()
    {
        var report = GateEvaluator.Evaluate([new GateSpec { Metric = "aucpr", Min = 0.5 }], M(("auc", 0.8), ("f1", 0.7)), M(("aucpr", 0.6)));

        Assert.False(report.Passed);
        var result = Assert.Single(report.Results);
        Assert.Null(result.Actual);
        Assert.Equal("aucpr: the candidate has no such metric (available: auc, f1)", result.Message);
    }

    [Fact]
    public void Evaluate_MetricMissingFromChampion_FailsRelativeGate()
    {
        var report = GateEvaluator.Evaluate([new GateSpec { Metric = "aucpr", MinAbsoluteChange = 0 }], M(("aucpr", 0.8)), M(("auc", 0.8)));

        Assert.False(report.Passed);
        Assert.False(report.FirstModel);
        Assert.Contains("champion has no value", report.Results[0].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Evaluate_GateWithoutThreshold_Fails()
    {
        var report = GateEvaluator.Evaluate([new GateSpec { Metric = "auc" }], M(("auc", 0.8)), null);

        Assert.False(report.Passed);
        Assert.Contains("no threshold", Assert.Single(report.Results).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Evaluate_PassedOnlyWhenAllPass()
    {
        GateSpec[] gates =
        [
            new() { Metric = "auc", Min = 0.7 },
            new() { Metric = "recall", Min = 0.5 },
            new() { Metric = "log_loss", Max = 0.7, MinAbsoluteChange = -0.01 },
        ];
        var candidate = M(("auc", 0.82), ("recall", 0.45), ("log_loss", 0.5));
        var champion = M(("auc", 0.80), ("recall", 0.5), ("log_loss", 0.52));

        var report = GateEvaluator.Evaluate(gates, candidate, champion);

        Assert.False(report.Passed);
        Assert.False(report.FirstModel);
        Assert.Equal([true, false, true, true], report.Results.Select(r => r.Passed));
        Assert.Equal(["auc", "recall", "log_loss", "log_loss"], report.Results.Select(r => r.Metric));
    }

    [Fact]
    public void Evaluate_NoGates_Passes()
    {
        var report = GateEvaluator.Evaluate([], M(("auc", 0.5)), M(("auc", 0.9)));

        Assert.True(report.Passed);
        Assert.Empty(report.Results);
    }
}
