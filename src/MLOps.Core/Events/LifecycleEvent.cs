using System.Text.Json;

namespace MLOps.Core.Events;

/// <summary>A lifecycle event, published as a CloudEvent and appended to the audit trail.</summary>
public sealed record LifecycleEvent
{
    public required string Id { get; init; }
    /// <summary>One of <see cref="LifecycleEventTypes"/>.</summary>
    public required string Type { get; init; }
    /// <summary>e.g. <c>models/credit-risk/versions/3</c> or <c>runs/{runId}</c>.</summary>
    public required string Subject { get; init; }
    public required string Model { get; init; }
    public required DateTimeOffset Time { get; init; }
    public string Actor { get; init; } = "system";
    public JsonElement Data { get; init; }

    public static LifecycleEvent Create<T>(string id, string type, string model, string subject, DateTimeOffset time, T data, string actor = "system")
        => new() { Id = id, Type = type, Model = model, Subject = subject, Time = time, Actor = actor, Data = JsonSerializer.SerializeToElement(data, DataOptions) };

    /// <summary>Event data is camelCase JSON with enums as strings, as CloudEvents consumers expect.</summary>
    public static JsonSerializerOptions DataOptions { get; } = new(JsonSerializerDefaults.Web)
    {
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() },
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };
}

public static class LifecycleEventTypes
{
    public const string DatasetValidated = "MLOps.Dataset.Validated";
    public const string DatasetRejected = "MLOps.Dataset.Rejected";
    public const string RunStarted = "MLOps.Run.Started";
    public const string ModelTrained = "MLOps.Model.Trained";
    public const string GatesEvaluated = "MLOps.Model.GatesEvaluated";
    public const string VersionRegistered = "MLOps.Model.VersionRegistered";
    public const string ApprovalRequested = "MLOps.Approval.Requested";
    public const string ApprovalRecorded = "MLOps.Approval.Recorded";
    public const string ApprovalRefused = "MLOps.Approval.Refused";
    public const string ApprovalEscalated = "MLOps.Approval.Escalated";
    public const string ApprovalExpired = "MLOps.Approval.Expired";
    public const string Deployed = "MLOps.Model.Deployed";
    public const string RunCompleted = "MLOps.Run.Completed";
    public const string DriftAudited = "MLOps.Monitoring.DriftAudited";
    public const string DriftDetected = "MLOps.Monitoring.DriftDetected";
    public const string RetrainingStarted = "MLOps.Retraining.Started";
    public const string RolledBack = "MLOps.Model.RolledBack";
    public const string RolloutStepStarted = "MLOps.Rollout.StepStarted";
    public const string RolloutStepPassed = "MLOps.Rollout.StepPassed";
    public const string RolloutRolledBack = "MLOps.Rollout.RolledBack";
    public const string RolloutPromoted = "MLOps.Rollout.Promoted";
    public const string BudgetWarning = "MLOps.Budget.Warning";
    public const string BudgetExceeded = "MLOps.Budget.Exceeded";
}

/// <summary>One entry of the hash-chained audit trail.</summary>
public sealed record AuditEntry
{
    public required string Model { get; init; }
    public required long Sequence { get; init; }
    public required LifecycleEvent Event { get; init; }
    /// <summary>Hash of the previous entry of the same model ("" for the first).</summary>
    public required string PreviousHash { get; init; }
    /// <summary>SHA-256 over PreviousHash and the canonical JSON of the event.</summary>
    public required string Hash { get; init; }
}

public sealed record AuditVerification(string Model, long Entries, bool Valid, long? FirstBrokenSequence, string Message);
