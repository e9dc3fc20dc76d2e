using MLOps.Core.Monitoring;

namespace MLOps.Lifecycle.Contracts;

/// <summary>What the status route (<c>GET /api/models/{model}/drift-audits/{instanceId}</c>) answers about one audit
/// instance, and what <c>POST /api/models/{model}/drift-audits</c> answers with 202 when the audit is still going.</summary>
public sealed record DriftAuditStatus
{
    /// <summary>Values of <see cref="Status"/>.</summary>
    public const string Pending = "pending", Running = "running", Completed = "completed", Skipped = "skipped", Failed = "failed", Terminated = "terminated";

    public required string InstanceId { get; init; }
    public required string Model { get; init; }
    /// <summary><c>pending</c>, <c>running</c>, <c>completed</c>, <c>skipped</c> (no production version),
    /// <c>failed</c> or <c>terminated</c>.</summary>
    public required string Status { get; init; }
    /// <summary>The durable runtime status as the engine reports it.</summary>
    public string RuntimeStatus { get; init; } = "";
    public DateTimeOffset? WindowEnd { get; init; }
    /// <summary>The orchestration's custom status (what it is doing, or the summary when done).</summary>
    public string? Progress { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset LastUpdatedAt { get; init; }
    /// <summary>Where to poll this status (set by the HTTP routes).</summary>
    public string? StatusQueryGetUri { get; init; }
    /// <summary>The stored audit when <see cref="Status"/> is <c>completed</c>.</summary>
    public DriftAuditRecord? Audit { get; init; }
    /// <summary>The orchestration's summary when it ended.</summary>
    public DriftAuditResult? Result { get; init; }
    /// <summary>Why the audit failed or was skipped.</summary>
    public string? Error { get; init; }
    /// <summary>The .NET type of the failure: <c>System.IO.InvalidDataException</c> for bad data (<see cref="Problem"/>),
    /// else the engine's failure type where the backend keeps one (Azure Functions; not the local host).</summary>
    public string? ErrorType { get; init; }
    /// <summary>The bad data the audit stopped on (then <see cref="Status"/> is <c>failed</c> and the HTTP route answers
    /// 422), else null: a failure without it is the platform's (500).</summary>
    public DataProblem? Problem { get; init; }

    /// <summary>True while the audit has not ended.</summary>
    public bool IsRunning => Status is Pending or Running;
}
