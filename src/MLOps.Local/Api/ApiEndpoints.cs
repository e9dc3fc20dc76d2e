using System.Text.Json;
using Microsoft.DurableTask.Client;
using MLOps.Lifecycle.Handlers;

namespace MLOps.Local.Api;

/// <summary>The same HTTP API as the Functions app (routes under <c>/api</c>), over the same handlers.</summary>
public static class ApiEndpoints
{
    public static IEndpointRouteBuilder MapMLOpsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api");
        api.MapGet("/runs", async (string? model, int? take, DurableTaskClient client, CancellationToken ct) =>
            ToResult(await RunsApi.ListAsync(client, model, take ?? 50, ct)));
        api.MapGet("/runs/{runId}", async (string runId, DurableTaskClient client, CancellationToken ct) =>
            ToResult(await RunsApi.GetAsync(client, runId, ct)));
        api.MapPost("/runs/{runId}/approve", (string runId, HttpRequest request, RunsApi runs, DurableTaskClient client, CancellationToken ct) =>
            DecideAsync(runId, approve: true, request, runs, client, ct));
        api.MapPost("/runs/{runId}/reject", (string runId, HttpRequest request, RunsApi runs, DurableTaskClient client, CancellationToken ct) =>
            DecideAsync(runId, approve: false, request, runs, client, ct));

        api.MapGet("/models", async (ModelsApi models, CancellationToken ct) => ToResult(await models.ListAsync(ct)));
        api.MapGet("/models/{model}", async (string model, ModelsApi models, CancellationToken ct) => ToResult(await models.GetAsync(model, ct)));
        api.MapPost("/models/{model}/predict", async (string model, HttpRequest request, ModelsApi models, CancellationToken ct) =>
        {
            JsonElement body;
            try
            {
                body = await JsonSerializer.DeserializeAsync<JsonElement>(request.Body, Json.Options, ct);
            }
            catch (JsonException ex)
            {
                return ToResult(ApiResult.Error(400, $"the body is not JSON: {ex.Message}"));
            }

            return ToResult(await models.PredictAsync(model, body,
                request.Headers["x-request-id"].ToString() is { Length: > 0 } id ? id : null,
                request.Headers["x-routing-key"].ToString() is { Length: > 0 } key ? key : null, ct));
        });
        api.MapPost("/models/{model}/rollback", async (string model, HttpRequest request, ModelsApi models, CancellationToken ct) =>
        {
            var body = await ReadAsync<RollbackRequest>(request, ct) ?? new RollbackRequest();
            var actor = CallerIdentity.Resolve(h => request.Headers[h].ToString(), body.Actor);
            return ToResult(await models.RollbackAsync(model, body with { Actor = actor }, ct));
        });
        api.MapPost("/models/{model}/drift-audits", async (string model, string? wait, HttpRequest request, ModelsApi models, DurableTaskClient client, CancellationToken ct) =>
            ToResult(await models.AuditDriftAsync(model, client, wait, BaseUrl(request), ct)));
        api.MapGet("/models/{model}/drift-audits/{instanceId}", async (string model, string instanceId, HttpRequest request, ModelsApi models, DurableTaskClient client, CancellationToken ct) =>
            ToResult(await models.DriftAuditStatusAsync(model, instanceId, client, BaseUrl(request), ct)));
        api.MapGet("/models/{model}/audit-trail", async (string model, ModelsApi models, CancellationToken ct) =>
            ToResult(await models.AuditTrailAsync(model, ct)));
        api.MapGet("/models/{model}/budget", async (string model, string? month, BudgetApi budget, CancellationToken ct) =>
            ToResult(await budget.GetAsync(model, month, ct)));
        api.MapGet("/models/{model}/features/{feature}/drift-history", async (string model, string feature, string? take, DriftHistoryApi history, CancellationToken ct) =>
            ToResult(await history.GetAsync(model, feature, take, ct)));
        api.MapGet("/health", () => Results.Ok(new { status = "ok" }));
        return app;
    }

    private static async Task<IResult> DecideAsync(string runId, bool approve, HttpRequest request, RunsApi runs, DurableTaskClient client, CancellationToken ct)
    {
        var body = await ReadAsync<DecisionRequest>(request, ct) ?? new DecisionRequest();
        var approver = CallerIdentity.Resolve(h => request.Headers[h].ToString(), body.Approver);
        var token = body.Token ?? NonEmpty(request.Query["token"].ToString()) ?? NonEmpty(request.Headers[RunsApi.TokenHeader].ToString());
        return ToResult(await runs.DecideAsync(client, runId, approve, approver, body.Comment, token, ct));
    }

    private static string? NonEmpty(string value) => string.IsNullOrWhiteSpace(value) ? null : value;

    private static async Task<T?> ReadAsync<T>(HttpRequest request, CancellationToken ct)
        where T : class
    {
        try
        {
            return await JsonSerializer.DeserializeAsync<T>(request.Body, Json.Options, ct);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string BaseUrl(HttpRequest request) => $"{request.Scheme}://{request.Host}{request.PathBase}";

    private static IResult ToResult(ApiResult result)
    {
        var json = Results.Json(result.Body, Json.Options, statusCode: result.Status);
        return result.Location is null ? json : new WithLocation(result.Location, json);
    }

    /// <summary>A result with a <c>Location</c> header (a 202's status URL).</summary>
    private sealed class WithLocation(string location, IResult inner) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.Headers.Location = location;
            return inner.ExecuteAsync(httpContext);
        }
    }
}
