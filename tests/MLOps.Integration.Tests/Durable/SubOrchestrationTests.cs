using System.Diagnostics;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using MLOps.Integration.Tests.Fixtures;
using MLOps.Local.Durable;
using Xunit.Abstractions;

namespace MLOps.Integration.Tests.Durable;

/// <summary>Sub-orchestrations on the local engine (gRPC sidecar over the Azure Storage backend on Azurite): a parent
/// resumes with its child's output, including a child that waits for an external event and a durable timer across a
/// worker restart.</summary>
[Collection("Azurite")]
public sealed class SubOrchestrationTests(AzuriteFixture azurite, ITestOutputHelper output)
{
    private const string Parent = "SubOrchestrationParent";
    private const string Child = "SubOrchestrationChild";
    private const string WaitingParent = "SubOrchestrationWaitingParent";
    private const string WaitingChild = "SubOrchestrationWaitingChild";
    private const string DecisionEvent = "Decision";

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private LocalDurableEngineOptions NewHub(string worker) => new()
    {
        StorageConnectionString = azurite.ConnectionString,
        TaskHubName = "t" + Guid.NewGuid().ToString("N")[..8],
        WorkerId = worker + "-" + Guid.NewGuid().ToString("N")[..6],
    };

    [Fact]
    public async Task Parent_CallingChildOrchestrator_CompletesWithChildOutput()
    {
        await using var engine = await LocalDurableEngine.StartAsync(NewHub("test"), Register);

        var id = await engine.Client.ScheduleNewOrchestrationInstanceAsync(Parent, "world");
        var done = await engine.Client.WaitForCompletionAsync(id, Timeout);

        Assert.Equal(OrchestrationRuntimeStatus.Completed, done.RuntimeStatus);
        Assert.Equal("parent(child(world))", done.ReadOutputAs<string>());
    }

    [Fact]
    public async Task ChildWaitingForEventAndTimer_SurvivesWorkerRestart_ParentResumesWithItsOutput()
    {
        var options = NewHub("worker-a");
        var first = await LocalDurableEngine.StartAsync(options, Register);
        string parentId;
        string childId;
        try
        {
            parentId = await first.Client.ScheduleNewOrchestrationInstanceAsync(WaitingParent, "run-1");
            childId = parentId + ":child";

            // The child runs under its own id and shows it waits; the parent shows it is waiting for the child.
            var child = await first.Client.WaitForStateAsync(childId,
                m => m.RuntimeStatus == OrchestrationRuntimeStatus.Running && m.SerializedCustomStatus is not null, Timeout);
            Assert.Equal("\"waiting for a decision\"", child.SerializedCustomStatus);
            var parent = await first.Client.GetInstanceAsync(parentId);
            Assert.Equal(OrchestrationRuntimeStatus.Running, parent!.RuntimeStatus);
        }
        finally
        {
            await first.DisposeAsync();
        }

        // Another worker takes the hub over; the decision goes to the child, whose timer then fires.
        var restart = Stopwatch.StartNew();
        await using var second = await LocalDurableEngine.StartAsync(options with { WorkerId = options.WorkerId + "b" }, Register);
        await second.Client.RaiseEventAsync(childId, DecisionEvent, "approved");
        var done = await second.Client.WaitForCompletionAsync(parentId, Timeout);
        output.WriteLine($"restart -> parent completed {restart.Elapsed.TotalMilliseconds:F0} ms");

        Assert.Equal(OrchestrationRuntimeStatus.Completed, done.RuntimeStatus);
        Assert.Equal("parent(run-1:approved:timer)", done.ReadOutputAs<string>());
        var finished = await second.Client.GetInstanceAsync(childId, getInputsAndOutputs: true);
        Assert.Equal(OrchestrationRuntimeStatus.Completed, finished!.RuntimeStatus);
        Assert.Equal("\"run-1:approved:timer\"", finished.SerializedOutput);
    }

    private static void Register(DurableTaskRegistry registry)
    {
        registry.AddOrchestratorFunc<string, string>(Child, (context, name) => Task.FromResult($"child({name})"));
        registry.AddOrchestratorFunc<string, string>(Parent, async (context, name) =>
        {
            var child = await context.CallSubOrchestratorAsync<string>(Child, name);
            return $"parent({child})";
        });

        registry.AddOrchestratorFunc<string, string>(WaitingChild, async (context, input) =>
        {
            context.SetCustomStatus("waiting for a decision");
            var decision = await context.WaitForExternalEvent<string>(DecisionEvent);
            context.SetCustomStatus("baking");
            await context.CreateTimer(context.CurrentUtcDateTime.AddSeconds(1), CancellationToken.None);
            return $"{input}:{decision}:timer";
        });
        registry.AddOrchestratorFunc<string, string>(WaitingParent, async (context, input) =>
        {
            var child = await context.CallSubOrchestratorAsync<string>(WaitingChild, input,
                new SubOrchestrationOptions { InstanceId = context.InstanceId + ":child" });
            return $"parent({child})";
        });
    }
}
