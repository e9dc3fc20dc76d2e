using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using MLOps.Integration.Tests.Fixtures;
using MLOps.Local.Durable;

namespace MLOps.Integration.Tests.Durable;

/// <summary>A parent orchestration that calls a sub-orchestration completes with the child's output.</summary>
[Collection("Azurite")]
public sealed class SubOrchestrationTests(AzuriteFixture azurite)
{
    private const string Parent = "SubOrchestrationParent";
    private const string Child = "SubOrchestrationChild";

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Parent_CallingChildOrchestrator_CompletesWithChildOutput()
    {
        var options = new LocalDurableEngineOptions
        {
            StorageConnectionString = azurite.ConnectionString,
            TaskHubName = "t" + Guid.NewGuid().ToString("N")[..8],
            WorkerId = "test-" + Guid.NewGuid().ToString("N")[..6],
        };
        await using var engine = await LocalDurableEngine.StartAsync(options, Register);

        var id = await engine.Client.ScheduleNewOrchestrationInstanceAsync(Parent, "world");
        var done = await engine.Client.WaitForCompletionAsync(id, Timeout);

        Assert.Equal(OrchestrationRuntimeStatus.Completed, done.RuntimeStatus);
        Assert.Equal("parent(child(world))", done.ReadOutputAs<string>());
    }

    private static void Register(DurableTaskRegistry registry)
    {
        registry.AddOrchestratorFunc<string, string>(Child, (context, name) => Task.FromResult($"child({name})"));
        registry.AddOrchestratorFunc<string, string>(Parent, async (context, name) =>
        {
            var child = await context.CallSubOrchestratorAsync<string>(Child, name);
            return $"parent({child})";
        });
    }
}
