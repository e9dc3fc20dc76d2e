using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using MLOps.Lifecycle.Handlers;

namespace MLOps.Functions.Triggers;

/// <summary>A model's monthly budget usage against its limits.</summary>
public sealed class BudgetTriggers(BudgetApi budget)
{
    [Function("GetBudget")]
    public async Task<IActionResult> Get(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "models/{model}/budget")] HttpRequest request,
        string model) =>
        (await budget.GetAsync(model, request.Query["month"].FirstOrDefault(), request.HttpContext.RequestAborted)).ToAction();
}
