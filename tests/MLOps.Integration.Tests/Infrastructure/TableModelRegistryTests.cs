using MLOps.Core.Ports;
using MLOps.Core.Registry;
using MLOps.Integration.Tests.Fixtures;

namespace MLOps.Integration.Tests.Infrastructure;

public sealed class TableModelRegistryTests(AzuriteFixture azurite) : StorageTestBase(azurite)
{
    private IModelRegistry Registry => Get<IModelRegistry>();

    private static NewModelVersion Candidate(string model, string runId) => new()
    {
        Model = model,
        RunId = runId,
        ArtifactUri = $"http://x/{runId}/model.zip",
        ArtifactSha256 = "aa",
        DatasetSha256 = "bb",
        WorkflowHash = "cc",
        Trainer = "fasttree",
        Metrics = new Dictionary<string, double> { ["auc"] = 0.81, ["log_loss"] = double.NaN },
        CreatedBy = "alice",
    };

    [Fact]
    public async Task RegisterVersionAsync_Sequential_NumbersFromOne()
    {
        var v1 = await Registry.RegisterVersionAsync(Candidate("m", "r1"));
        var v2 = await Registry.RegisterVersionAsync(Candidate("m", "r2"));
        var again = await Registry.RegisterVersionAsync(Candidate("m", "r1"));

        Assert.Equal(1, v1.Version);
        Assert.Equal(2, v2.Version);
        Assert.Equal(1, again.Version);
        Assert.Equal(ModelVersionStatus.PendingApproval, v1.Status);
        Assert.Equal(0.81, v1.Metrics["auc"]);
        Assert.True(double.IsNaN(v1.Metrics["log_loss"]));
        Assert.NotNull(v1.ETag);
        Assert.Equal([1, 2], (await Registry.ListVersionsAsync("m")).Select(v => v.Version));
    }

    [Fact]
    public async Task RegisterVersionAsync_ConcurrentDifferentRuns_GetDistinctGapFreeNumbers()
    {
        var results = await Task.WhenAll(Enumerable.Range(0, 12).Select(i => Registry.RegisterVersionAsync(Candidate("c", $"run-{i}"))));

        Assert.Equal(Enumerable.Range(1, 12), results.Select(r => r.Version).Order());
        Assert.Equal(12, (await Registry.ListVersionsAsync("c")).Count);
    }

