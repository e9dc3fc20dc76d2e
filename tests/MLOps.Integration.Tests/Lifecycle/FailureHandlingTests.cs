using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using MLOps.Cli;
using MLOps.Core.Workflows;
using MLOps.Integration.Tests.Fixtures;
using MLOps.Integration.Tests.Support;
using MLOps.Lifecycle.Activities;
using MLOps.Lifecycle.Contracts;
using MLOps.Lifecycle.Handlers;
using MLOps.Lifecycle.Orchestrations;
using MLOps.Local.Durable;

namespace MLOps.Integration.Tests.Lifecycle;

/// <summary>
/// Failures of lifecycle runs and rollouts on the local durable engine over Azurite: bad data (a workflow or version
/// that is not there fails the same way again) is not retried — the activity is attempted once (counted from the
/// engine's history) and the orchestration ends with an outcome naming it — and a run whose orchestration itself
/// failed shows why, although this backend keeps only the failure's message.
/// </summary>
[Collection(AzuriteTestGroup.Name)]
public sealed class FailureHandlingTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private const string Model = "credit-risk";
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    private readonly PerTestLocalHost _local = new(azurite.ConnectionString);

    public Task InitializeAsync() => _local.StartAsync();

    public async Task DisposeAsync() => await _local.DisposeAsync();

    [Fact]
    public async Task LifecycleRun_UnregisteredWorkflow_FailsAfterOneLoadWorkflowAttempt()
    {
        var hash = new string('0', 64);
        var input = new LifecycleRunInput
        {
            RunId = "bad-workflow-" + Guid.NewGuid().ToString("N")[..8],
            Model = Model,
            WorkflowHash = hash,
            DatasetSha256 = new string('1', 64),
            DatasetUri = "datasets/credit-risk/none.csv",
            DatasetRows = 10,
            Trigger = RunTriggers.Manual,
            Author = "tests",
        };

        Assert.True(await RunStarter.StartOnceAsync(_local.Host.Client, input, CancellationToken.None));
        var done = await _local.Host.Client.WaitForCompletionAsync(input.RunId, Timeout);

        Assert.Equal(OrchestrationRuntimeStatus.Completed, done.RuntimeStatus);
        var result = done.ReadOutputAs<LifecycleRunResult>()!;
        Assert.Equal(RunOutcome.Failed, result.Outcome);
        Assert.Contains($"workflow {hash} of model '{Model}' is not registered", result.Reason, StringComparison.Ordinal);
        Assert.Equal(1, await _local.History.AttemptsAsync(input.RunId, nameof(LoadWorkflowActivity)));
    }

    [Fact]
    public async Task Rollout_CandidateThatDoesNotExist_RollsBackAfterOneSetTrafficAttempt()
    {
        var runId = "bad-candidate-" + Guid.NewGuid().ToString("N")[..8];
        var instanceId = RolloutOrchestrator.InstanceIdFor(runId);
        await _local.Host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(RolloutOrchestrator), new RolloutInput
        {
            RunId = runId,
            Model = Model,
            Version = 99,
            Actor = "tests",
            Rollout = new RolloutSpec { Strategy = "canary", Steps = [10, 100], BakeTime = TimeSpan.FromSeconds(1) },
        }, new StartOrchestrationOptions(instanceId));
        var done = await _local.Host.Client.WaitForCompletionAsync(instanceId, Timeout);

        Assert.Equal(OrchestrationRuntimeStatus.Completed, done.RuntimeStatus);
        var result = done.ReadOutputAs<RolloutResult>()!;
        Assert.Equal(RolloutOutcome.RolledBack, result.Outcome);
        Assert.Contains($"version 99 of '{Model}' does not exist", result.Reason, StringComparison.Ordinal);
        Assert.Equal(1, await _local.History.AttemptsAsync(instanceId, nameof(SetTrafficActivity)));
    }

    [Fact]
    public async Task RunsApi_RunWhoseOrchestrationFailed_ShowsTheFailureMessage()
    {
        // A run without input fails in the orchestrator itself (not in an activity, so no outcome catches it).
        var runId = "no-input-" + Guid.NewGuid().ToString("N")[..8];
        await _local.Host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(LifecycleOrchestrator), input: null, new StartOrchestrationOptions(runId));
        var done = await _local.Host.Client.WaitForCompletionAsync(runId, Timeout);
        Assert.Equal(OrchestrationRuntimeStatus.Failed, done.RuntimeStatus);

        using var api = ApiClient.For(_local.Host.Url);
        var run = await api.GetAsync($"runs/{runId}");

        Assert.Equal(200, run.Status);
        Assert.Equal("Failed", run.Body.GetProperty("runtimeStatus").GetString());
        Assert.Contains("'input'", run.Body.GetProperty("failure").GetString(), StringComparison.Ordinal);
    }
}
