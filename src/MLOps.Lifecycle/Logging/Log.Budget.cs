using Microsoft.Extensions.Logging;

namespace MLOps.Lifecycle.Logging;

/// <summary>Log messages of budgets and grids (event ids 1200–1249).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1200, Level = LogLevel.Warning, Message = "Run {RunId} of {Model} refused by the budget ({Limit}): {Reason}")]
    public static partial void RunRefusedByBudget(ILogger logger, string runId, string model, string? limit, string reason);

    [LoggerMessage(EventId = 1201, Level = LogLevel.Information, Message = "Run {RunId} of {Model} chose grid candidate {Candidate} of {Candidates} by validation {Metric}")]
    public static partial void GridWinner(ILogger logger, string runId, string model, int candidate, int candidates, string metric);
}
