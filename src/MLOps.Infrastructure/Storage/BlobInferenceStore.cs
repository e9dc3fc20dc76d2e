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
    /// <summary>Blobs downloaded at once when reading a window.</summary>
    private const int ReadConcurrency = 16;

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
    public async IAsyncEnumerable<InferenceRecord> ReadAsync(string model, DateTimeOffset from, DateTimeOffset to, [EnumeratorCancellation] CancellationToken cancellationToken = default)
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
            var names = new List<string>();
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

                names.Add(item.Name);
            }

            // One blob per request: download a chunk at a time concurrently, keep the listing's order.
            foreach (var chunk in names.Chunk(ReadConcurrency))
            {
                var records = await Task.WhenAll(chunk.Select(async name =>
                {
                    var content = await _container.GetBlobClient(name).DownloadContentAsync(cancellationToken);
                    return content.Value.Content.ToObjectFromJson<InferenceRecord>(StorageJson.Options);
                }));
                foreach (var record in records)
                {
                    if (record is not null && record.Timestamp >= start && record.Timestamp < end)
                    {
                        yield return record;
                    }
                }
            }
        }
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
