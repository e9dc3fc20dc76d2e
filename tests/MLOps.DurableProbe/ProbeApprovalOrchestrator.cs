using Microsoft.DurableTask;

namespace MLOps.DurableProbe;

/// <summary>Waits for an approval event, stamps it in an activity, returns <c>input:decision:pid</c> so a test sees
/// which process finished the run.</summary>
public static class ProbeApprovalOrchestrator
{
    public const string Name = nameof(ProbeApprovalOrchestrator);
    public const string ApprovalEvent = "Approval";
    public const string StampActivity = "ProbeStampActivity";

    public static async Task<string> RunAsync(TaskOrchestrationContext context, string input)
    {
        var decision = await context.WaitForExternalEvent<string>(ApprovalEvent, TimeSpan.FromMinutes(5));
        var pid = await context.CallActivityAsync<int>(StampActivity);
        return $"{input}:{decision}:{pid}";
    }

    public static void Register(DurableTaskRegistry registry)
    {
        registry.AddOrchestratorFunc<string, string>(Name, RunAsync);
        registry.AddActivityFunc<int>(StampActivity, _ => Environment.ProcessId);
    }
}
