using Microsoft.DurableTask;
using MLOps.Core.Budgets;
using MLOps.Core.Events;
using MLOps.Core.Registry;
using MLOps.Core.Training;
using MLOps.Core.Workflows;
using MLOps.Lifecycle.Activities;
using MLOps.Lifecycle.Contracts;
using MLOps.Lifecycle.Logging;

namespace MLOps.Lifecycle.Orchestrations;

/// <summary>
/// One model's lifecycle run, interpreted from its pinned workflow: train → evaluate (gates) → register →
/// wait for approval → deploy → hand over to monitoring. Deterministic: time from the context, ids from
/// <see cref="TaskOrchestrationContext.NewGuid"/>, every side effect in an activity.
/// </summary>
public static class LifecycleOrchestrator
{
    /// <summary>Storage hiccups are retried; bad data (a workflow or version that is not there, a dataset or model that
    /// cannot be used) is not: it fails the same way again (<see cref="ActivityFailures"/>).</summary>
    private static readonly TaskOptions StorageRetry = TaskOptions.FromRetryPolicy(new RetryPolicy(
        maxNumberOfAttempts: 4,
        firstRetryInterval: TimeSpan.FromSeconds(1),
        backoffCoefficient: 2.0)
    {
        HandleFailure = ActivityFailures.IsRetryable,
    });

    private static readonly TaskOptions TrainingRetry = TaskOptions.FromRetryPolicy(new RetryPolicy(
        maxNumberOfAttempts: 2,
        firstRetryInterval: TimeSpan.FromSeconds(2))
    {
        HandleFailure = ActivityFailures.IsRetryableTraining,
    });

    /// <summary>Registers the orchestration by name (kept in this file: the Durable Task analyzers follow the
    /// registration into the orchestration's syntax tree).</summary>
    public static void Register(DurableTaskRegistry registry) =>
        registry.AddOrchestratorFunc<LifecycleRunInput, LifecycleRunResult>(nameof(LifecycleOrchestrator), RunAsync);

