namespace MLOps.Local;

/// <summary>Settings of the local host (<c>mlops up</c>, <c>mlops demo</c>, the end-to-end tests).</summary>
public sealed record LocalHostOptions
{
    /// <summary>Storage to use; null starts the embedded Azurite from node_modules with its data under <see cref="DataDirectory"/>.</summary>
    public string? StorageConnectionString { get; init; }

    /// <summary>Where the embedded Azurite keeps its data and the host writes <c>host.json</c> (its URL).</summary>
    public string DataDirectory { get; init; } = ".mlops";

    /// <summary>Prefix of every container and table name (tests isolate by it).</summary>
    public string StoragePrefix { get; init; } = "";

    /// <summary>Durable task hub name.</summary>
    public string TaskHub { get; init; } = "mlopslocal";

    /// <summary>Stable worker id, so a restarted host takes its partitions back at once.</summary>
    public string WorkerId { get; init; } = "mlops-local";

    /// <summary>HTTP port of the API on 127.0.0.1; 0 picks a free one.</summary>
    public int Port { get; init; } = 7071;

    /// <summary>Folder of workflow files registered at start; null looks for <c>workflows/</c> above the current folder.</summary>
    public string? WorkflowsDirectory { get; init; }

    public TimeSpan UploadPollInterval { get; init; } = TimeSpan.FromSeconds(1);

    public TimeSpan DriftCheckInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>False skips the background listener and scheduler (tests drive the handlers themselves).</summary>
    public bool RunBackgroundServices { get; init; } = true;

    /// <summary>Base64 key that signs approval tokens; null reads (or creates) one kept in <see cref="DataDirectory"/>.</summary>
    public string? ApprovalSigningKey { get; init; }

    /// <summary>Version new lifecycle runs are started under; the worker also runs older versions' runs
    /// (see <c>LifecycleVersions</c>). Tests set an older one to stand for an earlier deployment.</summary>
    public string OrchestrationVersion { get; init; } = MLOps.Lifecycle.Orchestrations.LifecycleVersions.Current;

    /// <summary>The worker leaves runs of a newer version alone (see <c>LocalDurableEngineOptions.RejectNewerVersions</c>
    /// for why this is off by default locally).</summary>
    public bool RejectNewerVersions { get; init; }

    /// <summary>Minimum level of the host's console log.</summary>
    public Microsoft.Extensions.Logging.LogLevel LogLevel { get; init; } = Microsoft.Extensions.Logging.LogLevel.Warning;

    /// <summary>Finds the <c>workflows</c> folder in the current folder or a parent.</summary>
    public string ResolveWorkflowsDirectory()
    {
        if (WorkflowsDirectory is not null)
        {
            return Path.GetFullPath(WorkflowsDirectory);
        }

        for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "workflows");
            if (Directory.Exists(candidate) && Directory.EnumerateFiles(candidate, "*.yaml").Any())
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException("No 'workflows' folder with *.yaml files was found here or above; pass --workflows.");
    }
}
