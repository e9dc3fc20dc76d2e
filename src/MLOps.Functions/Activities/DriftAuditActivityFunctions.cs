using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using MLOps.Lifecycle.Activities;
using MLOps.Lifecycle.Contracts;

namespace MLOps.Functions.Activities;

/// <summary>The drift audit's activities as activity-trigger functions, under the names the orchestration calls. The
/// analysis step also binds a durable client: it may start a retraining run.</summary>
public sealed class DriftAuditActivityFunctions(
    PlanDriftAuditActivity plan,
    ProfilePartitionActivity profile,
    AnalyzeDriftActivity analyze)
{
    [Function(nameof(PlanDriftAuditActivity))]
    public Task<DriftAuditPlan> Plan([ActivityTrigger] PlanDriftAuditInput input, FunctionContext context) =>
        plan.RunAsync(input, context.CancellationToken);

    [Function(nameof(ProfilePartitionActivity))]
    public Task<PartitionProfileRef> Profile([ActivityTrigger] ProfilePartitionInput input, FunctionContext context) =>
        profile.RunAsync(input, context.CancellationToken);

    [Function(nameof(AnalyzeDriftActivity))]
    public Task<DriftAuditResult> Analyze(
        [ActivityTrigger] AnalyzeDriftInput input,
        [DurableClient] DurableTaskClient client,
        FunctionContext context) =>
        analyze.RunAsync(input, client, context.CancellationToken);
}
