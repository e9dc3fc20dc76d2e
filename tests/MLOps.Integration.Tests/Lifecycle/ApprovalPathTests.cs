using System.Diagnostics;
using Azure.Storage.Blobs;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using MLOps.Core.Events;
using MLOps.Core.Ports;
using MLOps.Core.Registry;
using MLOps.Infrastructure.Storage;
using MLOps.Integration.Tests.Fixtures;
using MLOps.Integration.Tests.Support;
using MLOps.Lifecycle.Contracts;
using MLOps.Lifecycle.Handlers;
using MLOps.Lifecycle.Orchestrations;
using MLOps.Local;
using MLOps.Local.Durable;
using Xunit.Abstractions;

namespace MLOps.Integration.Tests.Lifecycle;

/// <summary>The real <c>LifecycleOrchestrator</c> with its real activities on the local durable engine and Azurite:
/// every way a run can end besides a plain approval. Each test uses a workflow variant with a model name of its own,
/// so the tests share one host without seeing each other's runs, versions or events.</summary>
[Collection(AzuriteTestGroup.Name)]
public sealed class ApprovalPathTests(AzuriteFixture azurite, SharedLocalHost shared, ITestOutputHelper output) : IClassFixture<SharedLocalHost>
{
    private const string Author = "alice";

    private async Task<(LocalHost Host, StoredWorkflow Workflow)> SetUpAsync(string yaml)
    {
        var host = await shared.GetAsync(azurite.ConnectionString);
        var workflow = await host.Services.GetRequiredService<IWorkflowStore>().RegisterAsync(yaml, "test.yaml");
        return (host, workflow);
    }

    private static Task<ModelVersion?> VersionAsync(LocalHost host, string model, int version) =>
        host.Services.GetRequiredService<IModelRegistry>().GetVersionAsync(model, version);

    /// <summary>Raises a decision straight on the run's approval sub-orchestration (bypassing the API's checks), once
    /// it runs: an event for an instance that does not exist yet may be discarded.</summary>
    private static async Task RaiseAsync(LocalHost host, string runId, string approver, bool approved, string? comment = null)
    {
        var approvalId = ApprovalOrchestrator.InstanceIdFor(runId);
        await host.Client.WaitForStateAsync(approvalId, m => m.RuntimeStatus == OrchestrationRuntimeStatus.Running, TimeSpan.FromSeconds(30));
        await host.Client.RaiseEventAsync(approvalId, ApprovalDecision.EventName, new ApprovalDecision { Approver = approver, Approved = approved, Comment = comment });
    }

    [Fact]
    public async Task Reject_ByNonAuthor_EndsRejectedAndRecordsItOnTheVersion()
    {
        const string model = "cr-reject";
        var (host, _) = await SetUpAsync(TestWorkflows.CreditRisk(model));
        var runId = await LifecycleSteps.UploadAndStartAsync(host, model, Author);
        var waiting = await LifecycleSteps.WaitForStageAsync(host.Client, runId, RunStages.AwaitingApproval);
        Assert.Equal(RunStages.AwaitingApproval, waiting.Status?.Stage);

        // Through the handler behind POST /runs/{id}/reject, as a person who is not the author.
        var runs = host.Services.GetRequiredService<RunsApi>();
        var answer = await runs.DecideAsync(host.Client, runId, approve: false, "bob", "holdout too small");
        Assert.Equal(202, answer.Status);

        var done = await LifecycleSteps.WaitForEndAsync(host.Client, runId);
        Assert.Equal("Completed", done.RuntimeStatus);
        Assert.Equal(RunOutcome.Rejected, done.Result!.Outcome);
        Assert.Equal("rejected by bob: holdout too small", done.Result.Reason);
        Assert.Equal(RunStages.Rejected, done.Status!.Stage);

        var version = await VersionAsync(host, model, done.Result.Version!.Value);
        Assert.NotNull(version);
        Assert.Equal(ModelVersionStatus.Rejected, version.Status);
        Assert.Equal("bob", version.DecisionBy);
        Assert.Contains("holdout too small", version.DecisionReason, StringComparison.Ordinal);
        Assert.Null(await host.Services.GetRequiredService<IModelRegistry>().GetAliasAsync(model, Aliases.Production));

        var recorded = Assert.Single(await LifecycleSteps.EventsAsync(host, model, runId, LifecycleEventTypes.ApprovalRecorded));
        Assert.False(recorded.Data.GetProperty("approved").GetBoolean());
        Assert.Equal("bob", recorded.Data.GetProperty("approver").GetString());
        Assert.Equal("bob", recorded.Actor);
        Assert.Empty(await LifecycleSteps.EventsAsync(host, model, runId, LifecycleEventTypes.Deployed));
    }

