using System.Diagnostics;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using MLOps.Integration.Tests.Fixtures;
using MLOps.Local.Durable;
using Xunit.Abstractions;

namespace MLOps.Integration.Tests.Durable;

[Collection("Azurite")]
public sealed class LocalDurableEngineTests(AzuriteFixture azurite, ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private LocalDurableEngineOptions NewHub(string? workerId = null) => new()
    {
        StorageConnectionString = azurite.ConnectionString,
        TaskHubName = "t" + Guid.NewGuid().ToString("N")[..8],
        WorkerId = workerId ?? "test-" + Guid.NewGuid().ToString("N")[..6],
    };

    private static Task<LocalDurableEngine> StartAsync(LocalDurableEngineOptions options) =>
        LocalDurableEngine.StartAsync(
            options,
            TestOrchestrations.Register,
            services => services.AddSingleton(new GreetingFormat("hello {0}")).AddScoped<Greeter>());

    [Fact]
    public async Task Orchestration_WithDiActivity_Completes()
    {
        var started = Stopwatch.StartNew();
        await using var engine = await StartAsync(NewHub());
        var startup = started.Elapsed;

        var run = Stopwatch.StartNew();
        var id = await engine.Client.ScheduleNewOrchestrationInstanceAsync(TestOrchestrations.Greet, "world");
        var done = await engine.Client.WaitForCompletionAsync(id, Timeout);
        output.WriteLine($"engine start {startup.TotalMilliseconds:F0} ms; first orchestration schedule->completed {run.Elapsed.TotalMilliseconds:F0} ms");

        run.Restart();
        var second = await engine.Client.ScheduleNewOrchestrationInstanceAsync(TestOrchestrations.Greet, "again");
        await engine.Client.WaitForCompletionAsync(second, Timeout);
        output.WriteLine($"second orchestration schedule->completed {run.Elapsed.TotalMilliseconds:F0} ms");

        Assert.Equal(OrchestrationRuntimeStatus.Completed, done.RuntimeStatus);
        Assert.Equal("hello world", done.ReadOutputAs<string>());
        Assert.StartsWith("http://127.0.0.1:", engine.SidecarAddress.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExternalEvent_RaisedBeforeTimeout_CompletesWithEventData()
    {
        await using var engine = await StartAsync(NewHub());
        var id = await engine.Client.ScheduleNewOrchestrationInstanceAsync(TestOrchestrations.Approval, "run-1");
        await engine.Client.WaitForStateAsync(id, m => m.RuntimeStatus == OrchestrationRuntimeStatus.Running, Timeout);

        var latency = Stopwatch.StartNew();
        await engine.Client.RaiseEventAsync(id, TestOrchestrations.ApprovalEvent, "approved");
        var done = await engine.Client.WaitForCompletionAsync(id, Timeout);
        output.WriteLine($"event raised->completed {latency.Elapsed.TotalMilliseconds:F0} ms");

        Assert.Equal(OrchestrationRuntimeStatus.Completed, done.RuntimeStatus);
        Assert.Equal("run-1:approved", done.ReadOutputAs<string>());
    }

    [Fact]
    public async Task DurableTimer_TwoSeconds_NeverFiresEarly()
    {
        await using var engine = await StartAsync(NewHub());
        for (var i = 0; i < 3; i++)
        {
            var wall = Stopwatch.StartNew();
            var id = await engine.Client.ScheduleNewOrchestrationInstanceAsync(TestOrchestrations.Timer, 2);
            var done = await engine.Client.WaitForCompletionAsync(id, Timeout);
            var result = done.ReadOutputAs<TimerProbeResult>()!;
            output.WriteLine(
                $"timer 2 s: resumed {(result.ResumedAt - result.FireAt).TotalMilliseconds:F0} ms after due (orchestration clock), " +
                $"activity ran {(result.ActivityWallClock - result.FireAt).TotalMilliseconds:F0} ms after due (wall clock), " +
                $"schedule->completed {wall.Elapsed.TotalMilliseconds:F0} ms");

            Assert.Equal(OrchestrationRuntimeStatus.Completed, done.RuntimeStatus);
            Assert.True(result.ResumedAt >= result.FireAt, $"Timer resumed {(result.FireAt - result.ResumedAt).TotalMilliseconds:F0} ms early.");
            Assert.True(result.ActivityWallClock >= result.FireAt, $"Timer fired {(result.FireAt - result.ActivityWallClock).TotalMilliseconds:F0} ms early by the wall clock.");
            Assert.True(wall.Elapsed >= TimeSpan.FromSeconds(2));
        }
    }

    [Fact]
    public async Task Terminate_Query_Purge_Work()
    {
        await using var engine = await StartAsync(NewHub());
        var prefix = "q" + Guid.NewGuid().ToString("N")[..6];
        var waiting = await engine.Client.ScheduleNewOrchestrationInstanceAsync(
            TestOrchestrations.Approval, "to-terminate", new StartOrchestrationOptions(prefix + "-a"));
        var finished = await engine.Client.ScheduleNewOrchestrationInstanceAsync(
            TestOrchestrations.Greet, "query", new StartOrchestrationOptions(prefix + "-b"));
        await engine.Client.WaitForStateAsync(waiting, m => m.RuntimeStatus == OrchestrationRuntimeStatus.Running, Timeout);
        await engine.Client.WaitForCompletionAsync(finished, Timeout);

        await engine.Client.TerminateInstanceAsync(waiting, "no longer needed");
        var terminated = await engine.Client.WaitForCompletionAsync(waiting, Timeout);
        Assert.Equal(OrchestrationRuntimeStatus.Terminated, terminated.RuntimeStatus);

        var all = new List<OrchestrationMetadata>();
        await foreach (var instance in engine.Client.GetAllInstancesAsync(new OrchestrationQuery { InstanceIdPrefix = prefix }))
        {
            all.Add(instance);
        }

        Assert.Equal([prefix + "-a", prefix + "-b"], all.Select(m => m.InstanceId).Order(StringComparer.Ordinal));
        var completedOnly = new List<string>();
        await foreach (var instance in engine.Client.GetAllInstancesAsync(new OrchestrationQuery
        {
            InstanceIdPrefix = prefix,
            Statuses = [OrchestrationRuntimeStatus.Completed],
        }))
        {
            completedOnly.Add(instance.InstanceId);
        }

        Assert.Equal([prefix + "-b"], completedOnly);

        var purged = await engine.Client.PurgeInstanceAsync(waiting);
        Assert.Equal(1, purged.PurgedInstanceCount);
        Assert.Null(await engine.Client.GetInstanceAsync(waiting));
    }

    [Fact]
    public async Task GracefulDispose_ReleasesLeases_SoAnotherWorkerResumesAtOnce()
    {
        var options = NewHub("worker-a");
        var first = await StartAsync(options);
        var id = await first.Client.ScheduleNewOrchestrationInstanceAsync(TestOrchestrations.Approval, "handover");
        await first.Client.WaitForStateAsync(id, m => m.RuntimeStatus == OrchestrationRuntimeStatus.Running, Timeout);
        var stop = Stopwatch.StartNew();
        await first.DisposeAsync();
        output.WriteLine($"graceful dispose {stop.Elapsed.TotalMilliseconds:F0} ms");

        var resume = Stopwatch.StartNew();
        await using var second = await StartAsync(options with { WorkerId = "worker-b" });
        await second.Client.RaiseEventAsync(id, TestOrchestrations.ApprovalEvent, "ok");
        var done = await second.Client.WaitForCompletionAsync(id, Timeout);
        output.WriteLine($"graceful stop, other worker id: start->completed {resume.Elapsed.TotalMilliseconds:F0} ms");

        Assert.Equal("handover:ok", done.ReadOutputAs<string>());

        // Leases held until expiry would take about 30 s; released leases are taken within one acquire interval.
        Assert.True(resume.Elapsed < TimeSpan.FromSeconds(15), $"Took {resume.Elapsed}.");
    }

    [Fact]
    public async Task DisposeAsync_RightAfterStart_DoesNotThrow()
    {
        var engine = await StartAsync(NewHub());
        await engine.DisposeAsync();
        await engine.DisposeAsync();
    }

    [Theory]
    [InlineData("ab")]
    [InlineData("1abc")]
    [InlineData("has-dash")]
    [InlineData("a23456789012345678901234567890123456789012345x")]
    public async Task StartAsync_InvalidTaskHubName_Throws(string name)
    {
        var options = NewHub() with { TaskHubName = name };
        await Assert.ThrowsAsync<ArgumentException>(() => StartAsync(options));
    }
}
