using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Azure.Storage.Blobs;
using MLOps.Core.Monitoring;
using MLOps.Core.Ports;

namespace MLOps.Infrastructure.Storage;

/// <summary>Captured scoring traffic: one JSON blob per request in container <c>inference</c>, named
/// <c>{model}/{yyyy}/{MM}/{dd}/{HH}/{HHmmssfff}-{requestId}.json</c> (UTC) so that a window is read by listing
/// only its hours.</summary>
public sealed class BlobInferenceStore : IInferenceStore
{
    private readonly BlobContainerClient _container;

    public BlobInferenceStore(StorageContext storage)
    {
        ArgumentNullException.ThrowIfNull(storage);
        _container = storage.Container(StorageNames.Inference);
    }

    public async Task CaptureAsync(InferenceRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        var blob = _container.GetBlobClient(BlobName(record));
        var json = JsonSerializer.Serialize(record, StorageJson.Options);
        await BlobDatasetStore.UploadTextAsync(blob, json, "application/json", cancellationToken);
    }

    /// <summary>Records with <paramref name="from"/> ≤ timestamp &lt; <paramref name="to"/>, oldest first.</summary>
    public IAsyncEnumerable<InferenceRecord> ReadAsync(string model, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken = default) =>
        ReadNamesAsync(ListAsync(model, from, to, cancellationToken), from, to, cancellationToken);

    /// <summary>Captures whose names lie in <paramref name="range"/> and whose time is in the window, in name order.
    /// Reads up to <see cref="ParallelDownloads"/> blobs at a time.</summary>
    public IAsyncEnumerable<InferenceRecord> ReadRangeAsync(string model, DateTimeOffset from, DateTimeOffset to, CaptureRange range, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(range);
        if (string.CompareOrdinal(range.First, range.Last) > 0)
        {
            throw new ArgumentException($"capture range starts at '{range.First}' after its end '{range.Last}'", nameof(range));
        }

        // Only the hours the range covers are listed.
        var first = HourOf(model, range.First) ?? from;
        var last = HourOf(model, range.Last)?.AddHours(1) ?? to;
        var start = first > from ? first : from;
        var end = last < to ? last : to;
        return ReadNamesAsync(Within(ListAsync(model, start, end, cancellationToken), range), from, to, cancellationToken);
    }

    /// <summary>How many captures a range read downloads at the same time.</summary>
    public const int ParallelDownloads = 16;

