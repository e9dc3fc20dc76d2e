using System.Globalization;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using MLOps.Core.Events;
using MLOps.Core.Ports;

namespace MLOps.Infrastructure.Storage;

/// <summary>The hash-chained audit trail on table <c>audit</c>: one chain per model (partition = model).</summary>
/// <remarks>
/// Rows: the entries under a 12-digit zero-padded sequence; <c>head</c> with the last sequence, its hash and a copy
/// of the last entry; <c>event|{id}</c> mapping an event id to its sequence. An append first moves the head with
/// If-Match (a loser gets 412, re-reads and retries), so two writers never take the same sequence and the chain
/// never forks; then it writes the entry and the index. Because the head carries the last entry, the next append
/// (or a read) re-creates an entry whose writer stopped after moving the head, so the chain has no gaps.
/// </remarks>
public sealed class TableAuditTrail : IAuditTrail
{
    private const string HeadKey = "head";
    private readonly TableClient _table;

    public TableAuditTrail(StorageContext storage)
    {
        ArgumentNullException.ThrowIfNull(storage);
        _table = storage.Table(StorageNames.AuditTable);
    }

    public async Task<AuditEntry> AppendAsync(LifecycleEvent lifecycleEvent, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lifecycleEvent);
        ArgumentException.ThrowIfNullOrEmpty(lifecycleEvent.Id);
        ArgumentException.ThrowIfNullOrEmpty(lifecycleEvent.Model);
        var pk = TableKeys.Escape(lifecycleEvent.Model);
        var indexKey = IndexKey(lifecycleEvent.Id);
        for (var attempt = 0; ; attempt++)
        {
            if (await FindAppendedAsync(pk, indexKey, cancellationToken) is { } existing)
            {
                return existing;
            }

            var head = await _table.FindAsync(pk, HeadKey, cancellationToken);
            if (head is not null)
            {
                var last = ToEntry(head);
                await WriteEntryAsync(pk, last, cancellationToken);
                if (last.Event.Id == lifecycleEvent.Id)
                {
                    return last;
                }
            }

            var sequence = (head?.GetInt64("Sequence") ?? 0) + 1;
            var previous = head?.GetString("Hash") ?? "";
            var entry = new AuditEntry
            {
                Model = lifecycleEvent.Model,
                Sequence = sequence,
                Event = lifecycleEvent,
                PreviousHash = previous,
                Hash = AuditChain.ComputeHash(previous, sequence, lifecycleEvent),
            };

            var newHead = ToEntity(pk, HeadKey, entry);
            try
            {
                if (head is null)
                {
                    await _table.AddEntityAsync(newHead, cancellationToken);
                }
                else
                {
                    await _table.UpdateEntityAsync(newHead, head.ETag, TableUpdateMode.Replace, cancellationToken);
                }
            }
            catch (RequestFailedException ex) when (ex.IsConflict() || ex.IsPreconditionFailed())
            {
                await TableExtensions.BackoffAsync(attempt, cancellationToken);
                continue;
            }

            await WriteEntryAsync(pk, entry, cancellationToken);
            return entry;
        }
    }

    public async Task<IReadOnlyList<AuditEntry>> ReadAsync(string model, CancellationToken cancellationToken = default)
    {
        var (entries, _) = await ReadWithHeadAsync(model, cancellationToken);
        return entries;
    }

    public async Task<AuditVerification> VerifyAsync(string model, CancellationToken cancellationToken = default)
    {
        var (entries, head) = await ReadWithHeadAsync(model, cancellationToken);
        var result = AuditChain.Verify(model, entries);
        if (!result.Valid || head is null)
        {
            return result;
        }

        // The head records how far the chain went and its last hash: a removed tail shows here.
        var headSequence = head.GetInt64("Sequence") ?? 0;
        var last = entries.Count > 0 ? entries[^1] : null;
        if (last is null || last.Sequence != headSequence || last.Hash != head.GetString("Hash"))
        {
            return new AuditVerification(model, entries.Count, false, Math.Min(headSequence, (last?.Sequence ?? 0) + 1),
                $"the chain ends at entry {last?.Sequence ?? 0} but its head records entry {headSequence}: entries were removed or altered");
        }

        return result;
    }

    private async Task<(List<AuditEntry> Entries, TableEntity? Head)> ReadWithHeadAsync(string model, CancellationToken cancellationToken)
    {
        var pk = TableKeys.Escape(model);
        var head = await _table.FindAsync(pk, HeadKey, cancellationToken);
        if (head is not null)
        {
            await WriteEntryAsync(pk, ToEntry(head), cancellationToken);
        }

        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {pk} and RowKey ge {"0"} and RowKey lt {":"}");
        var entries = new List<AuditEntry>();
        await foreach (var row in _table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            entries.Add(ToEntry(row));
        }

        return (entries, head);
    }

    /// <summary>The entry already appended for an event id, if any.</summary>
    private async Task<AuditEntry?> FindAppendedAsync(string pk, string indexKey, CancellationToken cancellationToken)
    {
        var index = await _table.FindAsync(pk, indexKey, cancellationToken);
        if (index?.GetInt64("Sequence") is not { } sequence)
        {
            return null;
        }

        var row = await _table.FindAsync(pk, SequenceKey(sequence), cancellationToken);
        return row is null ? null : ToEntry(row);
    }

    /// <summary>Writes an entry row and its event index, both insert-only (already there is fine).</summary>
    private async Task WriteEntryAsync(string pk, AuditEntry entry, CancellationToken cancellationToken)
    {
        try
        {
            await _table.AddEntityAsync(ToEntity(pk, SequenceKey(entry.Sequence), entry), cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.IsConflict())
        {
        }

        try
        {
            await _table.AddEntityAsync(new TableEntity(pk, IndexKey(entry.Event.Id)) { ["Sequence"] = entry.Sequence }, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.IsConflict())
        {
        }
    }

    private static string SequenceKey(long sequence) => sequence.ToString("D12", CultureInfo.InvariantCulture);

    private static string IndexKey(string eventId) => "event|" + TableKeys.Escape(eventId);

    private static TableEntity ToEntity(string pk, string rowKey, AuditEntry entry)
    {
        var e = entry.Event;
        var entity = new TableEntity(pk, rowKey)
        {
            ["Sequence"] = entry.Sequence,
            ["EventId"] = e.Id,
            ["Type"] = e.Type,
            ["Subject"] = e.Subject,
            ["Model"] = e.Model,
            ["Time"] = e.Time.ToString("O", CultureInfo.InvariantCulture),
            ["Actor"] = e.Actor,
            ["PreviousHash"] = entry.PreviousHash,
            ["Hash"] = entry.Hash,
        };
        if (e.Data.ValueKind != JsonValueKind.Undefined)
        {
            StorageJson.WriteChunked(entity, "Data", e.Data.GetRawText());
        }

        return entity;
    }

    private static AuditEntry ToEntry(TableEntity row)
    {
        var data = StorageJson.ReadChunked(row, "Data");
        var lifecycleEvent = new LifecycleEvent
        {
            Id = row.GetString("EventId"),
            Type = row.GetString("Type"),
            Subject = row.GetString("Subject"),
            Model = row.GetString("Model"),
            Time = DateTimeOffset.Parse(row.GetString("Time"), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind),
            Actor = row.GetString("Actor") ?? "system",
            Data = data is null ? default : ParseElement(data),
        };
        return new AuditEntry
        {
            Model = lifecycleEvent.Model,
            Sequence = row.GetInt64("Sequence") ?? 0,
            Event = lifecycleEvent,
            PreviousHash = row.GetString("PreviousHash") ?? "",
            Hash = row.GetString("Hash") ?? "",
        };
    }

    private static JsonElement ParseElement(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }
}
