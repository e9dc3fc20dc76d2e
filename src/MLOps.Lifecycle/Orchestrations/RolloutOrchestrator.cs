using Microsoft.DurableTask;
using MLOps.Core.Events;
using MLOps.Core.Rollout;
using MLOps.Lifecycle.Activities;
using MLOps.Lifecycle.Contracts;
using MLOps.Lifecycle.Logging;

namespace MLOps.Lifecycle.Orchestrations;

/// <summary>
/// Rolls an approved version out behind guards, as a sub-orchestration of <see cref="LifecycleOrchestrator"/>.
/// Canary: for each step below 100 the split sends that share of (sticky) traffic to the candidate, the step bakes
/// on a durable timer, then its guards are judged on the traffic captured since the step began; too little traffic
/// waits another bake (up to <c>max_bakes</c>, then rolls back: fail-safe). Shadow: the candidate scores a sampled
/// share of requests the stable version answers, for <c>duration</c>, then the same judgement. A breach removes the
/// split and leaves production as it was; reaching 100 (or a passing shadow) moves production to the candidate
/// through <see cref="DeployActivity"/> and removes the split. Deterministic: time from the context, every side
/// effect in an activity.
/// </summary>
public static class RolloutOrchestrator
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
        registry.AddOrchestratorFunc<RolloutInput, RolloutResult>(nameof(RolloutOrchestrator), RunAsync);

    /// <summary>The rollout's instance id: one per run.</summary>
    public static string InstanceIdFor(string runId) => runId + "-rollout";

    /// <summary>The rollout as an orchestration of its own (its custom status is the <see cref="RolloutStatus"/>).</summary>
    public static Task<RolloutResult> RunAsync(TaskOrchestrationContext context, RolloutInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        return RollOutAsync(context, input, context.SetCustomStatus);
    }

    /// <summary>The rollout inside a calling orchestration (same history), as runs of <see cref="LifecycleVersions.V1"/>
    /// did it: <paramref name="onStatus"/> receives every status change for the caller's own custom status.</summary>
    internal static Task<RolloutResult> RollOutInlineAsync(TaskOrchestrationContext context, RolloutInput input, Action<RolloutStatus> onStatus) =>
        RollOutAsync(context, input, onStatus);

    /// <summary>The rollout itself: <paramref name="onStatus"/> receives every status change (the custom status, which
    /// the runs API folds into the parent run's view).</summary>
    private static async Task<RolloutResult> RollOutAsync(TaskOrchestrationContext context, RolloutInput input, Action<RolloutStatus> onStatus)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(onStatus);
        var log = context.CreateReplaySafeLogger(nameof(RolloutOrchestrator));
        var spec = input.Rollout;
        var mode = spec.Strategy == "shadow" ? TrafficMode.Shadow : TrafficMode.Canary;
        IReadOnlyList<int> steps = mode == TrafficMode.Canary ? spec.Steps : [0];
        var judged = new List<RolloutStepResult>();
        var status = new RolloutStatus
        {
            Stage = RolloutStages.Baking,
            Strategy = spec.Strategy,
            CandidateVersion = input.Version,
            Steps = steps.Count,
            Sampling = mode == TrafficMode.Shadow ? spec.Sampling : 0,
            UpdatedAt = context.CurrentUtcDateTime,
        };
        int? stable = null;

        try
        {
            for (var i = 0; i < steps.Count; i++)
            {
                var percent = steps[i];
                if (mode == TrafficMode.Canary && percent >= 100)
                {
                    break;
                }

                var step = i + 1;
                var traffic = await context.CallActivityAsync<TrafficOutput>(nameof(SetTrafficActivity), new SetTrafficInput
                {
                    Model = input.Model,
                    RunId = input.RunId,
                    CandidateVersion = input.Version,
                    Mode = mode,
                    Percent = percent,
                    Sampling = spec.Sampling,
                    Step = step,
                    Actor = input.Actor,
                }, StorageRetry);
                if (traffic.StableVersion is not { } stableVersion)
                {
                    // Nothing serves yet (the first model): there is no control to compare with.
                    return await PromoteAsync(context, onStatus, input, status, judged, null, "no production version to compare with: deployed directly");
                }

                stable = stableVersion;
                var what = mode == TrafficMode.Canary ? $"canary {percent} % (step {step} of {steps.Count})" : $"shadow, {spec.Sampling:P0} of requests mirrored";
                status = SetStatus(context, onStatus, status with { StableVersion = stable, Step = step, Percent = percent, Bakes = 0 }, RolloutStages.Baking, what);
                await PublishAsync(context, input, LifecycleEventTypes.RolloutStepStarted,
                    new { input.RunId, Step = step, Mode = mode, Percent = percent, Sampling = status.Sampling, StableVersion = stable, CandidateVersion = input.Version, spec.Strategy });

                var wait = mode == TrafficMode.Canary ? spec.BakeTime : spec.Duration;
                GuardReport? report = null;
                var bakes = 0;
                for (var bake = 1; bake <= Math.Max(spec.MaxBakes, 1); bake++)
                {
                    bakes = bake;
                    await context.CreateTimer(context.CurrentUtcDateTime.Add(wait), CancellationToken.None);
                    report = await context.CallActivityAsync<GuardReport>(nameof(EvaluateRolloutGuardsActivity), new RolloutGuardsInput
                    {
                        Model = input.Model,
                        Mode = mode,
                        StableVersion = stableVersion,
                        CandidateVersion = input.Version,
                        From = traffic.ChangedAt,
                        To = new DateTimeOffset(context.CurrentUtcDateTime, TimeSpan.Zero),
                        Guards = spec.Guards,
                    }, StorageRetry);
                    if (report.Verdict != GuardVerdict.Insufficient)
                    {
                        break;
                    }

                    status = SetStatus(context, onStatus, status with { Bakes = bakes }, RolloutStages.WaitingForTraffic, $"{what}: {report.Summary}");
                }

                if (report is null)
                {
                    throw new InvalidOperationException("a rollout step was never judged");
                }
                var result = new RolloutStepResult
                {
                    Step = step,
                    Mode = mode,
                    Percent = percent,
                    Sampling = status.Sampling,
                    StartedAt = traffic.ChangedAt,
                    JudgedAt = context.CurrentUtcDateTime,
                    Bakes = bakes,
                    Report = report,
                };
                judged.Add(result);
                if (report.Verdict != GuardVerdict.Pass)
                {
                    var reason = report.Verdict == GuardVerdict.Insufficient
                        ? $"{what}: {report.Summary} after {bakes} bake(s); rolled back (fail-safe)"
                        : $"{what}: {report.Summary}";
                    Log.RolloutRolledBack(log, input.RunId, input.Model, input.Version, report.Guard ?? "");
                    return await RollBackAsync(context, onStatus, input, status, judged, stable, report.Guard, reason);
                }

                status = SetStatus(context, onStatus, status with { Bakes = bakes }, RolloutStages.Baking, $"{what}: passed");
                await PublishAsync(context, input, LifecycleEventTypes.RolloutStepPassed,
                    new { input.RunId, Step = step, Mode = mode, Percent = percent, StableVersion = stable, CandidateVersion = input.Version, report.Summary, report.Checks, Bakes = bakes });
            }

            return await PromoteAsync(context, onStatus, input, status, judged, stable,
                mode == TrafficMode.Canary ? $"every canary step passed ({string.Join(" → ", steps)} %)" : "the shadow's guards held");
        }
        catch (TaskFailedException ex)
        {
            // Fail-safe: whatever broke, the split goes and production stays where it was.
            var reason = $"rollout failed: {ex.TaskName}: {ex.FailureDetails.ErrorMessage}";
            try
            {
                return await RollBackAsync(context, onStatus, input, status, judged, stable, null, reason);
            }
            catch (TaskFailedException)
            {
                SetStatus(context, onStatus, status, RolloutStages.RolledBack, reason);
                throw;
            }
        }
    }

    private static async Task<RolloutResult> PromoteAsync(
        TaskOrchestrationContext context, Action<RolloutStatus> onStatus, RolloutInput input, RolloutStatus status, List<RolloutStepResult> judged, int? stable, string reason)
    {
        status = SetStatus(context, onStatus, status with { Percent = 100 }, RolloutStages.Promoting, $"moving production to version {input.Version}");
        var deployed = await context.CallActivityAsync<DeployOutput>(nameof(DeployActivity), new DeployInput
        {
            Model = input.Model,
            Version = input.Version,
            RunId = input.RunId,
            Actor = input.Actor,
        }, StorageRetry);
        await context.CallActivityAsync<bool>(nameof(ClearTrafficActivity), new ClearTrafficInput(input.Model, input.RunId), StorageRetry);
        await PublishAsync(context, input, LifecycleEventTypes.RolloutPromoted,
            new { input.RunId, deployed.Version, deployed.PreviousVersion, input.Rollout.Strategy, Reason = reason, Steps = judged.Count });
        var promoted = SetStatus(context, onStatus, status, RolloutStages.Promoted, reason);
        return new RolloutResult
        {
            Status = promoted,
            Outcome = RolloutOutcome.Promoted,
            Strategy = input.Rollout.Strategy,
            Reason = reason,
            CandidateVersion = input.Version,
            StableVersion = stable,
            Steps = [.. judged],
            Deployed = deployed,
        };
    }

    private static async Task<RolloutResult> RollBackAsync(
        TaskOrchestrationContext context, Action<RolloutStatus> onStatus, RolloutInput input, RolloutStatus status, List<RolloutStepResult> judged, int? stable, string? guard, string reason)
    {
        await context.CallActivityAsync<bool>(nameof(ClearTrafficActivity), new ClearTrafficInput(input.Model, input.RunId), StorageRetry);
        await PublishAsync(context, input, LifecycleEventTypes.RolloutRolledBack,
            new { input.RunId, CandidateVersion = input.Version, StableVersion = stable, Guard = guard, Reason = reason, Step = status.Step, status.Percent });
        var rolledBack = SetStatus(context, onStatus, status with { Percent = 0 }, RolloutStages.RolledBack, reason);
        return new RolloutResult
        {
            Status = rolledBack,
            Outcome = RolloutOutcome.RolledBack,
            Strategy = input.Rollout.Strategy,
            Reason = reason,
            CandidateVersion = input.Version,
            StableVersion = stable,
            Guard = guard,
            Steps = [.. judged],
        };
    }

    private static RolloutStatus SetStatus(TaskOrchestrationContext context, Action<RolloutStatus> onStatus, RolloutStatus status, string stage, string message)
    {
        var next = status with { Stage = stage, Message = message, UpdatedAt = context.CurrentUtcDateTime };
        onStatus(next);
        return next;
    }

    private static Task<bool> PublishAsync<T>(TaskOrchestrationContext context, RolloutInput input, string type, T data)
    {
        var lifecycleEvent = LifecycleEvent.Create(context.NewGuid().ToString("N"), type, input.Model,
            $"models/{input.Model}/versions/{input.Version}", context.CurrentUtcDateTime, data);
        return context.CallActivityAsync<bool>(nameof(PublishEventActivity), lifecycleEvent, StorageRetry);
    }
}
