using Microsoft.DurableTask;
using MLOps.Core.Events;
using MLOps.Lifecycle.Activities;
using MLOps.Lifecycle.Contracts;

namespace MLOps.Lifecycle.Orchestrations;

/// <summary>
/// The human approval of one run, as a sub-orchestration with a deterministic instance id (<see cref="InstanceIdFor"/>)
/// that the runs API raises <see cref="ApprovalDecision"/> events on. It waits for decisions, an escalation timer and an
/// expiry timer at once (<see cref="Task.WhenAny(Task[])"/>): distinct eligible approvers count, the author never does;
/// a rejection ends it, the deadline ends it; at the escalation time the escalation people become eligible too.
/// Timers are cancelled when it ends. Every step is published: ApprovalRequested (with signed approval links when the
/// workflow asks for tokens), ApprovalRecorded, ApprovalRefused, ApprovalEscalated, ApprovalExpired.
/// </summary>
public static class ApprovalOrchestrator
{
    private static readonly TaskOptions StorageRetry = TaskOptions.FromRetryPolicy(new RetryPolicy(
        maxNumberOfAttempts: 4,
        firstRetryInterval: TimeSpan.FromSeconds(1),
        backoffCoefficient: 2.0));

    /// <summary>The approval sub-orchestration's instance id of a run.</summary>
    public static string InstanceIdFor(string runId) => $"{runId}:approval";

    /// <summary>Registers the orchestration by name (kept in this file: the Durable Task analyzers follow the
    /// registration into the orchestration's syntax tree).</summary>
    public static void Register(DurableTaskRegistry registry) =>
        registry.AddOrchestratorFunc<ApprovalRunInput, ApprovalRunResult>(nameof(ApprovalOrchestrator), RunAsync);

    public static Task<ApprovalRunResult> RunAsync(TaskOrchestrationContext context, ApprovalRunInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        return WaitAsync(context, input, status => context.SetCustomStatus(status));
    }

    /// <summary>The approval wait itself, reporting its status through <paramref name="report"/> (the custom status,
    /// which the runs API folds into the parent run's view).</summary>
    private static async Task<ApprovalRunResult> WaitAsync(TaskOrchestrationContext context, ApprovalRunInput input, Action<ApprovalStatus> report)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(report);
        var policy = input.Policy;
        var subject = $"runs/{input.RunId}";
        var approvals = new List<string>();
        var eligible = policy.Approvers.ToList();
        var status = new ApprovalStatus
        {
            Required = policy.Required,
            Eligible = [.. eligible],
            Deadline = input.Deadline,
            EscalateAt = input.EscalateAt,
            Token = policy.Token,
            Message = $"waiting for {policy.Required} approval(s) until {input.Deadline:u}",
            UpdatedAt = context.CurrentUtcDateTime,
        };
        report(status);

        var links = await IssueLinksAsync(context, input, eligible);
        await PublishAsync(context, input, LifecycleEventTypes.ApprovalRequested, subject, new
        {
            input.RunId,
            input.Version,
            policy.Required,
            Deadline = input.Deadline,
            input.Author,
            Approvers = eligible,
            Escalation = policy.Escalation is { } e ? new { e.After, e.To, At = input.EscalateAt } : null,
            policy.Token,
            Links = links,
        });
        status = status with { RequestedAt = context.CurrentUtcDateTime, UpdatedAt = context.CurrentUtcDateTime };
        report(status);

