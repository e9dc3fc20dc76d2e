using Azure.Storage.Blobs;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using MLOps.Lifecycle.Handlers;

namespace MLOps.Functions.Triggers;

/// <summary>A dataset uploaded to <c>datasets/&lt;model&gt;/&lt;file&gt;.csv</c> (or <c>.parquet</c>) is validated; valid data starts a lifecycle run,
/// invalid data is quarantined with a report. Event Grid–based, as Flex Consumption requires.</summary>
public sealed class DatasetUploadTrigger(DatasetUploadHandler handler)
{
    [Function(nameof(DatasetUploadTrigger))]
    public async Task Run(
        [BlobTrigger("datasets/{name}", Source = BlobTriggerSource.EventGrid, Connection = "MLOpsStorage")] BlobClient blob,
        string name,
        [DurableClient] DurableTaskClient client,
        FunctionContext context) =>
        await handler.HandleAsync(name, client, context.CancellationToken);
}
