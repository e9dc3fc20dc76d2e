using MLOps.Core.Workflows;
using MLOps.Lifecycle.Contracts;

namespace MLOps.Lifecycle.Orchestrations;

/// <summary>Who may decide on a run. Pure, so the orchestrator and the HTTP callback apply the same rules.</summary>
public static class ApprovalRules
{
    /// <summary>Why a decision does not count, or null when it does.</summary>
    public static string? Refusal(ApprovalDecision decision, string author, ApprovalSpec spec, IReadOnlyCollection<string> approvedSoFar)
    {
        ArgumentNullException.ThrowIfNull(decision);
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(approvedSoFar);
        if (string.IsNullOrWhiteSpace(decision.Approver))
        {
            return "an approver identity is required";
        }

        if (string.Equals(decision.Approver, author, StringComparison.OrdinalIgnoreCase))
        {
            return $"'{decision.Approver}' is the author of this run and cannot decide on it";
        }

        if (spec.Approvers.Count > 0 && !spec.Approvers.Contains(decision.Approver, StringComparer.OrdinalIgnoreCase))
        {
            return $"'{decision.Approver}' is not among the workflow's approvers ({string.Join(", ", spec.Approvers)})";
        }

        if (decision.Approved && approvedSoFar.Contains(decision.Approver, StringComparer.OrdinalIgnoreCase))
        {
            return $"'{decision.Approver}' has already approved; approvals must come from distinct people";
        }

        return null;
    }
}
