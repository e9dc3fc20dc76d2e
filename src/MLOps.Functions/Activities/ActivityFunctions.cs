using Microsoft.Azure.Functions.Worker;
using MLOps.Core.Budgets;
using MLOps.Core.Events;
using MLOps.Core.Rollout;
using MLOps.Core.Workflows;
using MLOps.Lifecycle.Activities;
using MLOps.Lifecycle.Contracts;

namespace MLOps.Functions.Activities;

/// <summary>The activities of MLOps.Lifecycle as activity-trigger functions, under the names the orchestration calls.</summary>
public sealed class ActivityFunctions(
    LoadWorkflowActivity loadWorkflow,
    TrainModelActivity train,
    EvaluateGatesActivity evaluate,
    RegisterVersionActivity register,
    RecordDecisionActivity decide,
    DeployActivity deploy,
    PublishEventActivity publish,
    SetTrafficActivity setTraffic,
    ClearTrafficActivity clearTraffic,
    EvaluateRolloutGuardsActivity evaluateGuards,
    IssueApprovalTokensActivity issueTokens,
    ReserveBudgetActivity reserveBudget,
    ChargeBudgetActivity chargeBudget)
{
    [Function(nameof(LoadWorkflowActivity))]
    public Task<WorkflowDefinition> LoadWorkflow([ActivityTrigger] LoadWorkflowInput input, FunctionContext context) =>
        loadWorkflow.RunAsync(input, context.CancellationToken);

    [Function(nameof(TrainModelActivity))]
    public Task<TrainOutput> Train([ActivityTrigger] TrainInput input, FunctionContext context) =>
        train.RunAsync(input, context.CancellationToken);

    [Function(nameof(EvaluateGatesActivity))]
    public Task<EvaluateOutput> Evaluate([ActivityTrigger] EvaluateInput input, FunctionContext context) =>
        evaluate.RunAsync(input, context.CancellationToken);

    [Function(nameof(RegisterVersionActivity))]
    public Task<VersionSummary> Register([ActivityTrigger] RegisterVersionInput input, FunctionContext context) =>
        register.RunAsync(input, context.CancellationToken);

    [Function(nameof(RecordDecisionActivity))]
    public Task<VersionSummary> Decide([ActivityTrigger] DecisionInput input, FunctionContext context) =>
        decide.RunAsync(input, context.CancellationToken);

    [Function(nameof(DeployActivity))]
    public Task<DeployOutput> Deploy([ActivityTrigger] DeployInput input, FunctionContext context) =>
        deploy.RunAsync(input, context.CancellationToken);

    [Function(nameof(PublishEventActivity))]
    public Task<bool> Publish([ActivityTrigger] LifecycleEvent input, FunctionContext context) =>
        publish.RunAsync(input, context.CancellationToken);

    [Function(nameof(SetTrafficActivity))]
    public Task<TrafficOutput> SetTraffic([ActivityTrigger] SetTrafficInput input, FunctionContext context) =>
        setTraffic.RunAsync(input, context.CancellationToken);

    [Function(nameof(ClearTrafficActivity))]
    public Task<bool> ClearTraffic([ActivityTrigger] ClearTrafficInput input, FunctionContext context) =>
        clearTraffic.RunAsync(input, context.CancellationToken);

    [Function(nameof(EvaluateRolloutGuardsActivity))]
    public Task<GuardReport> EvaluateGuards([ActivityTrigger] RolloutGuardsInput input, FunctionContext context) =>
        evaluateGuards.RunAsync(input, context.CancellationToken);

    [Function(nameof(IssueApprovalTokensActivity))]
    public Task<IReadOnlyList<ApprovalLink>> IssueTokens([ActivityTrigger] IssueApprovalTokensInput input, FunctionContext context) =>
        issueTokens.RunAsync(input, context.CancellationToken);

    [Function(nameof(ReserveBudgetActivity))]
    public Task<BudgetDecision> ReserveBudget([ActivityTrigger] BudgetReserveInput input, FunctionContext context) =>
        reserveBudget.RunAsync(input, context.CancellationToken);

    [Function(nameof(ChargeBudgetActivity))]
    public Task<BudgetDecision> ChargeBudget([ActivityTrigger] BudgetChargeInput input, FunctionContext context) =>
        chargeBudget.RunAsync(input, context.CancellationToken);
}
