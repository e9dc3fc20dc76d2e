using MLOps.Core.Budgets;
using MLOps.Core.Ports;
using MLOps.Core.Workflows;

namespace MLOps.Lifecycle.Budgets;

/// <summary>A model's budget as the API shows it: the month's usage against each declared limit.</summary>
public sealed record BudgetView
{
    public required string Model { get; init; }
    public required string Month { get; init; }
    public required string Currency { get; init; }
    public required bool Declared { get; init; }
    public double? PerRun { get; init; }
    public int TrainingRuns { get; init; }
    public int CandidatesTrained { get; init; }
    public double ComputeHours { get; init; }
    public double StorageGb { get; init; }
    public double Cost { get; init; }
    public IReadOnlyList<BudgetLimitStatus> Limits { get; init; } = [];
    /// <summary>What a one-candidate run is estimated to cost now.</summary>
    public BudgetPlan? NextRunEstimate { get; init; }
    public required PriceTable Prices { get; init; }
}

/// <summary>Admits runs against the budget and charges their measured usage, through the ETag-guarded ledger.</summary>
public sealed class BudgetService(IBudgetLedger ledger, PriceTable prices)
{
    /// <summary>Admits the run (counting it) or refuses it with the limit and figures. Idempotent by run id: a run
    /// already admitted is admitted again without counting twice.</summary>
    public async Task<BudgetDecision> ReserveAsync(string model, string runId, string month, int candidates, BudgetSpec? budget, CancellationToken cancellationToken = default)
    {
        BudgetDecision? decision = null;
        var reservation = BudgetPolicy.ReservationId(runId);
        var stored = await ledger.UpdateAsync(model, month, usage =>
        {
            var plan = BudgetPolicy.Estimate(usage, candidates, prices);
            if (usage.Applied.Contains(reservation))
            {
                decision = new BudgetDecision { Allowed = true, Reason = "already admitted", Currency = budget?.Currency ?? "USD", Plan = plan, Limits = BudgetPolicy.Status(budget, usage) };
                return null;
            }

            decision = BudgetPolicy.Check(budget, usage, plan);
            if (!decision.Allowed)
            {
                return null;
            }

            var next = BudgetPolicy.Reserve(usage, runId);
            var warnings = BudgetPolicy.DueWarnings(budget, next);
            decision = decision with { Warnings = warnings, Limits = BudgetPolicy.Status(budget, next) };
            return next with { Warned = [.. next.Warned, .. warnings] };
        }, cancellationToken);
        return decision ?? throw new InvalidOperationException($"the budget ledger of '{model}' {stored.Month} answered without a decision");
    }

    /// <summary>Charges measured compute and storage (once per charge id); the answer lists limits newly past 80 %
    /// and whether the month is still within every limit.</summary>
    public async Task<BudgetDecision> ChargeAsync(string model, string month, string chargeId, int candidates, double computeSeconds, long storageBytes, BudgetSpec? budget, CancellationToken cancellationToken = default)
    {
        IReadOnlyList<string> warnings = [];
        var stored = await ledger.UpdateAsync(model, month, usage =>
        {
            warnings = [];
            if (usage.Applied.Contains(chargeId))
            {
                return null;
            }

            var next = BudgetPolicy.Charge(usage, chargeId, candidates, computeSeconds, storageBytes, prices);
            warnings = BudgetPolicy.DueWarnings(budget, next);
            return next with { Warned = [.. next.Warned, .. warnings] };
        }, cancellationToken);
        var limits = BudgetPolicy.Status(budget, stored);
        var over = limits.FirstOrDefault(l => l.Limit is not null && l.Used > l.Limit);
        return new BudgetDecision
        {
            Allowed = over is null,
            Limit = over?.Name,
            Reason = over is null ? "charged within budget" : $"monthly {over.Name} is over its limit after this run: {over.Used:0.####} of {over.Limit:0.####}",
            Currency = budget?.Currency ?? "USD",
            Limits = limits,
            Warnings = warnings,
        };
    }

    /// <summary>The month's usage against the workflow's limits.</summary>
    public async Task<BudgetView> ViewAsync(string model, string month, BudgetSpec? budget, CancellationToken cancellationToken = default)
    {
        var usage = await ledger.GetAsync(model, month, cancellationToken);
        return new BudgetView
        {
            Model = model,
            Month = month,
            Currency = budget?.Currency ?? "USD",
            Declared = budget is not null,
            PerRun = budget?.PerRun,
            TrainingRuns = usage.TrainingRuns,
            CandidatesTrained = usage.CandidatesTrained,
            ComputeHours = Math.Round(usage.ComputeHours, 6),
            StorageGb = Math.Round(usage.StorageGb, 6),
            Cost = Math.Round(usage.Cost, 6),
            Limits = BudgetPolicy.Status(budget, usage),
            NextRunEstimate = BudgetPolicy.Estimate(usage, 1, prices),
            Prices = prices,
        };
    }
}
