using MLOps.Core.Workflows;
using MLOps.Lifecycle.Contracts;

namespace MLOps.Lifecycle.Orchestrations;

/// <summary>Who may decide on a run. Pure, so the orchestrator and the HTTP callback apply the same rules.</summary>
public static class ApprovalRules
{
    /// <summary>Why a decision does not count, or null when it does.</summary>
    public static string? Refusal(ApprovalDecision decision, string author, ApprovalSpec spec, IReadOnlyCollection<string> approvedSoFar)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return Refusal(decision, author, spec.Approvers, approvedSoFar);
    }

    /// <summary>Why a decision does not count, or null when it does; <paramref name="eligible"/> is who may decide now
    /// (empty: anyone but the author).</summary>
    public static string? Refusal(ApprovalDecision decision, string author, IReadOnlyCollection<string> eligible, IReadOnlyCollection<string> approvedSoFar)
    {
        ArgumentNullException.ThrowIfNull(decision);
        ArgumentNullException.ThrowIfNull(eligible);
        ArgumentNullException.ThrowIfNull(approvedSoFar);
        if (AuthorRefusal(decision, author) is { } refusal)
        {
            return refusal;
        }

        if (eligible.Count > 0 && !eligible.Contains(decision.Approver, StringComparer.OrdinalIgnoreCase))
        {
            return $"'{decision.Approver}' is not among the workflow's approvers ({string.Join(", ", eligible)})";
        }

        if (decision.Approved && approvedSoFar.Contains(decision.Approver, StringComparer.OrdinalIgnoreCase))
        {
            return $"'{decision.Approver}' has already approved; approvals must come from distinct people";
        }

        return null;
    }

    /// <summary>The identity rules alone: an approver is required and the author never decides.</summary>
    public static string? AuthorRefusal(ApprovalDecision decision, string author)
    {
        ArgumentNullException.ThrowIfNull(decision);
        if (string.IsNullOrWhiteSpace(decision.Approver))
        {
            return "an approver identity is required";
        }

        return string.Equals(decision.Approver, author, StringComparison.OrdinalIgnoreCase)
            ? $"'{decision.Approver}' is the author of this run and cannot decide on it"
            : null;
    }
}
