using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using MLOps.Core.Events;
using MLOps.Core.Ports;
using MLOps.Lifecycle.Handlers;
using MLOps.Local;

namespace MLOps.Integration.Tests.Support;

/// <summary>One local host (durable engine on the shared Azurite, its own prefix and task hub) for all the tests of
/// a class, started on first use. Background listeners are off: tests call the handlers and triggers themselves.</summary>
public sealed class SharedLocalHost : IAsyncLifetime
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private LocalHost? _host;
    private LocalHostOptions? _options;

    public LocalHostOptions Options => _options ?? throw new InvalidOperationException("the host has not started");

    public async Task<LocalHost> GetAsync(string connectionString)
    {
        await _gate.WaitAsync();
        try
        {
            if (_host is null)
            {
                _options = TestHosts.Options(connectionString) with { RunBackgroundServices = false };
                _host = await LocalHost.StartAsync(_options);
            }

            return _host;
        }
        finally
        {
            _gate.Release();
        }
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }

        if (_options is not null && Directory.Exists(_options.DataDirectory))
        {
            Directory.Delete(_options.DataDirectory, recursive: true);
        }

        _gate.Dispose();
    }
}

/// <summary>Steps the lifecycle tests share: upload and hand to the upload handler, wait on a run, read its events.</summary>
internal static class LifecycleSteps
{
    public static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(90);

    /// <summary>Uploads generated data as <paramref name="author"/> and hands it to the real upload handler (what the
    /// blob trigger and the local listener do); returns the run id it started.</summary>
    public static async Task<string> UploadAndStartAsync(LocalHost host, string model, string author, int rows = 6000, int seed = 7)
    {
        var name = $"{model}/data-{seed}-{rows}.csv";
        await TestHosts.UploadCsvAsync(host.Services, name, rows, seed, author);
        await using var scope = host.Services.CreateAsyncScope();
        var outcome = await scope.ServiceProvider.GetRequiredService<DatasetUploadHandler>().HandleAsync(name, host.Client);
        Assert.True(outcome.Status == UploadStatus.Validated, $"upload of {name} was {outcome.Status}: {outcome.Message}");
        return outcome.RunId!;
    }

    /// <summary>Polls the run (every 100 ms) until <paramref name="done"/> holds; throws with the last view on timeout.</summary>
    public static async Task<RunView> WaitAsync(DurableTaskClient client, string runId, Func<RunView, bool> done, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? RunTimeout);
        RunView? last = null;
        while (DateTime.UtcNow < deadline)
        {
            last = await RunsApi.GetRunAsync(client, runId);
            if (last is not null && done(last))
            {
                return last;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"run {runId} did not reach {what} in time; last: {last?.RuntimeStatus} stage {last?.Status?.Stage} ({last?.Status?.Message}) failure {last?.Failure}");
    }

    public static Task<RunView> WaitForStageAsync(DurableTaskClient client, string runId, string stage) =>
        WaitAsync(client, runId, v => v.Status?.Stage == stage || IsOver(v), $"stage {stage}");

    public static Task<RunView> WaitForEndAsync(DurableTaskClient client, string runId, TimeSpan? timeout = null) =>
        WaitAsync(client, runId, IsOver, "its end", timeout);

    public static bool IsOver(RunView view) => view.RuntimeStatus is "Completed" or "Failed" or "Terminated";

    /// <summary>The run's events in the model's audit trail, in order.</summary>
    public static async Task<IReadOnlyList<LifecycleEvent>> EventsAsync(LocalHost host, string model, string runId, string? type = null)
    {
        var entries = await host.Services.GetRequiredService<IAuditTrail>().ReadAsync(model);
        return entries.Select(e => e.Event)
            .Where(e => e.Subject == $"runs/{runId}" || (e.Data.ValueKind == System.Text.Json.JsonValueKind.Object
                && e.Data.TryGetProperty("runId", out var id) && id.ValueKind == System.Text.Json.JsonValueKind.String && id.GetString() == runId))
            .Where(e => type is null || e.Type == type)
            .ToList();
    }

    /// <summary>Waits until the run has at least <paramref name="count"/> events of <paramref name="type"/>.</summary>
    public static async Task<IReadOnlyList<LifecycleEvent>> WaitForEventsAsync(LocalHost host, string model, string runId, string type, int count = 1)
    {
        var deadline = DateTime.UtcNow + RunTimeout;
        while (true)
        {
            var events = await EventsAsync(host, model, runId, type);
            if (events.Count >= count)
            {
                return events;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"run {runId} has {events.Count} {type} event(s), expected {count}");
            }

            await Task.Delay(100);
        }
    }
}
