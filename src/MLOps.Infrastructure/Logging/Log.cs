using Microsoft.Extensions.Logging;

namespace MLOps.Infrastructure.Logging;

/// <summary>Log messages of the infrastructure adapters (event ids 4000–4099).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 4000, Level = LogLevel.Warning, Message = "Event {EventId} ({EventType}) of model {Model} is in the audit trail but could not be sent to Event Grid")]
    public static partial void EventGridSendFailed(this ILogger logger, Exception exception, string eventId, string eventType, string model);

    [LoggerMessage(EventId = 4001, Level = LogLevel.Debug, Message = "Event {EventId} ({EventType}) of model {Model} appended to the audit trail at sequence {Sequence}")]
    public static partial void EventAppended(this ILogger logger, string eventId, string eventType, string model, long sequence);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Information, Message = "Storage ready: {Containers} containers and {Tables} tables with prefix '{Prefix}'")]
    public static partial void StorageInitialized(this ILogger logger, int containers, int tables, string prefix);
}
