using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using MLOps.Lifecycle.Services;

namespace MLOps.Functions.Triggers;

/// <summary>Every 15 minutes: starts a drift audit orchestration for each model whose workflow's monitoring schedule
/// has come due (one instance per model and due window, so a second fire for the same window starts nothing).</summary>
public sealed class DriftAuditTrigger(DriftAuditService audits)
{
    [Function(nameof(DriftAuditTrigger))]
    public async Task Run(
        [TimerTrigger("0 */15 * * * *")] TimerInfo timer,
        [DurableClient] DurableTaskClient client,
        FunctionContext context)
    {
        await audits.AuditDueAsync(client, force: false, context.CancellationToken);
    }
}
