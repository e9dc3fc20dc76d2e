namespace MLOps.Lifecycle.Handlers;

/// <summary>What an HTTP handler answers, independent of the host (Functions or the local host).</summary>
public sealed record ApiResult(int Status, object? Body)
{
    /// <summary>The <c>Location</c> header to answer with (a 202's status URL), if any.</summary>
    public string? Location { get; init; }


    public static ApiResult Ok(object? body) => new(200, body);
    public static ApiResult Accepted(object? body) => new(202, body);
    public static ApiResult Error(int status, string error, object? detail = null) => new(status, new ApiError(error, detail));
}

public sealed record ApiError(string Error, object? Detail);

/// <summary>Who is calling. In Azure the platform's authentication sets <c>X-MS-CLIENT-PRINCIPAL-NAME</c> and it
/// wins; the local host takes <c>X-MLOps-User</c> or the body's field.</summary>
public static class CallerIdentity
{
    public const string PlatformHeader = "X-MS-CLIENT-PRINCIPAL-NAME";
    public const string LocalHeader = "X-MLOps-User";

    public static string? Resolve(Func<string, string?> header, string? fromBody)
    {
        ArgumentNullException.ThrowIfNull(header);
        var platform = header(PlatformHeader);
        if (!string.IsNullOrWhiteSpace(platform))
        {
            return platform.Trim();
        }

        var local = header(LocalHeader);
        if (!string.IsNullOrWhiteSpace(local))
        {
            return local.Trim();
        }

        return string.IsNullOrWhiteSpace(fromBody) ? null : fromBody.Trim();
    }
}
