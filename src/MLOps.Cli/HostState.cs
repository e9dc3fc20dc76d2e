using System.Text.Json;
using MLOps.Local;

namespace MLOps.Cli;

/// <summary>Finds the API a command talks to: --url, then MLOPS_URL, then the running local host's state file.</summary>
public static class HostState
{
    public static string ResolveUrl(string? url, string dataDirectory)
    {
        if (!string.IsNullOrWhiteSpace(url))
        {
            return url;
        }

        var env = Environment.GetEnvironmentVariable("MLOPS_URL");
        if (!string.IsNullOrWhiteSpace(env))
        {
            return env;
        }

        var state = LocalHost.StateFile(dataDirectory);
        if (File.Exists(state))
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(state));
            if (doc.RootElement.TryGetProperty("url", out var u) && u.GetString() is { Length: > 0 } found)
            {
                return found;
            }
        }

        throw new InvalidOperationException("No MLOps API to talk to: start one with 'mlops up', or pass --url / set MLOPS_URL.");
    }
}
