using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using MLOps.Cli;
using MLOps.Core.Ports;
using MLOps.Core.Samples;
using MLOps.Local;

namespace MLOps.Integration.Tests.Support;

/// <summary>Starts local hosts on the shared Azurite with names of their own, and waits on them.</summary>
internal static class TestHosts
{
    public static LocalHostOptions Options(string connectionString, string? id = null)
    {
        id ??= "t" + Guid.NewGuid().ToString("N")[..10];
        return new LocalHostOptions
        {
            StorageConnectionString = connectionString,
            StoragePrefix = id,
            TaskHub = id,
            WorkerId = id,
            Port = 0,
            WorkflowsDirectory = RepoPaths.Workflows,
            DataDirectory = Path.Combine(Path.GetTempPath(), "mlops-test-" + id),
            UploadPollInterval = TimeSpan.FromMilliseconds(200),
            DriftCheckInterval = TimeSpan.FromHours(1),
        };
    }

    public static async Task UploadCsvAsync(IServiceProvider services, string name, int rows, int seed, string author)
    {
        var csv = new MemoryStream();
        await using (var writer = new StreamWriter(csv, new UTF8Encoding(false), leaveOpen: true))
        {
            CreditRiskData.WriteCsv(writer, rows, seed);
        }

        csv.Position = 0;
        await services.GetRequiredService<IDatasetStore>().UploadAsync(name, csv, author);
    }

    /// <summary>Polls the API until <paramref name="done"/> holds for the value read.</summary>
    public static async Task<JsonElement> WaitAsync(Func<Task<JsonElement>> read, Func<JsonElement, bool> done, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        JsonElement last = default;
        while (DateTime.UtcNow < deadline)
        {
            last = await read();
            if (done(last))
            {
                return last;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"timed out after {timeout.TotalSeconds:F0} s waiting for {what}; last value: {last}");
    }

    public static Task<JsonElement> WaitForStageAsync(ApiClient api, string runId, string stage, TimeSpan? timeout = null) =>
        WaitAsync(async () => (await api.GetAsync($"runs/{runId}")).Body,
            r => r.ValueKind == JsonValueKind.Object && r.TryGetProperty("status", out var s) && s.ValueKind == JsonValueKind.Object
                 && (s.GetProperty("stage").GetString() == stage || r.GetProperty("runtimeStatus").GetString() is "Completed" or "Failed"),
            timeout ?? TimeSpan.FromSeconds(120), $"run {runId} to reach {stage}");

    public static Task<JsonElement> WaitForCompletionAsync(ApiClient api, string runId, TimeSpan? timeout = null) =>
        WaitAsync(async () => (await api.GetAsync($"runs/{runId}")).Body,
            r => r.ValueKind == JsonValueKind.Object && r.GetProperty("runtimeStatus").GetString() is "Completed" or "Failed" or "Terminated",
            timeout ?? TimeSpan.FromSeconds(120), $"run {runId} to complete");

    /// <summary>Sends scoring requests (rows from <paramref name="rows"/>, a fresh routing key each) until the run completes;
    /// returns the run and the canary percentages its view showed while rolling out.</summary>
    public static async Task<(JsonElement Run, List<int> Percents)> DriveTrafficUntilDoneAsync(
        ApiClient api, string model, string runId, Func<int, IReadOnlyList<Dictionary<string, string?>>> rows, TimeSpan? timeout = null)
    {
        var percents = new List<int>();
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(180));
        var n = 0;
        while (DateTime.UtcNow < deadline)
        {
            var run = (await api.GetAsync($"runs/{runId}")).Body;
            if (run.GetProperty("status") is { ValueKind: JsonValueKind.Object } status && status.TryGetProperty("rollout", out var rollout)
                && rollout.ValueKind == JsonValueKind.Object && rollout.GetProperty("stage").GetString() == "baking"
                && !percents.Contains(rollout.GetProperty("percent").GetInt32()))
            {
                percents.Add(rollout.GetProperty("percent").GetInt32());
            }

            if (run.GetProperty("runtimeStatus").GetString() is "Completed" or "Failed" or "Terminated")
            {
                return (run, percents);
            }

            for (var i = 0; i < 10; i++, n++)
            {
                var response = await api.PostAsync($"models/{model}/predict", new { rows = rows(n), routingKey = "k" + n.ToString(CultureInfo.InvariantCulture) });
                if (!response.IsSuccess)
                {
                    throw new InvalidOperationException($"predict failed with HTTP {response.Status}: {response.Error}");
                }
            }
        }

        throw new TimeoutException($"run {runId} did not complete; {n} requests sent");
    }

    /// <summary>The run an upload of this model starts (the first listed).</summary>
    public static Task<string> WaitForRunIdAsync(ApiClient api, string model, Func<JsonElement, bool>? which = null) =>
        WaitAsync(async () => (await api.GetAsync($"runs?model={model}")).Body,
            runs => runs.ValueKind == JsonValueKind.Array && runs.EnumerateArray().Any(r => which?.Invoke(r) ?? true),
            TimeSpan.FromSeconds(60), $"a run of {model}")
            .ContinueWith(t => t.Result.EnumerateArray().First(r => which?.Invoke(r) ?? true).GetProperty("runId").GetString()!, TaskScheduler.Default);
}
