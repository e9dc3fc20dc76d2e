using System.Security.Cryptography;
using MLOps.Core.Ports;
using MLOps.Core.Registry;
using MLOps.Integration.Tests.Fixtures;

namespace MLOps.Integration.Tests.Infrastructure;

public sealed class BlobArtifactStoreTests(AzuriteFixture azurite) : StorageTestBase(azurite)
{
    private IArtifactStore Store => Get<IArtifactStore>();

    [Fact]
    public async Task SaveAsync_ReturnsHashLengthAndETagOfContent()
    {
        var bytes = new byte[5 * 1024 * 1024 + 17];
        new Random(7).NextBytes(bytes);

        var saved = await Store.SaveAsync("credit-risk/runs/r1/model.zip", new MemoryStream(bytes));

        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), saved.Sha256);
        Assert.Equal(bytes.Length, saved.Length);
        Assert.False(string.IsNullOrEmpty(saved.ETag));
        await using var read = await Store.OpenReadAsync(saved.Uri);
        using var copy = new MemoryStream();
        await read.CopyToAsync(copy);
        Assert.Equal(bytes, copy.ToArray());
    }

    [Fact]
    public async Task OpenReadRangeAsync_ReadsExactlyTheRange()
    {
        var bytes = new byte[300_000];
        new Random(11).NextBytes(bytes);
        var saved = await Store.SaveAsync("credit-risk/audits/a/partition-0000.profile", new MemoryStream(bytes));

        foreach (var (offset, length) in new (long, long)[] { (0, 12), (12, 1), (123_456, 80_000), (bytes.Length - 8, 8), (5, 0) })
        {
            await using var read = await Store.OpenReadRangeAsync(saved.Uri, offset, length);
            using var copy = new MemoryStream();
            await read.CopyToAsync(copy);
            Assert.Equal(bytes.AsSpan((int)offset, (int)length).ToArray(), copy.ToArray());
        }
    }

    [Fact]
    public async Task SaveJsonAsync_RoundTripsWithEnumsAsStrings()
    {
        var value = new Sample("v", ModelVersionStatus.Approved, double.PositiveInfinity);

        var saved = await Store.SaveJsonAsync("m/evidence.json", value);
        var text = (await Storage.ResolveBlob(saved.Uri).DownloadContentAsync()).Value.Content.ToString();

        Assert.Contains("\"Approved\"", text, StringComparison.Ordinal);
        Assert.Equal(value, await Store.ReadJsonAsync<Sample>(saved.Uri));
    }

    [Fact]
    public async Task ReadJsonAsync_Missing_ReturnsNull()
    {
        var saved = await Store.SaveJsonAsync("m/x.json", new Sample("a", ModelVersionStatus.Rejected, 1));
        Assert.Null(await Store.ReadJsonAsync<Sample>(saved.Uri.Replace("x.json", "y.json", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task ExistsAsync_TellsAStoredArtifactFromAMissingOne()
    {
        var saved = await Store.SaveJsonAsync("m/here.json", new Sample("a", ModelVersionStatus.Approved, 1));

        Assert.True(await Store.ExistsAsync(saved.Uri));
        Assert.False(await Store.ExistsAsync(saved.Uri.Replace("here.json", "here.profile", StringComparison.Ordinal)));
    }

    public sealed record Sample(string Name, ModelVersionStatus Status, double Value);
}