        using var timers = new CancellationTokenSource();
        var expiry = context.CreateTimer(input.Deadline, timers.Token);
        Task? escalation = input.EscalateAt is { } at && policy.Escalation is not null ? context.CreateTimer(at, timers.Token) : null;
        Task<ApprovalDecision>? next = null;
        var escalated = false;
        ApprovalRunResult? result = null;
        while (result is null)
        {
            next ??= context.WaitForExternalEvent<ApprovalDecision>(ApprovalDecision.EventName, timers.Token);
            var winner = escalation is null ? await Task.WhenAny(next, expiry) : await Task.WhenAny(next, expiry, escalation);
            if (winner == expiry)
            {
                var reason = $"approval expired at {input.Deadline:u} with {approvals.Count} of {policy.Required} approval(s)";
                await PublishAsync(context, input, LifecycleEventTypes.ApprovalExpired, subject,
                    new { input.RunId, input.Version, Approvals = approvals, policy.Required, input.Deadline, Escalated = escalated });
                result = new ApprovalRunResult { Verdict = ApprovalVerdict.Expired, Approvals = [.. approvals], Actor = "system", Reason = reason, Escalated = escalated };
                break;
            }

            if (winner == escalation)
            {
                escalation = null;
                escalated = true;
                var to = policy.Escalation!.To;
                List<string> added = eligible.Count == 0 ? [] : to.Where(p => !eligible.Contains(p, StringComparer.OrdinalIgnoreCase)).ToList();
                eligible.AddRange(added);
                var escalationLinks = await IssueLinksAsync(context, input, added);
                status = status with
                {
                    Eligible = [.. eligible],
                    Escalated = true,
                    Message = $"escalated to {string.Join(", ", to)}: {approvals.Count} of {policy.Required} approval(s) until {input.Deadline:u}",
                    UpdatedAt = context.CurrentUtcDateTime,
                };
                report(status);
                await PublishAsync(context, input, LifecycleEventTypes.ApprovalEscalated, subject,
                    new { input.RunId, input.Version, To = to, Eligible = eligible, Approvals = approvals, policy.Required, input.Deadline, Links = escalationLinks });
                continue;
            }

            var decision = await next;
            next = null;
            var refusal = ApprovalRules.Refusal(decision, input.Author, eligible, approvals);
            if (refusal is not null)
            {
                await PublishAsync(context, input, LifecycleEventTypes.ApprovalRefused, subject,
                    new { input.RunId, input.Version, decision.Approver, decision.Approved, Reason = refusal }, decision.Approver);
                continue;
            }

            if (!decision.Approved)
            {
                var reason = $"rejected by {decision.Approver}" + (string.IsNullOrWhiteSpace(decision.Comment) ? "" : $": {decision.Comment}");
                await PublishAsync(context, input, LifecycleEventTypes.ApprovalRecorded, subject,
                    new { input.RunId, input.Version, decision.Approver, Approved = false, decision.Comment }, decision.Approver);
                result = new ApprovalRunResult { Verdict = ApprovalVerdict.Rejected, Approvals = [.. approvals], Actor = decision.Approver, Reason = reason, Escalated = escalated };
                break;
            }

            approvals.Add(decision.Approver);
            status = status with
            {
                Approvals = [.. approvals],
                Message = $"{approvals.Count} of {policy.Required} approval(s)",
                UpdatedAt = context.CurrentUtcDateTime,
            };
            report(status);
            await PublishAsync(context, input, LifecycleEventTypes.ApprovalRecorded, subject,
                new { input.RunId, input.Version, decision.Approver, Approved = true, decision.Comment, Count = approvals.Count, policy.Required }, decision.Approver);
            if (approvals.Count >= policy.Required)
            {
                result = new ApprovalRunResult
                {
                    Verdict = ApprovalVerdict.Approved,
                    Approvals = [.. approvals],
                    Actor = decision.Approver,
                    Reason = $"approved by {string.Join(", ", approvals)}",
                    Escalated = escalated,
                };
            }
        }

        // The timers still pending must not keep the instance alive. Cancel synchronously: CancelAsync would run the
        // callbacks off the orchestrator's thread.
#pragma warning disable CA1849 // Call async methods when in an async method
        timers.Cancel();
#pragma warning restore CA1849
        return result;
    }

    /// <summary>Signed approval links for <paramref name="approvers"/> (not the author), when the policy asks for tokens.</summary>
    private static async Task<IReadOnlyList<ApprovalLink>> IssueLinksAsync(TaskOrchestrationContext context, ApprovalRunInput input, IReadOnlyList<string> approvers)
    {
        var recipients = approvers.Where(a => !string.Equals(a, input.Author, StringComparison.OrdinalIgnoreCase)).ToList();
        if (!input.Policy.Token || recipients.Count == 0)
        {
            return [];
        }

        return await context.CallActivityAsync<IReadOnlyList<ApprovalLink>>(nameof(IssueApprovalTokensActivity),
            new IssueApprovalTokensInput(input.RunId, input.Model, input.Version, recipients, input.Deadline), StorageRetry);
    }

    private static Task<bool> PublishAsync<T>(TaskOrchestrationContext context, ApprovalRunInput input, string type, string subject, T data, string actor = "system")
    {
        var lifecycleEvent = LifecycleEvent.Create(context.NewGuid().ToString("N"), type, input.Model, subject, context.CurrentUtcDateTime, data, actor);
        return context.CallActivityAsync<bool>(nameof(PublishEventActivity), lifecycleEvent, StorageRetry);
    }
}
