using MLOps.Core.Monitoring;

namespace MLOps.Lifecycle.Contracts;

// Wire formats kept in durable history: add members, never rename or retype them. History carries references
// (capture name ranges, profile blob URIs) and small summaries, never rows or samples.

/// <summary>Input of <see cref="Orchestrations.DriftAuditOrchestrator"/>: which model, the end of its window, and how
/// wide the audit may fan out.</summary>
public sealed record DriftAuditInput
{
    public required string Model { get; init; }
    /// <summary>End of the window (excluded); its start is this minus the workflow's monitoring window.</summary>
    public required DateTimeOffset WindowEnd { get; init; }
    /// <summary>What started the audit: <c>schedule</c> or <c>request</c>.</summary>
    public string Trigger { get; init; } = "request";
    /// <summary>Captures (one per scoring request) one profile activity reads at least.</summary>
    public int CapturesPerPartition { get; init; } = DriftAuditOptions.DefaultCapturesPerPartition;
    /// <summary>Most profile activities of one audit (the fan-out bound).</summary>
    public int MaxPartitions { get; init; } = DriftAuditOptions.DefaultMaxPartitions;
    /// <summary>Id the audit is stored under: the same for every attempt at the window, so a re-run after a failure
    /// stores one audit. Null in instances started before it existed (they draw one from the context).</summary>
    public string? AuditId { get; init; }
}

/// <summary>Input of <see cref="Activities.PlanDriftAuditActivity"/>.</summary>
public sealed record PlanDriftAuditInput
{
    public required string Model { get; init; }
    public required DateTimeOffset WindowEnd { get; init; }
    public required int CapturesPerPartition { get; init; }
    public required int MaxPartitions { get; init; }
}

/// <summary>What an audit will read: the version serving, its reference profile, the window and the capture ranges
/// of the window (references only). <see cref="Skipped"/> says why nothing is audited.</summary>
public sealed record DriftAuditPlan
{
    public required string Model { get; init; }
    public string? Skipped { get; init; }
    public int Version { get; init; }
    public string WorkflowHash { get; init; } = "";
    public string ReferenceProfileUri { get; init; } = "";
    public DateTimeOffset WindowStart { get; init; }
    public DateTimeOffset WindowEnd { get; init; }
    /// <summary>Captures in the window (all versions: the profile activities keep the audited version's).</summary>
    public int Captures { get; init; }
    public IReadOnlyList<CaptureRange> Partitions { get; init; } = [];
    /// <summary>Why the audit cannot be planned from the data it found (then nothing else is set), else null.</summary>
    public DataProblem? Problem { get; init; }
}

/// <summary>Input of <see cref="Activities.ProfilePartitionActivity"/>: one range of the window's captures, and where
/// to store its profile.</summary>
public sealed record ProfilePartitionInput
{
    public required string Model { get; init; }
    public required int Version { get; init; }
    public required string WorkflowHash { get; init; }
    public required DateTimeOffset WindowStart { get; init; }
    public required DateTimeOffset WindowEnd { get; init; }
    public required CaptureRange Range { get; init; }
    /// <summary>Artifact path of the partition's profile (overwritten on a retry: the activity is idempotent).</summary>
    public required string ProfilePath { get; init; }
}

/// <summary>A stored partition profile: its URI and how much it holds.</summary>
public sealed record PartitionProfileRef
{
    public required string Uri { get; init; }
    /// <summary>Captured requests of the audited version in the range.</summary>
    public int Records { get; init; }
    /// <summary>Rows of those requests.</summary>
    public long Rows { get; init; }
    public long Bytes { get; init; }
    /// <summary>Why the range could not be profiled (then <see cref="Uri"/> is empty), else null.</summary>
    public DataProblem? Problem { get; init; }
}

/// <summary>Input of <see cref="Activities.AnalyzeDriftActivity"/>: the plan's facts and the partition profiles, in
/// window order.</summary>
public sealed record AnalyzeDriftInput
{
    public required string AuditId { get; init; }
    public required string Model { get; init; }
    public required int Version { get; init; }
    public required string WorkflowHash { get; init; }
    public required string ReferenceProfileUri { get; init; }
    public required DateTimeOffset WindowStart { get; init; }
    public required DateTimeOffset WindowEnd { get; init; }
    public IReadOnlyList<string> ProfileUris { get; init; } = [];
}

