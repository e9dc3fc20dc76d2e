using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using MLOps.Lifecycle.Activities;
using MLOps.Lifecycle.Contracts;

namespace MLOps.Lifecycle.Orchestrations;

/// <summary>
/// One drift audit of one model's window, fanned out: <see cref="PlanDriftAuditActivity"/> lists the window's captures
/// as contiguous name ranges; one <see cref="ProfilePartitionActivity"/> per range (at most
/// <see cref="DriftAuditInput.MaxPartitions"/>, all in parallel) profiles it and stores the profile as a blob; then
/// <see cref="AnalyzeDriftActivity"/> merges the profiles in window order, compares them with the reference, keeps the
/// per-feature metric history in Table storage, stores the HTML report, publishes and may start retraining. History
/// holds names, URIs and a summary, never rows or samples. Deterministic: the audit id comes from the input (one per
/// window, shared by re-runs) or, in instances started before it was there, from the context.
/// Bad data stops the audit at the step that found it, after one attempt: the activities return it as a
/// <see cref="DataProblem"/> and the orchestration completes with it in <see cref="DriftAuditResult.Problem"/> (what
/// every engine keeps whole); failures are storage hiccups, retried.
/// </summary>
public static class DriftAuditOrchestrator
{
    private static readonly TaskOptions StorageRetry = TaskOptions.FromRetryPolicy(new RetryPolicy(
        maxNumberOfAttempts: 4,
        firstRetryInterval: TimeSpan.FromSeconds(1),
        backoffCoefficient: 2.0)
    {
        HandleFailure = ActivityFailures.IsRetryable,
    });

    /// <summary>Registers the orchestration by name (kept in this file: the Durable Task analyzers follow the
    /// registration into the orchestration's syntax tree).</summary>
    public static void Register(DurableTaskRegistry registry) =>
        registry.AddOrchestratorFunc<DriftAuditInput, DriftAuditResult>(nameof(DriftAuditOrchestrator), RunAsync);

    /// <summary>Registers the orchestration and its activities in a Durable Task SDK worker (the local host, tests);
    /// the Functions app has <c>[Function]</c> wrappers under the same names.</summary>
    public static DurableTaskRegistry AddDriftAuditTasks(this DurableTaskRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        Register(registry);
        registry.AddService<PlanDriftAuditActivity, PlanDriftAuditInput, DriftAuditPlan>(nameof(PlanDriftAuditActivity), (a, i, ct) => a.RunAsync(i, ct));
        registry.AddService<ProfilePartitionActivity, ProfilePartitionInput, PartitionProfileRef>(nameof(ProfilePartitionActivity), (a, i, ct) => a.RunAsync(i, ct));
        registry.AddActivity(nameof(AnalyzeDriftActivity), services => new AnalyzeWithClient(services));
        return registry;
    }

    /// <summary>The artifact path of a partition's profile (binary, see <see cref="MLOps.Core.Drift.ProfileBinary"/>): under the audit's instance, by position in the window.</summary>
    public static string ProfilePath(string model, string instanceId, int partition) =>
        $"{model}/audits/{instanceId}/partition-{partition:D4}.profile";

    /// <summary>The audit as an orchestration.</summary>
    public static async Task<DriftAuditResult> RunAsync(TaskOrchestrationContext context, DriftAuditInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        var plan = await context.CallActivityAsync<DriftAuditPlan>(nameof(PlanDriftAuditActivity), new PlanDriftAuditInput
        {
            Model = input.Model,
            WindowEnd = input.WindowEnd,
            CapturesPerPartition = input.CapturesPerPartition,
            MaxPartitions = input.MaxPartitions,
        }, StorageRetry);
        if (plan.Problem is not null)
        {
            return Stop(context, input, plan.Problem, []);
        }

        if (plan.Skipped is not null)
        {
            context.SetCustomStatus(plan.Skipped);
            return new DriftAuditResult { Model = input.Model, Skipped = plan.Skipped, WindowEnd = input.WindowEnd };
        }

        context.SetCustomStatus($"profiling {plan.Captures} capture(s) in {plan.Partitions.Count} partition(s)");
        var profiles = new List<Task<PartitionProfileRef>>(plan.Partitions.Count);
        for (var i = 0; i < plan.Partitions.Count; i++)
        {
            profiles.Add(context.CallActivityAsync<PartitionProfileRef>(nameof(ProfilePartitionActivity), new ProfilePartitionInput
            {
                Model = plan.Model,
                Version = plan.Version,
                WorkflowHash = plan.WorkflowHash,
                WindowStart = plan.WindowStart,
                WindowEnd = plan.WindowEnd,
                Range = plan.Partitions[i],
                ProfilePath = ProfilePath(plan.Model, context.InstanceId, i),
            }, StorageRetry));
        }

        var stored = await Task.WhenAll(profiles);
        if (stored.FirstOrDefault(p => p.Problem is not null) is { Problem: { } problem })
        {
            // The first bad range in window order (the others' profiles stay under the instance, unused).
            return Stop(context, input, problem, [.. stored.Where(p => p.Problem is null).Select(p => p.Uri)], plan);
        }

        context.SetCustomStatus($"analyzing {stored.Sum(p => p.Rows)} row(s) from {stored.Length} partition profile(s)");
        var result = await context.CallActivityAsync<DriftAuditResult>(nameof(AnalyzeDriftActivity), new AnalyzeDriftInput
        {
            AuditId = input.AuditId ?? context.NewGuid().ToString("N"),
            Model = plan.Model,
            Version = plan.Version,
            WorkflowHash = plan.WorkflowHash,
            ReferenceProfileUri = plan.ReferenceProfileUri,
            WindowStart = plan.WindowStart,
            WindowEnd = plan.WindowEnd,
            ProfileUris = [.. stored.Select(p => p.Uri)],
        }, StorageRetry);
        if (result.Problem is not null)
        {
            return Stop(context, input, result.Problem, result.ProfileUris, plan);
        }

        var final = result with { Captures = plan.Captures };
        context.SetCustomStatus(final.Summary);
        return final;
    }

    /// <summary>Ends the audit on bad data: the custom status says what is wrong, the result carries it (no audit id:
    /// nothing was stored).</summary>
    private static DriftAuditResult Stop(TaskOrchestrationContext context, DriftAuditInput input, DataProblem problem, IReadOnlyList<string> profileUris, DriftAuditPlan? plan = null)
    {
        context.SetCustomStatus($"stopped on {problem.Kind} ({problem.Step}): {problem.Message}");
        return new DriftAuditResult
        {
            Model = input.Model,
            Version = plan?.Version ?? 0,
            WindowStart = plan?.WindowStart ?? default,
            WindowEnd = input.WindowEnd,
            Partitions = plan?.Partitions.Count ?? 0,
            Captures = plan?.Captures ?? 0,
            ProfileUris = profileUris,
            Summary = $"{problem.Kind}: {problem.Message}",
            Problem = problem,
        };
    }

    /// <summary>Runs <see cref="AnalyzeDriftActivity"/> with the worker's durable client (to start retraining runs).</summary>
    private sealed class AnalyzeWithClient(IServiceProvider services) : TaskActivity<AnalyzeDriftInput, DriftAuditResult>
    {
        public override async Task<DriftAuditResult> RunAsync(TaskActivityContext context, AnalyzeDriftInput input)
        {
            await using var scope = services.CreateAsyncScope();
            var client = scope.ServiceProvider.GetRequiredService<DurableTaskClient>();
            return await scope.ServiceProvider.GetRequiredService<AnalyzeDriftActivity>().RunAsync(input, client, CancellationToken.None);
        }
    }
}
