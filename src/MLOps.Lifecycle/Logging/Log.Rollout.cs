using Microsoft.Extensions.Logging;

namespace MLOps.Lifecycle.Logging;

/// <summary>Log messages of rollouts (event ids 1100–1149).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1100, Level = LogLevel.Warning, Message = "Run {RunId} rolled back the rollout of {Model} version {Version}: guard {Guard}")]
    public static partial void RolloutRolledBack(ILogger logger, string runId, string model, int version, string guard);
}
