using System.Text.RegularExpressions;

namespace MLOps.Local.Durable;

/// <summary>Settings of a <see cref="LocalDurableEngine"/>: where its task hub lives and how it polls.</summary>
public sealed partial record LocalDurableEngineOptions
{
    /// <summary>Connection string of the storage account that holds the task hub (Azurite locally).</summary>
    public required string StorageConnectionString { get; init; }

    /// <summary>Task hub name. Azure Storage rules: 3–45 characters, letters and digits only, starting with a
    /// letter. Two engines on the same hub share its orchestrations.</summary>
    public required string TaskHubName { get; init; }

    /// <summary>Identity this process writes on the partition leases it owns. Keep it stable across restarts
    /// (the default is the machine name): a restarted process with the same id takes its own leases back at once
    /// instead of waiting for them to expire.</summary>
    public string WorkerId { get; init; } = Environment.MachineName;

    /// <summary>Loopback port of the gRPC sidecar; 0 picks a free port.</summary>
    public int SidecarPort { get; init; }

    /// <summary>Longest wait between two polls of an idle queue. Short enough that events raised by another
    /// process arrive quickly; the Azure Storage default of 30 s makes them take up to 30 s.</summary>
    public TimeSpan MaxQueuePollingInterval { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Number of control-queue partitions. Fixed when the hub is first created.</summary>
    public int PartitionCount { get; init; } = 2;

    /// <summary>Where logs go. Framework categories (<c>Microsoft.*</c>, <c>Grpc.*</c>, <c>DurableTask.*</c>,
    /// <c>System.*</c>) are filtered to Warning because the sidecar logs every gRPC call at Information.
    /// <see langword="null"/>: nothing is logged.</summary>
    public ILoggerFactory? LoggerFactory { get; init; }

    /// <summary>Orchestration version of this deployment: new orchestrations are started with it (the client's default
    /// version) and orchestrator code reads it back as <c>TaskOrchestrationContext.Version</c>. Null: no versioning.</summary>
    public string? OrchestrationVersion { get; init; }

    /// <summary>With <see cref="OrchestrationVersion"/>: the worker also checks each run's version and leaves runs of a
    /// newer version alone (<c>CurrentOrOlder</c>, <c>Reject</c>). Off by default: through this sidecar a rejected work
    /// item is not handed back to the queue, so it waits out the control-queue visibility timeout (≈ 4–5 min, measured).</summary>
    public bool RejectNewerVersions { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> when a setting is out of range.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(StorageConnectionString))
        {
            throw new ArgumentException("A storage connection string is required.", nameof(StorageConnectionString));
        }

        if (!IsValidTaskHubName(TaskHubName))
        {
            throw new ArgumentException(
                $"Task hub name '{TaskHubName}' is invalid: use 3-45 letters and digits, starting with a letter.",
                nameof(TaskHubName));
        }

        if (string.IsNullOrWhiteSpace(WorkerId))
        {
            throw new ArgumentException("A worker id is required.", nameof(WorkerId));
        }

        if (SidecarPort is < 0 or > 65535)
        {
            throw new ArgumentException("The sidecar port must be 0 (free port) or 1-65535.", nameof(SidecarPort));
        }

        if (MaxQueuePollingInterval < TimeSpan.FromMilliseconds(10) || MaxQueuePollingInterval > TimeSpan.FromMinutes(1))
        {
            throw new ArgumentException("The queue polling interval must be between 10 ms and 1 minute.", nameof(MaxQueuePollingInterval));
        }

        if (PartitionCount is < 1 or > 16)
        {
            throw new ArgumentException("The partition count must be between 1 and 16.", nameof(PartitionCount));
        }
    }

    /// <summary>Whether <paramref name="name"/> is a valid Azure Storage task hub name.</summary>
    public static bool IsValidTaskHubName(string? name) => name is not null && TaskHubNamePattern().IsMatch(name);

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9]{2,44}$", RegexOptions.CultureInvariant)]
    private static partial Regex TaskHubNamePattern();
}
