using MLOps.Core.Events;
using MLOps.Core.Gates;
using MLOps.Core.Ports;
using MLOps.Core.Workflows;
using MLOps.Lifecycle.Contracts;

namespace MLOps.Lifecycle.Activities;

/// <summary>Reads the workflow a run is pinned to, by content hash.</summary>
public sealed class LoadWorkflowActivity(IWorkflowStore workflows)
{
    public async Task<WorkflowDefinition> RunAsync(LoadWorkflowInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var stored = await workflows.GetAsync(input.Model, input.Hash, cancellationToken)
            ?? throw new InvalidDataException($"workflow {input.Hash} of model '{input.Model}' is not registered");
        return stored.Definition;
    }
}

/// <summary>Applies the workflow's gates to the candidate (and the champion on the same holdout) and stores the evidence.</summary>
public sealed class EvaluateGatesActivity(IWorkflowStore workflows, IArtifactStore artifacts)
{
    public async Task<EvaluateOutput> RunAsync(EvaluateInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var workflow = await workflows.GetAsync(input.Model, input.WorkflowHash, cancellationToken)
            ?? throw new InvalidDataException($"workflow {input.WorkflowHash} of model '{input.Model}' is not registered");
        var report = GateEvaluator.Evaluate(workflow.Definition.Gates, input.Training.Metrics, input.Training.ChampionMetrics,
            input.Training.SegmentMetrics, input.Training.ChampionSegmentMetrics);
        var evidence = await artifacts.SaveJsonAsync($"{input.Model}/runs/{input.RunId}/evaluation.json", new
        {
            input.RunId,
            input.Model,
            input.WorkflowHash,
            Candidate = input.Training.Metrics,
            Champion = input.Training.ChampionMetrics,
            Segments = input.Training.SegmentMetrics,
            ChampionSegments = input.Training.ChampionSegmentMetrics,
            input.Training.ChampionVersion,
            Gates = report,
            input.Training.SelectBy,
            input.Training.Candidates,
        }, cancellationToken);
        return new EvaluateOutput(report, evidence.Uri);
    }
}

/// <summary>Publishes one lifecycle event (audit trail first, then Event Grid). Idempotent by event id.</summary>
public sealed class PublishEventActivity(IEventPublisher publisher)
{
    public async Task<bool> RunAsync(LifecycleEvent input, CancellationToken cancellationToken)
    {
        await publisher.PublishAsync(input, cancellationToken);
        return true;
    }
}
