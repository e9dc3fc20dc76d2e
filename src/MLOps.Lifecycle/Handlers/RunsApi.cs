using System.Text.Json;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Options;
using MLOps.Core.Approval;
using MLOps.Core.Events;
using MLOps.Core.Ports;
using MLOps.Lifecycle.Activities;
using MLOps.Lifecycle.Contracts;
using MLOps.Lifecycle.Orchestrations;
using MLOps.Lifecycle.Services;

namespace MLOps.Lifecycle.Handlers;

/// <summary>Body of an approval or rejection callback.</summary>
public sealed record DecisionRequest
{
    public string? Approver { get; init; }
    public string? Comment { get; init; }
    /// <summary>The signed approval token, when the run's workflow asks for one (also accepted as query
    /// <c>token</c> or header <c>X-MLOps-Approval-Token</c>).</summary>
    public string? Token { get; init; }
}

/// <summary>A run as the API shows it.</summary>
public sealed record RunView(
    string RunId, string Name, string RuntimeStatus, DateTimeOffset CreatedAt, DateTimeOffset LastUpdatedAt,
    RunStatus? Status, LifecycleRunResult? Result, LifecycleRunInput? Input, string? Failure);

/// <summary>Run status and the human approval callbacks.</summary>
public sealed class RunsApi(IWorkflowStore workflows, IEventPublisher events, TimeProvider time, IApprovalNonceStore? nonces, IOptions<ApprovalOptions>? approvalOptions)
{
    /// <summary>Header that may carry the approval token.</summary>
    public const string TokenHeader = "X-MLOps-Approval-Token";

    /// <summary>How long a decision waits for the approval sub-orchestration to start (it starts right after the run
    /// shows awaiting-approval).</summary>
    private static readonly TimeSpan ApprovalStartWait = TimeSpan.FromSeconds(10);

    public RunsApi(IWorkflowStore workflows, IEventPublisher events, TimeProvider time)
        : this(workflows, events, time, null, null)
    {
    }

    /// <summary>A run with its status; while it awaits approval, the approvals so far (and who may approve now)
    /// come from its approval sub-orchestration, and while it rolls out, the step progress from its rollout
    /// sub-orchestration.</summary>
    public static async Task<RunView?> GetRunAsync(DurableTaskClient client, string runId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        var instance = await client.GetInstanceAsync(runId, getInputsAndOutputs: true, cancellationToken);
        return instance is null ? null : await WithChildStatusAsync(client, ToView(instance), cancellationToken);
    }

    /// <summary>Folds the custom status of the sub-orchestration the run waits on into the run's status.</summary>
    private static async Task<RunView> WithChildStatusAsync(DurableTaskClient client, RunView view, CancellationToken cancellationToken)
    {
        if (view.RuntimeStatus != nameof(OrchestrationRuntimeStatus.Running))
        {
            return view;
        }

        if (view.Status is { Stage: RunStages.AwaitingApproval, ApprovalInstanceId: { } approvalId } status)
        {
            var child = await GetApprovalAsync(client, approvalId, cancellationToken);
            if (child?.Status is { } approval)
            {
                return view with
                {
                    Status = status with
                    {
                        Approvals = approval.Approvals,
                        ApprovalsRequired = approval.Required,
                        ApprovalDeadline = approval.Deadline,
                        ApprovalEligible = approval.Eligible,
                        ApprovalEscalated = approval.Escalated,
                        ApprovalToken = approval.Token,
                        Message = approval.Message ?? status.Message,
                        UpdatedAt = Later(status.UpdatedAt, approval.UpdatedAt),
                    },
                };
            }
        }
        else if (view.Status is { Stage: RunStages.RollingOut, RolloutInstanceId: { } rolloutId } rolling)
        {
            var child = await client.GetInstanceAsync(rolloutId, getInputsAndOutputs: true, cancellationToken);
            if (Read<RolloutStatus>(child?.SerializedCustomStatus) is { } rollout)
            {
                return view with
                {
                    Status = rolling with
                    {
                        Rollout = rollout,
                        Message = rollout.Message ?? rolling.Message,
                        UpdatedAt = Later(rolling.UpdatedAt, rollout.UpdatedAt),
                    },
                };
            }
        }

        return view;
    }

    private static DateTime Later(DateTime a, DateTime b) => a >= b ? a : b;

    private static async Task<(OrchestrationRuntimeStatus RuntimeStatus, ApprovalStatus? Status)?> GetApprovalAsync(DurableTaskClient client, string instanceId, CancellationToken cancellationToken)
    {
        var child = await client.GetInstanceAsync(instanceId, getInputsAndOutputs: true, cancellationToken);
        return child is null ? null : (child.RuntimeStatus, Read<ApprovalStatus>(child.SerializedCustomStatus));
    }

