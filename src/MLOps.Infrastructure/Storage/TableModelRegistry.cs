using System.Globalization;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using MLOps.Core.Ports;
using MLOps.Core.Registry;
using MLOps.Core.Rollout;

namespace MLOps.Infrastructure.Storage;

/// <summary>The model registry on table <c>registry</c>, one partition per model.</summary>
/// <remarks>
/// Row keys: <c>dataset|{sha256}</c>, <c>version|{000001}</c>, <c>run|{runId}</c> (which version a run registered),
/// <c>counter</c> (last version number), <c>alias|{name}</c> (current target) and
/// <c>aliashistory|{name}|{0000000001}</c> (every change, oldest first), <c>traffic</c> (the live canary/shadow split, if any). Every write that can race is guarded by
/// an ETag (412) or by insert-only semantics (409); history rows are written one by one, never in a batch.
/// </remarks>
public sealed class TableModelRegistry : IModelRegistry
{
    private const string CounterKey = "counter";
    private const string TrafficKey = "traffic";
    private static readonly TimeSpan StaleClaim = TimeSpan.FromSeconds(30);
    private readonly TableClient _table;
    private readonly TimeProvider _time;

    public TableModelRegistry(StorageContext storage, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(storage);
        ArgumentNullException.ThrowIfNull(time);
        _table = storage.Table(StorageNames.RegistryTable);
        _time = time;
    }

    // ---- datasets -------------------------------------------------------------------------------------------

    public async Task<DatasetRecord> RegisterDatasetAsync(DatasetRecord dataset, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        var entity = new TableEntity(Pk(dataset.Model), DatasetKey(dataset.Sha256))
        {
            ["Model"] = dataset.Model,
            ["Sha256"] = dataset.Sha256,
            ["Source"] = dataset.Source,
            ["SnapshotUri"] = dataset.SnapshotUri,
            ["Rows"] = dataset.Rows,
            ["Bytes"] = dataset.Bytes,
            ["ReportUri"] = dataset.ReportUri,
            ["WorkflowHash"] = dataset.WorkflowHash,
            ["RegisteredAt"] = dataset.RegisteredAt == default ? _time.GetUtcNow() : dataset.RegisteredAt,
        };
        StorageJson.WriteChunked(entity, "Columns", JsonSerializer.Serialize(dataset.Columns, StorageJson.Options));
        try
        {
            await _table.AddEntityAsync(entity, cancellationToken);
            return ToDataset(entity);
        }
        catch (RequestFailedException ex) when (ex.IsConflict())
        {
            return (await GetDatasetAsync(dataset.Model, dataset.Sha256, cancellationToken))!;
        }
    }

    public async Task<DatasetRecord?> GetDatasetAsync(string model, string sha256, CancellationToken cancellationToken = default)
    {
        var entity = await _table.FindAsync(Pk(model), DatasetKey(sha256), cancellationToken);
        return entity is null ? null : ToDataset(entity);
    }

    public async Task<IReadOnlyList<DatasetRecord>> ListDatasetsAsync(string model, CancellationToken cancellationToken = default)
    {
        var rows = await _table.QueryPrefixAsync(Pk(model), "dataset|", null, cancellationToken);
        return [.. rows.Select(ToDataset).OrderBy(d => d.RegisteredAt)];
    }

    // ---- versions -------------------------------------------------------------------------------------------

    public async Task<ModelVersion> RegisterVersionAsync(NewModelVersion candidate, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        ArgumentException.ThrowIfNullOrEmpty(candidate.RunId);
        var pk = Pk(candidate.Model);
        var runKey = "run|" + TableKeys.Escape(candidate.RunId);
        var claimedByMe = false;
        for (var attempt = 0; ; attempt++)
        {
            var run = await _table.FindAsync(pk, runKey, cancellationToken);
            if (run is null)
            {
                // Claim the run first: a concurrent call for the same run then waits for our number instead of
                // drawing its own, so the same run never gets two versions and no number is wasted.
                try
                {
                    await _table.AddEntityAsync(new TableEntity(pk, runKey) { ["Version"] = 0, ["RunId"] = candidate.RunId }, cancellationToken);
                    claimedByMe = true;
                }
                catch (RequestFailedException ex) when (ex.IsConflict())
                {
                }

                continue;
            }

            var version = run.GetInt32("Version") ?? 0;
            if (version > 0)
            {
                return await EnsureVersionRowAsync(candidate, version, cancellationToken);
            }

            if (!claimedByMe && run.Timestamp is { } claimedAt && _time.GetUtcNow() - claimedAt < StaleClaim)
            {
                // Another call for the same run is drawing the number: wait for it.
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(250, 10 * (attempt + 1))), cancellationToken);
                continue;
            }

