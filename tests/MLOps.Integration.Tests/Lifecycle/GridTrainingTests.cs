using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using MLOps.Core.Events;
using MLOps.Core.Ports;
using MLOps.Infrastructure.Storage;
using MLOps.Integration.Tests.Fixtures;
using MLOps.Integration.Tests.Support;
using MLOps.Lifecycle.Contracts;
using MLOps.Lifecycle.Orchestrations;
using Xunit.Abstractions;

namespace MLOps.Integration.Tests.Lifecycle;

/// <summary>A parameter grid on the real local engine and Azurite: the lifecycle run fans out one training activity per
/// candidate, picks the best on the validation split, records every candidate, and continues with the winner.</summary>
[Collection(AzuriteTestGroup.Name)]
public sealed class GridTrainingTests(AzuriteFixture azurite, SharedLocalHost shared, ITestOutputHelper output) : IClassFixture<SharedLocalHost>
{
    [Fact]
    public async Task Grid_FourCandidates_WinnerIsBestByValidationAuc_AndContinuesToApproval()
    {
        const string model = "cr-grid";
        var host = await shared.GetAsync(azurite.ConnectionString);
        await host.Services.GetRequiredService<IWorkflowStore>().RegisterAsync(
            GridWorkflows.CreditRisk(model, grid: "{ leaves: [2, 32], learning_rate: [0.02, 0.3] }", gridOptions: "  select_by: auc\n  max_parallel: 2\n", trees: 40),
            "grid.yaml");

        var runId = await LifecycleSteps.UploadAndStartAsync(host, model, "alice");
        var waiting = await LifecycleSteps.WaitForStageAsync(host.Client, runId, RunStages.AwaitingApproval);
        Assert.True(waiting.Status?.Stage == RunStages.AwaitingApproval, $"{waiting.RuntimeStatus} {waiting.Status?.Stage} {waiting.Status?.Message} {waiting.Failure}");
        Assert.Equal(LifecycleVersions.Current, waiting.Status!.OrchestrationVersion);
        Assert.Equal(4, waiting.Status.Candidates);

        // The ModelTrained event lists every candidate: parameters, model reference, validation and holdout metrics.
        var trained = Assert.Single(await LifecycleSteps.EventsAsync(host, model, runId, LifecycleEventTypes.ModelTrained)).Data;
        Assert.Equal("auc", trained.GetProperty("selectBy").GetString());
        var candidates = trained.GetProperty("candidates").EnumerateArray().ToList();
        Assert.Equal(4, candidates.Count);
        var combos = candidates.Select(c => (c.GetProperty("parameters").GetProperty("leaves").GetDouble(), c.GetProperty("parameters").GetProperty("learning_rate").GetDouble())).ToHashSet();
        Assert.Equal(4, combos.Count);
        Assert.All(candidates, c => Assert.Equal(40, c.GetProperty("parameters").GetProperty("trees").GetDouble()));
        var validationAuc = candidates.Select(c => c.GetProperty("validationMetrics").GetProperty("auc").GetDouble()).ToList();
        foreach (var c in candidates)
        {
            output.WriteLine($"candidate {c.GetProperty("index").GetInt32()}: leaves={c.GetProperty("parameters").GetProperty("leaves")} lr={c.GetProperty("parameters").GetProperty("learning_rate")} " +
                             $"validation auc={c.GetProperty("validationMetrics").GetProperty("auc").GetDouble():F4} holdout auc={c.GetProperty("holdoutMetrics").GetProperty("auc").GetDouble():F4} " +
                             $"{c.GetProperty("trainSeconds").GetDouble():F2} s, {c.GetProperty("modelBytes").GetInt64()} bytes");
        }

        // The candidates really differ, and the winner is the best one by validation AUC (computed here, independently).
        Assert.True(validationAuc.Max() - validationAuc.Min() > 0.005, $"the candidates should differ: {string.Join(", ", validationAuc)}");
        var best = validationAuc.IndexOf(validationAuc.Max());
        var winner = candidates[best];
        Assert.Equal(winner.GetProperty("index").GetInt32(), trained.GetProperty("winner").GetInt32());
        Assert.Equal(winner.GetProperty("holdoutMetrics").GetProperty("auc").GetDouble(), trained.GetProperty("metrics").GetProperty("auc").GetDouble());
        Assert.Equal(winner.GetProperty("holdoutMetrics").GetProperty("auc").GetDouble(), waiting.Status.Metrics!["auc"]);

        // The version registered is the winner's model; the holdout is the same size a run without a grid has, and
        // the winner was fitted on the training part minus the validation share.
        var version = await host.Services.GetRequiredService<IModelRegistry>().GetVersionAsync(model, waiting.Status.Version!.Value);
        Assert.Equal(winner.GetProperty("modelUri").GetString(), version!.ArtifactUri);
        Assert.Contains($"/runs/{runId}/candidates/{best}/model.zip", version.ArtifactUri, StringComparison.Ordinal);
        Assert.InRange(trained.GetProperty("holdoutRows").GetInt64(), 1080, 1320);
        Assert.InRange(trained.GetProperty("trainRows").GetInt64(), 3600, 4080);

        // Evidence: the gates' evaluation file keeps every candidate's metrics too.
        var gates = Assert.Single(await LifecycleSteps.EventsAsync(host, model, runId, LifecycleEventTypes.GatesEvaluated)).Data;
        var evidence = await host.Services.GetRequiredService<IArtifactStore>().ReadJsonAsync<JsonElement>(gates.GetProperty("evidenceUri").GetString()!);
        Assert.Equal("auc", evidence.GetProperty("SelectBy").GetString());
        Assert.Equal(4, evidence.GetProperty("Candidates").GetArrayLength());

        // Each candidate stored its own model; history never held one (the run's input/status carry references only).
        var artifacts = host.Services.GetRequiredService<StorageContext>().Container(StorageNames.Artifacts);
        for (var i = 0; i < 4; i++)
        {
            Assert.True(await artifacts.GetBlobClient($"{model}/runs/{runId}/candidates/{i}/model.zip").ExistsAsync());
        }

        // Budget usage was charged for all four candidates (no budget declared: measured, not enforced).
        var budget = await host.Services.GetRequiredService<IBudgetLedger>().GetAsync(model, GridWorkflows.ThisMonth);
        Assert.Equal(4, budget.CandidatesTrained);
        Assert.Equal(candidates.Sum(c => c.GetProperty("trainSeconds").GetDouble()), budget.ComputeSeconds, 6);
        Assert.Equal(candidates.Sum(c => c.GetProperty("modelBytes").GetInt64()), budget.StorageBytes);
    }
}