    public static async Task<LifecycleRunResult> RunAsync(TaskOrchestrationContext context, LifecycleRunInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        var log = context.CreateReplaySafeLogger(nameof(LifecycleOrchestrator));
        var status = new RunStatus
        {
            Stage = RunStages.Training,
            Model = input.Model,
            Author = input.Author,
            WorkflowHash = input.WorkflowHash,
            UpdatedAt = context.CurrentUtcDateTime,
            OrchestrationVersion = context.Version,
        };

        try
        {
            var workflow = await context.CallActivityAsync<WorkflowDefinition>(
                nameof(LoadWorkflowActivity), new LoadWorkflowInput(input.Model, input.WorkflowHash), StorageRetry);
            await PublishAsync(context, input, LifecycleEventTypes.RunStarted, $"runs/{input.RunId}",
                new { input.RunId, input.Trigger, input.DatasetSha256, input.DatasetRows, input.WorkflowHash, input.Reason }, input.Author);

            // Since v2: the grid's candidates and the budget (admission before training). Older runs replay without them.
            var v2 = LifecycleVersions.Supports(context.Version, LifecycleVersions.V2);
            var grid = v2 ? TrainingGrid.Expand(workflow.Training) : [];
            var month = BudgetPolicy.MonthOf(context.CurrentUtcDateTime);
            if (v2)
            {
                status = status with { Candidates = grid.Count > 0 ? grid.Count : null };
                if (workflow.Budget is not null)
                {
                    var refused = await AdmitAsync(context, input, workflow, Math.Max(1, grid.Count), month, status);
                    if (refused is not null)
                    {
                        return refused;
                    }
                }
            }

            // Train and evaluate.
            status = Advance(context, status, RunStages.Training, grid.Count > 0
                ? $"training {grid.Count} {workflow.Training.Trainer} candidates on {input.DatasetRows} rows, {workflow.Training.MaxParallel} at a time"
                : $"training {workflow.Training.Trainer} on {input.DatasetRows} rows");
            var trainInput = new TrainInput
            {
                RunId = input.RunId,
                Model = input.Model,
                WorkflowHash = input.WorkflowHash,
                DatasetUri = input.DatasetUri,
                DatasetSha256 = input.DatasetSha256,
            };
            var training = grid.Count > 0
                ? await TrainGridAsync(context, workflow, trainInput, grid)
                : await context.CallActivityAsync<TrainOutput>(nameof(TrainModelActivity), trainInput, TrainingRetry);
            if (training.Candidates is { } candidates)
            {
                await PublishAsync(context, input, LifecycleEventTypes.ModelTrained, $"runs/{input.RunId}",
                    new { input.RunId, training.Trainer, training.Metrics, training.ChampionVersion, training.ChampionMetrics, training.TrainRows, training.HoldoutRows, training.TrainSeconds,
                        training.SelectBy, Winner = training.Candidate, training.Parameters, training.ValidationMetrics, Candidates = candidates });
            }
            else
            {
                await PublishAsync(context, input, LifecycleEventTypes.ModelTrained, $"runs/{input.RunId}",
                    new { input.RunId, training.Trainer, training.Metrics, training.ChampionVersion, training.ChampionMetrics, training.TrainRows, training.HoldoutRows, training.TrainSeconds });
            }

            if (v2)
            {
                // Measured usage, all candidates included; a limit passing 80 % publishes a warning once a month.
                var charged = await context.CallActivityAsync<BudgetDecision>(nameof(ChargeBudgetActivity), new BudgetChargeInput
                {
                    Model = input.Model,
                    Month = month,
                    ChargeId = $"{input.RunId}/training",
                    Candidates = training.Candidates?.Count ?? 1,
                    ComputeSeconds = training.Candidates?.Sum(c => c.TrainSeconds) ?? training.TrainSeconds,
                    StorageBytes = training.Candidates?.Sum(c => c.ModelBytes) ?? training.ModelBytes,
                    Budget = workflow.Budget,
                }, StorageRetry);
                await PublishBudgetWarningsAsync(context, input, charged);
            }

            status = Advance(context, status with { Metrics = training.Metrics }, RunStages.Evaluating, "evaluating gates on the holdout");
            var evaluation = await context.CallActivityAsync<EvaluateOutput>(nameof(EvaluateGatesActivity), new EvaluateInput
            {
                RunId = input.RunId,
                Model = input.Model,
                WorkflowHash = input.WorkflowHash,
                Training = training,
            }, StorageRetry);
            await PublishAsync(context, input, LifecycleEventTypes.GatesEvaluated, $"runs/{input.RunId}",
                new { input.RunId, evaluation.Gates.Passed, evaluation.Gates.FirstModel, evaluation.Gates.Results, evaluation.EvidenceUri });
            if (!evaluation.Gates.Passed)
            {
                var failed = string.Join("; ", evaluation.Gates.Results.Where(r => !r.Passed).Select(r => r.Message));
                Advance(context, status, RunStages.GatesFailed, failed);
                return await CompleteAsync(context, input, new LifecycleRunResult
                {
                    RunId = input.RunId,
                    Model = input.Model,
                    Outcome = RunOutcome.GatesFailed,
                    Reason = $"gates failed: {failed}",
                    Metrics = training.Metrics,
                    Gates = evaluation.Gates,
                });
            }

            // Register the candidate, pending approval.
            status = Advance(context, status, RunStages.Registering, "registering the version");
            var version = await context.CallActivityAsync<VersionSummary>(nameof(RegisterVersionActivity), new RegisterVersionInput
            {
                Run = input,
                Training = training,
                EvidenceUri = evaluation.EvidenceUri,
            }, StorageRetry);
            var subject = $"models/{input.Model}/versions/{version.Version}";
            await PublishAsync(context, input, LifecycleEventTypes.VersionRegistered, subject,
                new { input.RunId, version.Version, training.Metrics, training.CandidateUri, input.DatasetSha256, input.WorkflowHash });

            // Wait for the approvals the workflow asks for.
            var approval = await AwaitApprovalAsync(context, input, ApprovalPolicy.Resolve(workflow.Approval, workflow.Model.Risk), status with { Version = version.Version }, version.Version, v2);
            status = approval.Status;
            if (approval.Outcome is { } decided)
            {
                var newStatus = decided == RunOutcome.Rejected ? ModelVersionStatus.Rejected : ModelVersionStatus.Expired;
                await context.CallActivityAsync<VersionSummary>(nameof(RecordDecisionActivity), new DecisionInput
                {
                    Model = input.Model,
                    Version = version.Version,
                    Status = newStatus,
                    Actor = approval.Actor,
                    Reason = approval.Reason,
                }, StorageRetry);
                Advance(context, status, decided == RunOutcome.Rejected ? RunStages.Rejected : RunStages.ApprovalExpired, approval.Reason);
                return await CompleteAsync(context, input, new LifecycleRunResult
                {
                    RunId = input.RunId,
                    Model = input.Model,
                    Outcome = decided,
                    Reason = approval.Reason,
                    Version = version.Version,
                    Metrics = training.Metrics,
                    Gates = evaluation.Gates,
                });
            }

            await context.CallActivityAsync<VersionSummary>(nameof(RecordDecisionActivity), new DecisionInput
            {
                Model = input.Model,
                Version = version.Version,
                Status = ModelVersionStatus.Approved,
                Actor = approval.Actor,
                Reason = approval.Reason,
                ApprovedBy = status.Approvals,
            }, StorageRetry);

            // Deploy: the production alias moves; the previous version stays the rollback candidate. A canary or
            // shadow rollout does it in a sub-orchestration, behind guards; a breach rolls back and ends the run.
            DeployOutput deployed;
            RolloutResult? rollout = null;
            if (workflow.Rollout.Strategy is "canary" or "shadow")
            {
                // The rollout is a sub-orchestration with a deterministic id: its custom status is the step progress,
                // which the runs API folds into this run's view while it rolls out.
                var rolloutInput = new RolloutInput
                {
                    RunId = input.RunId,
                    Model = input.Model,
                    Version = version.Version,
                    Actor = approval.Actor,
                    Rollout = workflow.Rollout,
                    ApprovedBy = status.Approvals,
                };
                if (v2)
                {
                    var rolloutId = RolloutOrchestrator.InstanceIdFor(input.RunId);
                    status = Advance(context, status with { RolloutInstanceId = rolloutId }, RunStages.RollingOut,
                        $"{workflow.Rollout.Strategy} rollout of version {version.Version}");
                    rollout = await context.CallSubOrchestratorAsync<RolloutResult>(nameof(RolloutOrchestrator), rolloutInput,
                        new SubOrchestrationOptions { InstanceId = rolloutId });
                    status = status with { Rollout = rollout.Status };
                }
                else
                {
                    // v1 runs rolled out inline (same history), showing each step in this run's custom status.
                    status = Advance(context, status, RunStages.RollingOut, $"{workflow.Rollout.Strategy} rollout of version {version.Version}");
                    var rolling = status;
                    RolloutStatus? lastStep = null;
                    rollout = await RolloutOrchestrator.RollOutInlineAsync(context, rolloutInput, step =>
                    {
                        lastStep = step;
                        context.SetCustomStatus(rolling with { Rollout = step, Message = step.Message, UpdatedAt = step.UpdatedAt });
                    });
                    status = status with { Rollout = lastStep };
                }
                if (rollout.Outcome == RolloutOutcome.RolledBack || rollout.Deployed is null)
                {
                    Advance(context, status, RunStages.RolledBack, rollout.Reason);
                    return await CompleteAsync(context, input, new LifecycleRunResult
                    {
                        RunId = input.RunId,
                        Model = input.Model,
                        Outcome = RunOutcome.RolledBack,
                        Reason = rollout.Guard is null ? rollout.Reason : $"rolled back on guard {rollout.Guard}: {rollout.Reason}",
                        Version = version.Version,
                        PreviousVersion = rollout.StableVersion,
                        Metrics = training.Metrics,
                        Gates = evaluation.Gates,
                        ApprovedBy = status.Approvals,
                        Rollout = rollout,
                    });
                }

                deployed = rollout.Deployed;
            }
            else
            {
                status = Advance(context, status, RunStages.Deploying, $"moving '{Aliases.Production}' to version {version.Version}");
                deployed = await context.CallActivityAsync<DeployOutput>(nameof(DeployActivity), new DeployInput
                {
                    Model = input.Model,
                    Version = version.Version,
                    RunId = input.RunId,
                    Actor = approval.Actor,
                }, StorageRetry);
            }

            await PublishAsync(context, input, LifecycleEventTypes.Deployed, subject,
                new { input.RunId, deployed.Version, deployed.PreviousVersion, Alias = Aliases.Production, Strategy = workflow.Rollout.Strategy, ApprovedBy = status.Approvals });

            Advance(context, status, RunStages.Monitoring,
                $"version {version.Version} serves '{Aliases.Production}'; drift audits on '{workflow.Monitoring.Schedule}'");
            Log.RunDeployed(log, input.RunId, input.Model, version.Version);
            return await CompleteAsync(context, input, new LifecycleRunResult
            {
                RunId = input.RunId,
                Model = input.Model,
                Outcome = RunOutcome.Deployed,
                Reason = $"version {version.Version} approved by {string.Join(", ", status.Approvals)} and deployed",
                Version = version.Version,
                PreviousVersion = deployed.PreviousVersion,
                Metrics = training.Metrics,
                Gates = evaluation.Gates,
                ApprovedBy = status.Approvals,
                Rollout = rollout,
            });
        }
        catch (TaskFailedException ex)
        {
            var reason = $"{ex.TaskName} failed: {ex.FailureDetails.ErrorMessage}";
            Advance(context, status, RunStages.Failed, reason);
            return await CompleteAsync(context, input, new LifecycleRunResult
            {
                RunId = input.RunId,
                Model = input.Model,
                Outcome = RunOutcome.Failed,
                Reason = reason,
                Version = status.Version,
                Metrics = status.Metrics,
            });
        }
    }

