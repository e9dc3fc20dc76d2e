using System.Runtime.CompilerServices;
using System.Text;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using MLOps.Core.Data;
using MLOps.Core.Ports;
using MLOps.Core.Registry;

namespace MLOps.Infrastructure.Storage;

/// <summary>Uploads (container <c>datasets</c>), content-addressed snapshots (<c>lineage</c>) and quarantine.</summary>
/// <remarks>Snapshots and quarantine copies are server-side copies guarded by the source ETag, so the bytes that
/// were validated are the bytes that get copied, whatever was uploaded since.</remarks>
public sealed class BlobDatasetStore : IDatasetStore
{
    private readonly StorageContext _storage;
    private readonly BlobContainerClient _uploads;
    private readonly BlobContainerClient _lineage;
    private readonly BlobContainerClient _quarantine;

    public BlobDatasetStore(StorageContext storage)
    {
        ArgumentNullException.ThrowIfNull(storage);
        _storage = storage;
        _uploads = storage.Container(StorageNames.Datasets);
        _lineage = storage.Container(StorageNames.Lineage);
        _quarantine = storage.Container(StorageNames.Quarantine);
    }

    public async Task<string> UploadAsync(string uploadName, Stream content, string? author = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(uploadName);
        var blob = _uploads.GetBlobClient(uploadName);
        var options = new BlobUploadOptions { HttpHeaders = new BlobHttpHeaders { ContentType = DatasetFormats.IsParquetName(uploadName) ? "application/vnd.apache.parquet" : "text/csv" } };
        if (!string.IsNullOrWhiteSpace(author))
        {
            options.Metadata = new Dictionary<string, string> { [AuthorMetadata] = author };
        }

        await blob.UploadAsync(content, options, cancellationToken);
        return blob.Uri.AbsoluteUri;
    }

    /// <summary>Blob metadata key naming who uploaded a dataset.</summary>
    public const string AuthorMetadata = "author";

    public async Task<UploadedBlob?> OpenUploadAsync(string uploadName, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(uploadName);
        var blob = _uploads.GetBlobClient(uploadName);
        try
        {
            var response = await blob.DownloadStreamingAsync(cancellationToken: cancellationToken);
            var details = response.Value.Details;
            return new UploadedBlob(response.Value.Content, details.ETag.ToString(), details.ContentLength, blob.Uri.AbsoluteUri)
            {
                Author = details.Metadata.TryGetValue(AuthorMetadata, out var author) ? author : null,
            };
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return null;
        }
    }

    public async Task<string> SnapshotAsync(string uploadName, string etag, string model, string sha256, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(uploadName);
        ArgumentException.ThrowIfNullOrEmpty(etag);
        ArgumentException.ThrowIfNullOrEmpty(model);
        ArgumentException.ThrowIfNullOrEmpty(sha256);
        var source = _uploads.GetBlobClient(uploadName);
        var extension = DatasetFormats.Extension(DatasetFormats.IsParquetName(uploadName) ? DatasetFormat.Parquet : DatasetFormat.Csv);
        var target = _lineage.GetBlobClient($"{model}/{sha256.ToLowerInvariant()}{extension}");
        var copied = await CopyAsync(source, target, etag, overwrite: false, cancellationToken);
        if (!copied && !await target.ExistsAsync(cancellationToken))
        {
            throw new ConcurrencyException($"Upload '{uploadName}' changed or disappeared since it was read at ETag {etag}; no snapshot was taken.");
        }

        return target.Uri.AbsoluteUri;
    }

    public async Task<string> SaveReportAsync(string model, string sha256, string reportJson, string? reportHtml = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(model);
        ArgumentException.ThrowIfNullOrEmpty(sha256);
        ArgumentNullException.ThrowIfNull(reportJson);
        var blob = _lineage.GetBlobClient($"{model}/{sha256.ToLowerInvariant()}.report.json");
        await UploadTextAsync(blob, reportJson, "application/json", cancellationToken);
        if (reportHtml is not null)
        {
            await UploadTextAsync(_lineage.GetBlobClient($"{model}/{sha256.ToLowerInvariant()}.report.html"), reportHtml, "text/html", cancellationToken);
        }

        return blob.Uri.AbsoluteUri;
    }

