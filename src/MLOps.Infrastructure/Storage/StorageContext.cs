using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Microsoft.Extensions.Options;
using MLOps.Infrastructure.Options;

namespace MLOps.Infrastructure.Storage;

/// <summary>The account's clients and the prefixed names of this deployment's containers and tables.</summary>
public sealed class StorageContext
{
    public StorageContext(BlobServiceClient blobs, TableServiceClient tables, IOptions<StorageOptions> options)
    {
        ArgumentNullException.ThrowIfNull(blobs);
        ArgumentNullException.ThrowIfNull(tables);
        ArgumentNullException.ThrowIfNull(options);
        Blobs = blobs;
        Tables = tables;
        Prefix = options.Value.Prefix ?? "";
    }

    public BlobServiceClient Blobs { get; }
    public TableServiceClient Tables { get; }
    public string Prefix { get; }

    /// <summary>The container <c>{prefix}{baseName}</c>.</summary>
    public BlobContainerClient Container(string baseName) => Blobs.GetBlobContainerClient(Prefix + baseName);

    /// <summary>The table <c>{prefix}{baseName}</c>.</summary>
    public TableClient Table(string baseName) => Tables.GetTableClient(Prefix + baseName);

    /// <summary>A blob of this account named by its URI; throws <see cref="ArgumentException"/> for another account.</summary>
    public BlobClient ResolveBlob(string blobUri)
    {
        ArgumentException.ThrowIfNullOrEmpty(blobUri);
        if (!Uri.TryCreate(blobUri, UriKind.Absolute, out var uri))
        {
            throw new ArgumentException($"'{blobUri}' is not an absolute blob URI.", nameof(blobUri));
        }

        var parts = new BlobUriBuilder(uri);
        var account = Blobs.Uri;
        if (!string.Equals(uri.Host, account.Host, StringComparison.OrdinalIgnoreCase) || uri.Port != account.Port
            || !string.Equals(parts.AccountName, Blobs.AccountName, StringComparison.Ordinal)
            || string.IsNullOrEmpty(parts.BlobContainerName) || string.IsNullOrEmpty(parts.BlobName))
        {
            throw new ArgumentException($"'{blobUri}' is not a blob of account '{Blobs.AccountName}'.", nameof(blobUri));
        }

        return Blobs.GetBlobContainerClient(parts.BlobContainerName).GetBlobClient(parts.BlobName);
    }
}
