using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using MLOps.Lifecycle.Contracts;
using MLOps.Lifecycle.Orchestrations;

namespace MLOps.Functions.Orchestrations;

/// <summary>The orchestrations of MLOps.Lifecycle, exposed as orchestration-trigger functions under the same names.</summary>
public static class OrchestrationFunctions
{
    [Function(nameof(LifecycleOrchestrator))]
    public static Task<LifecycleRunResult> Lifecycle([OrchestrationTrigger] TaskOrchestrationContext context) =>
        LifecycleOrchestrator.RunAsync(context, context.GetInput<LifecycleRunInput>()
            ?? throw new InvalidOperationException("the lifecycle orchestration needs an input"));

    [Function(nameof(RolloutOrchestrator))]
    public static Task<RolloutResult> Rollout([OrchestrationTrigger] TaskOrchestrationContext context) =>
        RolloutOrchestrator.RunAsync(context, context.GetInput<RolloutInput>()
            ?? throw new InvalidOperationException("the rollout orchestration needs an input"));

    [Function(nameof(ApprovalOrchestrator))]
    public static Task<ApprovalRunResult> Approval([OrchestrationTrigger] TaskOrchestrationContext context) =>
        ApprovalOrchestrator.RunAsync(context, context.GetInput<ApprovalRunInput>()
            ?? throw new InvalidOperationException("the approval orchestration needs an input"));
}
