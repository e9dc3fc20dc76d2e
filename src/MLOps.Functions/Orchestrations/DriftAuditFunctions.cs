using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using MLOps.Lifecycle.Contracts;
using MLOps.Lifecycle.Orchestrations;

namespace MLOps.Functions.Orchestrations;

/// <summary>The fanned-out drift audit of MLOps.Lifecycle as an orchestration-trigger function under the same name.</summary>
public static class DriftAuditFunctions
{
    [Function(nameof(DriftAuditOrchestrator))]
    public static Task<DriftAuditResult> DriftAudit([OrchestrationTrigger] TaskOrchestrationContext context) =>
        DriftAuditOrchestrator.RunAsync(context, context.GetInput<DriftAuditInput>()
            ?? throw new InvalidOperationException("the drift audit orchestration needs an input"));
}
