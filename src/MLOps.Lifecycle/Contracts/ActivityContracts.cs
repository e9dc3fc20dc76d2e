using MLOps.Core.Gates;
using MLOps.Core.Registry;

namespace MLOps.Lifecycle.Contracts;

public sealed record LoadWorkflowInput(string Model, string Hash);

public sealed record TrainInput
{
    public required string RunId { get; init; }
    public required string Model { get; init; }
    public required string WorkflowHash { get; init; }
    public required string DatasetUri { get; init; }
    public required string DatasetSha256 { get; init; }
}

/// <summary>What training produced: references to the candidate and its evidence, and the holdout figures.</summary>
public sealed record TrainOutput
{
    public required string CandidateUri { get; init; }
    public required string CandidateSha256 { get; init; }
    public required string ReferenceProfileUri { get; init; }
    public required IReadOnlyDictionary<string, double> Metrics { get; init; }
    public int? ChampionVersion { get; init; }
    public IReadOnlyDictionary<string, double>? ChampionMetrics { get; init; }
    public long TrainRows { get; init; }
    public long HoldoutRows { get; init; }
    public double TrainSeconds { get; init; }
    public required string Trainer { get; init; }
    /// <summary>Candidate metrics per segment of the holdout (<c>data.segments</c>).</summary>
    public IReadOnlyDictionary<string, SegmentMetrics>? SegmentMetrics { get; init; }
    /// <summary>The champion's metrics on the same segments.</summary>
    public IReadOnlyDictionary<string, SegmentMetrics>? ChampionSegmentMetrics { get; init; }
}

public sealed record EvaluateInput
{
    public required string RunId { get; init; }
    public required string Model { get; init; }
    public required string WorkflowHash { get; init; }
    public required TrainOutput Training { get; init; }
}

public sealed record EvaluateOutput(GateReport Gates, string EvidenceUri);

public sealed record RegisterVersionInput
{
    public required LifecycleRunInput Run { get; init; }
    public required TrainOutput Training { get; init; }
    public required string EvidenceUri { get; init; }
}

/// <summary>A small summary of a version, for history.</summary>
public sealed record VersionSummary(string Model, int Version, ModelVersionStatus Status);

public sealed record DecisionInput
{
    public required string Model { get; init; }
    public required int Version { get; init; }
    public required ModelVersionStatus Status { get; init; }
    public required string Actor { get; init; }
    public string? Reason { get; init; }
    public IReadOnlyList<string> ApprovedBy { get; init; } = [];
}

public sealed record DeployInput
{
    public required string Model { get; init; }
    public required int Version { get; init; }
    public required string RunId { get; init; }
    public required string Actor { get; init; }
}

public sealed record DeployOutput(int Version, int? PreviousVersion);
