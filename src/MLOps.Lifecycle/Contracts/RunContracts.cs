using MLOps.Core.Gates;

namespace MLOps.Lifecycle.Contracts;

// Wire formats kept in durable history: add members, never rename or retype them. They carry references
// (blob URIs, hashes, version numbers) and small summaries, never datasets or model bytes.

/// <summary>Why a lifecycle run was started.</summary>
public static class RunTriggers
{
    public const string Upload = "upload";
    public const string Drift = "drift";
    public const string Manual = "manual";
}

/// <summary>Input of <see cref="Orchestrations.LifecycleOrchestrator"/>.</summary>
public sealed record LifecycleRunInput
{
    public required string RunId { get; init; }
    public required string Model { get; init; }
    /// <summary>The workflow the run is pinned to; editing the file later never changes this run.</summary>
    public required string WorkflowHash { get; init; }
    public required string DatasetSha256 { get; init; }
    public required string DatasetUri { get; init; }
    public long DatasetRows { get; init; }
    public required string Trigger { get; init; }
    /// <summary>Who caused the run (uploader, or the monitor); can never approve it.</summary>
    public required string Author { get; init; }
    public string? Reason { get; init; }
}

/// <summary>Stages a run goes through; shown as the orchestration's custom status.</summary>
public static class RunStages
{
    public const string Training = "training";
    public const string Evaluating = "evaluating";
    public const string Registering = "registering";
    public const string AwaitingApproval = "awaiting-approval";
    public const string Deploying = "deploying";
    public const string RollingOut = "rolling-out";
    public const string RolledBack = "rolled-back";
    public const string Monitoring = "monitoring";
    public const string GatesFailed = "gates-failed";
    public const string Rejected = "rejected";
    public const string ApprovalExpired = "approval-expired";
    public const string Failed = "failed";
}

/// <summary>The custom status of a run: where it is and the figures so far.</summary>
public sealed record RunStatus
{
    public required string Stage { get; init; }
    public required string Model { get; init; }
    public required string Author { get; init; }
    public required string WorkflowHash { get; init; }
    public int? Version { get; init; }
    public string? Message { get; init; }
    public IReadOnlyDictionary<string, double>? Metrics { get; init; }
    public IReadOnlyList<string> Approvals { get; init; } = [];
    public int ApprovalsRequired { get; init; }
    public DateTime? ApprovalDeadline { get; init; }
    public DateTime UpdatedAt { get; init; }
    /// <summary>Where a canary or shadow rollout is: step, percentage, bakes.</summary>
    public RolloutStatus? Rollout { get; init; }
    /// <summary>Instance id of the approval sub-orchestration the decisions are raised on (see
    /// <see cref="Orchestrations.ApprovalOrchestrator.InstanceIdFor"/>); null for runs started before it existed.</summary>
    public string? ApprovalInstanceId { get; init; }
    /// <summary>Instance id of the rollout sub-orchestration (see <see cref="Orchestrations.RolloutOrchestrator.InstanceIdFor"/>)
    /// whose custom status is the step progress while the run rolls out.</summary>
    public string? RolloutInstanceId { get; init; }
    /// <summary>Who may approve now; empty means anyone but the author.</summary>
    public IReadOnlyList<string> ApprovalEligible { get; init; } = [];
    public bool ApprovalEscalated { get; init; }
    /// <summary>Decisions must carry a signed approval token.</summary>
    public bool ApprovalToken { get; init; }
}

public enum RunOutcome { Deployed, GatesFailed, Rejected, ApprovalExpired, Failed, RolledBack }

/// <summary>Output of <see cref="Orchestrations.LifecycleOrchestrator"/>.</summary>
public sealed record LifecycleRunResult
{
    public required string RunId { get; init; }
    public required string Model { get; init; }
    public required RunOutcome Outcome { get; init; }
    public required string Reason { get; init; }
    public int? Version { get; init; }
    public int? PreviousVersion { get; init; }
    public IReadOnlyDictionary<string, double>? Metrics { get; init; }
    public GateReport? Gates { get; init; }
    public IReadOnlyList<string> ApprovedBy { get; init; } = [];
    /// <summary>What the canary or shadow rollout did (null for a direct deployment).</summary>
    public RolloutResult? Rollout { get; init; }
}

/// <summary>The external event a human approval or rejection raises on a waiting run.</summary>
public sealed record ApprovalDecision
{
    public const string EventName = "ApprovalDecision";
    public required string Approver { get; init; }
    public required bool Approved { get; init; }
    public string? Comment { get; init; }
}
