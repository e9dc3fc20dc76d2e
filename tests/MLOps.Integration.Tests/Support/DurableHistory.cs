using Azure.Data.Tables;

namespace MLOps.Integration.Tests.Support;

/// <summary>
/// What the local durable engine recorded for an instance: the Azure Storage backend keeps an instance's history as
/// rows of table <c>{taskHub}History</c> in partition <c>{instanceId}</c>, one per event. Every attempt at an activity,
/// retries included, is one <c>TaskScheduled</c> row with the activity's name; so the attempts are counted from what
/// the engine did, not from timing.
/// </summary>
public sealed class DurableHistory(string connectionString, string taskHub)
{
    /// <summary>How often the instance scheduled <paramref name="activity"/>.</summary>
    public Task<int> AttemptsAsync(string instanceId, string activity) => CountAsync(instanceId, "TaskScheduled", activity);

    /// <summary>How many of the instance's activities failed (each failed attempt is one <c>TaskFailed</c> row).</summary>
    public Task<int> FailuresAsync(string instanceId) => CountAsync(instanceId, "TaskFailed", null);

    private async Task<int> CountAsync(string instanceId, string eventType, string? name)
    {
        var table = new TableClient(connectionString, taskHub + "History");
        var count = 0;
        await foreach (var row in table.QueryAsync<TableEntity>(e => e.PartitionKey == instanceId, select: ["EventType", "Name"]))
        {
            if (row.GetString("EventType") == eventType && (name is null || row.GetString("Name") == name))
            {
                count++;
            }
        }

        return count;
    }
}