    /// <summary>Asks the ledger to admit the run (v2). Returns the completed result when the budget refuses it.</summary>
    private static async Task<LifecycleRunResult?> AdmitAsync(
        TaskOrchestrationContext context, LifecycleRunInput input, WorkflowDefinition workflow, int candidates, string month, RunStatus status)
    {
        status = Advance(context, status, RunStages.BudgetCheck, $"checking the {month} budget for {candidates} candidate(s)");
        var decision = await context.CallActivityAsync<BudgetDecision>(nameof(ReserveBudgetActivity), new BudgetReserveInput
        {
            Model = input.Model,
            RunId = input.RunId,
            Month = month,
            Candidates = candidates,
            Budget = workflow.Budget,
        }, StorageRetry);
        await PublishBudgetWarningsAsync(context, input, decision);
        if (decision.Allowed)
        {
            return null;
        }

        await PublishAsync(context, input, LifecycleEventTypes.BudgetExceeded, $"runs/{input.RunId}",
            new { input.RunId, Month = month, decision.Limit, decision.Reason, decision.Plan, decision.Limits, decision.Currency });
        var log = context.CreateReplaySafeLogger(nameof(LifecycleOrchestrator));
        Log.RunRefusedByBudget(log, input.RunId, input.Model, decision.Limit, decision.Reason);
        Advance(context, status, RunStages.BudgetExceeded, decision.Reason);
        return await CompleteAsync(context, input, new LifecycleRunResult
        {
            RunId = input.RunId,
            Model = input.Model,
            Outcome = RunOutcome.BudgetExceeded,
            Reason = $"budget exceeded ({decision.Limit}): {decision.Reason}",
            Budget = decision,
        });
    }

