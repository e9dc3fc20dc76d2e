using Azure;
using Microsoft.Extensions.Logging;
using MLOps.Infrastructure.Logging;

namespace MLOps.Infrastructure.Storage;

/// <summary>Creates the containers and tables this deployment uses.</summary>
public interface IStorageInitializer
{
    /// <summary>Creates every container and table that does not exist yet. Idempotent.</summary>
    Task EnsureCreatedAsync(CancellationToken cancellationToken = default);
}

/// <inheritdoc />
public sealed class StorageInitializer : IStorageInitializer
{
    private readonly StorageContext _storage;
    private readonly ILogger<StorageInitializer> _logger;

    public StorageInitializer(StorageContext storage, ILogger<StorageInitializer> logger)
    {
        ArgumentNullException.ThrowIfNull(storage);
        ArgumentNullException.ThrowIfNull(logger);
        _storage = storage;
        _logger = logger;
    }

    public async Task EnsureCreatedAsync(CancellationToken cancellationToken = default)
    {
        var tasks = new List<Task>();
        tasks.AddRange(StorageNames.Containers.Select(c => _storage.Container(c).CreateIfNotExistsAsync(cancellationToken: cancellationToken)));
        tasks.AddRange(StorageNames.Tables.Select(t => CreateTableAsync(t, cancellationToken)));
        await Task.WhenAll(tasks);
        _logger.StorageInitialized(StorageNames.Containers.Count, StorageNames.Tables.Count, _storage.Prefix);
    }

    private async Task CreateTableAsync(string name, CancellationToken cancellationToken)
    {
        try
        {
            await _storage.Table(name).CreateIfNotExistsAsync(cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            // Created concurrently (or still being deleted, which a retry later resolves).
        }
    }
}
