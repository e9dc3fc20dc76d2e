using MLOps.Core.Budgets;

namespace MLOps.Integration.Tests.Support;

/// <summary>Variants of <see cref="TestWorkflows.CreditRisk"/> with a parameter grid and a budget.</summary>
internal static class GridWorkflows
{
    /// <summary>The credit-risk test workflow with <paramref name="grid"/> (YAML flow mapping, e.g.
    /// <c>{ leaves: [4, 32] }</c>) under <c>training</c>, and <paramref name="budget"/> (YAML lines under
    /// <c>budget:</c>) appended.</summary>
    public static string CreditRisk(string model, string? grid = null, string? gridOptions = null, string? budget = null, int trees = 100)
    {
        var yaml = TestWorkflows.CreditRisk(model)
            .Replace("parameters: { trees: 100,", $"parameters: {{ trees: {trees},", StringComparison.Ordinal);
        if (grid is not null)
        {
            yaml = yaml.Replace("  seed: 42\n", $"  seed: 42\n  grid: {grid}\n{gridOptions}", StringComparison.Ordinal);
        }

        if (budget is not null)
        {
            yaml += "\nbudget:\n" + budget;
        }

        return yaml;
    }

    public static string ThisMonth => BudgetPolicy.MonthOf(DateTime.UtcNow);
}
