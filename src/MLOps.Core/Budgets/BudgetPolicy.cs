using System.Globalization;
using MLOps.Core.Workflows;

namespace MLOps.Core.Budgets;

// These records travel through durable history and the HTTP API as JSON: add members, never rename or retype them.

/// <summary>Prices the ledger turns measured usage into cost with, in the budget's currency. The defaults are rough
/// Azure list prices (Flex Consumption, 4 GB instance ≈ 0.40 per hour busy; hot LRS blob ≈ 0.02 per GB-month), good
/// enough to keep a model inside a declared budget, not an invoice.</summary>
public sealed record PriceTable
{
    public static PriceTable Default { get; } = new();

    /// <summary>Price of one hour of training compute.</summary>
    public double ComputeHour { get; init; } = 0.40;
    /// <summary>Price of one GB of stored artifacts for a month (charged in full in the month it is written).</summary>
    public double StorageGbMonth { get; init; } = 0.02;
    /// <summary>Compute seconds a candidate is assumed to take before the month has measured any (then the month's
    /// mean seconds per candidate is used).</summary>
    public double DefaultCandidateSeconds { get; init; } = 120;
}

/// <summary>A model's usage in one month (UTC, <c>yyyy-MM</c>), as the ledger holds it.</summary>
public sealed record BudgetUsage
{
    public required string Model { get; init; }
    public required string Month { get; init; }
    /// <summary>Runs admitted to train this month (a run counts once, however many candidates it trains).</summary>
    public int TrainingRuns { get; init; }
    /// <summary>Models trained this month (grid candidates each count).</summary>
    public int CandidatesTrained { get; init; }
    public double ComputeSeconds { get; init; }
    public long StorageBytes { get; init; }
    /// <summary>Cost charged this month (compute and storage), in the budget's currency.</summary>
    public double Cost { get; init; }
    /// <summary>Ids of the reservations and charges applied (<c>run:{runId}</c>, <c>{runId}/training</c>): a retried
    /// activity never charges twice.</summary>
    public IReadOnlyList<string> Applied { get; init; } = [];
    /// <summary>Limits whose 80 % warning was already published this month.</summary>
    public IReadOnlyList<string> Warned { get; init; } = [];
    /// <summary>The stored entity's ETag (null when nothing is stored yet).</summary>
    public string? ETag { get; init; }

    public double ComputeHours => ComputeSeconds / 3600.0;
    public double StorageGb => StorageBytes / 1e9;
}

/// <summary>What a run is expected to cost before it trains.</summary>
public sealed record BudgetPlan(int Candidates, double EstimatedComputeHours, double EstimatedCost);

/// <summary>One limit's figures: used, the limit, and the share used (0 when unlimited).</summary>
public sealed record BudgetLimitStatus(string Name, double Used, double? Limit, double Share);

/// <summary>The ledger's answer to a reservation or a charge.</summary>
public sealed record BudgetDecision
{
    public required bool Allowed { get; init; }
    /// <summary>The limit that refused the run (<c>training_runs</c>, <c>compute_hours</c>, <c>storage_gb</c>,
    /// <c>cost</c>, <c>per_run</c>).</summary>
    public string? Limit { get; init; }
    public required string Reason { get; init; }
    public string Currency { get; init; } = "USD";
    public BudgetPlan? Plan { get; init; }
    public IReadOnlyList<BudgetLimitStatus> Limits { get; init; } = [];
    /// <summary>Limits that reached <see cref="BudgetSpec.WarningShare"/> with this change (each published once a month).</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];
}

/// <summary>The budget rules: estimate a run, admit or refuse it against the limits, charge measured usage.</summary>
public static class BudgetPolicy
{
    /// <summary>The ledger month of <paramref name="time"/> (UTC).</summary>
    public static string MonthOf(DateTime time) => time.ToUniversalTime().ToString("yyyy-MM", CultureInfo.InvariantCulture);

    /// <summary>Expected compute and cost of a run of <paramref name="candidates"/> models: the month's mean seconds per
    /// candidate so far, else <see cref="PriceTable.DefaultCandidateSeconds"/>.</summary>
    public static BudgetPlan Estimate(BudgetUsage usage, int candidates, PriceTable prices)
    {
        ArgumentNullException.ThrowIfNull(usage);
        ArgumentNullException.ThrowIfNull(prices);
        var perCandidate = usage.CandidatesTrained > 0 ? usage.ComputeSeconds / usage.CandidatesTrained : prices.DefaultCandidateSeconds;
        var hours = candidates * perCandidate / 3600.0;
        return new BudgetPlan(candidates, hours, hours * prices.ComputeHour);
    }

    /// <summary>Each declared limit with its usage.</summary>
    public static IReadOnlyList<BudgetLimitStatus> Status(BudgetSpec? spec, BudgetUsage usage)
    {
        ArgumentNullException.ThrowIfNull(usage);
        return BudgetSpec.MonthlyLimits.Select(name =>
        {
            var used = Used(usage, name);
            double? limit = spec is not null && spec.Monthly.TryGetValue(name, out var l) ? l : null;
            return new BudgetLimitStatus(name, used, limit, limit is > 0 ? used / limit.Value : limit == 0 ? 1 : 0);
        }).ToList();
    }

