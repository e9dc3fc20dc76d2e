using System.Globalization;
using System.Text.Json;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;
using MLOps.Core.Events;
using MLOps.Core.Ports;
using MLOps.Core.Registry;
using MLOps.Lifecycle.Contracts;
using MLOps.Lifecycle.Logging;
using MLOps.Lifecycle.Services;

namespace MLOps.Lifecycle.Handlers;

/// <summary>Body of a rollback request.</summary>
public sealed record RollbackRequest
{
    public string? Actor { get; init; }
    public string? Reason { get; init; }
    /// <summary>Roll back to this version instead of the previous one.</summary>
    public int? ToVersion { get; init; }
}

/// <summary>Models: registry views, scoring, rollback, drift audits and the audit trail.</summary>
public sealed class ModelsApi(
    IModelRegistry registry,
    IWorkflowStore workflows,
    IMonitoringStore monitoring,
    IAuditTrail audit,
    IEventPublisher events,
    ScoringService scoring,
    DriftAuditService drift,
    TimeProvider time,
    ILogger<ModelsApi> logger)
{
    public async Task<ApiResult> ListAsync(CancellationToken cancellationToken = default)
    {
        var names = new SortedSet<string>(await registry.ListModelsAsync(cancellationToken), StringComparer.Ordinal);
        foreach (var workflow in await workflows.ListCurrentAsync(cancellationToken))
        {
            names.Add(workflow.Model);
        }

        var models = new List<object>();
        foreach (var name in names)
        {
            var production = await registry.GetAliasAsync(name, Aliases.Production, cancellationToken);
            var versions = await registry.ListVersionsAsync(name, cancellationToken);
            models.Add(new { model = name, production = production?.Version, versions = versions.Count, latest = versions.Count == 0 ? (int?)null : versions[^1].Version });
        }

        return ApiResult.Ok(models);
    }

    public async Task<ApiResult> GetAsync(string model, CancellationToken cancellationToken = default)
    {
        var workflow = await workflows.GetCurrentAsync(model, cancellationToken);
        var versions = await registry.ListVersionsAsync(model, cancellationToken);
        if (workflow is null && versions.Count == 0)
        {
            return ApiResult.Error(404, $"model '{model}' is not known");
        }

        return ApiResult.Ok(new
        {
            model,
            workflow = workflow is null ? null : new { workflow.Hash, workflow.RegisteredAt },
            production = await registry.GetAliasAsync(model, Aliases.Production, cancellationToken),
            aliasHistory = await registry.GetAliasHistoryAsync(model, Aliases.Production, cancellationToken),
            traffic = await registry.GetTrafficAsync(model, cancellationToken),
            versions,
            datasets = await registry.ListDatasetsAsync(model, cancellationToken),
            audits = (await monitoring.ListAuditsAsync(model, 5, cancellationToken)).Select(a => new
            {
                a.AuditId, a.Version, a.AuditedAt, a.Report.Judged, a.Report.DriftedFeatures, a.Report.CurrentRows, a.Report.Summary, a.Decision, a.RetrainRunId,
            }),
        });
    }

    /// <summary>Scores rows given either as <c>{"rows": [...]}</c> or as a bare array of objects.</summary>
    public Task<ApiResult> PredictAsync(string model, JsonElement body, string? requestId, CancellationToken cancellationToken = default) =>
        PredictAsync(model, body, requestId, routingKey: null, cancellationToken);

    /// <summary>Scores rows; during a rollout the request is routed by <paramref name="routingKey"/> (header
    /// <c>x-routing-key</c>), else the body's <c>routingKey</c>, else the first row's id column, else the request id.</summary>
    public async Task<ApiResult> PredictAsync(string model, JsonElement body, string? requestId, string? routingKey, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrWhiteSpace(routingKey) && body.ValueKind == JsonValueKind.Object
            && body.TryGetProperty("routingKey", out var key) && key.ValueKind == JsonValueKind.String)
        {
            routingKey = key.GetString();
        }

        IReadOnlyList<IReadOnlyDictionary<string, string?>> rows;
        try
        {
            rows = ParseRows(body);
        }
        catch (FormatException ex)
        {
            return ApiResult.Error(400, ex.Message);
        }

        try
        {
            return ApiResult.Ok(await scoring.ScoreAsync(model, rows, requestId, routingKey, cancellationToken));
        }
        catch (KeyNotFoundException ex)
        {
            return ApiResult.Error(404, ex.Message);
        }
        catch (ArgumentException ex)
        {
            return ApiResult.Error(400, ex.Message);
        }
    }

    /// <summary>Moves production back to the previous approved version (or the one asked for), ETag-guarded.</summary>
    public async Task<ApiResult> RollbackAsync(string model, RollbackRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (string.IsNullOrWhiteSpace(request.Actor))
        {
            return ApiResult.Error(401, "an actor identity is required");
        }

        var current = await registry.GetAliasAsync(model, Aliases.Production, cancellationToken);
        if (current is null)
        {
            return ApiResult.Error(404, $"model '{model}' has no '{Aliases.Production}' version");
        }

        var versions = await registry.ListVersionsAsync(model, cancellationToken);
        var target = RollbackPolicy.ChooseTarget(current, versions, request.ToVersion);
        if (target.Version is not { } to)
        {
            return ApiResult.Error(409, target.Reason);
        }

        AliasRecord moved;
        try
        {
            moved = await registry.SetAliasAsync(model, Aliases.Production, to, request.Actor,
                $"rollback: {request.Reason ?? "requested"}", current.ETag, force: false, cancellationToken);
        }
        catch (ConcurrencyException)
        {
            return ApiResult.Error(412, $"'{Aliases.Production}' of '{model}' changed while rolling back; read it again and retry");
        }

        await events.PublishAsync(LifecycleEvent.Create(Guid.NewGuid().ToString("N"), LifecycleEventTypes.RolledBack, model,
            $"models/{model}/versions/{to}", time.GetUtcNow(), new { From = current.Version, To = to, request.Reason }, request.Actor), cancellationToken);
        Log.RolledBack(logger, model, current.Version, to, request.Actor);
        return ApiResult.Ok(new { model, from = current.Version, to, alias = moved });
    }

    /// <summary>Starts a drift audit of the window ending now and waits briefly for it (the durable HTTP async
    /// pattern): 200 with the stored audit when it ended in time, else 202 with its status and a status URL
    /// (<c>Location</c>, <c>statusQueryGetUri</c>) for <see cref="DriftAuditStatusAsync"/>. <paramref name="wait"/> is
    /// in seconds (default <c>MLOps:DriftAudit:RequestWait</c>); <paramref name="baseUrl"/> (scheme and host of the
    /// request) makes the status URL absolute.</summary>
    public async Task<ApiResult> AuditDriftAsync(string model, DurableTaskClient client, string? wait = null, string? baseUrl = null, CancellationToken cancellationToken = default)
    {
        TimeSpan? limit = null;
        if (!string.IsNullOrWhiteSpace(wait))
        {
            if (!double.TryParse(wait, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) || !double.IsFinite(seconds) || seconds < 0)
            {
                return ApiResult.Error(400, $"query parameter 'wait' must be a number of seconds ≥ 0, not '{wait}'");
            }

            limit = TimeSpan.FromSeconds(Math.Min(seconds, TimeSpan.FromDays(1).TotalSeconds));
        }

        var status = await drift.RequestAuditAsync(model, client, limit, cancellationToken);
        return status.Status switch
        {
            DriftAuditStatus.Completed => ApiResult.Ok(status.Audit),
            DriftAuditStatus.Skipped => ApiResult.Error(404, $"model '{model}' has no '{Aliases.Production}' version to audit", status),
            DriftAuditStatus.Failed or DriftAuditStatus.Terminated => FailedAudit(status),
            _ => Located(ApiResult.Accepted(status with { StatusQueryGetUri = StatusUrl(baseUrl, model, status.InstanceId) }), baseUrl, model, status.InstanceId),
        };
    }

    /// <summary>The status of one drift audit instance of the model: 202 while it runs (with <c>Location</c>), 200 once
    /// it ended (completed with the stored audit, skipped, failed or terminated with the error), 404 when there is none.</summary>
    public async Task<ApiResult> DriftAuditStatusAsync(string model, string instanceId, DurableTaskClient client, string? baseUrl = null, CancellationToken cancellationToken = default)
    {
        var status = await drift.GetStatusAsync(client, model, instanceId, cancellationToken);
        if (status is null)
        {
            return ApiResult.Error(404, $"no drift audit '{instanceId}' of model '{model}'");
        }

        status = status with { StatusQueryGetUri = StatusUrl(baseUrl, model, instanceId) };
        return status.IsRunning ? Located(ApiResult.Accepted(status), baseUrl, model, instanceId) : ApiResult.Ok(status);
    }

    /// <summary>An audit that stopped on bad data is the caller's to fix (422, naming the problem); any other failure,
    /// or a termination, is the platform's (500).</summary>
    private static ApiResult FailedAudit(DriftAuditStatus status) =>
        ApiResult.Error(status.Problem is not null ? 422 : 500,
            $"drift audit {status.InstanceId} {status.Status}: {status.Error}", status);

    private static ApiResult Located(ApiResult result, string? baseUrl, string model, string instanceId) =>
        result with { Location = StatusUrl(baseUrl, model, instanceId) };

    /// <summary>The status route of an audit instance, absolute when the request's base URL is known.</summary>
    public static string StatusUrl(string? baseUrl, string model, string instanceId) =>
        $"{baseUrl?.TrimEnd('/')}/api/models/{Uri.EscapeDataString(model)}/drift-audits/{Uri.EscapeDataString(instanceId)}";

    public async Task<ApiResult> AuditTrailAsync(string model, CancellationToken cancellationToken = default)
    {
        var entries = await audit.ReadAsync(model, cancellationToken);
        var verification = await audit.VerifyAsync(model, cancellationToken);
        return ApiResult.Ok(new { model, verification, entries });
    }

    internal static List<IReadOnlyDictionary<string, string?>> ParseRows(JsonElement body)
    {
        var array = body.ValueKind switch
        {
            JsonValueKind.Array => body,
            JsonValueKind.Object when body.TryGetProperty("rows", out var rows) && rows.ValueKind == JsonValueKind.Array => rows,
            _ => throw new FormatException("expected a JSON array of rows or an object with a 'rows' array"),
        };
        var result = new List<IReadOnlyDictionary<string, string?>>();
        var index = 0;
        foreach (var row in array.EnumerateArray())
        {
            index++;
            if (row.ValueKind != JsonValueKind.Object)
            {
                throw new FormatException($"row {index} is not a JSON object");
            }

            var values = new Dictionary<string, string?>(StringComparer.Ordinal);
            foreach (var property in row.EnumerateObject())
            {
                values[property.Name] = property.Value.ValueKind switch
                {
                    JsonValueKind.Null or JsonValueKind.Undefined => null,
                    JsonValueKind.String => property.Value.GetString(),
                    JsonValueKind.Number => property.Value.GetRawText(),
                    JsonValueKind.True => "true",
                    JsonValueKind.False => "false",
                    _ => throw new FormatException($"row {index}, column '{property.Name}': nested values are not supported"),
                };
            }

            result.Add(values);
        }

        return result;
    }
}

