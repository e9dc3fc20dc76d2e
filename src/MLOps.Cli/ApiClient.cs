using System.Net.Http.Json;
using System.Text.Json;

namespace MLOps.Cli;

/// <summary>A small client of the MLOps HTTP API (the local host or a Functions app).</summary>
public sealed class ApiClient(HttpClient http) : IDisposable
{
    public Uri BaseAddress => http.BaseAddress!;

    public static ApiClient For(string baseUrl, string? functionKey = null)
    {
        var http = new HttpClient { BaseAddress = new Uri(baseUrl.TrimEnd('/') + "/"), Timeout = TimeSpan.FromMinutes(5) };
        if (!string.IsNullOrEmpty(functionKey))
        {
            http.DefaultRequestHeaders.Add("x-functions-key", functionKey);
        }

        return new ApiClient(http);
    }

    public Task<ApiResponse> GetAsync(string path, CancellationToken ct = default) => SendAsync(HttpMethod.Get, path, null, null, ct);

    public Task<ApiResponse> PostAsync(string path, object? body, string? user = null, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Post, path, body, user, ct);

    private async Task<ApiResponse> SendAsync(HttpMethod method, string path, object? body, string? user, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, "api/" + path.TrimStart('/'));
        if (body is not null)
        {
            request.Content = JsonContent.Create(body, options: JsonOptions);
        }

        if (user is not null)
        {
            request.Headers.Add("X-MLOps-User", user);
        }

        using var response = await http.SendAsync(request, ct);
        var text = await response.Content.ReadAsStringAsync(ct);
        var json = string.IsNullOrWhiteSpace(text) ? default : JsonDocument.Parse(text).RootElement.Clone();
        return new ApiResponse((int)response.StatusCode, json);
    }

    public static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public void Dispose() => http.Dispose();
}

public readonly record struct ApiResponse(int Status, JsonElement Body)
{
    public bool IsSuccess => Status is >= 200 and < 300;

    public string Error => Body.ValueKind == JsonValueKind.Object && Body.TryGetProperty("error", out var e) ? e.GetString() ?? "" : Body.ToString();

    public ApiResponse EnsureSuccess(string what) =>
        IsSuccess ? this : throw new InvalidOperationException($"{what} failed with HTTP {Status}: {Error}");

    public string Pretty() => Body.ValueKind == JsonValueKind.Undefined ? "" : JsonSerializer.Serialize(Body, ApiClient.JsonOptions);
}