    /// <summary>Names of the captures in the window, by hour, in listing (= time) order; blobs outside the window are
    /// skipped by the time in their name without being read.</summary>
    public async IAsyncEnumerable<string> ListAsync(string model, DateTimeOffset from, DateTimeOffset to, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(model);
        var start = from.ToUniversalTime();
        var end = to.ToUniversalTime();
        if (end <= start)
        {
            yield break;
        }

        var hour = new DateTimeOffset(start.Year, start.Month, start.Day, start.Hour, 0, 0, TimeSpan.Zero);
        for (; hour < end; hour = hour.AddHours(1))
        {
            var prefix = HourPrefix(model, hour);
            await foreach (var item in _container.GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, prefix, cancellationToken))
            {
                // The name carries the time to the millisecond: skip blobs outside the window without reading them.
                var file = item.Name[prefix.Length..];
                if (file.Length >= 9 && int.TryParse(file.AsSpan(0, 9), NumberStyles.None, CultureInfo.InvariantCulture, out var hhmmssfff))
                {
                    var at = hour.AddMinutes(hhmmssfff / 100000 % 100).AddSeconds(hhmmssfff / 1000 % 100).AddMilliseconds(hhmmssfff % 1000);
                    if (at < start.AddMilliseconds(-1) || at >= end)
                    {
                        continue;
                    }
                }

                yield return item.Name;
            }
        }
    }

    private static async IAsyncEnumerable<string> Within(IAsyncEnumerable<string> names, CaptureRange range)
    {
        await foreach (var name in names)
        {
            if (string.CompareOrdinal(name, range.First) < 0)
            {
                continue;
            }

            if (string.CompareOrdinal(name, range.Last) > 0)
            {
                yield break;
            }

            yield return name;
        }
    }

    private async IAsyncEnumerable<InferenceRecord> ReadNamesAsync(IAsyncEnumerable<string> names, DateTimeOffset from, DateTimeOffset to, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var start = from.ToUniversalTime();
        var end = to.ToUniversalTime();
        var batch = new List<string>(ParallelDownloads * 4);
        await foreach (var name in names.WithCancellation(cancellationToken))
        {
            batch.Add(name);
            if (batch.Count == batch.Capacity)
            {
                foreach (var record in await DownloadAsync(batch, cancellationToken))
                {
                    if (record is not null && record.Timestamp >= start && record.Timestamp < end)
                    {
                        yield return record;
                    }
                }

                batch.Clear();
            }
        }

        foreach (var record in await DownloadAsync(batch, cancellationToken))
        {
            if (record is not null && record.Timestamp >= start && record.Timestamp < end)
            {
                yield return record;
            }
        }
    }

    /// <summary>Downloads the blobs, a few at a time, and returns their records in the order of the names.</summary>
    /// <exception cref="InvalidDataException">A capture is not a JSON inference record (named with its line and byte).</exception>
    private async Task<InferenceRecord?[]> DownloadAsync(List<string> names, CancellationToken cancellationToken)
    {
        var records = new InferenceRecord?[names.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, names.Count), new ParallelOptions { MaxDegreeOfParallelism = ParallelDownloads, CancellationToken = cancellationToken },
            async (i, ct) =>
            {
                var content = await _container.GetBlobClient(names[i]).DownloadContentAsync(ct);
                records[i] = Parse(names[i], content.Value.Content);
            });
        return records;
    }

    /// <summary>One capture's record; bad content is bad data, not a storage hiccup: reading it again gives the same.</summary>
    private static InferenceRecord Parse(string name, BinaryData content)
    {
        try
        {
            return content.ToObjectFromJson<InferenceRecord>(StorageJson.Options)
                ?? throw new InvalidDataException($"capture '{name}' holds no inference record (JSON null)");
        }
        catch (JsonException ex)
        {
            var at = ex.LineNumber is { } line ? $" at line {line + 1}, byte {ex.BytePositionInLine + 1}" : "";
            var path = string.IsNullOrEmpty(ex.Path) || ex.Path == "$" ? "" : $" (field {ex.Path})";
            // The serializer's message ends with the position again, zero-based: keep only what it says is wrong.
            var what = ex.Message.Split(" Path: ", 2)[0].Split(" LineNumber: ", 2)[0].TrimEnd(' ', '|');
            throw new InvalidDataException($"capture '{name}' is not a valid inference record{at}{path}: {what}", ex);
        }
    }

    /// <summary>The hour a capture name belongs to (<c>{model}/yyyy/MM/dd/HH/…</c>), or null when it has another form.</summary>
    private static DateTimeOffset? HourOf(string model, string name)
    {
        if (name.Length < model.Length + 15 || !name.StartsWith(model + "/", StringComparison.Ordinal))
        {
            return null;
        }

        return DateTimeOffset.TryParseExact(name.AsSpan(model.Length + 1, 13), "yyyy'/'MM'/'dd'/'HH", CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var hour) ? hour : null;
    }

    internal static string BlobName(InferenceRecord record)
    {
        var t = record.Timestamp.ToUniversalTime();
        var id = record.RequestId.Replace('/', '_').Replace('\\', '_');
        return HourPrefix(record.Model, t) + t.ToString("HHmmssfff", CultureInfo.InvariantCulture) + "-" + id + ".json";
    }

    private static string HourPrefix(string model, DateTimeOffset hour) =>
        model + "/" + hour.ToString("yyyy'/'MM'/'dd'/'HH", CultureInfo.InvariantCulture) + "/";
}
