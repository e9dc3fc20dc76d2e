using MLOps.Core.Gates;
using MLOps.Core.Registry;
using MLOps.Core.Training;

namespace MLOps.Lifecycle.Contracts;

public sealed record LoadWorkflowInput(string Model, string Hash);

public sealed record TrainInput
{
    public required string RunId { get; init; }
    public required string Model { get; init; }
    public required string WorkflowHash { get; init; }
    public required string DatasetUri { get; init; }
    public required string DatasetSha256 { get; init; }
    /// <summary>Grid candidate number (0-based); null for a run without a grid (or started before grids existed).</summary>
    public int? Candidate { get; init; }
    /// <summary>The candidate's full parameters (the workflow's, with its grid values laid over them).</summary>
    public IReadOnlyDictionary<string, double>? Parameters { get; init; }
    /// <summary>Share of the training part carved off to compare candidates on (<c>training.validation</c>).</summary>
    public double? Validation { get; init; }
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
    /// <summary>Grid candidate number, when this is a candidate.</summary>
    public int? Candidate { get; init; }
    /// <summary>The parameters it was trained with, when this is a grid candidate.</summary>
    public IReadOnlyDictionary<string, double>? Parameters { get; init; }
    /// <summary>Metrics on the validation part of the training split (grid candidates).</summary>
    public IReadOnlyDictionary<string, double>? ValidationMetrics { get; init; }
    /// <summary>Size of the stored model, for the budget's storage charge.</summary>
    public long ModelBytes { get; init; }
    /// <summary>On the grid's winner: every candidate's references and metrics (never models).</summary>
    public IReadOnlyList<CandidateSummary>? Candidates { get; init; }
    /// <summary>On the grid's winner: the metric it was chosen by (on the validation part).</summary>
    public string? SelectBy { get; init; }
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
