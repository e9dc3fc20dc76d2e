using MLOps.Core.Drift;
using MLOps.Core.Workflows;

namespace MLOps.Core.Rollout;

/// <summary>What one arm did during a rollout step: requests, failures, latencies and the scores it gave.</summary>
public sealed record ArmTraffic
{
    public int Requests { get; init; }
    public int Errors { get; init; }
    public IReadOnlyList<double> LatenciesMs { get; init; } = [];
    /// <summary>One score per scored row (probability for classifiers, the value for regression).</summary>
    public IReadOnlyList<double> Scores { get; init; } = [];
}

public enum GuardVerdict { Pass, Breach, Insufficient }

/// <summary>One guard's figure against its limit.</summary>
public sealed record GuardCheck(string Guard, double? Value, double? Limit, bool Passed, string Message);

/// <summary>The judgement of one rollout step.</summary>
public sealed record GuardReport
{
    public required GuardVerdict Verdict { get; init; }
    /// <summary>The workflow key of the first guard that failed (e.g. <c>max_error_rate</c>), or <c>min_requests</c>.</summary>
    public string? Guard { get; init; }
    public required string Summary { get; init; }
    public IReadOnlyList<GuardCheck> Checks { get; init; } = [];
    public int CandidateRequests { get; init; }
    public int ControlRequests { get; init; }
}

/// <summary>Judges a rollout step from the captured traffic of the candidate and of the control arm. Pure.</summary>
public static class RolloutGuardEvaluator
{
    /// <summary>Bins of the score histograms the prediction drift compares (few: a step sees little traffic).</summary>
    public const int DriftBins = 10;

    public const string MinRequests = "min_requests";
    public const string MaxErrorRate = "max_error_rate";
    public const string MaxLatencyP99 = "max_latency_p99_ms";
    public const string MaxPredictionDrift = "max_prediction_drift";

    public static GuardReport Evaluate(RolloutGuards guards, ArmTraffic candidate, ArmTraffic control)
    {
        ArgumentNullException.ThrowIfNull(guards);
        ArgumentNullException.ThrowIfNull(candidate);
        ArgumentNullException.ThrowIfNull(control);
        var enoughCandidate = candidate.Requests >= guards.MinRequests;
        var enoughControl = guards.MaxPredictionDrift is null || control.Requests >= guards.MinRequests;
        if (!enoughCandidate || !enoughControl)
        {
            var message = $"not enough traffic to judge: candidate {candidate.Requests}, control {control.Requests} request(s); {guards.MinRequests} needed";
            return new GuardReport
            {
                Verdict = GuardVerdict.Insufficient,
                Guard = MinRequests,
                Summary = message,
                Checks = [new GuardCheck(MinRequests, enoughCandidate ? control.Requests : candidate.Requests, guards.MinRequests, false, message)],
                CandidateRequests = candidate.Requests,
                ControlRequests = control.Requests,
            };
        }

        var checks = new List<GuardCheck>();
        if (guards.MaxErrorRate is { } maxErrors)
        {
            var rate = candidate.Requests == 0 ? 0 : (double)candidate.Errors / candidate.Requests;
            checks.Add(new GuardCheck(MaxErrorRate, rate, maxErrors, rate <= maxErrors,
                $"error rate {rate:P2} ({candidate.Errors} of {candidate.Requests}) vs at most {maxErrors:P2}"));
        }

        if (guards.MaxLatencyP99Ms is { } maxLatency)
        {
            var p99 = P99(candidate.LatenciesMs);
            checks.Add(new GuardCheck(MaxLatencyP99, p99, maxLatency, p99 <= maxLatency,
                $"p99 latency {p99:0.0} ms vs at most {maxLatency:0.0} ms"));
        }

        if (guards.MaxPredictionDrift is { } maxDrift)
        {
            var drift = PredictionDrift(candidate.Scores, control.Scores);
            var passed = double.IsNaN(drift) || drift <= maxDrift;
            checks.Add(new GuardCheck(MaxPredictionDrift, double.IsNaN(drift) ? null : drift, maxDrift, passed,
                double.IsNaN(drift)
                    ? "prediction drift not measurable (an arm has no scores)"
                    : $"prediction drift (Jensen-Shannon distance of scores vs control) {drift:0.000} vs at most {maxDrift:0.000}"));
        }

        var failed = checks.FirstOrDefault(c => !c.Passed);
        return new GuardReport
        {
            Verdict = failed is null ? GuardVerdict.Pass : GuardVerdict.Breach,
            Guard = failed?.Guard,
            Summary = failed is null ? "every guard holds: " + string.Join("; ", checks.Select(c => c.Message)) : $"{failed.Guard} breached: {failed.Message}",
            Checks = checks,
            CandidateRequests = candidate.Requests,
            ControlRequests = control.Requests,
        };
    }

    /// <summary>Jensen–Shannon distance (base 2) of the two score samples over <see cref="DriftBins"/> equal-width bins
    /// of their joint range; NaN when a sample is empty.</summary>
    public static double PredictionDrift(IReadOnlyList<double> candidate, IReadOnlyList<double> control)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        ArgumentNullException.ThrowIfNull(control);
        var a = DriftStatistics.SortedCopy([.. control.Where(double.IsFinite)]);
        var b = DriftStatistics.SortedCopy([.. candidate.Where(double.IsFinite)]);
        return DriftStatistics.JensenShannonBinnedSorted(a, b, DriftBins);
    }

    /// <summary>The 99th percentile (linear interpolation); 0 without samples.</summary>
    public static double P99(IReadOnlyList<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count == 0)
        {
            return 0;
        }

        var sorted = DriftStatistics.SortedCopy([.. values]);
        return DriftStatistics.QuantileSorted(sorted, 0.99);
    }
}