/// <summary>Output of <see cref="Orchestrations.DriftAuditOrchestrator"/> (and of its analysis step): a summary; the
/// whole audit with every metric is in the monitoring store under <see cref="AuditId"/>.</summary>
public sealed record DriftAuditResult
{
    public required string Model { get; init; }
    public string? AuditId { get; init; }
    /// <summary>Why nothing was audited (no production version), else null.</summary>
    public string? Skipped { get; init; }
    public int Version { get; init; }
    public DateTimeOffset WindowStart { get; init; }
    public DateTimeOffset WindowEnd { get; init; }
    /// <summary>Profile activities the audit fanned out to.</summary>
    public int Partitions { get; init; }
    public int Captures { get; init; }
    public long CurrentRows { get; init; }
    public bool Judged { get; init; }
    public int DriftedFeatures { get; init; }
    public bool Alert { get; init; }
    public string Summary { get; init; } = "";
    public string? Decision { get; init; }
    public string? RetrainRunId { get; init; }
    public string? ReportUri { get; init; }
    public IReadOnlyList<string> ProfileUris { get; init; } = [];
    /// <summary>Why the audit stopped without a result: data it read cannot be used (then <see cref="AuditId"/> is
    /// null and nothing was stored). The orchestration completes with it instead of failing, so every engine reports
    /// it the same way (see <see cref="DataProblem"/>); the window counts as failed and is re-run on its next start.</summary>
    public DataProblem? Problem { get; init; }
}

/// <summary>
/// A failure of the data an activity read — a file, record, row or column that is missing or cannot be used — which a
/// retry cannot cure. The drift audit's activities return it in their output instead of throwing, so whether a
/// failure is one does not depend on the durable engine carrying exception types: the Azure Storage backend of the
/// local host keeps only the message of a failed orchestration and Azure Functions reports it as a
/// <c>TaskFailedException</c>; an output is kept whole by both. History carries only this small record.
/// </summary>
public sealed record DataProblem
{
    /// <summary>Value of <see cref="Kind"/>: data that is missing or malformed (<see cref="InvalidDataException"/>).</summary>
    public const string InvalidData = "invalid-data";

    /// <summary>What kind of problem: <see cref="InvalidData"/>.</summary>
    public required string Kind { get; init; }
    /// <summary>What is wrong, naming the file (blob), row or record and column where known.</summary>
    public required string Message { get; init; }
    /// <summary>The activity that found it.</summary>
    public string? Step { get; init; }

    /// <summary>The problem an <see cref="InvalidDataException"/> of <paramref name="step"/> reports.</summary>
    public static DataProblem From(InvalidDataException exception, string step)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return new DataProblem { Kind = InvalidData, Message = exception.Message, Step = step };
    }
}

/// <summary>How wide drift audits fan out (section <c>MLOps:DriftAudit</c>).</summary>
public sealed record DriftAuditOptions
{
    public const string Section = "MLOps:DriftAudit";
    public const int DefaultCapturesPerPartition = 200;
    public const int DefaultMaxPartitions = 16;

    /// <summary>Captures one profile activity reads at least (fewer partitions for small windows).</summary>
    public int CapturesPerPartition { get; init; } = DefaultCapturesPerPartition;
    /// <summary>Most profile activities of one audit.</summary>
    public int MaxPartitions { get; init; } = DefaultMaxPartitions;
    /// <summary>Longest a caller may wait for an audit: <see cref="Services.DriftAuditService.AuditAsync"/> waits this
    /// long, and the HTTP route's <c>wait</c> is capped at it (under the 230 s an Azure HTTP trigger may hold a request).</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromMinutes(3);
    /// <summary>How long the HTTP route waits for the audit it started before answering 202 Accepted with the
    /// instance's status URL (the audit goes on either way).</summary>
    public TimeSpan RequestWait { get; init; } = TimeSpan.FromSeconds(5);
    /// <summary>How long a claim on an audit window may stand without its orchestration before another starter takes
    /// it over (its starter is taken to have died between claiming and scheduling).</summary>
    public TimeSpan ClaimGrace { get; init; } = TimeSpan.FromMinutes(1);
    /// <summary>Most attempts at one window: after this many failed or terminated attempts a start answers with the
    /// last one and schedules nothing, so a window that fails for good is not re-run on every timer fire.</summary>
    public int MaxAttempts { get; init; } = 3;
}