    private static async Task PublishBudgetWarningsAsync(TaskOrchestrationContext context, LifecycleRunInput input, BudgetDecision decision)
    {
        foreach (var limit in decision.Warnings)
        {
            var figures = decision.Limits.First(l => l.Name == limit);
            await PublishAsync(context, input, LifecycleEventTypes.BudgetWarning, $"runs/{input.RunId}",
                new { input.RunId, Limit = limit, figures.Used, Max = figures.Limit, figures.Share, decision.Currency });
        }
    }

    /// <summary>The grid (v2): one <see cref="TrainModelActivity"/> per candidate, at most
    /// <see cref="TrainingSpec.MaxParallel"/> at a time (a durable fan-out: each batch is one Task.WhenAll), all on the
    /// same split and seed; the winner is the best on the validation part carved from the training data, so the holdout
    /// stays untouched for the gates. History holds each candidate's references and metrics, never its model.</summary>
    private static async Task<TrainOutput> TrainGridAsync(
        TaskOrchestrationContext context, WorkflowDefinition workflow, TrainInput template, IReadOnlyList<IReadOnlyDictionary<string, double>> grid)
    {
        var outputs = new List<TrainOutput>(grid.Count);
        var parallel = Math.Max(1, workflow.Training.MaxParallel);
        for (var start = 0; start < grid.Count; start += parallel)
        {
            var batch = Enumerable.Range(start, Math.Min(parallel, grid.Count - start))
                .Select(i => context.CallActivityAsync<TrainOutput>(nameof(TrainModelActivity),
                    template with { Candidate = i, Parameters = grid[i], Validation = workflow.Training.Validation }, TrainingRetry))
                .ToList();
            outputs.AddRange(await Task.WhenAll(batch));
        }

        var metric = TrainingGrid.SelectionMetric(workflow.Training, workflow.Model.Task);
        var summaries = outputs.Select((o, i) => new CandidateSummary
        {
            Index = o.Candidate ?? i,
            Parameters = o.Parameters ?? grid[i],
            ModelUri = o.CandidateUri,
            ValidationMetrics = o.ValidationMetrics ?? new Dictionary<string, double>(),
            HoldoutMetrics = o.Metrics,
            TrainSeconds = o.TrainSeconds,
            ModelBytes = o.ModelBytes,
        }).ToList();
        var best = TrainingGrid.SelectBest(summaries, metric);
        var log = context.CreateReplaySafeLogger(nameof(LifecycleOrchestrator));
        Log.GridWinner(log, template.RunId, template.Model, best, summaries.Count, metric);
        return outputs[best] with { Candidates = summaries, SelectBy = metric };
    }

