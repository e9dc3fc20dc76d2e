using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using MLOps.Core.Budgets;
using MLOps.Core.Ports;

namespace MLOps.Infrastructure.Storage;

/// <summary>Budget usage on table <c>budgets</c>: partition = model, row = month (<c>yyyy-MM</c>), typed counters plus
/// the ids of applied reservations and charges (JSON) so retries never charge twice.</summary>
/// <remarks>Concurrency: a new row is added (409 when another writer added it first); an existing row is replaced with
/// If-Match on the ETag read (412 when another writer changed it). Either conflict re-reads and re-applies the change,
/// so concurrent writers serialise and none is lost or doubled. A month holds up to a few thousand applied ids (the
/// 64 KiB property limit, split over properties by <see cref="StorageJson.WriteChunked"/>).</remarks>
public sealed class TableBudgetLedger : IBudgetLedger
{
    private const int MaxAttempts = 64;
    private readonly TableClient _table;

    public TableBudgetLedger(StorageContext storage)
    {
        ArgumentNullException.ThrowIfNull(storage);
        _table = storage.Table(StorageNames.BudgetsTable);
    }

    public async Task<BudgetUsage> GetAsync(string model, string month, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(model);
        ArgumentException.ThrowIfNullOrEmpty(month);
        var row = await _table.GetEntityIfExistsAsync<TableEntity>(TableKeys.Escape(model), month, cancellationToken: cancellationToken);
        return row.HasValue && row.Value is { } entity ? FromEntity(model, month, entity) : new BudgetUsage { Model = model, Month = month };
    }

    public async Task<BudgetUsage> UpdateAsync(string model, string month, Func<BudgetUsage, BudgetUsage?> change, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(change);
        for (var attempt = 1; ; attempt++)
        {
            var current = await GetAsync(model, month, cancellationToken);
            var next = change(current);
            if (next is null)
            {
                return current;
            }

            var entity = ToEntity(next);
            try
            {
                Response response = current.ETag is null
                    ? await _table.AddEntityAsync(entity, cancellationToken)
                    : await _table.UpdateEntityAsync(entity, new ETag(current.ETag), TableUpdateMode.Replace, cancellationToken);
                return next with { ETag = response.Headers.ETag?.ToString() };
            }
            catch (RequestFailedException ex) when (ex.Status is 409 or 412 && attempt < MaxAttempts)
            {
                // Another writer got there first: read its result and apply the change again, after a short jittered pause.
                await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(5, 20 + 10 * Math.Min(attempt, 10))), cancellationToken);
            }
        }
    }

    private static TableEntity ToEntity(BudgetUsage usage)
    {
        var entity = new TableEntity(TableKeys.Escape(usage.Model), usage.Month)
        {
            ["Model"] = usage.Model,
            ["TrainingRuns"] = usage.TrainingRuns,
            ["CandidatesTrained"] = usage.CandidatesTrained,
            ["ComputeSeconds"] = usage.ComputeSeconds,
            ["StorageBytes"] = usage.StorageBytes,
            ["Cost"] = usage.Cost,
            ["Warned"] = string.Join(",", usage.Warned),
        };
        StorageJson.WriteChunked(entity, "Applied", JsonSerializer.Serialize(usage.Applied, StorageJson.Options));
        return entity;
    }

    private static BudgetUsage FromEntity(string model, string month, TableEntity entity)
    {
        var applied = StorageJson.ReadChunked(entity, "Applied");
        var warned = entity.GetString("Warned");
        return new BudgetUsage
        {
            Model = model,
            Month = month,
            TrainingRuns = entity.GetInt32("TrainingRuns") ?? 0,
            CandidatesTrained = entity.GetInt32("CandidatesTrained") ?? 0,
            ComputeSeconds = entity.GetDouble("ComputeSeconds") ?? 0,
            StorageBytes = entity.GetInt64("StorageBytes") ?? 0,
            Cost = entity.GetDouble("Cost") ?? 0,
            Applied = string.IsNullOrEmpty(applied) ? [] : JsonSerializer.Deserialize<List<string>>(applied, StorageJson.Options) ?? [],
            Warned = string.IsNullOrEmpty(warned) ? [] : warned.Split(','),
            ETag = entity.ETag.ToString(),
        };
    }
}
