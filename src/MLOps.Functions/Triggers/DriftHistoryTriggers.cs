using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using MLOps.Lifecycle.Handlers;

namespace MLOps.Functions.Triggers;

/// <summary>The raw drift history of one feature of a model, newest first.</summary>
public sealed class DriftHistoryTriggers(DriftHistoryApi history)
{
    [Function("GetFeatureDriftHistory")]
    public async Task<IActionResult> Get(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "models/{model}/features/{feature}/drift-history")] HttpRequest request,
        string model,
        string feature) =>
        (await history.GetAsync(model, feature, request.Query["take"].FirstOrDefault(), request.HttpContext.RequestAborted)).ToAction();
}