    private sealed record ApprovalOutcome(RunStatus Status, RunOutcome? Outcome, string Actor, string Reason);

    /// <summary>Shows the run as awaiting approval and waits for <see cref="ApprovalOrchestrator"/>, a sub-orchestration
    /// with the deterministic id <see cref="ApprovalOrchestrator.InstanceIdFor"/> (kept in <see cref="RunStatus.ApprovalInstanceId"/>):
    /// the runs API raises decisions on it and folds its custom status (approvals so far, who may approve) into the
    /// run's view while it waits.</summary>
    private static async Task<ApprovalOutcome> AwaitApprovalAsync(
        TaskOrchestrationContext context, LifecycleRunInput input, ApprovalPolicy policy, RunStatus status, int version, bool v2)
    {
        var now = context.CurrentUtcDateTime;
        var deadline = now.Add(policy.Timeout);
        var request = new ApprovalRunInput
        {
            RunId = input.RunId,
            Model = input.Model,
            Version = version,
            Author = input.Author,
            Policy = policy,
            Deadline = deadline,
            EscalateAt = policy.Escalation is { } escalation ? now.Add(escalation.After) : null,
        };
        if (!v2)
        {
            return await AwaitApprovalInlineAsync(context, policy, status, deadline, request);
        }

        var approvalId = ApprovalOrchestrator.InstanceIdFor(input.RunId);
        status = Advance(context, status with
            {
                ApprovalsRequired = policy.Required,
                ApprovalDeadline = deadline,
                ApprovalEligible = policy.Approvers,
                ApprovalToken = policy.Token,
                ApprovalInstanceId = approvalId,
            },
            RunStages.AwaitingApproval, $"waiting for {policy.Required} approval(s) until {deadline:u}");

        var result = await context.CallSubOrchestratorAsync<ApprovalRunResult>(nameof(ApprovalOrchestrator), request,
            new SubOrchestrationOptions { InstanceId = approvalId });
        return Decide(status, result);
    }

