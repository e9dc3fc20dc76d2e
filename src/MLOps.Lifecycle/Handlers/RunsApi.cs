using System.Text.Json;
using Microsoft.DurableTask.Client;
using MLOps.Core.Events;
using MLOps.Core.Ports;
using MLOps.Lifecycle.Contracts;
using MLOps.Lifecycle.Orchestrations;

namespace MLOps.Lifecycle.Handlers;

/// <summary>Body of an approval or rejection callback.</summary>
public sealed record DecisionRequest
{
    public string? Approver { get; init; }
    public string? Comment { get; init; }
}

/// <summary>A run as the API shows it.</summary>
public sealed record RunView(
    string RunId, string Name, string RuntimeStatus, DateTimeOffset CreatedAt, DateTimeOffset LastUpdatedAt,
    RunStatus? Status, LifecycleRunResult? Result, LifecycleRunInput? Input, string? Failure);

/// <summary>Run status and the human approval callbacks.</summary>
public sealed class RunsApi(IWorkflowStore workflows, IEventPublisher events, TimeProvider time)
{
    public static async Task<RunView?> GetRunAsync(DurableTaskClient client, string runId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        var instance = await client.GetInstanceAsync(runId, getInputsAndOutputs: true, cancellationToken);
        return instance is null ? null : ToView(instance);
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
                runs.Add(view);
            }
        }

        return ApiResult.Ok(runs.OrderByDescending(r => r.CreatedAt).Take(Math.Clamp(take, 1, 500)).ToList());
    }

    /// <summary>Raises an approval or rejection on a waiting run after checking who is deciding.</summary>
    public async Task<ApiResult> DecideAsync(DurableTaskClient client, string runId, bool approve, string? approver, string? comment, CancellationToken cancellationToken = default)
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

        var workflow = await workflows.GetAsync(view.Input.Model, view.Input.WorkflowHash, cancellationToken);
        var decision = new ApprovalDecision { Approver = approver, Approved = approve, Comment = comment };
        if (workflow is not null && ApprovalRules.Refusal(decision, view.Input.Author, workflow.Definition.Approval, view.Status.Approvals) is { } refusal)
        {
            // A refused decision is a decision too: it lands in the audit trail.
            await events.PublishAsync(LifecycleEvent.Create(Guid.NewGuid().ToString("N"), LifecycleEventTypes.ApprovalRefused, view.Input.Model,
                $"runs/{runId}", time.GetUtcNow(), new { runId, view.Status.Version, approver, approved = approve, reason = refusal, via = "http" }, approver), cancellationToken);
            return ApiResult.Error(403, refusal);
        }

        await client.RaiseEventAsync(runId, ApprovalDecision.EventName, decision, cancellationToken);
        return ApiResult.Accepted(new { runId, decision = approve ? "approved" : "rejected", approver });
    }

    private static RunView ToView(OrchestrationMetadata instance)
    {
        RunStatus? status = Read<RunStatus>(instance.SerializedCustomStatus);
        LifecycleRunResult? result = instance.RuntimeStatus == OrchestrationRuntimeStatus.Completed ? Read<LifecycleRunResult>(instance.SerializedOutput) : null;
        LifecycleRunInput? input = Read<LifecycleRunInput>(instance.SerializedInput);
        return new RunView(instance.InstanceId, instance.Name, instance.RuntimeStatus.ToString(), instance.CreatedAt, instance.LastUpdatedAt,
            status, result, input, instance.FailureDetails?.ErrorMessage);
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
