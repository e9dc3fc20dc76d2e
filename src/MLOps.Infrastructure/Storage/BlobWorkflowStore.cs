using Azure;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using MLOps.Core.Ports;
using MLOps.Core.Workflows;

namespace MLOps.Infrastructure.Storage;

/// <summary>Registered workflows: the YAML by content hash in blob <c>workflows/{model}/{hash}.yaml</c> (write-once),
/// and row <c>current</c> of partition = model in table <c>workflows</c> pointing at the current hash.</summary>
public sealed class BlobWorkflowStore : IWorkflowStore
{
    private const string CurrentKey = "current";
    private readonly BlobContainerClient _container;
    private readonly TableClient _table;
    private readonly TimeProvider _time;
    private readonly Func<string, string, WorkflowDefinition> _parse;
    private readonly Func<string, string> _hash;

    public BlobWorkflowStore(StorageContext storage, TimeProvider time)
        : this(storage, time, WorkflowParser.Parse, WorkflowParser.ComputeHash)
    {
    }

    /// <summary>For tests: parse and hash functions other than <see cref="WorkflowParser"/>'s.</summary>
    internal BlobWorkflowStore(StorageContext storage, TimeProvider time, Func<string, string, WorkflowDefinition> parse, Func<string, string> hash)
    {
        ArgumentNullException.ThrowIfNull(storage);
        ArgumentNullException.ThrowIfNull(time);
        _container = storage.Container(StorageNames.Workflows);
        _table = storage.Table(StorageNames.WorkflowsTable);
        _time = time;
        _parse = parse;
        _hash = hash;
    }

    public async Task<StoredWorkflow> RegisterAsync(string yaml, string fileName, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(yaml);
        var definition = _parse(yaml, fileName);
        var hash = _hash(yaml);
        var model = definition.Model.Name;
        var now = _time.GetUtcNow();
        var blob = _container.GetBlobClient(BlobName(model, hash));
        try
        {
            await blob.UploadAsync(
                BinaryData.FromString(yaml),
                new BlobUploadOptions
                {
                    Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All },
                    HttpHeaders = new BlobHttpHeaders { ContentType = "application/yaml" },
                    Metadata = new Dictionary<string, string> { ["file"] = Uri.EscapeDataString(fileName) },
                },
                cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            // Same content already stored: content-addressed, nothing to do.
        }

        await _table.UpsertEntityAsync(
            new TableEntity(TableKeys.Escape(model), CurrentKey)
            {
                ["Model"] = model,
                ["Hash"] = hash,
                ["FileName"] = fileName,
                ["RegisteredAt"] = now,
            },
            TableUpdateMode.Replace,
            cancellationToken);
        return new StoredWorkflow(model, hash, yaml, definition, now);
    }

    public async Task<StoredWorkflow?> GetCurrentAsync(string model, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(model);
        var row = await _table.FindAsync(TableKeys.Escape(model), CurrentKey, cancellationToken);
        return row is null ? null : await LoadAsync(model, row.GetString("Hash"), row.GetDateTimeOffset("RegisteredAt"), cancellationToken);
    }

    public Task<StoredWorkflow?> GetAsync(string model, string hash, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(model);
        ArgumentException.ThrowIfNullOrEmpty(hash);
        return LoadAsync(model, hash, null, cancellationToken);
    }

    public async Task<IReadOnlyList<StoredWorkflow>> ListCurrentAsync(CancellationToken cancellationToken = default)
    {
        var result = new List<StoredWorkflow>();
        var filter = TableClient.CreateQueryFilter($"RowKey eq {CurrentKey}");
        await foreach (var row in _table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            var model = row.GetString("Model") ?? TableKeys.Unescape(row.PartitionKey);
            if (await LoadAsync(model, row.GetString("Hash"), row.GetDateTimeOffset("RegisteredAt"), cancellationToken) is { } workflow)
            {
                result.Add(workflow);
            }
        }

        return result;
    }

    private async Task<StoredWorkflow?> LoadAsync(string model, string hash, DateTimeOffset? registeredAt, CancellationToken cancellationToken)
    {
        var blob = _container.GetBlobClient(BlobName(model, hash));
        try
        {
            var content = await blob.DownloadContentAsync(cancellationToken);
            var yaml = content.Value.Content.ToString();
            var fileName = content.Value.Details.Metadata.TryGetValue("file", out var file) ? Uri.UnescapeDataString(file) : $"{model}.yaml";
            return new StoredWorkflow(model, hash, yaml, _parse(yaml, fileName), registeredAt ?? content.Value.Details.LastModified);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return null;
        }
    }

    private static string BlobName(string model, string hash) => $"{model}/{hash}.yaml";
}
