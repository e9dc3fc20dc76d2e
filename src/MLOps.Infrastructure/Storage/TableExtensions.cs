using Azure;
using Azure.Data.Tables;

namespace MLOps.Infrastructure.Storage;

internal static class TableExtensions
{
    /// <summary>Reads one entity; null when it does not exist.</summary>
    public static async Task<TableEntity?> FindAsync(this TableClient table, string partitionKey, string rowKey, CancellationToken cancellationToken)
    {
        var response = await table.GetEntityIfExistsAsync<TableEntity>(partitionKey, rowKey, cancellationToken: cancellationToken);
        return response.HasValue ? response.Value : null;
    }

    /// <summary>All rows of a partition whose row key starts with <paramref name="prefix"/>, in row key order.</summary>
    public static async Task<List<TableEntity>> QueryPrefixAsync(this TableClient table, string partitionKey, string prefix, int? take, CancellationToken cancellationToken)
    {
        var result = new List<TableEntity>();
        var filter = TableKeys.PrefixFilter(partitionKey, prefix);
        var pageSize = take is { } t ? Math.Min(Math.Max(t, 1), 1000) : (int?)null;
        await foreach (var entity in table.QueryAsync<TableEntity>(filter, maxPerPage: pageSize, cancellationToken: cancellationToken))
        {
            result.Add(entity);
            if (take is { } limit && result.Count >= limit)
            {
                break;
            }
        }

        return result;
    }

    /// <summary>A short randomized pause before retrying after losing an optimistic-concurrency race.</summary>
    public static Task BackoffAsync(int attempt, CancellationToken cancellationToken)
    {
        var ceiling = Math.Min(200, 5 * (1 << Math.Min(attempt, 6)));
#pragma warning disable CA5394 // Jitter, not security.
        return Task.Delay(Random.Shared.Next(1, ceiling + 1), cancellationToken);
#pragma warning restore CA5394
    }

    public static bool IsConflict(this RequestFailedException ex) => ex.Status == 409;

    public static bool IsPreconditionFailed(this RequestFailedException ex) => ex.Status == 412;
}