    /// <summary>Whether a run planned as <paramref name="plan"/> may train: the month's runs, compute hours, storage and
    /// cost stay within their limits with it, and its estimated cost within <see cref="BudgetSpec.PerRun"/>. The reason
    /// names the limit and the figures.</summary>
    public static BudgetDecision Check(BudgetSpec? spec, BudgetUsage usage, BudgetPlan plan)
    {
        ArgumentNullException.ThrowIfNull(usage);
        ArgumentNullException.ThrowIfNull(plan);
        var currency = spec?.Currency ?? "USD";
        var limits = Status(spec, usage);
        BudgetDecision Refuse(string limit, string reason) =>
            new() { Allowed = false, Limit = limit, Reason = reason, Currency = currency, Plan = plan, Limits = limits };

        if (spec is not null)
        {
            if (spec.Monthly.TryGetValue("training_runs", out var runs) && usage.TrainingRuns + 1 > runs)
            {
                return Refuse("training_runs", $"monthly training_runs limit reached: {usage.TrainingRuns} of {F(runs)} runs used in {usage.Month}");
            }

            if (spec.PerRun is { } cap && plan.EstimatedCost > cap)
            {
                return Refuse("per_run", $"per_run cap exceeded: {plan.Candidates} candidate(s) x ~{F(plan.EstimatedComputeHours * 3600 / Math.Max(1, plan.Candidates))} s are estimated at {F(plan.EstimatedCost)} {currency}, over the cap of {F(cap)} {currency}");
            }

            if (spec.Monthly.TryGetValue("compute_hours", out var hours) && usage.ComputeHours + plan.EstimatedComputeHours > hours)
            {
                return Refuse("compute_hours", $"monthly compute_hours limit: {F(usage.ComputeHours)} h used + {F(plan.EstimatedComputeHours)} h estimated for this run exceed {F(hours)} h in {usage.Month}");
            }

            if (spec.Monthly.TryGetValue("storage_gb", out var gb) && usage.StorageGb >= gb)
            {
                return Refuse("storage_gb", $"monthly storage_gb limit reached: {F(usage.StorageGb)} GB of {F(gb)} GB stored in {usage.Month}");
            }

            if (spec.Monthly.TryGetValue("cost", out var cost) && usage.Cost + plan.EstimatedCost > cost)
            {
                return Refuse("cost", $"monthly cost limit: {F(usage.Cost)} {currency} charged + {F(plan.EstimatedCost)} {currency} estimated exceed {F(cost)} {currency} in {usage.Month}");
            }
        }

        return new BudgetDecision
        {
            Allowed = true,
            Reason = $"within budget: run {usage.TrainingRuns + 1} this month, {plan.Candidates} candidate(s) estimated at {F(plan.EstimatedCost)} {currency}",
            Currency = currency,
            Plan = plan,
            Limits = limits,
        };
    }

    /// <summary>Limits at or over <see cref="BudgetSpec.WarningShare"/> not yet warned about this month.</summary>
    public static IReadOnlyList<string> DueWarnings(BudgetSpec? spec, BudgetUsage usage) =>
        Status(spec, usage).Where(s => s.Limit is not null && s.Share >= BudgetSpec.WarningShare && !usage.Warned.Contains(s.Name))
            .Select(s => s.Name).ToList();

    /// <summary>Counts the run (once: keyed <c>run:{runId}</c>).</summary>
    public static BudgetUsage Reserve(BudgetUsage usage, string runId)
    {
        ArgumentNullException.ThrowIfNull(usage);
        return usage with { TrainingRuns = usage.TrainingRuns + 1, Applied = [.. usage.Applied, ReservationId(runId)] };
    }

    /// <summary>Adds measured usage and its cost (once per <paramref name="chargeId"/>).</summary>
    public static BudgetUsage Charge(BudgetUsage usage, string chargeId, int candidates, double computeSeconds, long storageBytes, PriceTable prices)
    {
        ArgumentNullException.ThrowIfNull(usage);
        ArgumentNullException.ThrowIfNull(prices);
        var cost = computeSeconds / 3600.0 * prices.ComputeHour + storageBytes / 1e9 * prices.StorageGbMonth;
        return usage with
        {
            CandidatesTrained = usage.CandidatesTrained + candidates,
            ComputeSeconds = usage.ComputeSeconds + computeSeconds,
            StorageBytes = usage.StorageBytes + storageBytes,
            Cost = usage.Cost + cost,
            Applied = [.. usage.Applied, chargeId],
        };
    }

    public static string ReservationId(string runId) => $"run:{runId}";

    private static double Used(BudgetUsage usage, string limit) => limit switch
    {
        "training_runs" => usage.TrainingRuns,
        "compute_hours" => usage.ComputeHours,
        "storage_gb" => usage.StorageGb,
        "cost" => usage.Cost,
        _ => 0,
    };

    private static string F(double value) => Math.Round(value, 4).ToString("0.####", CultureInfo.InvariantCulture);
}
