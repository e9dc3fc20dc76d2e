using Microsoft.DurableTask;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using MLOps.Core.Budgets;
using MLOps.Core.Events;
using MLOps.Core.Rollout;
using MLOps.Core.Workflows;
using MLOps.Lifecycle.Activities;
using MLOps.Lifecycle.Budgets;
using MLOps.Lifecycle.Contracts;
using MLOps.Lifecycle.Handlers;
using MLOps.Lifecycle.Orchestrations;
using MLOps.Lifecycle.Services;

namespace MLOps.Lifecycle;

/// <summary>The catalogue of durable tasks, registered by name in any Durable Task SDK worker (the local host,
/// the tests). The Functions app registers the same names through its <c>[Function]</c> wrappers.</summary>
public static class LifecycleTasks
{
    public static DurableTaskRegistry AddLifecycleTasks(this DurableTaskRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        LifecycleOrchestrator.Register(registry);
        RolloutOrchestrator.Register(registry);
        ApprovalOrchestrator.Register(registry);
        registry.AddDriftAuditTasks();
        registry.AddService<LoadWorkflowActivity, LoadWorkflowInput, WorkflowDefinition>(nameof(LoadWorkflowActivity), (a, i, ct) => a.RunAsync(i, ct));
        registry.AddService<TrainModelActivity, TrainInput, TrainOutput>(nameof(TrainModelActivity), (a, i, ct) => a.RunAsync(i, ct));
        registry.AddService<EvaluateGatesActivity, EvaluateInput, EvaluateOutput>(nameof(EvaluateGatesActivity), (a, i, ct) => a.RunAsync(i, ct));
        registry.AddService<RegisterVersionActivity, RegisterVersionInput, VersionSummary>(nameof(RegisterVersionActivity), (a, i, ct) => a.RunAsync(i, ct));
        registry.AddService<RecordDecisionActivity, DecisionInput, VersionSummary>(nameof(RecordDecisionActivity), (a, i, ct) => a.RunAsync(i, ct));
        registry.AddService<DeployActivity, DeployInput, DeployOutput>(nameof(DeployActivity), (a, i, ct) => a.RunAsync(i, ct));
        registry.AddService<PublishEventActivity, LifecycleEvent, bool>(nameof(PublishEventActivity), (a, i, ct) => a.RunAsync(i, ct));
        registry.AddService<SetTrafficActivity, SetTrafficInput, TrafficOutput>(nameof(SetTrafficActivity), (a, i, ct) => a.RunAsync(i, ct));
        registry.AddService<ClearTrafficActivity, ClearTrafficInput, bool>(nameof(ClearTrafficActivity), (a, i, ct) => a.RunAsync(i, ct));
        registry.AddService<EvaluateRolloutGuardsActivity, RolloutGuardsInput, GuardReport>(nameof(EvaluateRolloutGuardsActivity), (a, i, ct) => a.RunAsync(i, ct));
        registry.AddService<IssueApprovalTokensActivity, IssueApprovalTokensInput, IReadOnlyList<ApprovalLink>>(nameof(IssueApprovalTokensActivity), (a, i, ct) => a.RunAsync(i, ct));
        registry.AddService<ReserveBudgetActivity, BudgetReserveInput, BudgetDecision>(nameof(ReserveBudgetActivity), (a, i, ct) => a.RunAsync(i, ct));
        registry.AddService<ChargeBudgetActivity, BudgetChargeInput, BudgetDecision>(nameof(ChargeBudgetActivity), (a, i, ct) => a.RunAsync(i, ct));
        return registry;
    }

    /// <summary>Registers an activity whose logic is a DI service, resolved per call in a fresh scope.</summary>
    public static DurableTaskRegistry AddService<TService, TInput, TOutput>(
        this DurableTaskRegistry registry, string name, Func<TService, TInput, CancellationToken, Task<TOutput>> run)
        where TService : notnull
    {
        ArgumentNullException.ThrowIfNull(registry);
        registry.AddActivity(name, services => new ServiceActivity<TService, TInput, TOutput>(services, run));
        return registry;
    }

    private sealed class ServiceActivity<TService, TInput, TOutput>(IServiceProvider services, Func<TService, TInput, CancellationToken, Task<TOutput>> run)
        : TaskActivity<TInput, TOutput>
        where TService : notnull
    {
        public override async Task<TOutput> RunAsync(TaskActivityContext context, TInput input)
        {
            await using var scope = services.CreateAsyncScope();
            return await run(scope.ServiceProvider.GetRequiredService<TService>(), input, CancellationToken.None);
        }
    }

    /// <summary>Registers the activities, handlers and services of the lifecycle (ports come from the infrastructure);
    /// binds <see cref="ApprovalOptions"/> from <c>MLOps:Approval</c> of <paramref name="configuration"/> when given.</summary>
    public static IServiceCollection AddMLOpsLifecycle(this IServiceCollection services, IConfiguration? configuration = null)
    {
        services.AddSingleton(TimeProvider.System);
        var approval = services.AddOptions<ApprovalOptions>();
        if (configuration is not null)
        {
            approval.Bind(configuration.GetSection(ApprovalOptions.Section));
        }

        services.AddTransient<IssueApprovalTokensActivity>();
        services.AddTransient<LoadWorkflowActivity>();
        services.AddTransient<TrainModelActivity>();
        services.AddTransient<EvaluateGatesActivity>();
        services.AddTransient<RegisterVersionActivity>();
        services.AddTransient<RecordDecisionActivity>();
        services.AddTransient<DeployActivity>();
        services.AddTransient<PublishEventActivity>();
        services.AddTransient<SetTrafficActivity>();
        services.AddTransient<ClearTrafficActivity>();
        services.AddTransient<EvaluateRolloutGuardsActivity>();
        services.AddTransient<ReserveBudgetActivity>();
        services.AddTransient<ChargeBudgetActivity>();
        services.TryAddSingleton(PriceTable.Default);
        services.AddTransient<BudgetService>();
        services.AddTransient<DatasetUploadHandler>();
        services.AddTransient<RunsApi>();
        services.AddTransient<ModelsApi>();
        services.AddTransient<BudgetApi>();
        services.AddTransient<DriftHistoryApi>();
        services.AddSingleton<ScoringService>();
        services.AddTransient<DriftAuditService>();
        services.AddDriftAudit(configuration);
        return services;
    }
}
