using DurableTask.Core;
using DurableTask.Core.History;

namespace MLOps.Local.Durable;

/// <summary>The orchestration service as the sidecar's dispatchers see it: every call goes to the real service
/// except <c>StopAsync</c>, which the engine does itself, and orchestration work-item completion, whose
/// sub-orchestration records it first makes storable by the Azure Storage service.</summary>
/// <remarks>The sidecar starts the service when the worker connects and stops it from a fire-and-forget callback
/// when its host stops, which nobody awaits; and the Azure Storage service throws a NullReferenceException when
/// stopped before it was started (an engine disposed before its worker connected). The engine therefore awaits
/// the start (<see cref="Started"/>) and stops the service once, after the sidecar, only if it started.</remarks>
internal sealed class EngineOwnedOrchestrationService(IOrchestrationService inner) : IOrchestrationService
{
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task? _start;
    private int _stopped;

    /// <summary>Completes when the sidecar has started the service (the worker connected).</summary>
    public Task Started => _started.Task;

    public int TaskOrchestrationDispatcherCount => inner.TaskOrchestrationDispatcherCount;

    public int MaxConcurrentTaskOrchestrationWorkItems => inner.MaxConcurrentTaskOrchestrationWorkItems;

    public BehaviorOnContinueAsNew EventBehaviourForContinueAsNew => inner.EventBehaviourForContinueAsNew;

    public int TaskActivityDispatcherCount => inner.TaskActivityDispatcherCount;

    public int MaxConcurrentTaskActivityWorkItems => inner.MaxConcurrentTaskActivityWorkItems;

    public Task StartAsync()
    {
        var start = StartInnerAsync();
        Interlocked.CompareExchange(ref _start, start, null);
        return start;
    }

    /// <summary>Does nothing: the engine stops the service (<see cref="StopOwnedAsync"/>).</summary>
    public Task StopAsync() => Task.CompletedTask;

    /// <summary>Does nothing: the engine stops the service (<see cref="StopOwnedAsync"/>).</summary>
    public Task StopAsync(bool isForced) => Task.CompletedTask;

    /// <summary>Stops the real service once, gracefully, if it was started.</summary>
    public async Task StopOwnedAsync()
    {
        if (Volatile.Read(ref _start) is not { } start || Interlocked.Exchange(ref _stopped, 1) != 0)
        {
            return;
        }

        try
        {
            await start;
        }
        catch (Exception) when (!start.IsCompletedSuccessfully)
        {
            return;
        }

        await inner.StopAsync(isForced: false);
    }

    public Task CreateAsync() => inner.CreateAsync();

    public Task CreateAsync(bool recreateInstanceStore) => inner.CreateAsync(recreateInstanceStore);

    public Task CreateIfNotExistsAsync() => inner.CreateIfNotExistsAsync();

    public Task DeleteAsync() => inner.DeleteAsync();

    public Task DeleteAsync(bool deleteInstanceStore) => inner.DeleteAsync(deleteInstanceStore);

    public bool IsMaxMessageCountExceeded(int currentMessageCount, OrchestrationRuntimeState runtimeState) =>
        inner.IsMaxMessageCountExceeded(currentMessageCount, runtimeState);

    public int GetDelayInSecondsAfterOnProcessException(Exception exception) => inner.GetDelayInSecondsAfterOnProcessException(exception);

    public int GetDelayInSecondsAfterOnFetchException(Exception exception) => inner.GetDelayInSecondsAfterOnFetchException(exception);

    public Task<TaskOrchestrationWorkItem> LockNextTaskOrchestrationWorkItemAsync(TimeSpan receiveTimeout, CancellationToken cancellationToken) =>
        inner.LockNextTaskOrchestrationWorkItemAsync(receiveTimeout, cancellationToken);

    public Task RenewTaskOrchestrationWorkItemLockAsync(TaskOrchestrationWorkItem workItem) =>
        inner.RenewTaskOrchestrationWorkItemLockAsync(workItem);

    public Task CompleteTaskOrchestrationWorkItemAsync(
        TaskOrchestrationWorkItem workItem,
        OrchestrationRuntimeState newOrchestrationRuntimeState,
        IList<TaskMessage> outboundMessages,
        IList<TaskMessage> orchestratorMessages,
        IList<TaskMessage> timerMessages,
        TaskMessage continuedAsNewMessage,
        OrchestrationState orchestrationState)
    {
        CopyStartTags(orchestratorMessages);
        ReplaceCreatedEvents(newOrchestrationRuntimeState ?? workItem.OrchestrationRuntimeState);
        return inner.CompleteTaskOrchestrationWorkItemAsync(
            workItem, newOrchestrationRuntimeState, outboundMessages, orchestratorMessages, timerMessages, continuedAsNewMessage, orchestrationState);
    }

