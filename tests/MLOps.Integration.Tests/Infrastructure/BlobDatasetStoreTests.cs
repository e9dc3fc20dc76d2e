using System.Security.Cryptography;
using System.Text;
using MLOps.Core.Ports;
using MLOps.Core.Registry;
using MLOps.Infrastructure.Storage;
using MLOps.Integration.Tests.Fixtures;

namespace MLOps.Integration.Tests.Infrastructure;

public sealed class BlobDatasetStoreTests(AzuriteFixture azurite) : StorageTestBase(azurite)
{
    private IDatasetStore Store => Get<IDatasetStore>();

    [Fact]
    public async Task SnapshotAsync_CalledTwice_IsIdempotentAndKeepsBytes()
    {
        var bytes = Encoding.UTF8.GetBytes("a,b\n1,2\n");
        await Store.UploadAsync("credit-risk/2026-11.csv", new MemoryStream(bytes));
        var etag = await ETagOfAsync("credit-risk/2026-11.csv");
        var sha = Convert.ToHexStringLower(SHA256.HashData(bytes));

        var first = await Store.SnapshotAsync("credit-risk/2026-11.csv", etag, "credit-risk", sha);
        var second = await Store.SnapshotAsync("credit-risk/2026-11.csv", etag, "credit-risk", sha);

        Assert.Equal(first, second);
        Assert.EndsWith($"{Prefix}lineage/credit-risk/{sha}.csv", first, StringComparison.Ordinal);
        Assert.Equal(bytes, await DownloadAsync(first));
    }

    [Fact]
    public async Task SnapshotAsync_UploadReplacedBeforeSnapshot_ThrowsAndCopiesNothing()
    {
        await Store.UploadAsync("m/data.csv", new MemoryStream("x\n1\n"u8.ToArray()));
        var oldETag = await ETagOfAsync("m/data.csv");
        await Store.UploadAsync("m/data.csv", new MemoryStream("x\n2\n"u8.ToArray()));

        await Assert.ThrowsAsync<ConcurrencyException>(() => Store.SnapshotAsync("m/data.csv", oldETag, "m", "abc"));
        Assert.False(await Storage.Container(StorageNames.Lineage).GetBlobClient("m/abc.csv").ExistsAsync());
    }

    [Fact]
    public async Task SnapshotAsync_RetriedAfterUploadChanged_ReturnsExistingSnapshot()
    {
        var bytes = "x\n1\n"u8.ToArray();
        await Store.UploadAsync("m/data.csv", new MemoryStream(bytes));
        var etag = await ETagOfAsync("m/data.csv");
        var uri = await Store.SnapshotAsync("m/data.csv", etag, "m", "h1");
        await Store.UploadAsync("m/data.csv", new MemoryStream("x\n2\n"u8.ToArray()));

        Assert.Equal(uri, await Store.SnapshotAsync("m/data.csv", etag, "m", "h1"));
        Assert.Equal(bytes, await DownloadAsync(uri));
    }

    [Fact]
    public async Task QuarantineAsync_MovesBytesAndReport_AndIsIdempotent()
    {
        var bytes = "a,b\nbad,row\n"u8.ToArray();
        await Store.UploadAsync("m/bad.csv", new MemoryStream(bytes));
        var etag = await ETagOfAsync("m/bad.csv");

        var uri = await Store.QuarantineAsync("m/bad.csv", etag, """{"isValid":false}""");
        var again = await Store.QuarantineAsync("m/bad.csv", etag, """{"isValid":false}""");

        Assert.Equal(uri, again);
        Assert.Equal(bytes, await DownloadAsync(uri));
        Assert.Equal("""{"isValid":false}""", Encoding.UTF8.GetString(await DownloadAsync(uri + ".report.json")));
        Assert.Null(await Store.OpenUploadAsync("m/bad.csv"));
    }

    [Fact]
    public async Task QuarantineAsync_NewerUploadWithSameName_IsKept()
    {
        await Store.UploadAsync("m/file.csv", new MemoryStream("old\n"u8.ToArray()));
        var oldETag = await ETagOfAsync("m/file.csv");
        var newer = "new\n"u8.ToArray();
        await Store.UploadAsync("m/file.csv", new MemoryStream(newer));

        await Store.QuarantineAsync("m/file.csv", oldETag, "{}");

        await using var still = await Store.OpenUploadAsync("m/file.csv");
        Assert.NotNull(still);
        using var copy = new MemoryStream();
        await still.Content.CopyToAsync(copy);
        Assert.Equal(newer, copy.ToArray());
    }

    [Fact]
    public async Task ListUploadsAndDownload_ReturnNamesETagsAndBytes()
    {
        await Store.UploadAsync("a/1.csv", new MemoryStream("1"u8.ToArray()));
        var uri = await Store.UploadAsync("b/2.csv", new MemoryStream("22"u8.ToArray()));

        var listed = new List<(string Name, string ETag)>();
        await foreach (var item in Store.ListUploadsAsync())
        {
            listed.Add(item);
        }

        Assert.Equal(["a/1.csv", "b/2.csv"], listed.Select(l => l.Name).Order(StringComparer.Ordinal));
        Assert.All(listed, l => Assert.False(string.IsNullOrEmpty(l.ETag)));
        var path = Path.Combine(Path.GetTempPath(), Guid.NewGuid().ToString("N"), "2.csv");
        await Store.DownloadAsync(uri, path);
        Assert.Equal("22", await File.ReadAllTextAsync(path));
        File.Delete(path);
    }

    [Fact]
    public async Task DownloadAsync_OtherAccount_IsRefused()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => Store.DownloadAsync("https://elsewhere.blob.core.windows.net/c/b.csv", Path.GetTempFileName()));
    }

    private async Task<string> ETagOfAsync(string name)
    {
        await using var upload = await Store.OpenUploadAsync(name);
        Assert.NotNull(upload);
        return upload.ETag;
    }

    private async Task<byte[]> DownloadAsync(string uri)
    {
        var content = await Storage.ResolveBlob(uri).DownloadContentAsync();
        return content.Value.Content.ToArray();
    }
}
