using Microsoft.DurableTask.Client;

namespace MLOps.Local.Durable;

/// <summary>Waits on orchestration instances by polling their state at a short interval.</summary>
/// <remarks><see cref="DurableTaskClient.WaitForInstanceCompletionAsync(string, bool, CancellationToken)"/> through
/// the Azure Storage backend polls every 2 s, so every wait costs at least 2 s; these poll every 100 ms.</remarks>
public static class DurableClientExtensions
{
    /// <summary>How often the instance state is read.</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>Waits until the instance is Completed, Failed or Terminated and returns its state with inputs and
    /// outputs. Throws <see cref="TimeoutException"/> when <paramref name="timeout"/> passes first.</summary>
    public static Task<OrchestrationMetadata> WaitForCompletionAsync(
        this DurableTaskClient client,
        string instanceId,
        TimeSpan timeout,
        CancellationToken ct = default) =>
        client.WaitForStateAsync(instanceId, static m => m.IsCompleted, timeout, ct);

    /// <summary>Waits until the instance exists and <paramref name="predicate"/> holds for its state (read with
    /// inputs and outputs). Throws <see cref="TimeoutException"/> when <paramref name="timeout"/> passes first.</summary>
    public static async Task<OrchestrationMetadata> WaitForStateAsync(
        this DurableTaskClient client,
        string instanceId,
        Func<OrchestrationMetadata, bool> predicate,
        TimeSpan timeout,
        CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentException.ThrowIfNullOrEmpty(instanceId);
        ArgumentNullException.ThrowIfNull(predicate);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(timeout);
        OrchestrationMetadata? last = null;
        try
        {
            while (true)
            {
                last = await client.GetInstanceAsync(instanceId, getInputsAndOutputs: true, deadline.Token);
                if (last is not null && predicate(last))
                {
                    return last;
                }

                await Task.Delay(PollInterval, deadline.Token);
            }
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            var status = last is null ? "not found" : last.RuntimeStatus.ToString();
            throw new TimeoutException($"Orchestration '{instanceId}' did not reach the expected state within {timeout} (last status: {status}).");
        }
    }
}