    public Task AbandonTaskOrchestrationWorkItemAsync(TaskOrchestrationWorkItem workItem) => inner.AbandonTaskOrchestrationWorkItemAsync(workItem);

    public Task ReleaseTaskOrchestrationWorkItemAsync(TaskOrchestrationWorkItem workItem) => inner.ReleaseTaskOrchestrationWorkItemAsync(workItem);

    public Task<TaskActivityWorkItem> LockNextTaskActivityWorkItem(TimeSpan receiveTimeout, CancellationToken cancellationToken) =>
        inner.LockNextTaskActivityWorkItem(receiveTimeout, cancellationToken);

    public Task<TaskActivityWorkItem> RenewTaskActivityWorkItemLockAsync(TaskActivityWorkItem workItem) => inner.RenewTaskActivityWorkItemLockAsync(workItem);

    public Task CompleteTaskActivityWorkItemAsync(TaskActivityWorkItem workItem, TaskMessage responseMessage) =>
        inner.CompleteTaskActivityWorkItemAsync(workItem, responseMessage);

    public Task AbandonTaskActivityWorkItemAsync(TaskActivityWorkItem workItem) => inner.AbandonTaskActivityWorkItemAsync(workItem);

    /// <summary>Replaces the tags of sub-orchestration start messages with a plain dictionary.</summary>
    /// <remarks>The sidecar passes the gRPC request's tag map (<c>Google.Protobuf.Collections.MapField</c>) as the
    /// tags of the child's <see cref="ExecutionStartedEvent"/>. The Azure Storage service writes queue messages with
    /// JSON type names but without assembly names, so the child's start message can never be read back: it is
    /// abandoned and retried forever, the child is never created and the parent waits for ever.</remarks>
    private static void CopyStartTags(IList<TaskMessage>? orchestratorMessages)
    {
        if (orchestratorMessages is null)
        {
            return;
        }

        foreach (var message in orchestratorMessages)
        {
            if (message.Event is ExecutionStartedEvent { Tags: { } tags } started && tags.GetType() != typeof(Dictionary<string, string>))
            {
                started.Tags = new Dictionary<string, string>(tags, StringComparer.Ordinal);
            }
        }
    }

    /// <summary>Replaces the sidecar's own sub-orchestration-created history events with the plain core type.</summary>
    /// <remarks>The sidecar records a created sub-orchestration as its <c>GrpcSubOrchestrationInstanceCreatedEvent</c>,
    /// a subclass without <c>[DataContract]</c>. The Azure Storage history table serializes only the
    /// <c>[DataMember]</c>s of <c>[DataContract]</c> classes from the runtime type up, so it writes that event as a
    /// row without even an <c>EventType</c>, and the parent's history can then never be read back: it never resumes
    /// when the child completes.</remarks>
    private static void ReplaceCreatedEvents(OrchestrationRuntimeState? state)
    {
        // Only a work item that created a sub-orchestration is touched; every other completion passes through as is.
        if (state?.NewEvents is not { } added
            || !added.Any(e => e is SubOrchestrationInstanceCreatedEvent && e.GetType() != typeof(SubOrchestrationInstanceCreatedEvent)))
        {
            return;
        }

        Replace(state.NewEvents);
        Replace(state.Events);

        static void Replace(IList<HistoryEvent> events)
        {
            for (var i = 0; i < events.Count; i++)
            {
                if (events[i] is SubOrchestrationInstanceCreatedEvent created && created.GetType() != typeof(SubOrchestrationInstanceCreatedEvent))
                {
                    events[i] = new SubOrchestrationInstanceCreatedEvent(created.EventId)
                    {
                        Name = created.Name,
                        Version = created.Version,
                        InstanceId = created.InstanceId,
                        Input = created.Input,
                        Timestamp = created.Timestamp,
                        IsPlayed = created.IsPlayed,
                    };
                }
            }
        }
    }

    private async Task StartInnerAsync()
    {
        try
        {
            await inner.StartAsync();
            _started.TrySetResult();
        }
        catch (Exception ex)
        {
            _started.TrySetException(ex);
            throw;
        }
    }
}
