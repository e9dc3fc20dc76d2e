using MLOps.Core.Rollout;
using MLOps.Core.Workflows;

namespace MLOps.Core.Tests.Rollout;

public class RolloutGuardEvaluatorTests
{
    private static readonly RolloutGuards Guards = new() { MaxErrorRate = 0.05, MaxLatencyP99Ms = 500, MaxPredictionDrift = 0.25, MinRequests = 50 };

    private static double[] Scores(int n, int seed, double shift = 0)
    {
        var rng = new Random(seed);
        return [.. Enumerable.Range(0, n).Select(_ => Math.Clamp(0.2 + shift + 0.1 * (rng.NextDouble() - 0.5) * 2, 0, 1))];
    }

    private static ArmTraffic Arm(int requests, int errors = 0, double latency = 20, double shift = 0, int seed = 1) => new()
    {
        Requests = requests,
        Errors = errors,
        LatenciesMs = [.. Enumerable.Repeat(latency, requests - errors)],
        Scores = Scores(requests * 4, seed, shift),
    };

    [Fact]
    public void Evaluate_HealthyCandidate_Passes()
    {
        var report = RolloutGuardEvaluator.Evaluate(Guards, Arm(100, seed: 1), Arm(400, seed: 2));

        Assert.Equal(GuardVerdict.Pass, report.Verdict);
        Assert.Null(report.Guard);
        Assert.Equal(3, report.Checks.Count);
        Assert.All(report.Checks, c => Assert.True(c.Passed, c.Message));
    }

    [Fact]
    public void Evaluate_TooFewCandidateRequests_IsInsufficient()
    {
        var report = RolloutGuardEvaluator.Evaluate(Guards, Arm(49, errors: 49), Arm(400));

        Assert.Equal(GuardVerdict.Insufficient, report.Verdict);
        Assert.Equal("min_requests", report.Guard);
        Assert.Contains("49", report.Summary, StringComparison.Ordinal);
    }

    [Fact]
    public void Evaluate_TooFewControlRequests_IsInsufficientOnlyWhenDriftIsGuarded()
    {
        Assert.Equal(GuardVerdict.Insufficient, RolloutGuardEvaluator.Evaluate(Guards, Arm(100), Arm(10)).Verdict);
        Assert.Equal(GuardVerdict.Pass, RolloutGuardEvaluator.Evaluate(Guards with { MaxPredictionDrift = null }, Arm(100), Arm(10)).Verdict);
    }

    [Fact]
    public void Evaluate_ErrorRateAboveLimit_BreachesErrorRate()
    {
        var report = RolloutGuardEvaluator.Evaluate(Guards, Arm(100, errors: 6), Arm(400));

        Assert.Equal(GuardVerdict.Breach, report.Verdict);
        Assert.Equal("max_error_rate", report.Guard);
        Assert.Equal(0.06, report.Checks.Single(c => c.Guard == "max_error_rate").Value!.Value, 10);
    }

    [Fact]
    public void Evaluate_SlowCandidate_BreachesLatency()
    {
        var report = RolloutGuardEvaluator.Evaluate(Guards, Arm(100, latency: 800), Arm(400));

        Assert.Equal("max_latency_p99_ms", report.Guard);
        Assert.Equal(800, report.Checks.Single(c => c.Guard == "max_latency_p99_ms").Value);
    }

    [Fact]
    public void Evaluate_ShiftedScores_BreachesPredictionDrift()
    {
        var report = RolloutGuardEvaluator.Evaluate(Guards, Arm(100, shift: 0.5), Arm(400));

        Assert.Equal(GuardVerdict.Breach, report.Verdict);
        Assert.Equal("max_prediction_drift", report.Guard);
        Assert.True(report.Checks.Single(c => c.Guard == "max_prediction_drift").Value > 0.9);
        Assert.StartsWith("max_prediction_drift breached", report.Summary, StringComparison.Ordinal);
    }

    [Fact]
    public void PredictionDrift_IdenticalSamples_IsZero_DisjointSamples_IsOne()
    {
        double[] a = [0.1, 0.2, 0.3, 0.4];

        Assert.Equal(0, RolloutGuardEvaluator.PredictionDrift(a, a), 12);
        Assert.Equal(1, RolloutGuardEvaluator.PredictionDrift([0.0, 0.01], [0.99, 1.0]), 12);
        Assert.True(double.IsNaN(RolloutGuardEvaluator.PredictionDrift([], a)));
    }

    [Fact]
    public void P99_InterpolatesAndIsZeroWhenEmpty()
    {
        Assert.Equal(0, RolloutGuardEvaluator.P99([]));
        Assert.Equal(99.01, RolloutGuardEvaluator.P99([.. Enumerable.Range(1, 100).Select(i => (double)i)]), 6);
    }
}