            var number = await NextVersionNumberAsync(pk, cancellationToken);
            run["Version"] = number;
            try
            {
                await _table.UpdateEntityAsync(run, run.ETag, TableUpdateMode.Replace, cancellationToken);
            }
            catch (RequestFailedException ex) when (ex.IsPreconditionFailed())
            {
                // A stale claim was taken over concurrently; the other writer's number stands.
                claimedByMe = false;
                continue;
            }

            return await EnsureVersionRowAsync(candidate, number, cancellationToken);
        }
    }

    public async Task<ModelVersion?> GetVersionAsync(string model, int version, CancellationToken cancellationToken = default)
    {
        var entity = await _table.FindAsync(Pk(model), VersionKey(version), cancellationToken);
        return entity is null ? null : ToVersion(entity);
    }

    public async Task<IReadOnlyList<ModelVersion>> ListVersionsAsync(string model, CancellationToken cancellationToken = default)
    {
        var rows = await _table.QueryPrefixAsync(Pk(model), "version|", null, cancellationToken);
        return [.. rows.Select(ToVersion)];
    }

    public async Task<IReadOnlyList<string>> ListModelsAsync(CancellationToken cancellationToken = default)
    {
        var filter = TableClient.CreateQueryFilter(
            $"(RowKey ge {"dataset|"} and RowKey lt {TableKeys.UpperBound("dataset|")}) or (RowKey ge {"version|"} and RowKey lt {TableKeys.UpperBound("version|")})");
        var models = new SortedSet<string>(StringComparer.Ordinal);
        await foreach (var entity in _table.QueryAsync<TableEntity>(filter, select: ["PartitionKey"], cancellationToken: cancellationToken))
        {
            models.Add(TableKeys.Unescape(entity.PartitionKey));
        }

        return [.. models];
    }

    public async Task<ModelVersion> SetStatusAsync(string model, int version, ModelVersionStatus status, string actor, string? reason, IReadOnlyList<string>? approvedBy = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(actor);
        for (var attempt = 0; ; attempt++)
        {
            var entity = await _table.FindAsync(Pk(model), VersionKey(version), cancellationToken)
                ?? throw new KeyNotFoundException($"Model '{model}' has no version {version}.");
            entity["Status"] = status.ToString();
            entity["DecisionBy"] = actor;
            entity["DecisionReason"] = reason;
            entity["DecidedAt"] = _time.GetUtcNow();
            if (approvedBy is not null)
            {
                entity["ApprovedBy"] = JsonSerializer.Serialize(approvedBy, StorageJson.Options);
            }

            try
            {
                var response = await _table.UpdateEntityAsync(entity, entity.ETag, TableUpdateMode.Replace, cancellationToken);
                entity.ETag = response.Headers.ETag ?? entity.ETag;
                return ToVersion(entity);
            }
            catch (RequestFailedException ex) when (ex.IsPreconditionFailed())
            {
                await TableExtensions.BackoffAsync(attempt, cancellationToken);
            }
        }
    }

    // ---- aliases --------------------------------------------------------------------------------------------

    public async Task<AliasRecord?> GetAliasAsync(string model, string alias, CancellationToken cancellationToken = default)
    {
        var entity = await _table.FindAsync(Pk(model), AliasKey(alias), cancellationToken);
        return entity is null ? null : ToAlias(entity, entity.ETag);
    }

    public async Task<AliasRecord> SetAliasAsync(string model, string alias, int version, string actor, string reason, string? expectedETag, bool force = false, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(alias);
        ArgumentException.ThrowIfNullOrEmpty(actor);
        if (await _table.FindAsync(Pk(model), VersionKey(version), cancellationToken) is null)
        {
            throw new KeyNotFoundException($"Model '{model}' has no version {version}; alias '{alias}' was not changed.");
        }

        var pk = Pk(model);
        var key = AliasKey(alias);
        for (var attempt = 0; ; attempt++)
        {
            var current = await _table.FindAsync(pk, key, cancellationToken);
            if (current is not null)
            {
                await EnsureHistoryAsync(current, cancellationToken);
            }

            if (!force)
            {
                if (expectedETag is null && current is not null)
                {
                    throw new ConcurrencyException($"Alias '{alias}' of '{model}' already exists (version {current.GetInt32("Version")}); pass its ETag to move it.");
                }

                if (expectedETag is not null && (current is null || current.ETag.ToString() != expectedETag))
                {
                    throw new ConcurrencyException($"Alias '{alias}' of '{model}' changed since ETag {expectedETag} was read.");
                }
            }

            var entity = new TableEntity(pk, key)
            {
                ["Model"] = model,
                ["Alias"] = alias,
                ["Version"] = version,
                ["PreviousVersion"] = current?.GetInt32("Version"),
                ["ChangedAt"] = _time.GetUtcNow(),
                ["ChangedBy"] = actor,
                ["Reason"] = reason,
                ["Sequence"] = (current?.GetInt64("Sequence") ?? 0) + 1,
            };

            try
            {
                var response = current is null
                    ? await _table.AddEntityAsync(entity, cancellationToken)
                    : await _table.UpdateEntityAsync(entity, expectedETag is not null && !force ? new ETag(expectedETag) : current.ETag, TableUpdateMode.Replace, cancellationToken);
                entity.ETag = response.Headers.ETag ?? default;
            }
            catch (RequestFailedException ex) when (ex.IsConflict() || ex.IsPreconditionFailed())
            {
                if (!force)
                {
                    throw new ConcurrencyException($"Alias '{alias}' of '{model}' was changed by another writer.", ex);
                }

                await TableExtensions.BackoffAsync(attempt, cancellationToken);
                continue;
            }

            await EnsureHistoryAsync(entity, cancellationToken);
            return ToAlias(entity, entity.ETag);
        }
    }

    public async Task<IReadOnlyList<AliasRecord>> GetAliasHistoryAsync(string model, string alias, CancellationToken cancellationToken = default)
    {
        var current = await _table.FindAsync(Pk(model), AliasKey(alias), cancellationToken);
        if (current is not null)
        {
            // Repairs the history if a writer stopped between moving the alias and appending the change.
            await EnsureHistoryAsync(current, cancellationToken);
        }

        var rows = await _table.QueryPrefixAsync(Pk(model), $"aliashistory|{TableKeys.Escape(alias)}|", null, cancellationToken);
        return [.. rows.Select(r => ToAlias(r, null))];
    }

    // ---- traffic split --------------------------------------------------------------------------------------

    public async Task<TrafficSplit?> GetTrafficAsync(string model, CancellationToken cancellationToken = default)
    {
        var entity = await _table.FindAsync(Pk(model), TrafficKey, cancellationToken);
        return entity is null ? null : ToTraffic(entity);
    }

    public async Task<TrafficSplit> SetTrafficAsync(TrafficSplit split, string? expectedETag, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(split);
        var entity = new TableEntity(Pk(split.Model), TrafficKey)
        {
            ["Model"] = split.Model,
            ["StableVersion"] = split.StableVersion,
            ["CandidateVersion"] = split.CandidateVersion,
            ["Mode"] = split.Mode.ToString(),
            ["Percent"] = split.Percent,
            ["Sampling"] = split.Sampling,
            ["RunId"] = split.RunId,
            ["Step"] = split.Step,
            ["ChangedAt"] = split.ChangedAt == default ? _time.GetUtcNow() : split.ChangedAt,
            ["ChangedBy"] = split.ChangedBy,
        };
        try
        {
            var response = expectedETag is null
                ? await _table.AddEntityAsync(entity, cancellationToken)
                : await _table.UpdateEntityAsync(entity, new ETag(expectedETag), TableUpdateMode.Replace, cancellationToken);
            entity.ETag = response.Headers.ETag ?? default;
            return ToTraffic(entity);
        }
        catch (RequestFailedException ex) when (ex.IsConflict() || ex.IsPreconditionFailed() || ex.Status == 404)
        {
            throw new ConcurrencyException($"the traffic split of '{split.Model}' was changed by another writer", ex);
        }
    }

    public async Task<bool> ClearTrafficAsync(string model, string? expectedETag, CancellationToken cancellationToken = default)
    {
        try
        {
            await _table.DeleteEntityAsync(Pk(model), TrafficKey, expectedETag is null ? ETag.All : new ETag(expectedETag), cancellationToken);
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return false;
        }
        catch (RequestFailedException ex) when (ex.IsPreconditionFailed())
        {
            throw new ConcurrencyException($"the traffic split of '{model}' was changed by another writer", ex);
        }
    }

    private static TrafficSplit ToTraffic(TableEntity e) => new()
    {
        Model = e.GetString("Model"),
        StableVersion = e.GetInt32("StableVersion") ?? 0,
        CandidateVersion = e.GetInt32("CandidateVersion") ?? 0,
        Mode = Enum.Parse<TrafficMode>(e.GetString("Mode")),
        Percent = e.GetInt32("Percent") ?? 0,
        Sampling = e.GetDouble("Sampling") ?? 0,
        RunId = e.GetString("RunId") ?? "",
        Step = e.GetInt32("Step") ?? 0,
        ChangedAt = e.GetDateTimeOffset("ChangedAt") ?? default,
        ChangedBy = e.GetString("ChangedBy") ?? "system",
        ETag = e.ETag.ToString(),
    };

    // ---- helpers --------------------------------------------------------------------------------------------

    private async Task<int> NextVersionNumberAsync(string pk, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            var counter = await _table.FindAsync(pk, CounterKey, cancellationToken);
            try
            {
                if (counter is null)
                {
                    await _table.AddEntityAsync(new TableEntity(pk, CounterKey) { ["Last"] = 1 }, cancellationToken);
                    return 1;
                }

                var next = (counter.GetInt32("Last") ?? 0) + 1;
                counter["Last"] = next;
                await _table.UpdateEntityAsync(counter, counter.ETag, TableUpdateMode.Replace, cancellationToken);
                return next;
            }
            catch (RequestFailedException ex) when (ex.IsConflict() || ex.IsPreconditionFailed())
            {
                await TableExtensions.BackoffAsync(attempt, cancellationToken);
            }
        }
    }

    private async Task<ModelVersion> EnsureVersionRowAsync(NewModelVersion candidate, int version, CancellationToken cancellationToken)
    {
        var entity = new TableEntity(Pk(candidate.Model), VersionKey(version))
        {
            ["Model"] = candidate.Model,
            ["Version"] = version,
            ["RunId"] = candidate.RunId,
            ["Status"] = nameof(ModelVersionStatus.PendingApproval),
            ["ArtifactUri"] = candidate.ArtifactUri,
            ["ArtifactSha256"] = candidate.ArtifactSha256,
            ["DatasetSha256"] = candidate.DatasetSha256,
            ["WorkflowHash"] = candidate.WorkflowHash,
            ["Trainer"] = candidate.Trainer,
            ["ReferenceProfileUri"] = candidate.ReferenceProfileUri,
            ["EvaluationUri"] = candidate.EvaluationUri,
            ["CreatedBy"] = candidate.CreatedBy,
            ["CreatedAt"] = candidate.CreatedAt == default ? _time.GetUtcNow() : candidate.CreatedAt,
            ["ApprovedBy"] = "[]",
        };
        StorageJson.WriteChunked(entity, "Metrics", JsonSerializer.Serialize(candidate.Metrics, StorageJson.Options));
        try
        {
            var response = await _table.AddEntityAsync(entity, cancellationToken);
            entity.ETag = response.Headers.ETag ?? default;
            return ToVersion(entity);
        }
        catch (RequestFailedException ex) when (ex.IsConflict())
        {
            var existing = await _table.FindAsync(entity.PartitionKey, entity.RowKey, cancellationToken);
            return ToVersion(existing!);
        }
    }

    private async Task EnsureHistoryAsync(TableEntity aliasEntity, CancellationToken cancellationToken)
    {
        var sequence = aliasEntity.GetInt64("Sequence") ?? 1;
        var alias = aliasEntity.GetString("Alias") ?? TableKeys.Unescape(aliasEntity.RowKey["alias|".Length..]);
        var row = new TableEntity(aliasEntity.PartitionKey, HistoryKey(alias, sequence));
        foreach (var (name, value) in aliasEntity)
        {
            if (name is not ("PartitionKey" or "RowKey" or "Timestamp" or "odata.etag"))
            {
                row[name] = value;
            }
        }

        try
        {
            await _table.AddEntityAsync(row, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.IsConflict())
        {
            // Already recorded.
        }
    }

    private static string Pk(string model)
    {
        ArgumentException.ThrowIfNullOrEmpty(model);
        return TableKeys.Escape(model);
    }

    private static string DatasetKey(string sha256) => "dataset|" + TableKeys.Escape(sha256.ToLowerInvariant());

    private static string VersionKey(int version) => "version|" + version.ToString("D6", CultureInfo.InvariantCulture);

    private static string AliasKey(string alias) => "alias|" + TableKeys.Escape(alias);

    private static string HistoryKey(string alias, long sequence) =>
        $"aliashistory|{TableKeys.Escape(alias)}|{sequence.ToString("D10", CultureInfo.InvariantCulture)}";

    private static DatasetRecord ToDataset(TableEntity e) => new()
    {
        Model = e.GetString("Model"),
        Sha256 = e.GetString("Sha256"),
        Source = e.GetString("Source"),
        SnapshotUri = e.GetString("SnapshotUri"),
        Rows = e.GetInt64("Rows") ?? 0,
        Bytes = e.GetInt64("Bytes") ?? 0,
        Columns = Deserialize<List<string>>(StorageJson.ReadChunked(e, "Columns")) ?? [],
        ReportUri = e.GetString("ReportUri"),
        WorkflowHash = e.GetString("WorkflowHash"),
        RegisteredAt = e.GetDateTimeOffset("RegisteredAt") ?? default,
    };

    private static ModelVersion ToVersion(TableEntity e) => new()
    {
        Model = e.GetString("Model"),
        Version = e.GetInt32("Version") ?? 0,
        RunId = e.GetString("RunId"),
        Status = Enum.Parse<ModelVersionStatus>(e.GetString("Status")),
        ArtifactUri = e.GetString("ArtifactUri"),
        ArtifactSha256 = e.GetString("ArtifactSha256"),
        DatasetSha256 = e.GetString("DatasetSha256"),
        WorkflowHash = e.GetString("WorkflowHash"),
        Trainer = e.GetString("Trainer"),
        Metrics = Deserialize<Dictionary<string, double>>(StorageJson.ReadChunked(e, "Metrics")) ?? [],
        ReferenceProfileUri = e.GetString("ReferenceProfileUri"),
        EvaluationUri = e.GetString("EvaluationUri"),
        CreatedBy = e.GetString("CreatedBy"),
        CreatedAt = e.GetDateTimeOffset("CreatedAt") ?? default,
        ApprovedBy = Deserialize<List<string>>(e.GetString("ApprovedBy")) ?? [],
        DecisionBy = e.GetString("DecisionBy"),
        DecisionReason = e.GetString("DecisionReason"),
        DecidedAt = e.GetDateTimeOffset("DecidedAt"),
        ETag = e.ETag.ToString(),
    };

    private static AliasRecord ToAlias(TableEntity e, ETag? etag) => new()
    {
        Model = e.GetString("Model"),
        Alias = e.GetString("Alias"),
        Version = e.GetInt32("Version") ?? 0,
        PreviousVersion = e.GetInt32("PreviousVersion"),
        ChangedAt = e.GetDateTimeOffset("ChangedAt") ?? default,
        ChangedBy = e.GetString("ChangedBy") ?? "",
        Reason = e.GetString("Reason") ?? "",
        ETag = etag?.ToString(),
    };

    private static T? Deserialize<T>(string? json) where T : class =>
        string.IsNullOrEmpty(json) ? null : JsonSerializer.Deserialize<T>(json, StorageJson.Options);
}
