using System.Text.Json;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using MLOps.Core.Data;
using MLOps.Core.Ports;

namespace MLOps.Infrastructure.Storage;

/// <summary>Model artifacts and evidence in container <c>artifacts</c>; hashes content while uploading it.</summary>
public sealed class BlobArtifactStore : IArtifactStore
{
    private readonly StorageContext _storage;
    private readonly BlobContainerClient _artifacts;

    public BlobArtifactStore(StorageContext storage)
    {
        ArgumentNullException.ThrowIfNull(storage);
        _storage = storage;
        _artifacts = storage.Container(StorageNames.Artifacts);
    }

    public async Task<ArtifactRef> SaveAsync(string path, Stream content, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(content);
        var blob = _artifacts.GetBlobClient(path);
        await using var hashing = new HashingReadStream(content);
        var uploaded = await blob.UploadAsync(hashing, new BlobUploadOptions(), cancellationToken);
        var sha = hashing.HashHex();

        // The hash is known only once the bytes are sent; record it as metadata guarded by the upload's ETag.
        var info = await blob.SetMetadataAsync(
            new Dictionary<string, string> { ["sha256"] = sha },
            new BlobRequestConditions { IfMatch = uploaded.Value.ETag },
            cancellationToken);
        return new ArtifactRef(blob.Uri.AbsoluteUri, sha, hashing.BytesRead, info.Value.ETag.ToString());
    }

    public async Task<ArtifactRef> SaveJsonAsync<T>(string path, T value, CancellationToken cancellationToken = default)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(value, StorageJson.Options);
        await using var stream = new MemoryStream(bytes, writable: false);
        return await SaveAsync(path, stream, cancellationToken);
    }

    public async Task<Stream> OpenReadAsync(string uri, CancellationToken cancellationToken = default)
    {
        var blob = _storage.ResolveBlob(uri);
        var response = await blob.DownloadStreamingAsync(cancellationToken: cancellationToken);
        return response.Value.Content;
    }

    public async Task<Stream> OpenReadRangeAsync(string uri, long offset, long length, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        if (length == 0)
        {
            return new MemoryStream([], writable: false);
        }

        var blob = _storage.ResolveBlob(uri);
        var response = await blob.DownloadStreamingAsync(new BlobDownloadOptions { Range = new HttpRange(offset, length) }, cancellationToken);
        return response.Value.Content;
    }

    public async Task<T?> ReadJsonAsync<T>(string uri, CancellationToken cancellationToken = default)
    {
        var blob = _storage.ResolveBlob(uri);
        try
        {
            var content = await blob.DownloadContentAsync(cancellationToken);
            return content.Value.Content.ToObjectFromJson<T>(StorageJson.Options);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return default;
        }
    }

    public async Task<bool> ExistsAsync(string uri, CancellationToken cancellationToken = default)
    {
        var blob = _storage.ResolveBlob(uri);
        var exists = await blob.ExistsAsync(cancellationToken);
        return exists.Value;
    }

    public async Task<T?> TryReadJsonAtAsync<T>(string path, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        try
        {
            var content = await _artifacts.GetBlobClient(path).DownloadContentAsync(cancellationToken);
            return content.Value.Content.ToObjectFromJson<T>(StorageJson.Options);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return default;
        }
    }
}
