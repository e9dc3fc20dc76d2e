using Microsoft.Extensions.Logging;

namespace MLOps.Lifecycle.Logging;

/// <summary>Log messages of the lifecycle (event ids 1000–1999).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1000, Level = LogLevel.Information, Message = "Trained {Model} for run {RunId} on {Rows} rows in {Seconds:F2} s")]
    public static partial void ModelTrained(ILogger logger, string model, string runId, long rows, double seconds);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Run {RunId} deployed {Model} version {Version}")]
    public static partial void RunDeployed(ILogger logger, string runId, string model, int version);

    [LoggerMessage(EventId = 1010, Level = LogLevel.Information, Message = "Upload {Blob} is valid ({Rows} rows, sha256 {Sha256}); run {RunId} {Action}")]
    public static partial void UploadAccepted(ILogger logger, string blob, long rows, string sha256, string runId, string action);

    [LoggerMessage(EventId = 1011, Level = LogLevel.Warning, Message = "Upload {Blob} is invalid and was quarantined at {Quarantine}: {Summary}")]
    public static partial void UploadQuarantined(ILogger logger, string blob, string quarantine, string summary);

    [LoggerMessage(EventId = 1012, Level = LogLevel.Information, Message = "Upload {Blob} ignored: {Reason}")]
    public static partial void UploadIgnored(ILogger logger, string blob, string reason);

    [LoggerMessage(EventId = 1013, Level = LogLevel.Warning, Message = "Upload {Blob} not compared with the reference {Reference}: {Reason}")]
    public static partial void ReferenceSignalsSkipped(ILogger logger, string blob, string reference, string reason);

    [LoggerMessage(EventId = 1020, Level = LogLevel.Information, Message = "Drift audit {AuditId} of {Model} v{Version}: {Summary}; decision: {Decision}")]
    public static partial void DriftAudited(ILogger logger, string auditId, string model, int version, string summary, string decision);

    [LoggerMessage(EventId = 1030, Level = LogLevel.Warning, Message = "Rolled back {Model} from version {From} to {To} by {Actor}")]
    public static partial void RolledBack(ILogger logger, string model, int from, int to, string actor);
}
