using Microsoft.Extensions.DependencyInjection;
using MLOps.Core.Budgets;
using MLOps.Core.Events;
using MLOps.Core.Ports;
using MLOps.Infrastructure.Storage;
using MLOps.Integration.Tests.Fixtures;
using MLOps.Integration.Tests.Support;
using MLOps.Lifecycle.Budgets;
using MLOps.Lifecycle.Contracts;
using MLOps.Lifecycle.Handlers;
using Xunit.Abstractions;

namespace MLOps.Integration.Tests.Budgets;

/// <summary>Budgets enforced by real lifecycle runs on the local engine and Azurite: the ledger in Table storage
/// admits or refuses each run before it trains and is charged what training measured.</summary>
[Collection(AzuriteTestGroup.Name)]
public sealed class BudgetEnforcementTests(AzuriteFixture azurite, SharedLocalHost shared, ITestOutputHelper output) : IClassFixture<SharedLocalHost>
{
    [Fact]
    public async Task MonthlyTrainingRunsReached_NextRunRefusedBeforeTraining_WithEventAndFigures()
    {
        const string model = "cr-budget-runs";
        var host = await shared.GetAsync(azurite.ConnectionString);
        await host.Services.GetRequiredService<IWorkflowStore>().RegisterAsync(
            GridWorkflows.CreditRisk(model, budget: "  currency: EUR\n  monthly:\n    training_runs: 1\n    compute_hours: 10\n  per_run: 5\n"), "budget.yaml");

        // The first run of the month is admitted (1 of 1: the 80 % warning fires), trains and waits for approval.
        var first = await LifecycleSteps.UploadAndStartAsync(host, model, "alice", seed: 11);
        var waiting = await LifecycleSteps.WaitForStageAsync(host.Client, first, RunStages.AwaitingApproval);
        Assert.Equal(RunStages.AwaitingApproval, waiting.Status?.Stage);
        var warning = Assert.Single(await LifecycleSteps.EventsAsync(host, model, first, LifecycleEventTypes.BudgetWarning));
        Assert.Equal("training_runs", warning.Data.GetProperty("limit").GetString());
        Assert.Equal(1.0, warning.Data.GetProperty("share").GetDouble());

        // The second is refused before training: outcome, stage, reason with the limit and figures, an event.
        var second = await LifecycleSteps.UploadAndStartAsync(host, model, "alice", seed: 12);
        var refused = await LifecycleSteps.WaitForEndAsync(host.Client, second);
        var month = GridWorkflows.ThisMonth;
        Assert.Equal("Completed", refused.RuntimeStatus);
        Assert.Equal(RunOutcome.BudgetExceeded, refused.Result!.Outcome);
        Assert.Equal($"budget exceeded (training_runs): monthly training_runs limit reached: 1 of 1 runs used in {month}", refused.Result.Reason);
        Assert.Equal(RunStages.BudgetExceeded, refused.Status!.Stage);
        Assert.Equal("training_runs", refused.Result.Budget!.Limit);
        Assert.Null(refused.Result.Version);
        var exceeded = Assert.Single(await LifecycleSteps.EventsAsync(host, model, second, LifecycleEventTypes.BudgetExceeded));
        Assert.Equal("training_runs", exceeded.Data.GetProperty("limit").GetString());
        Assert.Empty(await LifecycleSteps.EventsAsync(host, model, second, LifecycleEventTypes.ModelTrained));
        var artifacts = host.Services.GetRequiredService<StorageContext>().Container(StorageNames.Artifacts);
        Assert.False(await artifacts.GetBlobClient($"{model}/runs/{second}/training.json").ExistsAsync());

        // The ledger counted one run and charged what the first run measured; the API shows usage against limits.
        var ledger = await host.Services.GetRequiredService<IBudgetLedger>().GetAsync(model, month);
        Assert.Equal(1, ledger.TrainingRuns);
        Assert.Equal(1, ledger.CandidatesTrained);
        Assert.True(ledger.ComputeSeconds > 0 && ledger.StorageBytes > 0, $"{ledger.ComputeSeconds} s, {ledger.StorageBytes} bytes");
        Assert.Equal(ledger.ComputeSeconds / 3600 * PriceTable.Default.ComputeHour + ledger.StorageBytes / 1e9 * PriceTable.Default.StorageGbMonth, ledger.Cost, 9);
        var view = await host.Services.GetRequiredService<BudgetApi>().GetAsync(model, null);
        Assert.Equal(200, view.Status);
        var body = Assert.IsType<BudgetView>(view.Body);
        Assert.Equal("EUR", body.Currency);
        Assert.Equal(1, body.TrainingRuns);
        var runs = body.Limits.Single(l => l.Name == "training_runs");
        Assert.Equal((1.0, 1.0, 1.0), (runs.Used, runs.Limit!.Value, runs.Share));
        output.WriteLine($"ledger {month}: {ledger.TrainingRuns} run(s), {ledger.ComputeSeconds:F2} s compute, {ledger.StorageBytes} bytes, cost {ledger.Cost:F6} EUR");
    }

    [Fact]
    public async Task PerRunCap_GridTooLarge_RefusedBeforeAnyCandidateTrains()
    {
        const string model = "cr-budget-cap";
        var host = await shared.GetAsync(azurite.ConnectionString);
        await host.Services.GetRequiredService<IWorkflowStore>().RegisterAsync(
            GridWorkflows.CreditRisk(model, grid: "{ leaves: [4, 8, 16, 32], learning_rate: [0.1, 0.2] }", budget: "  monthly:\n    training_runs: 100\n  per_run: 0.05\n"),
            "cap.yaml");

        var runId = await LifecycleSteps.UploadAndStartAsync(host, model, "alice", seed: 21);
        var done = await LifecycleSteps.WaitForEndAsync(host.Client, runId);

        // 8 candidates x 120 s (no measurement yet this month) x 0.40 per hour = 0.1067 USD > 0.05 USD.
        Assert.Equal(RunOutcome.BudgetExceeded, done.Result!.Outcome);
        Assert.Equal("per_run", done.Result.Budget!.Limit);
        Assert.Equal("budget exceeded (per_run): per_run cap exceeded: 8 candidate(s) x ~120 s are estimated at 0.1067 USD, over the cap of 0.05 USD", done.Result.Reason);
        Assert.Equal(8, done.Result.Budget.Plan!.Candidates);
        var artifacts = host.Services.GetRequiredService<StorageContext>().Container(StorageNames.Artifacts);
        await foreach (var blob in artifacts.GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, $"{model}/runs/{runId}/", default))
        {
            Assert.Fail($"nothing should have been trained, found {blob.Name}");
        }

        var ledger = await host.Services.GetRequiredService<IBudgetLedger>().GetAsync(model, GridWorkflows.ThisMonth);
        Assert.Equal(0, ledger.TrainingRuns);
        Assert.Null(ledger.ETag);
    }
}
