using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using MLOps.Lifecycle.Handlers;

namespace MLOps.Functions.Triggers;

/// <summary>Registry views, scoring, rollback, on-demand drift audit and the audit trail.</summary>
public sealed class ModelsTriggers(ModelsApi models)
{
    [Function("ListModels")]
    public async Task<IActionResult> List(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "models")] HttpRequest request) =>
        (await models.ListAsync(request.HttpContext.RequestAborted)).ToAction();

    [Function("GetModel")]
    public async Task<IActionResult> Get(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "models/{model}")] HttpRequest request,
        string model) =>
        (await models.GetAsync(model, request.HttpContext.RequestAborted)).ToAction();

    [Function("Predict")]
    public async Task<IActionResult> Predict(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "models/{model}/predict")] HttpRequest request,
        string model)
    {
        JsonElement body;
        try
        {
            body = await JsonSerializer.DeserializeAsync<JsonElement>(request.Body, Json.Options, request.HttpContext.RequestAborted);
        }
        catch (JsonException ex)
        {
            return ApiResult.Error(400, $"the body is not JSON: {ex.Message}").ToAction();
        }

        return (await models.PredictAsync(model, body, request.Header("x-request-id"), request.Header("x-routing-key"), request.HttpContext.RequestAborted)).ToAction();
    }

    [Function("Rollback")]
    public async Task<IActionResult> Rollback(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "models/{model}/rollback")] HttpRequest request,
        string model)
    {
        var body = await HttpResults.ReadBodyAsync<RollbackRequest>(request, request.HttpContext.RequestAborted) ?? new RollbackRequest();
        var actor = CallerIdentity.Resolve(request.Header, body.Actor);
        return (await models.RollbackAsync(model, body with { Actor = actor }, request.HttpContext.RequestAborted)).ToAction();
    }

    /// <summary>Starts an audit and waits briefly: 200 with the audit, or 202 with a status URL to poll.</summary>
    [Function("AuditDrift")]
    public async Task<IActionResult> AuditDrift(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "models/{model}/drift-audits")] HttpRequest request,
        [DurableClient] DurableTaskClient client,
        string model) =>
        (await models.AuditDriftAsync(model, client, request.Query["wait"].ToString(), request.BaseUrl(), request.HttpContext.RequestAborted)).ToAction();

    /// <summary>The status of one audit: 202 while it runs, 200 with the audit (or the error) once it ended.</summary>
    [Function("GetDriftAudit")]
    public async Task<IActionResult> GetDriftAudit(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "models/{model}/drift-audits/{instanceId}")] HttpRequest request,
        [DurableClient] DurableTaskClient client,
        string model,
        string instanceId) =>
        (await models.DriftAuditStatusAsync(model, instanceId, client, request.BaseUrl(), request.HttpContext.RequestAborted)).ToAction();

    [Function("GetAuditTrail")]
    public async Task<IActionResult> AuditTrail(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "models/{model}/audit-trail")] HttpRequest request,
        string model) =>
        (await models.AuditTrailAsync(model, request.HttpContext.RequestAborted)).ToAction();
}
