using MLOps.Core.Workflows;

namespace MLOps.Lifecycle.Contracts;

/// <summary>Input of <see cref="Activities.ReserveBudgetActivity"/>: admit a run of <see cref="Candidates"/> models in
/// <see cref="Month"/> (taken from the orchestration's clock) against the pinned workflow's budget.</summary>
public sealed record BudgetReserveInput
{
    public required string Model { get; init; }
    public required string RunId { get; init; }
    public required string Month { get; init; }
    public required int Candidates { get; init; }
    public BudgetSpec? Budget { get; init; }
}

/// <summary>Input of <see cref="Activities.ChargeBudgetActivity"/>: measured usage of a run, charged once by
/// <see cref="ChargeId"/>.</summary>
public sealed record BudgetChargeInput
{
    public required string Model { get; init; }
    public required string Month { get; init; }
    public required string ChargeId { get; init; }
    public int Candidates { get; init; }
    public double ComputeSeconds { get; init; }
    public long StorageBytes { get; init; }
    public BudgetSpec? Budget { get; init; }
}
