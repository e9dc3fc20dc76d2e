using System.Collections.Concurrent;
using MLOps.Core.Ports;

namespace MLOps.Integration.Tests.Support;

/// <summary>The real artifact store (Blob storage on Azurite) with a record of the reads made through it: which
/// artifacts were read whole as JSON and which ranges were read.</summary>
internal sealed class RecordingArtifactStore(IArtifactStore inner) : IArtifactStore
{
    /// <summary>URIs read whole (JSON or a whole stream), in order.</summary>
    public ConcurrentQueue<string> WholeReads { get; } = new();

    /// <summary>Ranged reads: URI, offset, length.</summary>
    public ConcurrentQueue<(string Uri, long Offset, long Length)> RangeReads { get; } = new();

    public Task<ArtifactRef> SaveAsync(string path, Stream content, CancellationToken cancellationToken = default) => inner.SaveAsync(path, content, cancellationToken);

    public Task<ArtifactRef> SaveJsonAsync<T>(string path, T value, CancellationToken cancellationToken = default) => inner.SaveJsonAsync(path, value, cancellationToken);

    public Task<Stream> OpenReadAsync(string uri, CancellationToken cancellationToken = default)
    {
        WholeReads.Enqueue(uri);
        return inner.OpenReadAsync(uri, cancellationToken);
    }

    public Task<Stream> OpenReadRangeAsync(string uri, long offset, long length, CancellationToken cancellationToken = default)
    {
        RangeReads.Enqueue((uri, offset, length));
        return inner.OpenReadRangeAsync(uri, offset, length, cancellationToken);
    }

    public Task<T?> ReadJsonAsync<T>(string uri, CancellationToken cancellationToken = default)
    {
        WholeReads.Enqueue(uri);
        return inner.ReadJsonAsync<T>(uri, cancellationToken);
    }

    public Task<bool> ExistsAsync(string uri, CancellationToken cancellationToken = default) => inner.ExistsAsync(uri, cancellationToken);

    public Task<T?> TryReadJsonAtAsync<T>(string path, CancellationToken cancellationToken = default) => inner.TryReadJsonAtAsync<T>(path, cancellationToken);
}
