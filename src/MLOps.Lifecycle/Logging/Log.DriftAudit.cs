using Microsoft.Extensions.Logging;

namespace MLOps.Lifecycle.Logging;

/// <summary>Starting and running drift audits (event ids 1050–1059).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1050, Level = LogLevel.Information, Message = "Drift audit {InstanceId} of {Model} scheduled ({Trigger}, attempt {Attempt})")]
    public static partial void DriftAuditScheduled(ILogger logger, string instanceId, string model, string trigger, int attempt);

    [LoggerMessage(EventId = 1051, Level = LogLevel.Warning, Message = "Drift audit window of {Model} re-run as {InstanceId}: attempt {Previous} ({PreviousInstanceId}) {Reason}")]
    public static partial void DriftAuditTakenOver(ILogger logger, string model, string instanceId, int previous, string previousInstanceId, string reason);

    [LoggerMessage(EventId = 1052, Level = LogLevel.Warning, Message = "Drift audit window of {Model} not re-run: its attempt {InstanceId} {Reason}, and {Attempts} attempt(s) is the most allowed")]
    public static partial void DriftAuditAttemptsExhausted(ILogger logger, string model, string instanceId, int attempts, string reason);

    [LoggerMessage(EventId = 1053, Level = LogLevel.Information, Message = "Drift audit {AuditId} of {Model} v{Version} reads its reference {Reference} whole from JSON: no binary form beside it (a version registered before it was written)")]
    public static partial void DriftReferenceReadWhole(ILogger logger, string auditId, string model, int version, string reference);
}