    public static async Task<ApiResult> GetAsync(DurableTaskClient client, string runId, CancellationToken cancellationToken = default)
    {
        var view = await GetRunAsync(client, runId, cancellationToken);
        return view is null ? ApiResult.Error(404, $"run '{runId}' does not exist") : ApiResult.Ok(view);
    }

    public static async Task<ApiResult> ListAsync(DurableTaskClient client, string? model, int take, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        var runs = new List<RunView>();
        var query = new OrchestrationQuery { FetchInputsAndOutputs = true, PageSize = 100 };
        await foreach (var instance in client.GetAllInstancesAsync(query).WithCancellation(cancellationToken))
        {
            if (instance.Name != nameof(LifecycleOrchestrator))
            {
                continue;
            }

            var view = ToView(instance);
            if (model is null || string.Equals(view.Input?.Model, model, StringComparison.OrdinalIgnoreCase))
            {
                runs.Add(await WithChildStatusAsync(client, view, cancellationToken));
            }
        }

        return ApiResult.Ok(runs.OrderByDescending(r => r.CreatedAt).Take(Math.Clamp(take, 1, 500)).ToList());
    }

    /// <summary>Raises an approval or rejection on a waiting run after checking who is deciding.</summary>
    public Task<ApiResult> DecideAsync(DurableTaskClient client, string runId, bool approve, string? approver, string? comment, CancellationToken cancellationToken = default)
        => DecideAsync(client, runId, approve, approver, comment, token: null, cancellationToken);

    /// <summary>Raises an approval or rejection on a waiting run after checking who is deciding: 401 without an
    /// identity, 403 for the author; when the workflow asks for tokens, 401 without a valid one, 403 for a token of
    /// another run or approver, 409 for a token used before; then 403 for anyone not eligible or approving twice.
    /// The decision is raised on the run's approval sub-orchestration.</summary>
    public async Task<ApiResult> DecideAsync(DurableTaskClient client, string runId, bool approve, string? approver, string? comment, string? token, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        if (string.IsNullOrWhiteSpace(approver))
        {
            return ApiResult.Error(401, "an approver identity is required (X-MS-CLIENT-PRINCIPAL-NAME, X-MLOps-User or body 'approver')");
        }

        var view = await GetRunAsync(client, runId, cancellationToken);
        if (view is null)
        {
            return ApiResult.Error(404, $"run '{runId}' does not exist");
        }

        if (view.RuntimeStatus != nameof(OrchestrationRuntimeStatus.Running) || view.Status?.Stage != RunStages.AwaitingApproval || view.Input is null)
        {
            return ApiResult.Error(409, $"run '{runId}' is not waiting for approval (status {view.RuntimeStatus}, stage {view.Status?.Stage ?? "none"})");
        }

        var input = view.Input;
        var status = view.Status;
        var decision = new ApprovalDecision { Approver = approver, Approved = approve, Comment = comment };
        if (ApprovalRules.AuthorRefusal(decision, input.Author) is { } authorRefusal)
        {
            return await RefuseAsync(403, input, runId, status.Version, approver, approve, authorRefusal, cancellationToken);
        }

        IReadOnlyCollection<string> eligible;
        IReadOnlyCollection<string> approvedSoFar;
        string target;
        var tokenRequired = false;
        if (status.ApprovalInstanceId is { } childId)
        {
            // The approval sub-orchestration starts right after the run shows awaiting-approval. A decision is raised
            // only once it runs: an event for an instance that does not exist yet may be discarded (e.g. while a
            // restarted host takes over a start message the dead one had taken), so the caller is told to retry.
            var child = await WaitForApprovalStartAsync(client, childId, cancellationToken);
            if (child is not { RuntimeStatus: OrchestrationRuntimeStatus.Running })
            {
                return child is null or { RuntimeStatus: OrchestrationRuntimeStatus.Pending }
                    ? ApiResult.Error(409, $"the approval of run '{runId}' ('{childId}') has not started yet; retry in a few seconds")
                    : ApiResult.Error(409, $"run '{runId}' is not waiting for approval (its approval '{childId}' is {child.RuntimeStatus})",
                        new { child.RuntimeStatus, child.SerializedCustomStatus, child.SerializedOutput, Failure = child.FailureDetails?.ErrorMessage });
            }

            // The run's view was read with the child's approvals so far and who may approve now; read it again if the
            // child started only now.
            status = (await GetRunAsync(client, runId, cancellationToken))?.Status ?? status;
            (eligible, approvedSoFar, target, tokenRequired) = (status.ApprovalEligible, status.Approvals, childId, status.ApprovalToken);
        }
        else
        {
            // A run started before approval was a sub-orchestration waits inline: its status carries who may approve
            // (older runs still: the workflow says).
            var workflow = status.ApprovalEligible.Count > 0 ? null : await workflows.GetAsync(input.Model, input.WorkflowHash, cancellationToken);
            (eligible, approvedSoFar, target, tokenRequired) =
                (status.ApprovalEligible.Count > 0 ? status.ApprovalEligible : workflow?.Definition.Approval.Approvers ?? [], status.Approvals, runId, status.ApprovalToken);
        }

        if (tokenRequired)
        {
            if (nonces is null || approvalOptions is null)
            {
                return ApiResult.Error(500, "approval tokens are required by this run but the host has no token store or signing key configured");
            }

            var check = approvalOptions.Value.CreateSigner(time).Verify(token, runId, approver, status.Version);
            if (!check.Valid)
            {
                var code = check.Failure is ApprovalTokenFailure.WrongRun or ApprovalTokenFailure.WrongApprover ? 403 : 401;
                return await RefuseAsync(code, input, runId, status.Version, approver, approve, check.Message, cancellationToken);
            }

            if (!await nonces.TryConsumeAsync(input.Model, runId, check.Claims!.Nonce, approver, cancellationToken))
            {
                return await RefuseAsync(409, input, runId, status.Version, approver, approve, "this approval token has been used already; tokens are single-use", cancellationToken);
            }
        }

        if (ApprovalRules.Refusal(decision, input.Author, eligible, approvedSoFar) is { } refusal)
        {
            return await RefuseAsync(403, input, runId, status.Version, approver, approve, refusal, cancellationToken);
        }

        await client.RaiseEventAsync(target, ApprovalDecision.EventName, decision, cancellationToken);
        return ApiResult.Accepted(new { runId, decision = approve ? "approved" : "rejected", approver });
    }

