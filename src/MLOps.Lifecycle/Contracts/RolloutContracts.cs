using MLOps.Core.Rollout;
using MLOps.Core.Workflows;

namespace MLOps.Lifecycle.Contracts;

// Wire formats kept in durable history: add members, never rename or retype them.

/// <summary>Input of <see cref="Orchestrations.RolloutOrchestrator"/>: an approved version and the rollout policy.</summary>
public sealed record RolloutInput
{
    public required string RunId { get; init; }
    public required string Model { get; init; }
    /// <summary>The approved candidate version.</summary>
    public required int Version { get; init; }
    /// <summary>Who released it (the last approver); the production alias moves in their name.</summary>
    public required string Actor { get; init; }
    public required RolloutSpec Rollout { get; init; }
    public IReadOnlyList<string> ApprovedBy { get; init; } = [];
}

public enum RolloutOutcome { Promoted, RolledBack }

/// <summary>One judged step of a rollout.</summary>
public sealed record RolloutStepResult
{
    public required int Step { get; init; }
    public required TrafficMode Mode { get; init; }
    public int Percent { get; init; }
    public double Sampling { get; init; }
    public required DateTimeOffset StartedAt { get; init; }
    public required DateTime JudgedAt { get; init; }
    /// <summary>Bake periods (or shadow durations) the step waited.</summary>
    public int Bakes { get; init; }
    public required GuardReport Report { get; init; }
}

/// <summary>Output of <see cref="Orchestrations.RolloutOrchestrator"/>.</summary>
public sealed record RolloutResult
{
    public required RolloutOutcome Outcome { get; init; }
    public required string Strategy { get; init; }
    public required string Reason { get; init; }
    public required int CandidateVersion { get; init; }
    /// <summary>The version that kept answering (production before the rollout); null when there was none.</summary>
    public int? StableVersion { get; init; }
    /// <summary>The workflow key of the guard that breached (e.g. <c>max_prediction_drift</c>), or
    /// <c>min_requests</c> when too little traffic came; null otherwise.</summary>
    public string? Guard { get; init; }
    public IReadOnlyList<RolloutStepResult> Steps { get; init; } = [];
    /// <summary>The production move, when promoted.</summary>
    public DeployOutput? Deployed { get; init; }
    /// <summary>The rollout's last custom status (promoted or rolled back, with the step it reached), which the
    /// lifecycle run keeps in its own status once the rollout sub-orchestration has ended.</summary>
    public RolloutStatus? Status { get; init; }
}

/// <summary>Custom status of a rollout: where it is.</summary>
public sealed record RolloutStatus
{
    public required string Stage { get; init; }
    public required string Strategy { get; init; }
    public required int CandidateVersion { get; init; }
    public int? StableVersion { get; init; }
    public int Step { get; init; }
    public int Steps { get; init; }
    /// <summary>Canary: the candidate's share of traffic now.</summary>
    public int Percent { get; init; }
    public double Sampling { get; init; }
    public int Bakes { get; init; }
    public string? Message { get; init; }
    public DateTime UpdatedAt { get; init; }
}

/// <summary>Stages of <see cref="RolloutStatus"/>.</summary>
public static class RolloutStages
{
    public const string Baking = "baking";
    public const string WaitingForTraffic = "waiting-for-traffic";
    public const string Promoting = "promoting";
    public const string Promoted = "promoted";
    public const string RolledBack = "rolled-back";
}

public sealed record SetTrafficInput
{
    public required string Model { get; init; }
    public required string RunId { get; init; }
    public required int CandidateVersion { get; init; }
    public required TrafficMode Mode { get; init; }
    public int Percent { get; init; }
    public double Sampling { get; init; }
    public int Step { get; init; }
    public required string Actor { get; init; }
}

/// <summary>The split as set; <see cref="StableVersion"/> null when the model has no production version to split
/// against (the first model is deployed directly).</summary>
public sealed record TrafficOutput(int? StableVersion, DateTimeOffset ChangedAt);

public sealed record ClearTrafficInput(string Model, string RunId);

public sealed record RolloutGuardsInput
{
    public required string Model { get; init; }
    public required TrafficMode Mode { get; init; }
    public required int StableVersion { get; init; }
    public required int CandidateVersion { get; init; }
    public required DateTimeOffset From { get; init; }
    public required DateTimeOffset To { get; init; }
    public required RolloutGuards Guards { get; init; }
}
