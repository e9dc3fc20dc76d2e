using MLOps.Core.Monitoring;
using MLOps.Core.Ports;
using MLOps.Core.Training;
using MLOps.Integration.Tests.Fixtures;

namespace MLOps.Integration.Tests.Infrastructure;

public sealed class BlobInferenceStoreTests(AzuriteFixture azurite) : StorageTestBase(azurite)
{
    private IInferenceStore Store => Get<IInferenceStore>();

    private static InferenceRecord Record(string id, DateTimeOffset at) => new()
    {
        RequestId = id,
        Model = "credit-risk",
        Version = 3,
        Timestamp = at,
        Rows = [new Dictionary<string, string?> { ["age"] = "42", ["income"] = null }],
        Predictions = [new Prediction(0.7, 0.66, "true")],
    };

    [Fact]
    public async Task ReadAsync_ReturnsOnlyTheWindow_OldestFirst()
    {
        var t0 = new DateTimeOffset(2026, 11, 30, 22, 50, 0, TimeSpan.Zero);
        var times = new[] { -90, -5, 0, 20, 75, 130, 200 }.Select(m => t0.AddMinutes(m)).ToArray();
        for (var i = 0; i < times.Length; i++)
        {
            await Store.CaptureAsync(Record($"req-{i}", times[i]));
        }

        await Store.CaptureAsync(Record("other-model", t0) with { Model = "other" });

        var read = new List<InferenceRecord>();
        await foreach (var r in Store.ReadAsync("credit-risk", t0, t0.AddMinutes(130)))
        {
            read.Add(r);
        }

        Assert.Equal(["req-2", "req-3", "req-4"], read.Select(r => r.RequestId));
        Assert.Equal(times[2], read[0].Timestamp);
        Assert.Equal("42", read[0].Rows[0]["age"]);
        Assert.Null(read[0].Rows[0]["income"]);
        Assert.Equal(0.66, read[0].Predictions[0].Probability);
    }

    [Fact]
    public async Task ReadAsync_CaptureThatIsNotARecord_ThrowsInvalidDataNamingTheBlobAndPosition()
    {
        var t0 = new DateTimeOffset(2026, 11, 30, 10, 0, 0, TimeSpan.Zero);
        await Store.CaptureAsync(Record("good", t0));
        await Store.CaptureAsync(Record("cut", t0.AddMinutes(1)));
        await Store.CaptureAsync(Record("null", t0.AddMinutes(2)));
        var container = Storage.Container(MLOps.Infrastructure.Storage.StorageNames.Inference);
        const string cut = "credit-risk/2026/11/30/10/100100000-cut.json";
        await container.GetBlobClient(cut).UploadAsync(BinaryData.FromString("{\"requestId\":\"cut\",\n\"rows\":[{\"age\":4"), overwrite: true);

        var error = await Assert.ThrowsAsync<InvalidDataException>(() => ReadAllAsync(t0, t0.AddMinutes(2)));
        Assert.StartsWith($"capture '{cut}' is not a valid inference record at line 2", error.Message, StringComparison.Ordinal);

        // A capture holding JSON null is no record either.
        const string empty = "credit-risk/2026/11/30/10/100200000-null.json";
        await container.GetBlobClient(empty).UploadAsync(BinaryData.FromString("null"), overwrite: true);
        error = await Assert.ThrowsAsync<InvalidDataException>(() => ReadAllAsync(t0.AddMinutes(2), t0.AddMinutes(3)));
        Assert.Equal($"capture '{empty}' holds no inference record (JSON null)", error.Message);
    }

    private async Task<int> ReadAllAsync(DateTimeOffset from, DateTimeOffset to)
    {
        var count = 0;
        await foreach (var _ in Store.ReadAsync("credit-risk", from, to))
        {
            count++;
        }

        return count;
    }

    [Fact]
    public async Task CaptureAsync_UsesHourPartitionedName()
    {
        var at = new DateTimeOffset(2026, 1, 2, 3, 4, 5, 678, TimeSpan.FromHours(2));
        await Store.CaptureAsync(Record("abc", at));

        var names = new List<string>();
        await foreach (var blob in Storage.Container(MLOps.Infrastructure.Storage.StorageNames.Inference).GetBlobsAsync(
            Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, null, default))
        {
            names.Add(blob.Name);
        }

        Assert.Equal(["credit-risk/2026/01/02/01/010405678-abc.json"], names);
    }
}