    /// <summary>A refused decision is a decision too: it lands in the audit trail.</summary>
    private async Task<ApiResult> RefuseAsync(int code, LifecycleRunInput input, string runId, int? version, string approver, bool approve, string reason, CancellationToken cancellationToken)
    {
        await events.PublishAsync(LifecycleEvent.Create(Guid.NewGuid().ToString("N"), LifecycleEventTypes.ApprovalRefused, input.Model,
            $"runs/{runId}", time.GetUtcNow(), new { runId, version, approver, approved = approve, reason, via = "http" }, approver), cancellationToken);
        return ApiResult.Error(code, reason);
    }

    /// <summary>The approval sub-orchestration once it runs (or has ended), waiting up to <see cref="ApprovalStartWait"/>
    /// while it is not there or pending; null when it never appeared.</summary>
    private async Task<OrchestrationMetadata?> WaitForApprovalStartAsync(DurableTaskClient client, string childId, CancellationToken cancellationToken)
    {
        var deadline = time.GetUtcNow() + ApprovalStartWait;
        while (true)
        {
            var child = await client.GetInstanceAsync(childId, getInputsAndOutputs: true, cancellationToken);
            if (child is not (null or { RuntimeStatus: OrchestrationRuntimeStatus.Pending }) || time.GetUtcNow() >= deadline)
            {
                return child;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200), time, cancellationToken);
        }
    }

    private static RunView ToView(OrchestrationMetadata instance)
    {
        RunStatus? status = Read<RunStatus>(instance.SerializedCustomStatus);
        LifecycleRunResult? result = instance.RuntimeStatus == OrchestrationRuntimeStatus.Completed ? Read<LifecycleRunResult>(instance.SerializedOutput) : null;
        LifecycleRunInput? input = Read<LifecycleRunInput>(instance.SerializedInput);
        return new RunView(instance.InstanceId, instance.Name, instance.RuntimeStatus.ToString(), instance.CreatedAt, instance.LastUpdatedAt,
            status, result, input, instance.RuntimeStatus == OrchestrationRuntimeStatus.Failed ? InstanceFailure.MessageOf(instance) : instance.FailureDetails?.ErrorMessage);
    }

    private static T? Read<T>(string? json)
        where T : class
    {
        if (string.IsNullOrEmpty(json))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<T>(json, Json.Options);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary>JSON settings shared by the handlers (the durable engine's own converter is System.Text.Json defaults).</summary>
public static class Json
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() },
    };
}
