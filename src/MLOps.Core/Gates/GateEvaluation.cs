using System.Globalization;
using MLOps.Core.Workflows;

namespace MLOps.Core.Gates;

/// <summary>Result of one gate: the threshold, the value, the champion's value when relative.</summary>
public sealed record GateResult(string Metric, string Kind, double Threshold, double? Actual, double? Baseline, bool Passed, string Message)
{
    /// <summary>The segment the gate judged, or null for the whole holdout.</summary>
    public string? Segment { get; init; }
}

/// <summary>Metrics of one segment of the holdout and how many holdout rows fell into it.</summary>
public sealed record SegmentMetrics
{
    public long Rows { get; init; }
    public IReadOnlyDictionary<string, double> Metrics { get; init; } = new Dictionary<string, double>();
}

public sealed record GateReport
{
    public required bool Passed { get; init; }
    /// <summary>True when there was no champion to compare with (relative gates are then skipped and say so).</summary>
    public bool FirstModel { get; init; }
    public IReadOnlyList<GateResult> Results { get; init; } = [];
}

/// <summary>Evaluates a workflow's gates. Each threshold of a gate gives one <see cref="GateResult"/>: kind
/// <c>absolute</c> for <see cref="GateSpec.Min"/> / <see cref="GateSpec.Max"/>, kind <c>relative_to_champion</c> for
/// <see cref="GateSpec.MinAbsoluteChange"/> / <see cref="GateSpec.MinRelativeChange"/>. Relative gates are
/// direction-aware: for lower-is-better metrics (<see cref="LowerIsBetter"/>) an improvement is a decrease.</summary>
public static class GateEvaluator
{
    public const string AbsoluteKind = "absolute";
    public const string RelativeKind = "relative_to_champion";
    public const string FirstModelMessage = "first model: no champion to compare with";
    public const string SegmentKind = "segment_size";

    /// <summary>Metrics for which smaller values are better.</summary>
    public static IReadOnlySet<string> LowerIsBetter { get; } =
        new HashSet<string>(["log_loss", "rmse", "mae", "mse", "mape"], StringComparer.OrdinalIgnoreCase);

    // Tolerates floating-point noise when a value sits exactly on its threshold.
    private const double Epsilon = 1e-12;

    public static GateReport Evaluate(IReadOnlyList<GateSpec> gates, IReadOnlyDictionary<string, double> candidate, IReadOnlyDictionary<string, double>? champion)
        => Evaluate(gates, candidate, champion, null, null);

    /// <summary>Evaluates every gate; a gate with a <see cref="GateSpec.Segment"/> judges that segment's metrics (the
    /// champion's on the same segment for relative thresholds). A segment with fewer holdout rows than
    /// <see cref="GateSpec.MinRows"/> (default 1) is not judged: one result of kind <see cref="SegmentKind"/> says so and
    /// fails, unless the gate says <c>on_small_segment: skip</c> — a small segment never passes silently.</summary>
    public static GateReport Evaluate(
        IReadOnlyList<GateSpec> gates,
        IReadOnlyDictionary<string, double> candidate,
        IReadOnlyDictionary<string, double>? champion,
        IReadOnlyDictionary<string, SegmentMetrics>? candidateSegments,
        IReadOnlyDictionary<string, SegmentMetrics>? championSegments)
    {
        ArgumentNullException.ThrowIfNull(gates);
        ArgumentNullException.ThrowIfNull(candidate);

        var results = new List<GateResult>();
        foreach (var gate in gates)
        {
            if (gate.Segment is { } segment)
            {
                EvaluateSegmentGate(gate, segment, champion is not null, candidateSegments, championSegments, results);
            }
            else
            {
                EvaluateGate(gate, candidate, champion, results);
            }
        }

        return new GateReport
        {
            Passed = results.TrueForAll(r => r.Passed),
            FirstModel = champion is null,
            Results = results,
        };
    }

    private static void EvaluateSegmentGate(
        GateSpec gate, string segment, bool hasChampion,
        IReadOnlyDictionary<string, SegmentMetrics>? candidateSegments, IReadOnlyDictionary<string, SegmentMetrics>? championSegments,
        List<GateResult> results)
    {
        var minRows = gate.MinRows ?? 1;
        var skip = string.Equals(gate.OnSmallSegment, "skip", StringComparison.Ordinal);
        if (candidateSegments is null || !candidateSegments.TryGetValue(segment, out var metrics))
        {
            results.Add(new GateResult(gate.Metric, SegmentKind, minRows, null, null, false,
                $"segment {segment} was not evaluated: the training result has no metrics for it") { Segment = segment });
            return;
        }

        if (metrics.Rows < minRows)
        {
            var message = $"segment {segment} has {metrics.Rows} holdout rows < min_rows {minRows}: not judged"
                + (skip ? " (on_small_segment: skip)" : " (fails; set on_small_segment: skip to let it pass)");
            results.Add(new GateResult(gate.Metric, SegmentKind, minRows, metrics.Rows, null, skip, message) { Segment = segment });
            return;
        }

        // With a champion, a champion that has no metrics on the segment fails relative thresholds (it is not a first model).
        IReadOnlyDictionary<string, double>? baseline = !hasChampion ? null
            : championSegments is not null && championSegments.TryGetValue(segment, out var c) ? c.Metrics : new Dictionary<string, double>();
        var first = results.Count;
        EvaluateGate(gate, metrics.Metrics, baseline, results);
        for (var i = first; i < results.Count; i++)
        {
            results[i] = results[i] with { Segment = segment, Message = $"segment {segment} ({metrics.Rows} rows): {results[i].Message}" };
        }
    }

