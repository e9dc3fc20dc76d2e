using MLOps.Core.Workflows;

namespace MLOps.Lifecycle.Contracts;

// Wire formats of the approval sub-orchestration, kept in durable history: add members, never rename or retype them.

/// <summary>The approval policy of one run, resolved from the pinned workflow (the risk tier picked the count).</summary>
public sealed record ApprovalPolicy
{
    public required int Required { get; init; }
    /// <summary>Who may approve from the start; empty means anyone but the author.</summary>
    public IReadOnlyList<string> Approvers { get; init; } = [];
    public required TimeSpan Timeout { get; init; }
    public EscalationSpec? Escalation { get; init; }
    /// <summary>Callbacks must carry a signed, single-use approval token.</summary>
    public bool Token { get; init; }

    public static ApprovalPolicy Resolve(ApprovalSpec spec, RiskTier risk)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return new ApprovalPolicy
        {
            Required = spec.RequiredFor(risk),
            Approvers = spec.Approvers,
            Timeout = spec.Timeout,
            Escalation = spec.Escalation,
            Token = spec.Token,
        };
    }
}

/// <summary>Input of <see cref="Orchestrations.ApprovalOrchestrator"/>.</summary>
public sealed record ApprovalRunInput
{
    public required string RunId { get; init; }
    public required string Model { get; init; }
    public required int Version { get; init; }
    /// <summary>The run's author: never counts, never gets a token.</summary>
    public required string Author { get; init; }
    public required ApprovalPolicy Policy { get; init; }
    /// <summary>When the approval expires (set by the parent, so parent and child show the same time).</summary>
    public required DateTime Deadline { get; init; }
    public DateTime? EscalateAt { get; init; }
}

public enum ApprovalVerdict { Approved, Rejected, Expired }

/// <summary>Output of <see cref="Orchestrations.ApprovalOrchestrator"/>.</summary>
public sealed record ApprovalRunResult
{
    public required ApprovalVerdict Verdict { get; init; }
    public IReadOnlyList<string> Approvals { get; init; } = [];
    public required string Actor { get; init; }
    public required string Reason { get; init; }
    public bool Escalated { get; init; }
}

/// <summary>The custom status of the approval sub-orchestration; the runs API merges it into the run's status.</summary>
public sealed record ApprovalStatus
{
    public required int Required { get; init; }
    public IReadOnlyList<string> Approvals { get; init; } = [];
    /// <summary>Who may approve now (escalation adds people); empty means anyone but the author.</summary>
    public IReadOnlyList<string> Eligible { get; init; } = [];
    public required DateTime Deadline { get; init; }
    public DateTime? EscalateAt { get; init; }
    public bool Escalated { get; init; }
    public bool Token { get; init; }
    /// <summary>When the approval request (with its links) was published; null until then.</summary>
    public DateTime? RequestedAt { get; init; }
    public string? Message { get; init; }
    public DateTime UpdatedAt { get; init; }
}

public sealed record IssueApprovalTokensInput(string RunId, string Model, int Version, IReadOnlyList<string> Approvers, DateTime ExpiresAt);

/// <summary>An approval link for one approver: the callback URL with its signed token.</summary>
public sealed record ApprovalLink(string Approver, string Url, DateTime ExpiresAt);
