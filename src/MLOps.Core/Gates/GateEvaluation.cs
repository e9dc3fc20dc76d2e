using MLOps.Core.Workflows;

namespace MLOps.Core.Gates;

/// <summary>Result of one gate: the threshold, the value, the champion's value when relative.</summary>
public sealed record GateResult(string Metric, string Kind, double Threshold, double? Actual, double? Baseline, bool Passed, string Message);

public sealed record GateReport
{
    public required bool Passed { get; init; }
    /// <summary>True when there was no champion to compare with (relative gates are then skipped and say so).</summary>
    public bool FirstModel { get; init; }
    public IReadOnlyList<GateResult> Results { get; init; } = [];
}

/// <summary>Evaluates a workflow's gates. TODO(helper A2): implement.</summary>
public static class GateEvaluator
{
    public static GateReport Evaluate(IReadOnlyList<GateSpec> gates, IReadOnlyDictionary<string, double> candidate, IReadOnlyDictionary<string, double>? champion)
        => throw new NotImplementedException();
}
