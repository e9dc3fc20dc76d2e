using Azure.Messaging;
using Azure.Messaging.EventGrid;
using Microsoft.Extensions.Logging;
using MLOps.Core.Events;
using MLOps.Core.Ports;
using MLOps.Infrastructure.Logging;

namespace MLOps.Infrastructure.Events;

/// <summary>Appends every lifecycle event to the audit trail, then sends it to Event Grid as a CloudEvent when a
/// topic is configured. The audit trail is the record: an Event Grid failure is logged and does not fail the call.</summary>
public sealed class EventPublisher : IEventPublisher
{
    private readonly IAuditTrail _audit;
    private readonly EventGridPublisherClient? _eventGrid;
    private readonly ILogger<EventPublisher> _logger;

    /// <summary>Creates the publisher; <paramref name="eventGrid"/> is null when no topic is configured (audit trail only).</summary>
    public EventPublisher(IAuditTrail audit, EventGridPublisherClient? eventGrid, ILogger<EventPublisher> logger)
    {
        ArgumentNullException.ThrowIfNull(audit);
        ArgumentNullException.ThrowIfNull(logger);
        _audit = audit;
        _eventGrid = eventGrid;
        _logger = logger;
    }

    public async Task PublishAsync(LifecycleEvent lifecycleEvent, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lifecycleEvent);
        var entry = await _audit.AppendAsync(lifecycleEvent, cancellationToken);
        _logger.EventAppended(lifecycleEvent.Id, lifecycleEvent.Type, lifecycleEvent.Model, entry.Sequence);
        if (_eventGrid is null)
        {
            return;
        }

        try
        {
            await _eventGrid.SendEventAsync(ToCloudEvent(lifecycleEvent), cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
#pragma warning disable CA1031 // Any send failure is logged: the audit entry is the record and must not be lost.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            _logger.EventGridSendFailed(ex, lifecycleEvent.Id, lifecycleEvent.Type, lifecycleEvent.Model);
        }
    }

    /// <summary>The CloudEvent for a lifecycle event: source <c>/mlops/{model}</c>, the event's type, subject, id and time.</summary>
    public static CloudEvent ToCloudEvent(LifecycleEvent lifecycleEvent)
    {
        ArgumentNullException.ThrowIfNull(lifecycleEvent);
        var data = lifecycleEvent.Data.ValueKind == System.Text.Json.JsonValueKind.Undefined
            ? null
            : BinaryData.FromString(lifecycleEvent.Data.GetRawText());
        return new CloudEvent($"/mlops/{lifecycleEvent.Model}", lifecycleEvent.Type, data, "application/json")
        {
            Id = lifecycleEvent.Id,
            Subject = lifecycleEvent.Subject,
            Time = lifecycleEvent.Time,
        };
    }
}
