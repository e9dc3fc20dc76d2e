using Microsoft.DurableTask;
using Microsoft.Extensions.DependencyInjection;
using MLOps.Core.Events;
using MLOps.Core.Ports;
using MLOps.Infrastructure.Storage;
using MLOps.Integration.Tests.Fixtures;
using MLOps.Integration.Tests.Support;
using MLOps.Lifecycle.Contracts;
using MLOps.Lifecycle.Handlers;
using MLOps.Lifecycle.Orchestrations;
using MLOps.Local;
using Xunit.Abstractions;

namespace MLOps.Integration.Tests.Lifecycle;

/// <summary>A redeploy does not break waiting runs: a run started by a version-1.0 deployment waits for approval, the
/// host stops, a version-2.0 deployment (whose orchestrator has the grid and budget paths) takes over on the same task
/// hub, and the run completes exactly as version 1.0 would. A run started under 2.0 is left alone by a 1.0 worker;
/// runs the 2.0 deployment starts take the grid and budget paths.</summary>
[Collection(AzuriteTestGroup.Name)]
public sealed class OrchestrationVersioningTests(AzuriteFixture azurite, ITestOutputHelper output)
{
    [Fact]
    public async Task RunStartedUnderV1_WaitingForApproval_CompletesOnV2Worker_WithoutTheV2Paths()
    {
        const string model = "cr-versions";
        var workflowYaml = GridWorkflows.CreditRisk(model, grid: "{ leaves: [4, 16] }", budget: "  monthly:\n    training_runs: 10\n", trees: 30);
        var options = TestHosts.Options(azurite.ConnectionString) with { RunBackgroundServices = false };
        string v1Run;
        string v2Run;
        LifecycleRunInput v1Input;

        // Deployment 1: orchestration version 1.0.
        await using (var v1 = await LocalHost.StartAsync(options with { OrchestrationVersion = LifecycleVersions.V1, RejectNewerVersions = true }))
        {
            await v1.Services.GetRequiredService<IWorkflowStore>().RegisterAsync(workflowYaml, "versions.yaml");
            v1Run = await LifecycleSteps.UploadAndStartAsync(v1, model, "alice", seed: 31);
            var waiting = await LifecycleSteps.WaitForStageAsync(v1.Client, v1Run, RunStages.AwaitingApproval);
            Assert.Equal(RunStages.AwaitingApproval, waiting.Status?.Stage);
            Assert.Equal(LifecycleVersions.V1, waiting.Status!.OrchestrationVersion);
            Assert.Null(waiting.Status.Candidates);
            v1Input = waiting.Input!;

            // A run stamped 2.0 (as a newer deployment would start it) is not touched by this 1.0 worker.
            v2Run = v1Run + "-v2";
            await v1.Client.ScheduleNewOrchestrationInstanceAsync(nameof(LifecycleOrchestrator), v1Input with { RunId = v2Run },
                new StartOrchestrationOptions(v2Run) { Version = LifecycleVersions.V2 });
            await Task.Delay(TimeSpan.FromSeconds(3));
            var untouched = await RunsApi.GetRunAsync(v1.Client, v2Run);
            output.WriteLine($"2.0 run on the 1.0 worker after 3 s: {untouched?.RuntimeStatus}, status {untouched?.Status?.Stage ?? "(none)"}");
            Assert.NotNull(untouched);
            Assert.Null(untouched.Status);
            Assert.True(untouched.RuntimeStatus is "Pending" or "Running", untouched.RuntimeStatus);
        }

        // Deployment 2: version 2.0 on the same task hub and storage, another worker id.
        await using var v2 = await LocalHost.StartAsync(options with { WorkerId = options.WorkerId + "v2" });
        var stillWaiting = await RunsApi.GetRunAsync(v2.Client, v1Run);
        Assert.Equal(RunStages.AwaitingApproval, stillWaiting!.Status!.Stage);
        var answer = await v2.Services.GetRequiredService<RunsApi>().DecideAsync(v2.Client, v1Run, approve: true, "bob", "after the redeploy");
        Assert.Equal(202, answer.Status);
        var done = await LifecycleSteps.WaitForEndAsync(v2.Client, v1Run);
        Assert.True(done.RuntimeStatus == "Completed", $"{done.RuntimeStatus}: {done.Failure}");
        Assert.Equal(RunOutcome.Deployed, done.Result!.Outcome);
        Assert.Equal(LifecycleVersions.V1, done.Status!.OrchestrationVersion);

        // The 1.0 run replayed the 1.0 path: one model, no candidates, nothing reserved in the budget.
        var trained = Assert.Single(await LifecycleSteps.EventsAsync(v2, model, v1Run, LifecycleEventTypes.ModelTrained)).Data;
        Assert.False(trained.TryGetProperty("candidates", out _));
        var artifacts = v2.Services.GetRequiredService<StorageContext>().Container(StorageNames.Artifacts);
        Assert.True(await artifacts.GetBlobClient($"{model}/runs/{v1Run}/model.zip").ExistsAsync());
        Assert.False(await artifacts.GetBlobClient($"{model}/runs/{v1Run}/candidates/0/model.zip").ExistsAsync());
        var ledger = v2.Services.GetRequiredService<IBudgetLedger>();
        var usage = await ledger.GetAsync(model, GridWorkflows.ThisMonth);
        Assert.DoesNotContain($"run:{v1Run}", usage.Applied);

        // A run started by the 2.0 deployment (the client's default version) takes the grid and budget paths. (The 2.0
        // run the 1.0 worker rejected is picked up by this worker only once its control-queue message becomes visible
        // again, ≈ 4 min here: the sidecar does not hand the rejected message back at once; see README.)
        var v2Upload = await LifecycleSteps.UploadAndStartAsync(v2, model, "alice", seed: 32);
        var v2Waiting = await LifecycleSteps.WaitForStageAsync(v2.Client, v2Upload, RunStages.AwaitingApproval);
        Assert.Equal(RunStages.AwaitingApproval, v2Waiting.Status?.Stage);
        Assert.Equal(LifecycleVersions.V2, v2Waiting.Status!.OrchestrationVersion);
        Assert.Equal(2, v2Waiting.Status.Candidates);
        var v2Trained = Assert.Single(await LifecycleSteps.EventsAsync(v2, model, v2Upload, LifecycleEventTypes.ModelTrained)).Data;
        Assert.Equal(2, v2Trained.GetProperty("candidates").GetArrayLength());
        usage = await ledger.GetAsync(model, GridWorkflows.ThisMonth);
        Assert.Contains($"run:{v2Upload}", usage.Applied);
        Assert.Equal(RunStages.AwaitingApproval, (await RunsApi.GetRunAsync(v2.Client, v2Upload))!.Status!.Stage);
        Assert.Equal(1, usage.TrainingRuns);
        Assert.Equal(2, usage.CandidatesTrained);
    }
}
