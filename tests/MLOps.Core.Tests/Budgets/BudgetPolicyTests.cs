using MLOps.Core.Budgets;
using MLOps.Core.Workflows;

namespace MLOps.Core.Tests.Budgets;

public class BudgetPolicyTests
{
    private static readonly PriceTable Prices = PriceTable.Default;

    private static BudgetSpec Spec(double? runs = null, double? hours = null, double? perRun = null, double? cost = null, double? gb = null)
    {
        var monthly = new Dictionary<string, double>();
        if (runs is { } r) { monthly["training_runs"] = r; }
        if (hours is { } h) { monthly["compute_hours"] = h; }
        if (cost is { } c) { monthly["cost"] = c; }
        if (gb is { } g) { monthly["storage_gb"] = g; }
        return new BudgetSpec { Monthly = monthly, PerRun = perRun, Currency = "EUR" };
    }

    private static BudgetUsage Usage(int runs = 0, int candidates = 0, double seconds = 0, long bytes = 0, double cost = 0) =>
        new() { Model = "m", Month = "2026-11", TrainingRuns = runs, CandidatesTrained = candidates, ComputeSeconds = seconds, StorageBytes = bytes, Cost = cost };

    [Fact]
    public void Check_MonthlyRunsReached_RefusesNamingLimitAndFigures()
    {
        var usage = Usage(runs: 3);

        var decision = BudgetPolicy.Check(Spec(runs: 3), usage, BudgetPolicy.Estimate(usage, 1, Prices));

        Assert.False(decision.Allowed);
        Assert.Equal("training_runs", decision.Limit);
        Assert.Equal("monthly training_runs limit reached: 3 of 3 runs used in 2026-11", decision.Reason);
        Assert.True(BudgetPolicy.Check(Spec(runs: 4), usage, BudgetPolicy.Estimate(usage, 1, Prices)).Allowed);
    }

    [Fact]
    public void Estimate_UsesTheMonthsMeanPerCandidate_ElseTheDefault()
    {
        var fresh = BudgetPolicy.Estimate(Usage(), 8, Prices);
        Assert.Equal(8 * 120 / 3600.0, fresh.EstimatedComputeHours, 9);
        Assert.Equal(8 * 120 / 3600.0 * 0.40, fresh.EstimatedCost, 9);

        var measured = BudgetPolicy.Estimate(Usage(candidates: 4, seconds: 40), 8, Prices);
        Assert.Equal(80 / 3600.0, measured.EstimatedComputeHours, 9);
    }

    [Fact]
    public void Check_GridOverPerRunCap_Refused_SmallerGridAdmitted()
    {
        var usage = Usage();
        var big = BudgetPolicy.Check(Spec(perRun: 0.05), usage, BudgetPolicy.Estimate(usage, 8, Prices));
        var small = BudgetPolicy.Check(Spec(perRun: 0.05), usage, BudgetPolicy.Estimate(usage, 2, Prices));

        Assert.False(big.Allowed);
        Assert.Equal("per_run", big.Limit);
        Assert.Equal("per_run cap exceeded: 8 candidate(s) x ~120 s are estimated at 0.1067 EUR, over the cap of 0.05 EUR", big.Reason);
        Assert.True(small.Allowed);
    }

    [Fact]
    public void Check_ComputeHoursAndCost_CountTheEstimate()
    {
        var usage = Usage(runs: 1, candidates: 10, seconds: 3600, cost: 0.4);

        var hours = BudgetPolicy.Check(Spec(hours: 1.5), usage, BudgetPolicy.Estimate(usage, 10, Prices));
        var cost = BudgetPolicy.Check(Spec(cost: 0.5), usage, BudgetPolicy.Estimate(usage, 10, Prices));

        Assert.Equal("compute_hours", hours.Limit);
        Assert.Contains("1 h used + 1 h estimated for this run exceed 1.5 h", hours.Reason, StringComparison.Ordinal);
        Assert.Equal("cost", cost.Limit);
    }

    [Fact]
    public void Charge_AddsCostOnce_WarningsOncePerLimit()
    {
        var spec = Spec(runs: 5, cost: 1);
        var usage = BudgetPolicy.Reserve(Usage(runs: 3), "r1");
        Assert.Equal(4, usage.TrainingRuns);
        Assert.Contains("run:r1", usage.Applied);

        Assert.Equal(["training_runs"], BudgetPolicy.DueWarnings(spec, usage));
        usage = usage with { Warned = ["training_runs"] };
        Assert.Empty(BudgetPolicy.DueWarnings(spec, usage));

        var charged = BudgetPolicy.Charge(usage, "r1/training", 2, 7200, 2_000_000_000, Prices);
        Assert.Equal(2 * 0.40 + 2 * 0.02, charged.Cost, 9);
        Assert.Equal(2, charged.CandidatesTrained);
        Assert.Equal(2.0, charged.StorageGb, 9);
        Assert.Equal(["cost"], BudgetPolicy.DueWarnings(spec, charged));
    }

    [Fact]
    public void Check_NoBudget_AdmitsEverything()
    {
        var usage = Usage(runs: 1000, seconds: 1e7);

        Assert.True(BudgetPolicy.Check(null, usage, BudgetPolicy.Estimate(usage, 64, Prices)).Allowed);
    }
}
