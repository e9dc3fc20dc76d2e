namespace MLOps.Infrastructure.Storage;

/// <summary>Base names of the containers and tables; the configured prefix is prepended to each.</summary>
public static class StorageNames
{
    public const string Datasets = "datasets";
    public const string Lineage = "lineage";
    public const string Quarantine = "quarantine";
    public const string Artifacts = "artifacts";
    public const string Inference = "inference";
    public const string Workflows = "workflows";

    public const string RegistryTable = "registry";
    public const string MonitoringTable = "monitoring";
    public const string AuditTable = "audit";
    public const string WorkflowsTable = "workflows";
    public const string BudgetsTable = "budgets";

    public static IReadOnlyList<string> Containers { get; } = [Datasets, Lineage, Quarantine, Artifacts, Inference, Workflows];

    public static IReadOnlyList<string> Tables { get; } = [RegistryTable, MonitoringTable, AuditTable, WorkflowsTable, BudgetsTable];
}
