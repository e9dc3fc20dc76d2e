using System.Globalization;
using Azure;
using Azure.Data.Tables;
using MLOps.Core.Monitoring;

namespace MLOps.Infrastructure.Storage;

/// <summary>Claims on audit windows: row <c>claim|{window end, yyyyMMddTHHmmssfffZ}</c> in the model's partition of the
/// monitoring table. Added with AddEntity (409 when the window is claimed), replaced only under the ETag read.</summary>
public sealed partial class TableMonitoringStore
{
    public async Task<bool> TryAddAuditClaimAsync(DriftAuditClaim claim, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(claim);
        try
        {
            await _table.AddEntityAsync(ClaimEntity(claim), cancellationToken);
            return true;
        }
        catch (RequestFailedException ex) when (ex.IsConflict())
        {
            return false;
        }
    }

    public async Task<DriftAuditClaim?> GetAuditClaimAsync(string model, DateTimeOffset windowEnd, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(model);
        var row = await _table.FindAsync(TableKeys.Escape(model), ClaimRowKey(windowEnd), cancellationToken);
        return row is null ? null : new DriftAuditClaim
        {
            Model = model,
            WindowEnd = row.GetDateTimeOffset("WindowEnd") ?? windowEnd,
            InstanceId = row.GetString("InstanceId") ?? "",
            Attempt = row.GetInt32("Attempt") ?? 0,
            ClaimedAt = row.GetDateTimeOffset("ClaimedAt") ?? default,
            Trigger = row.GetString("Trigger") ?? "",
            ETag = row.ETag.ToString(),
        };
    }

    public async Task<bool> TryReplaceAuditClaimAsync(DriftAuditClaim claim, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(claim);
        if (string.IsNullOrEmpty(claim.ETag))
        {
            throw new ArgumentException("replacing a claim needs the ETag it was read at", nameof(claim));
        }

        try
        {
            await _table.UpdateEntityAsync(ClaimEntity(claim), new ETag(claim.ETag), TableUpdateMode.Replace, cancellationToken);
            return true;
        }
        catch (RequestFailedException ex) when (ex.IsPreconditionFailed() || ex.Status == 404)
        {
            return false;
        }
    }

    private static TableEntity ClaimEntity(DriftAuditClaim claim) => new(TableKeys.Escape(claim.Model), ClaimRowKey(claim.WindowEnd))
    {
        ["WindowEnd"] = claim.WindowEnd.ToUniversalTime(),
        ["InstanceId"] = claim.InstanceId,
        ["Attempt"] = claim.Attempt,
        ["ClaimedAt"] = claim.ClaimedAt.ToUniversalTime(),
        ["Trigger"] = claim.Trigger,
    };

    private static string ClaimRowKey(DateTimeOffset windowEnd) =>
        "claim|" + windowEnd.UtcDateTime.ToString("yyyyMMdd'T'HHmmssfff'Z'", CultureInfo.InvariantCulture);
}
