using Azure.Data.Tables;
using MLOps.Core.Events;
using MLOps.Core.Ports;
using MLOps.Infrastructure.Storage;
using MLOps.Integration.Tests.Fixtures;

namespace MLOps.Integration.Tests.Infrastructure;

public sealed class TableAuditTrailTests(AzuriteFixture azurite) : StorageTestBase(azurite)
{
    private IAuditTrail Trail => Get<IAuditTrail>();

    private static LifecycleEvent Event(string model, string id, int n) => LifecycleEvent.Create(
        id, LifecycleEventTypes.VersionRegistered, model, $"models/{model}/versions/{n}",
        new DateTimeOffset(2026, 11, 1, 12, 0, 0, TimeSpan.FromHours(1)).AddTicks(1234567 * n), new { version = n, note = "é \"q\"" }, "alice");

    [Fact]
    public async Task AppendAsync_ChainVerifies_AndRoundTripsEvents()
    {
        for (var i = 1; i <= 5; i++)
        {
            await Trail.AppendAsync(Event("m", $"e{i}", i));
        }

        var entries = await Trail.ReadAsync("m");
        var verification = await Trail.VerifyAsync("m");

        Assert.True(verification.Valid, verification.Message);
        Assert.Equal(5, verification.Entries);
        Assert.Equal([1L, 2, 3, 4, 5], entries.Select(e => e.Sequence));
        Assert.Equal("", entries[0].PreviousHash);
        Assert.Equal(entries[0].Hash, entries[1].PreviousHash);
        Assert.Equal(Event("m", "e3", 3).Time, entries[2].Event.Time);
        Assert.Equal(3, entries[2].Event.Data.GetProperty("version").GetInt32());
    }

    [Fact]
    public async Task AppendAsync_SameEventIdAgain_ReturnsFirstEntry()
    {
        var first = await Trail.AppendAsync(Event("i", "dup", 1));
        await Trail.AppendAsync(Event("i", "other", 2));
        var again = await Trail.AppendAsync(Event("i", "dup", 1));

        Assert.Equal(first.Sequence, again.Sequence);
        Assert.Equal(first.Hash, again.Hash);
        Assert.Equal(2, (await Trail.ReadAsync("i")).Count);
    }

    [Fact]
    public async Task VerifyAsync_EntityModifiedDirectly_ReportsBrokenSequence()
    {
        for (var i = 1; i <= 5; i++)
        {
            await Trail.AppendAsync(Event("t", $"e{i}", i));
        }

        var table = Storage.Table(StorageNames.AuditTable);
        var entity = (await table.GetEntityAsync<TableEntity>("t", "000000000003")).Value;
        entity["Actor"] = "mallory";
        await table.UpdateEntityAsync(entity, entity.ETag, TableUpdateMode.Replace);

        var verification = await Trail.VerifyAsync("t");

        Assert.False(verification.Valid);
        Assert.Equal(3, verification.FirstBrokenSequence);
    }

    [Fact]
    public async Task VerifyAsync_MiddleEntryDeleted_ReportsGap()
    {
        for (var i = 1; i <= 3; i++)
        {
            await Trail.AppendAsync(Event("d", $"e{i}", i));
        }

        await Storage.Table(StorageNames.AuditTable).DeleteEntityAsync("d", "000000000002");

        var verification = await Trail.VerifyAsync("d");

        Assert.False(verification.Valid);
        Assert.Equal(3, verification.FirstBrokenSequence);
    }

    [Fact]
    public async Task AppendAsync_WriterStoppedAfterMovingHead_NextAppendFillsTheGap()
    {
        for (var i = 1; i <= 3; i++)
        {
            await Trail.AppendAsync(Event("g", $"e{i}", i));
        }

        // As if the writer of entry 3 stopped after moving the head: the entry row and its index are missing.
        var table = Storage.Table(StorageNames.AuditTable);
        await table.DeleteEntityAsync("g", "000000000003");
        await table.DeleteEntityAsync("g", "event|e3");

        var fourth = await Trail.AppendAsync(Event("g", "e4", 4));
        var retried = await Trail.AppendAsync(Event("g", "e3", 3));

        Assert.Equal(4, fourth.Sequence);
        Assert.Equal(3, retried.Sequence);
        var verification = await Trail.VerifyAsync("g");
        Assert.True(verification.Valid, verification.Message);
        Assert.Equal(4, verification.Entries);
    }

    [Fact]
    public async Task AppendAsync_Concurrent_ProducesGapFreeChain()
    {
        var appended = await Task.WhenAll(Enumerable.Range(1, 20).Select(i => Task.Run(() => Trail.AppendAsync(Event("c", $"e{i}", i)))));
        var duplicates = await Task.WhenAll(Enumerable.Range(1, 4).Select(_ => Task.Run(() => Trail.AppendAsync(Event("c", "e7", 7)))));

        var verification = await Trail.VerifyAsync("c");

        Assert.True(verification.Valid, verification.Message);
        Assert.Equal(20, verification.Entries);
        Assert.Equal(Enumerable.Range(1, 20).Select(i => (long)i), appended.Select(a => a.Sequence).Order());
        Assert.All(duplicates, d => Assert.Equal(appended[6].Sequence, d.Sequence));
    }
}
