using System.Text.Json;

namespace MLOps.Cli.Commands;

/// <summary>Runs drift audits through the HTTP API: <c>POST /api/models/{model}/drift-audits</c> answers 200 with the
/// audit when it ended within the server's wait, else 202 with a status URL, which this polls until the audit ends.</summary>
public static class DriftAudits
{
    /// <summary>How often the status route is polled.</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(500);

    /// <summary>Starts an audit; <paramref name="follow"/> polls a 202 until the audit ends (or <paramref name="timeout"/>).
    /// Returns 200 with the stored audit (the same body either way), the API's error, or the last 202 status.</summary>
    public static async Task<ApiResponse> RunAsync(ApiClient api, string model, bool follow, TimeSpan timeout, Action<string>? progress = null, double? wait = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(api);
        var query = wait is { } seconds ? "?wait=" + seconds.ToString(System.Globalization.CultureInfo.InvariantCulture) : "";
        var response = await api.PostAsync($"models/{Uri.EscapeDataString(model)}/drift-audits{query}", null, null, ct);
        if (response.Status != 202 || !follow)
        {
            return response;
        }

        return await FollowAsync(api, model, response.Body.GetProperty("instanceId").GetString()!, timeout, progress, ct);
    }

    /// <summary>Polls the status of one audit until it ends or <paramref name="timeout"/> passes; an ended audit is
    /// answered as <c>POST</c> answers it (200 with the audit, or an error status with the error).</summary>
    public static async Task<ApiResponse> FollowAsync(ApiClient api, string model, string instanceId, TimeSpan timeout, Action<string>? progress = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(api);
        var deadline = DateTime.UtcNow + timeout;
        string? said = null;
        while (true)
        {
            var status = await api.GetAsync($"models/{Uri.EscapeDataString(model)}/drift-audits/{Uri.EscapeDataString(instanceId)}", ct);
            if (status.Status != 202)
            {
                return Ended(status);
            }

            if (progress is not null && Text(status.Body, "progress") is { } now && now != said)
            {
                progress(now);
                said = now;
            }

            if (DateTime.UtcNow > deadline)
            {
                return status;
            }

            await Task.Delay(PollInterval, ct);
        }
    }

    private static ApiResponse Ended(ApiResponse status)
    {
        if (status.Status != 200)
        {
            return status;
        }

        return Text(status.Body, "status") switch
        {
            "completed" => new ApiResponse(200, status.Body.GetProperty("audit")),
            "skipped" => new ApiResponse(404, status.Body),
            // Bad data (the status names it in 'problem') is the caller's to fix; anything else the platform's.
            _ => new ApiResponse(status.Body.TryGetProperty("problem", out var problem) && problem.ValueKind == JsonValueKind.Object ? 422 : 500, status.Body),
        };
    }

    private static string? Text(JsonElement body, string name) =>
        body.ValueKind == JsonValueKind.Object && body.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
