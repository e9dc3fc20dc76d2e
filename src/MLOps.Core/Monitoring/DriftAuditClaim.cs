namespace MLOps.Core.Monitoring;

/// <summary>
/// The claim on one model's audit window: whoever adds it first (the timer, the local scheduler, an HTTP request)
/// schedules the audit; the others read it and answer with its instance. An attempt that failed, was terminated, or was
/// claimed but never scheduled (its starter died) is taken over by replacing the claim under its
/// <see cref="ETag"/> with the next <see cref="Attempt"/>, so exactly one starter schedules each attempt.
/// </summary>
public sealed record DriftAuditClaim
{
    public required string Model { get; init; }
    /// <summary>End of the audited window (UTC); the claim's key, at millisecond precision.</summary>
    public required DateTimeOffset WindowEnd { get; init; }
    /// <summary>Orchestration instance of the current attempt.</summary>
    public required string InstanceId { get; init; }
    /// <summary>0 for the first attempt, then 1, 2, … for each take-over.</summary>
    public int Attempt { get; init; }
    /// <summary>When the current attempt was claimed (a take-over of an unscheduled claim waits a grace period from it).</summary>
    public required DateTimeOffset ClaimedAt { get; init; }
    /// <summary>What claimed the current attempt: <c>schedule</c> or <c>request</c>.</summary>
    public string Trigger { get; init; } = "";
    /// <summary>Version of the stored claim, as read; a replace succeeds only if it is still current.</summary>
    public string? ETag { get; init; }
}
