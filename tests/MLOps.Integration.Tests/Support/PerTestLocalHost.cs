using Microsoft.Extensions.DependencyInjection;
using MLOps.Local;

namespace MLOps.Integration.Tests.Support;

/// <summary>A local host of one test's own (durable engine on the shared Azurite, its own prefix and task hub), for
/// tests that count what they store; <see cref="SharedLocalHost"/> shares one across a class. Background listeners are
/// off: tests call the handlers and triggers themselves. Disposing stops the host and deletes its data directory.</summary>
public sealed class PerTestLocalHost(string connectionString) : IAsyncDisposable
{
    private LocalHost? _host;
    private LocalHostOptions? _options;

    public LocalHost Host => _host ?? throw new InvalidOperationException("the host has not started");

    public T Get<T>() where T : notnull => Host.Services.GetRequiredService<T>();

    /// <summary>The engine's history of one instance on this host's task hub (attempts of its activities).</summary>
    public DurableHistory History => new(connectionString, _options?.TaskHub ?? throw new InvalidOperationException("the host has not started"));

    public async Task StartAsync()
    {
        _options = TestHosts.Options(connectionString) with { RunBackgroundServices = false };
        _host = await LocalHost.StartAsync(_options);
    }

    public async ValueTask DisposeAsync()
    {
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }

        if (_options is not null && Directory.Exists(_options.DataDirectory))
        {
            Directory.Delete(_options.DataDirectory, recursive: true);
        }
    }
}