/// <summary>Which version a rollback goes to.</summary>
public static class RollbackPolicy
{
    public sealed record Target(int? Version, string Reason);

    /// <summary>The version production pointed at before the current one, if older and still approved; else the
    /// newest approved version older than the current one (so two rollbacks in a row never bounce back to the
    /// version just rolled back from). An explicit version must be approved.</summary>
    public static Target ChooseTarget(AliasRecord current, IReadOnlyList<ModelVersion> versions, int? requested)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(versions);
        bool Approved(int v) => versions.Any(x => x.Version == v && x.Status == ModelVersionStatus.Approved);
        if (requested is { } wanted)
        {
            return wanted == current.Version ? new Target(null, $"version {wanted} is already in production")
                : Approved(wanted) ? new Target(wanted, "requested") : new Target(null, $"version {wanted} is not an approved version");
        }

        if (current.PreviousVersion is { } previous && previous < current.Version && Approved(previous))
        {
            return new Target(previous, "previous production version");
        }

        var fallback = versions.Where(v => v.Version < current.Version && v.Status == ModelVersionStatus.Approved).MaxBy(v => v.Version);
        return fallback is null
            ? new Target(null, $"no approved version before {current.Version} to roll back to")
            : new Target(fallback.Version, "newest approved version before the current one");
    }
}