    [Fact]
    public async Task RegisterVersionAsync_ConcurrentSameRun_RegistersOneVersion()
    {
        var results = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => Registry.RegisterVersionAsync(Candidate("s", "same/run#1"))));

        Assert.Single(results.Select(r => r.Version).Distinct());
        var versions = await Registry.ListVersionsAsync("s");
        Assert.Single(versions);
        Assert.Equal("same/run#1", versions[0].RunId);
    }

    [Fact]
    public async Task SetStatusAsync_RecordsDecisionAndChangesETag()
    {
        var v = await Registry.RegisterVersionAsync(Candidate("m", "r"));

        var approved = await Registry.SetStatusAsync("m", v.Version, ModelVersionStatus.Approved, "bob", "looks good", ["bob", "carol"]);
        var read = await Registry.GetVersionAsync("m", v.Version);

        Assert.Equal(ModelVersionStatus.Approved, approved.Status);
        Assert.NotEqual(v.ETag, approved.ETag);
        Assert.NotNull(read);
        Assert.Equal(ModelVersionStatus.Approved, read.Status);
        Assert.Equal(["bob", "carol"], read.ApprovedBy);
        Assert.Equal("bob", read.DecisionBy);
        Assert.Equal("looks good", read.DecisionReason);
        Assert.NotNull(read.DecidedAt);
        await Assert.ThrowsAsync<KeyNotFoundException>(() => Registry.SetStatusAsync("m", 99, ModelVersionStatus.Approved, "bob", null));
    }

    [Fact]
    public async Task SetAliasAsync_TwoWritersWithSameETag_ExactlyOneWins()
    {
        for (var i = 0; i < 3; i++)
        {
            await Registry.RegisterVersionAsync(Candidate("a", $"r{i}"));
        }

        var first = await Registry.SetAliasAsync("a", Aliases.Production, 1, "ops", "first", expectedETag: null);
        await Assert.ThrowsAsync<ConcurrencyException>(() => Registry.SetAliasAsync("a", Aliases.Production, 2, "ops", "again", expectedETag: null));

        var outcomes = await Task.WhenAll(
            Attempt(() => Registry.SetAliasAsync("a", Aliases.Production, 2, "w1", "promote 2", first.ETag)),
            Attempt(() => Registry.SetAliasAsync("a", Aliases.Production, 3, "w2", "promote 3", first.ETag)));

        Assert.Equal(1, outcomes.Count(o => o is null));
        Assert.Equal(1, outcomes.Count(o => o is ConcurrencyException));
        var current = await Registry.GetAliasAsync("a", Aliases.Production);
        Assert.NotNull(current);
        Assert.Equal(1, current.PreviousVersion);
        Assert.Equal(2, (await Registry.GetAliasHistoryAsync("a", Aliases.Production)).Count);
    }

    [Fact]
    public async Task SetAliasAsync_History_OldestFirstWithPreviousVersion()
    {
        for (var i = 0; i < 3; i++)
        {
            await Registry.RegisterVersionAsync(Candidate("h", $"r{i}"));
        }

        var a = await Registry.SetAliasAsync("h", Aliases.Production, 1, "ops", "initial", null);
        var b = await Registry.SetAliasAsync("h", Aliases.Production, 2, "ops", "promote", a.ETag);
        var c = await Registry.SetAliasAsync("h", Aliases.Production, 3, "ops", "promote", b.ETag);
        var d = await Registry.SetAliasAsync("h", Aliases.Production, 1, "ops", "rollback", "\"stale\"", force: true);

        var history = await Registry.GetAliasHistoryAsync("h", Aliases.Production);

        Assert.Equal([1, 2, 3, 1], history.Select(h => h.Version));
        Assert.Equal([null, 1, 2, 3], history.Select(h => h.PreviousVersion));
        Assert.Equal("rollback", history[^1].Reason);
        Assert.Equal(3, d.PreviousVersion);
        Assert.NotEqual(c.ETag, d.ETag);
        await Assert.ThrowsAsync<ConcurrencyException>(() => Registry.SetAliasAsync("h", Aliases.Production, 2, "ops", "stale", c.ETag));
        await Assert.ThrowsAsync<KeyNotFoundException>(() => Registry.SetAliasAsync("h", Aliases.Production, 42, "ops", "no such", null, force: true));
    }

    [Fact]
    public async Task RegisterDatasetAsync_IsIdempotent_AndModelsAreListed()
    {
        var dataset = new DatasetRecord
        {
            Model = "d1",
            Sha256 = "ABCDEF",
            Source = "d1/2026-11.csv",
            SnapshotUri = "http://x/lineage/d1/abcdef.csv",
            Rows = 10,
            Bytes = 100,
            Columns = ["a", "b"],
        };

        var first = await Registry.RegisterDatasetAsync(dataset);
        var second = await Registry.RegisterDatasetAsync(dataset with { Rows = 999 });
        await Registry.RegisterVersionAsync(Candidate("v1", "r"));

        Assert.Equal(10, second.Rows);
        Assert.Equal(["a", "b"], (await Registry.GetDatasetAsync("d1", "abcdef"))!.Columns);
        Assert.Single(await Registry.ListDatasetsAsync("d1"));
        Assert.Equal(first.Sha256, second.Sha256);
        Assert.Equal(["d1", "v1"], await Registry.ListModelsAsync());
    }

    private static async Task<Exception?> Attempt(Func<Task> action)
    {
        try
        {
            await action();
            return null;
        }
        catch (ConcurrencyException ex)
        {
            return ex;
        }
    }
}
