using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using MLOps.Integration.Tests.Fixtures;
using MLOps.Local.Durable;

namespace MLOps.Integration.Tests.Durable;

/// <summary>Probe: the local engine should run sub-orchestrations, with a chosen instance id (the approval's <c>{runId}:approval</c>) or without.</summary>
[Collection("Azurite")]
public sealed class SubOrchestrationTests(AzuriteFixture azurite)
{
    private const string Parent = "ProbeParent";
    private const string Child = "ProbeChild";

    [Theory(Skip = "The local engine's sidecar does not dispatch sub-orchestrations yet (the child never starts); the approval wait runs inline until it does.")]
    [InlineData(":child")]
    [InlineData("-child")]
    [InlineData("")]
    public async Task SubOrchestration_WithInstanceId_Completes(string suffix)
    {
        await using var engine = await LocalDurableEngine.StartAsync(
            new LocalDurableEngineOptions
            {
                StorageConnectionString = azurite.ConnectionString,
                TaskHubName = "t" + Guid.NewGuid().ToString("N")[..8],
                WorkerId = "test-" + Guid.NewGuid().ToString("N")[..6],
            },
            registry =>
            {
                registry.AddOrchestratorFunc<string, string>(Child, (context, input) => Task.FromResult($"child of {input}"));
                registry.AddOrchestratorFunc<string, string>(Parent, (context, input) => context.CallSubOrchestratorAsync<string>(Child, input,
                    input.Length == 0 ? null : new TaskOptions().WithInstanceId(context.InstanceId + input)));
            });
        var id = await engine.Client.ScheduleNewOrchestrationInstanceAsync(Parent, suffix);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var done = await engine.Client.WaitForInstanceCompletionAsync(id, getInputsAndOutputs: true, cts.Token);
        Assert.Equal(OrchestrationRuntimeStatus.Completed, done.RuntimeStatus);
        Assert.Equal($"child of {suffix}", done.ReadOutputAs<string>());
    }
}
