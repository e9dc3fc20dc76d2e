using MLOps.Core.Budgets;
using MLOps.Core.Ports;
using MLOps.Lifecycle.Budgets;

namespace MLOps.Lifecycle.Handlers;

/// <summary>GET <c>/api/models/{model}/budget?month=yyyy-MM</c>: the month's usage against the current workflow's
/// budget (runs, compute hours, storage, cost, each limit's share).</summary>
public sealed class BudgetApi(IWorkflowStore workflows, BudgetService budgets, TimeProvider time)
{
    public async Task<ApiResult> GetAsync(string model, string? month, CancellationToken cancellationToken = default)
    {
        var workflow = await workflows.GetCurrentAsync(model, cancellationToken);
        if (workflow is null)
        {
            return ApiResult.Error(404, $"model '{model}' has no registered workflow");
        }

        month ??= BudgetPolicy.MonthOf(time.GetUtcNow().UtcDateTime);
        if (!DateTime.TryParseExact(month, "yyyy-MM", System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out _))
        {
            return ApiResult.Error(400, $"month must be yyyy-MM; got '{month}'");
        }

        return ApiResult.Ok(await budgets.ViewAsync(model, month, workflow.Definition.Budget, cancellationToken));
    }
}
