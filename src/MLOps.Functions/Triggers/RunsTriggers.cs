using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using MLOps.Lifecycle.Handlers;

namespace MLOps.Functions.Triggers;

/// <summary>Run status and the human approval callbacks.</summary>
public sealed class RunsTriggers(RunsApi runs)
{
    [Function("ListRuns")]
    public static async Task<IActionResult> ListRuns(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "runs")] HttpRequest request,
        [DurableClient] DurableTaskClient client)
    {
        var model = request.Query["model"].ToString();
        var take = int.TryParse(request.Query["take"], out var t) ? t : 50;
        return (await RunsApi.ListAsync(client, string.IsNullOrEmpty(model) ? null : model, take, request.HttpContext.RequestAborted)).ToAction();
    }

    [Function("GetRun")]
    public static async Task<IActionResult> GetRun(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "runs/{runId}")] HttpRequest request,
        [DurableClient] DurableTaskClient client,
        string runId) =>
        (await RunsApi.GetAsync(client, runId, request.HttpContext.RequestAborted)).ToAction();

    [Function("ApproveRun")]
    public Task<IActionResult> Approve(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "runs/{runId}/approve")] HttpRequest request,
        [DurableClient] DurableTaskClient client,
        string runId) => DecideAsync(request, client, runId, approve: true);

    [Function("RejectRun")]
    public Task<IActionResult> Reject(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "runs/{runId}/reject")] HttpRequest request,
        [DurableClient] DurableTaskClient client,
        string runId) => DecideAsync(request, client, runId, approve: false);

    private async Task<IActionResult> DecideAsync(HttpRequest request, DurableTaskClient client, string runId, bool approve)
    {
        var body = await HttpResults.ReadBodyAsync<DecisionRequest>(request, request.HttpContext.RequestAborted) ?? new DecisionRequest();
        var approver = CallerIdentity.Resolve(request.Header, body.Approver);
        var token = body.Token ?? NonEmpty(request.Query["token"].ToString()) ?? NonEmpty(request.Header(RunsApi.TokenHeader));
        return (await runs.DecideAsync(client, runId, approve, approver, body.Comment, token, request.HttpContext.RequestAborted)).ToAction();
    }

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}