    public async Task<string> QuarantineAsync(string uploadName, string etag, string reportJson, string? reportHtml = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(uploadName);
        ArgumentException.ThrowIfNullOrEmpty(etag);
        ArgumentNullException.ThrowIfNull(reportJson);
        var source = _uploads.GetBlobClient(uploadName);
        var target = _quarantine.GetBlobClient(uploadName);

        // Copy the bytes as validated (source If-Match). A 412/404 means the upload changed or is gone: a retry
        // after an earlier successful attempt, or a newer upload that is not ours to quarantine.
        await CopyAsync(source, target, etag, overwrite: true, cancellationToken);
        await UploadTextAsync(_quarantine.GetBlobClient(uploadName + ".report.json"), reportJson, "application/json", cancellationToken);
        if (reportHtml is not null)
        {
            await UploadTextAsync(_quarantine.GetBlobClient(uploadName + ".report.html"), reportHtml, "text/html", cancellationToken);
        }

        try
        {
            await source.DeleteAsync(DeleteSnapshotsOption.IncludeSnapshots, new BlobRequestConditions { IfMatch = new ETag(etag) }, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status is 404 or 412)
        {
            // Already deleted, or replaced by a newer upload that must be kept.
        }

        return target.Uri.AbsoluteUri;
    }

    public async Task DownloadAsync(string blobUri, string localPath, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(localPath);
        var blob = _storage.ResolveBlob(blobUri);
        var directory = Path.GetDirectoryName(Path.GetFullPath(localPath));
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        await blob.DownloadToAsync(localPath, cancellationToken);
    }

    public async IAsyncEnumerable<(string Name, string ETag)> ListUploadsAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var item in _uploads.GetBlobsAsync(cancellationToken: cancellationToken))
        {
            yield return (item.Name, item.Properties.ETag?.ToString() ?? "");
        }
    }

    /// <summary>Server-side copy of <paramref name="source"/> as it was at <paramref name="etag"/>. Returns false when
    /// the source no longer matches (412) or is gone (404), or when the target exists and overwriting is not allowed.</summary>
    private static async Task<bool> CopyAsync(BlobClient source, BlobClient target, string etag, bool overwrite, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                var options = new BlobCopyFromUriOptions
                {
                    SourceConditions = new BlobRequestConditions { IfMatch = new ETag(etag) },
                    DestinationConditions = overwrite ? null : new BlobRequestConditions { IfNoneMatch = ETag.All },
                    Metadata = new Dictionary<string, string>
                    {
                        ["source"] = Uri.EscapeDataString(source.Name),
                        ["sourceetag"] = etag.Trim('"'),
                    },
                };
                var operation = await target.StartCopyFromUriAsync(source.Uri, options, cancellationToken);
                await operation.WaitForCompletionAsync(TimeSpan.FromMilliseconds(250), cancellationToken);
                return true;
            }
            catch (RequestFailedException ex) when (ex.Status is 412 or 404)
            {
                return false;
            }
            catch (RequestFailedException ex) when (ex.Status == 409 && !overwrite)
            {
                // Already there; make sure an earlier copy did finish (a failed or aborted copy is redone once).
                var status = await WaitForCopyAsync(target, cancellationToken);
                if (status is CopyStatus.Failed or CopyStatus.Aborted && attempt == 0)
                {
                    await target.DeleteIfExistsAsync(cancellationToken: cancellationToken);
                    continue;
                }

                return false;
            }
        }
    }

    private static async Task<CopyStatus?> WaitForCopyAsync(BlobClient blob, CancellationToken cancellationToken)
    {
        while (true)
        {
            var properties = await blob.GetPropertiesAsync(cancellationToken: cancellationToken);
            if (properties.Value.BlobCopyStatus != CopyStatus.Pending)
            {
                return properties.Value.BlobCopyStatus;
            }

            await Task.Delay(250, cancellationToken);
        }
    }

    internal static async Task UploadTextAsync(BlobClient blob, string text, string contentType, CancellationToken cancellationToken)
    {
        await blob.UploadAsync(
            BinaryData.FromString(text),
            new BlobUploadOptions { HttpHeaders = new BlobHttpHeaders { ContentType = contentType } },
            cancellationToken);
    }

    internal static async Task<string> DownloadTextAsync(BlobClient blob, CancellationToken cancellationToken)
    {
        var content = await blob.DownloadContentAsync(cancellationToken);
        return Encoding.UTF8.GetString(content.Value.Content.ToMemory().Span);
    }
}
