using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using MLOps.Lifecycle.Handlers;

namespace MLOps.Functions.Triggers;

/// <summary>Turns a handler's <see cref="ApiResult"/> into an HTTP answer, and reads bodies.</summary>
internal static class HttpResults
{
    public static IActionResult ToAction(this ApiResult result) =>
        new JsonResult(result.Body, Json.Options) { StatusCode = result.Status };

    /// <summary>Reads a JSON body; null when it is empty or not JSON of that shape.</summary>
    public static async Task<T?> ReadBodyAsync<T>(HttpRequest request, CancellationToken cancellationToken)
        where T : class
    {
        try
        {
            return await JsonSerializer.DeserializeAsync<T>(request.Body, Json.Options, cancellationToken);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public static string? Header(this HttpRequest request, string name) =>
        request.Headers.TryGetValue(name, out var values) ? values.ToString() : null;
}
