using System.CommandLine;

namespace MLOps.Cli.Commands;

/// <summary>Options several commands share.</summary>
internal static class CommonOptions
{
    public static Option<string?> Url() => new("--url") { Description = "Base URL of the MLOps API (default: MLOPS_URL, then the running local host)" };

    public static Option<string> DataDir() => new("--data-dir") { Description = "Local host state and embedded Azurite data", DefaultValueFactory = _ => ".mlops" };

    public static Option<string> As(bool required = true) => new("--as") { Description = "Your identity (sent as X-MLOps-User)", Required = required };

    public static Option<bool> Json() => new("--json") { Description = "Print JSON" };

    public static ApiClient Client(ParseResult parse, Option<string?> url, Option<string> dataDir) =>
        ApiClient.For(HostState.ResolveUrl(parse.GetValue(url), parse.GetValue(dataDir)!));

    /// <summary>Prints an API answer; returns the exit code (0 on success).</summary>
    public static int Print(ApiResponse response)
    {
        if (response.IsSuccess)
        {
            Console.WriteLine(response.Pretty());
            return 0;
        }

        Console.Error.WriteLine($"HTTP {response.Status}: {response.Error}");
        return 1;
    }
}
