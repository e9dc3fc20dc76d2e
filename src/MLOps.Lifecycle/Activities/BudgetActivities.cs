using MLOps.Core.Budgets;
using MLOps.Lifecycle.Budgets;
using MLOps.Lifecycle.Contracts;

namespace MLOps.Lifecycle.Activities;

/// <summary>Admits a run against its model's monthly budget before it trains, or refuses it naming the limit.
/// Idempotent by run id.</summary>
public sealed class ReserveBudgetActivity(BudgetService budgets)
{
    public Task<BudgetDecision> RunAsync(BudgetReserveInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        return budgets.ReserveAsync(input.Model, input.RunId, input.Month, input.Candidates, input.Budget, cancellationToken);
    }
}

/// <summary>Charges a run's measured training compute and stored model bytes to the ledger. Idempotent by charge id.</summary>
public sealed class ChargeBudgetActivity(BudgetService budgets)
{
    public Task<BudgetDecision> RunAsync(BudgetChargeInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        return budgets.ChargeAsync(input.Model, input.Month, input.ChargeId, input.Candidates, input.ComputeSeconds, input.StorageBytes, input.Budget, cancellationToken);
    }
}