    [Fact]
    public async Task Approval_NobodyDecidesBeforeTimeout_EndsExpiredNotEarly()
    {
        const string model = "cr-expire";
        var (host, _) = await SetUpAsync(TestWorkflows.CreditRisk(model, timeout: "5s"));
        var runId = await LifecycleSteps.UploadAndStartAsync(host, model, Author);
        var waiting = await LifecycleSteps.WaitForStageAsync(host.Client, runId, RunStages.AwaitingApproval);
        var seenWaiting = Stopwatch.StartNew();
        var deadline = new DateTimeOffset(DateTime.SpecifyKind(waiting.Status!.ApprovalDeadline!.Value, DateTimeKind.Utc));

        var done = await LifecycleSteps.WaitForEndAsync(host.Client, runId);
        seenWaiting.Stop();
        var requested = Assert.Single(await LifecycleSteps.EventsAsync(host, model, runId, LifecycleEventTypes.ApprovalRequested));
        var completed = Assert.Single(await LifecycleSteps.EventsAsync(host, model, runId, LifecycleEventTypes.RunCompleted));
        output.WriteLine($"deadline {deadline:O}; requested {requested.Time:O}; completed {completed.Time:O} " +
                         $"({(completed.Time - requested.Time).TotalSeconds:F2} s after the request, {(completed.Time - deadline).TotalSeconds:F2} s after the deadline); " +
                         $"observed waiting {seenWaiting.Elapsed.TotalSeconds:F2} s");

        Assert.Equal(RunOutcome.ApprovalExpired, done.Result!.Outcome);
        Assert.Contains("approval expired", done.Result.Reason, StringComparison.Ordinal);
        Assert.Contains("0 of 1", done.Result.Reason, StringComparison.Ordinal);
        Assert.Equal(RunStages.ApprovalExpired, done.Status!.Stage);

        // Not early: the orchestration's own clock and the registry's both say the deadline had passed; and not
        // much later either. The deadline is set by the run as it starts to wait; the approval sub-orchestration
        // publishes the request moments later on its own clock.
        Assert.InRange((deadline - requested.Time).TotalSeconds, 4.0, 5.01);
        Assert.True(completed.Time >= deadline, $"the run expired at {completed.Time:O}, before its deadline {deadline:O}");
        Assert.True(completed.Time - deadline < TimeSpan.FromSeconds(10), $"the run expired {(completed.Time - deadline).TotalSeconds:F1} s after its deadline");
        var version = await VersionAsync(host, model, done.Result.Version!.Value);
        Assert.Equal(ModelVersionStatus.Expired, version!.Status);
        Assert.Equal("system", version.DecisionBy);
        Assert.True(version.DecidedAt >= deadline, $"the version was expired at {version.DecidedAt:O}, before the deadline {deadline:O}");
        Assert.Contains("approval expired", version.DecisionReason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Approval_RequiredTwo_SameApproverTwiceCountsOnceThenSecondPersonDeploys()
    {
        const string model = "cr-two";
        var (host, _) = await SetUpAsync(TestWorkflows.CreditRisk(model, required: 2, approvers: ["bob", "carol", "dave"]));
        var runId = await LifecycleSteps.UploadAndStartAsync(host, model, Author);
        await LifecycleSteps.WaitForStageAsync(host.Client, runId, RunStages.AwaitingApproval);

        // Straight on the durable client: the HTTP checks are bypassed, the orchestrator's are not.
        await RaiseAsync(host, runId, "bob", approved: true, "first look");
        await LifecycleSteps.WaitAsync(host.Client, runId, v => v.Status?.Approvals.Count == 1 || LifecycleSteps.IsOver(v), "one approval");
        await RaiseAsync(host, runId, "BOB", approved: true, "again");
        await RaiseAsync(host, runId, "eve", approved: true, "not listed");
        var refused = await LifecycleSteps.WaitForEventsAsync(host, model, runId, LifecycleEventTypes.ApprovalRefused, count: 2);
        Assert.Contains("already approved", refused[0].Data.GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.Equal("BOB", refused[0].Data.GetProperty("approver").GetString());
        Assert.Contains("not among the workflow's approvers", refused[1].Data.GetProperty("reason").GetString(), StringComparison.Ordinal);

        var still = await RunsApi.GetRunAsync(host.Client, runId);
        Assert.Equal("Running", still!.RuntimeStatus);
        Assert.Equal(RunStages.AwaitingApproval, still.Status!.Stage);
        Assert.Equal(["bob"], still.Status.Approvals);
        Assert.Equal(2, still.Status.ApprovalsRequired);

        await RaiseAsync(host, runId, "carol", approved: true, "second look");
        var done = await LifecycleSteps.WaitForEndAsync(host.Client, runId);
        Assert.Equal(RunOutcome.Deployed, done.Result!.Outcome);
        Assert.Equal(["bob", "carol"], done.Result.ApprovedBy);
        var version = await VersionAsync(host, model, done.Result.Version!.Value);
        Assert.Equal(ModelVersionStatus.Approved, version!.Status);
        Assert.Equal(["bob", "carol"], version.ApprovedBy);
        Assert.Equal(done.Result.Version, (await host.Services.GetRequiredService<IModelRegistry>().GetAliasAsync(model, Aliases.Production))?.Version);
        Assert.Equal(2, (await LifecycleSteps.EventsAsync(host, model, runId, LifecycleEventTypes.ApprovalRecorded)).Count);
    }

    [Fact]
    public async Task Approval_ByAuthorRaisedDirectly_IsRefusedAndRunKeepsWaiting()
    {
        const string model = "cr-author";
        var (host, _) = await SetUpAsync(TestWorkflows.CreditRisk(model));
        var runId = await LifecycleSteps.UploadAndStartAsync(host, model, Author);
        await LifecycleSteps.WaitForStageAsync(host.Client, runId, RunStages.AwaitingApproval);

        await RaiseAsync(host, runId, "Alice", approved: true, "my own work is fine");
        var refused = Assert.Single(await LifecycleSteps.WaitForEventsAsync(host, model, runId, LifecycleEventTypes.ApprovalRefused));
        Assert.Contains("is the author of this run", refused.Data.GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.Equal("Alice", refused.Actor);

        var still = await RunsApi.GetRunAsync(host.Client, runId);
        Assert.Equal("Running", still!.RuntimeStatus);
        Assert.Equal(RunStages.AwaitingApproval, still.Status!.Stage);
        Assert.Empty(still.Status.Approvals);
        Assert.Empty(await LifecycleSteps.EventsAsync(host, model, runId, LifecycleEventTypes.ApprovalRecorded));
        Assert.Equal(ModelVersionStatus.PendingApproval, (await VersionAsync(host, model, still.Status.Version!.Value))!.Status);

        // Still waiting: someone else's approval completes it.
        await RaiseAsync(host, runId, "bob", approved: true);
        var done = await LifecycleSteps.WaitForEndAsync(host.Client, runId);
        Assert.Equal(RunOutcome.Deployed, done.Result!.Outcome);
        Assert.Equal(["bob"], done.Result.ApprovedBy);
    }

    [Fact]
    public async Task Gates_ImpossibleAucMinimum_EndsGatesFailedWithoutVersion()
    {
        const string model = "cr-gates";
        var (host, _) = await SetUpAsync(TestWorkflows.CreditRisk(model, aucMin: 0.99));
        var runId = await LifecycleSteps.UploadAndStartAsync(host, model, Author);

        var done = await LifecycleSteps.WaitForEndAsync(host.Client, runId);
        Assert.Equal("Completed", done.RuntimeStatus);
        Assert.Equal(RunOutcome.GatesFailed, done.Result!.Outcome);
        Assert.Null(done.Result.Version);
        var failed = Assert.Single(done.Result.Gates!.Results, r => !r.Passed);
        Assert.Equal("auc", failed.Metric);
        Assert.Equal(0.99, failed.Threshold);
        Assert.Contains("(minimum)", failed.Message, StringComparison.Ordinal);
        Assert.Equal($"gates failed: {failed.Message}", done.Result.Reason);
        Assert.Equal(RunStages.GatesFailed, done.Status!.Stage);

        Assert.Empty(await host.Services.GetRequiredService<IModelRegistry>().ListVersionsAsync(model));
        Assert.Empty(await LifecycleSteps.EventsAsync(host, model, runId, LifecycleEventTypes.VersionRegistered));
        Assert.Empty(await LifecycleSteps.EventsAsync(host, model, runId, LifecycleEventTypes.ApprovalRequested));
        var gates = Assert.Single(await LifecycleSteps.EventsAsync(host, model, runId, LifecycleEventTypes.GatesEvaluated));
        Assert.False(gates.Data.GetProperty("passed").GetBoolean());
    }

    [Fact]
    public async Task Training_DatasetUriDoesNotExist_EndsFailedNamingTrainModelActivity()
    {
        const string model = "cr-missing";
        var (host, workflow) = await SetUpAsync(TestWorkflows.CreditRisk(model));
        var missing = new BlobServiceClient(host.StorageConnectionString, new BlobClientOptions(BlobClientOptions.ServiceVersion.V2026_06_06))
            .GetBlobContainerClient(shared.Options.StoragePrefix + StorageNames.Lineage)
            .GetBlobClient($"{model}/{new string('0', 64)}.csv").Uri.ToString();
        var runId = $"{model}-{Guid.NewGuid():N}"[..40];
        var clock = Stopwatch.StartNew();
        Assert.True(await RunStarter.StartOnceAsync(host.Client, new LifecycleRunInput
        {
            RunId = runId,
            Model = model,
            WorkflowHash = workflow.Hash,
            DatasetSha256 = new string('0', 64),
            DatasetUri = missing,
            DatasetRows = 3000,
            Trigger = RunTriggers.Manual,
            Author = Author,
        }, CancellationToken.None));

        var done = await LifecycleSteps.WaitForEndAsync(host.Client, runId, TimeSpan.FromSeconds(60));
        clock.Stop();
        output.WriteLine($"failed after {clock.Elapsed.TotalSeconds:F2} s: {done.Result?.Reason}");
        Assert.Equal("Completed", done.RuntimeStatus);
        Assert.Equal(RunOutcome.Failed, done.Result!.Outcome);
        Assert.StartsWith("TrainModelActivity failed:", done.Result.Reason, StringComparison.Ordinal);
        Assert.Equal(RunStages.Failed, done.Status!.Stage);
        Assert.Null(done.Result.Version);
        Assert.Empty(await host.Services.GetRequiredService<IModelRegistry>().ListVersionsAsync(model));
        var completed = Assert.Single(await LifecycleSteps.EventsAsync(host, model, runId, LifecycleEventTypes.RunCompleted));
        Assert.Equal("Failed", completed.Data.GetProperty("outcome").GetString());
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"failing took {clock.Elapsed.TotalSeconds:F1} s");
    }

    [Fact]
    public async Task Workflow_EditedWhileRunWaits_RunFinishesUnderItsPinnedHash()
    {
        const string model = "cr-edit";
        var (host, original) = await SetUpAsync(TestWorkflows.CreditRisk(model, comment: "original"));
        var runId = await LifecycleSteps.UploadAndStartAsync(host, model, Author);
        var waiting = await LifecycleSteps.WaitForStageAsync(host.Client, runId, RunStages.AwaitingApproval);
        Assert.Equal(original.Hash, waiting.Input!.WorkflowHash);

        // The file is edited: another comment, two approvers and an impossible gate. Later runs get it; this one must not.
        var edited = await host.Services.GetRequiredService<IWorkflowStore>().RegisterAsync(
            TestWorkflows.CreditRisk(model, required: 2, aucMin: 0.99, comment: "edited"), "test.yaml");
        Assert.NotEqual(original.Hash, edited.Hash);
        Assert.Equal(edited.Hash, (await host.Services.GetRequiredService<IWorkflowStore>().GetCurrentAsync(model))!.Hash);

        var answer = await host.Services.GetRequiredService<RunsApi>().DecideAsync(host.Client, runId, approve: true, "bob", "fine");
        Assert.Equal(202, answer.Status);
        var done = await LifecycleSteps.WaitForEndAsync(host.Client, runId);
        Assert.Equal(RunOutcome.Deployed, done.Result!.Outcome);
        Assert.Equal(original.Hash, done.Input!.WorkflowHash);
        Assert.Equal(original.Hash, done.Status!.WorkflowHash);
        Assert.Equal(1, done.Status.ApprovalsRequired);
        var version = await VersionAsync(host, model, done.Result.Version!.Value);
        Assert.Equal(original.Hash, version!.WorkflowHash);
        Assert.Equal(ModelVersionStatus.Approved, version.Status);
    }
}
