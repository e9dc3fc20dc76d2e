using Azure;
using Azure.Data.Tables;
using MLOps.Core.Ports;

namespace MLOps.Infrastructure.Storage;

/// <summary>Used approval-token nonces in the registry table, in the model's partition under row key
/// <c>approvaltoken|{nonce}</c>. Insert-only: the second insert of a nonce answers 409, which means reuse.</summary>
public sealed class TableApprovalNonceStore : IApprovalNonceStore
{
    private readonly TableClient _table;
    private readonly TimeProvider _time;

    public TableApprovalNonceStore(StorageContext storage, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(storage);
        ArgumentNullException.ThrowIfNull(time);
        _table = storage.Table(StorageNames.RegistryTable);
        _time = time;
    }

    public async Task<bool> TryConsumeAsync(string model, string runId, string nonce, string approver, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(model);
        ArgumentException.ThrowIfNullOrEmpty(nonce);
        var entity = new TableEntity(TableKeys.Escape(model), "approvaltoken|" + TableKeys.Escape(nonce))
        {
            ["RunId"] = runId,
            ["Approver"] = approver,
            ["UsedAt"] = _time.GetUtcNow(),
        };
        try
        {
            await _table.AddEntityAsync(entity, cancellationToken);
            return true;
        }
        catch (RequestFailedException ex) when (ex.IsConflict())
        {
            return false;
        }
    }
}
