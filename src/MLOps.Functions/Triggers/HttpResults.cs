using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using MLOps.Lifecycle.Handlers;

namespace MLOps.Functions.Triggers;

/// <summary>Turns a handler's <see cref="ApiResult"/> into an HTTP answer, and reads bodies.</summary>
internal static class HttpResults
{
    public static IActionResult ToAction(this ApiResult result)
    {
        var json = new JsonResult(result.Body, Json.Options) { StatusCode = result.Status };
        return result.Location is null ? json : new WithLocation(result.Location, json);
    }

    /// <summary>Scheme, host and path base of the request (what a status URL starts with).</summary>
    public static string BaseUrl(this HttpRequest request) => $"{request.Scheme}://{request.Host}{request.PathBase}";

    /// <summary>A result with a <c>Location</c> header (a 202's status URL).</summary>
    private sealed class WithLocation(string location, IActionResult inner) : IActionResult
    {
        public Task ExecuteResultAsync(ActionContext context)
        {
            context.HttpContext.Response.Headers.Location = location;
            return inner.ExecuteResultAsync(context);
        }
    }

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