    private static void EvaluateGate(GateSpec gate, IReadOnlyDictionary<string, double> candidate, IReadOnlyDictionary<string, double>? champion, List<GateResult> results)
    {
        var metric = gate.Metric;
        var thresholds = new List<(string Kind, double Threshold, Func<double, GateResult> Check)>();
        if (gate.Min is { } min)
        {
            thresholds.Add((AbsoluteKind, min, actual => actual + Epsilon >= min
                ? new GateResult(metric, AbsoluteKind, min, actual, null, true, $"{metric} {F(actual)} >= {F(min)}")
                : new GateResult(metric, AbsoluteKind, min, actual, null, false, $"{metric} {F(actual)} < {F(min)} (minimum)")));
        }

        if (gate.Max is { } max)
        {
            thresholds.Add((AbsoluteKind, max, actual => actual - Epsilon <= max
                ? new GateResult(metric, AbsoluteKind, max, actual, null, true, $"{metric} {F(actual)} <= {F(max)}")
                : new GateResult(metric, AbsoluteKind, max, actual, null, false, $"{metric} {F(actual)} > {F(max)} (maximum)")));
        }

        if (gate.MinAbsoluteChange is { } absolute)
        {
            thresholds.Add((RelativeKind, absolute, actual => Relative(metric, absolute, actual, champion, relative: false)));
        }

        if (gate.MinRelativeChange is { } relative)
        {
            thresholds.Add((RelativeKind, relative, actual => Relative(metric, relative, actual, champion, relative: true)));
        }

        if (thresholds.Count == 0)
        {
            candidate.TryGetValue(metric, out var value);
            results.Add(new GateResult(metric, AbsoluteKind, double.NaN, candidate.ContainsKey(metric) ? value : null, null, false,
                $"gate on {metric} sets no threshold (min, max, min_absolute_change or min_relative_change)"));
            return;
        }

        foreach (var (kind, threshold, check) in thresholds)
        {
            if (!candidate.TryGetValue(metric, out var actual))
            {
                var available = candidate.Count == 0 ? "none" : string.Join(", ", candidate.Keys.Order(StringComparer.Ordinal));
                results.Add(new GateResult(metric, kind, threshold, null, null, false,
                    $"{metric}: the candidate has no such metric (available: {available})"));
            }
            else if (!double.IsFinite(actual))
            {
                results.Add(new GateResult(metric, kind, threshold, actual, null, false, $"{metric}: the candidate's value {F(actual)} is not a finite number"));
            }
            else
            {
                results.Add(check(actual));
            }
        }
    }

    private static GateResult Relative(string metric, double threshold, double actual, IReadOnlyDictionary<string, double>? champion, bool relative)
    {
        if (champion is null)
        {
            return new GateResult(metric, RelativeKind, threshold, actual, null, true, FirstModelMessage);
        }

        if (!champion.TryGetValue(metric, out var baseline) || !double.IsFinite(baseline))
        {
            return new GateResult(metric, RelativeKind, threshold, actual, null, false, $"{metric}: the champion has no value to compare with");
        }

        var lowerIsBetter = LowerIsBetter.Contains(metric);
        var difference = actual - baseline;
        var improvement = lowerIsBetter ? -difference : difference;
        var place = difference switch
        {
            > 0 => $"is {F(Math.Abs(difference))} above champion {F(baseline)}",
            < 0 => $"is {F(Math.Abs(difference))} below champion {F(baseline)}",
            _ => $"equals champion {F(baseline)}",
        };
        var direction = lowerIsBetter ? " (lower is better)" : "";
        var verb = threshold > 0 ? "required" : "allowed";

        if (!relative)
        {
            var passed = improvement + Epsilon >= threshold;
            return new GateResult(metric, RelativeKind, threshold, actual, baseline, passed,
                $"{metric} {F(actual)} {place}{direction}; {verb} change >= {F(threshold)}");
        }

        if (baseline == 0)
        {
            // From a champion value of 0 any improvement is infinitely large and any degradation infinitely bad.
            var passedAtZero = improvement > Epsilon || (Math.Abs(improvement) <= Epsilon && threshold <= 0);
            return new GateResult(metric, RelativeKind, threshold, actual, baseline, passedAtZero,
                $"{metric} {F(actual)} {place}{direction}; relative change from a champion value of 0 is undefined; {verb} change >= {P(threshold)}");
        }

        var share = improvement / Math.Abs(baseline);
        var relativePassed = share + Epsilon >= threshold;
        return new GateResult(metric, RelativeKind, threshold, actual, baseline, relativePassed,
            $"{metric} {F(actual)} {place} ({P(Math.Abs(share))} {(share >= 0 ? "better" : "worse")}{(lowerIsBetter ? "; lower is better" : "")}); {verb} change >= {P(threshold)}");
    }

    private static string F(double value) => value.ToString("0.000", CultureInfo.InvariantCulture);

    private static string P(double share) => (share * 100).ToString("0.0", CultureInfo.InvariantCulture) + "%";
}