    /// <summary>The v1 path: the approval wait ran inline (same history), decisions were raised on the run itself (no
    /// <see cref="RunStatus.ApprovalInstanceId"/>, so the runs API raises them there) and the run's status carried the
    /// approvals so far. Kept so v1 runs still waiting replay as they began.</summary>
    private static async Task<ApprovalOutcome> AwaitApprovalInlineAsync(
        TaskOrchestrationContext context, ApprovalPolicy policy, RunStatus status, DateTime deadline, ApprovalRunInput request)
    {
        status = Advance(context, status with
            {
                ApprovalsRequired = policy.Required,
                ApprovalDeadline = deadline,
                ApprovalEligible = policy.Approvers,
                ApprovalToken = policy.Token,
            },
            RunStages.AwaitingApproval, $"waiting for {policy.Required} approval(s) until {deadline:u}");
        var waiting = status;
        var result = await ApprovalOrchestrator.WaitInlineAsync(context, request, approval => waiting = Advance(context, waiting with
        {
            Approvals = approval.Approvals,
            ApprovalEligible = approval.Eligible,
            ApprovalEscalated = approval.Escalated,
        }, RunStages.AwaitingApproval, approval.Message ?? waiting.Message ?? ""));
        return Decide(waiting, result);
    }

    private static ApprovalOutcome Decide(RunStatus status, ApprovalRunResult result)
    {
        status = status with { Approvals = result.Approvals, ApprovalEscalated = result.Escalated };
        RunOutcome? outcome = result.Verdict switch
        {
            ApprovalVerdict.Approved => null,
            ApprovalVerdict.Rejected => RunOutcome.Rejected,
            _ => RunOutcome.ApprovalExpired,
        };
        return new ApprovalOutcome(status, outcome, result.Actor, result.Reason);
    }

    private static RunStatus Advance(TaskOrchestrationContext context, RunStatus status, string stage, string message)
    {
        var next = status with { Stage = stage, Message = message, UpdatedAt = context.CurrentUtcDateTime };
        context.SetCustomStatus(next);
        return next;
    }

    private static async Task<LifecycleRunResult> CompleteAsync(TaskOrchestrationContext context, LifecycleRunInput input, LifecycleRunResult result)
    {
        await PublishAsync(context, input, LifecycleEventTypes.RunCompleted, $"runs/{input.RunId}",
            new { result.RunId, Outcome = result.Outcome.ToString(), result.Reason, result.Version });
        return result;
    }

    private static Task<bool> PublishAsync<T>(TaskOrchestrationContext context, LifecycleRunInput input, string type, string subject, T data, string actor = "system")
    {
        var lifecycleEvent = LifecycleEvent.Create(context.NewGuid().ToString("N"), type, input.Model, subject, context.CurrentUtcDateTime, data, actor);
        return context.CallActivityAsync<bool>(nameof(PublishEventActivity), lifecycleEvent, StorageRetry);
    }
}
