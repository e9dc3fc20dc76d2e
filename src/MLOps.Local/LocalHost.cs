using System.Text.Json;
using Microsoft.DurableTask.Client;
using MLOps.Core.Ports;
using MLOps.Infrastructure;
using MLOps.Infrastructure.Azurite;
using MLOps.Infrastructure.Storage;
using MLOps.Lifecycle;
using MLOps.Local.Api;
using MLOps.Local.Background;
using MLOps.Local.Durable;

namespace MLOps.Local;

/// <summary>
/// The local host: Azurite (embedded unless storage is given), the durable engine (Durable Task SDK worker over the
/// in-process gRPC sidecar on the Azure Storage backend), the HTTP API on 127.0.0.1, the upload listener standing in
/// for the blob trigger and the drift scheduler standing in for the timer trigger — all over the same lifecycle code
/// as the Functions app.
/// </summary>
public sealed class LocalHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly LocalDurableEngine _engine;
    private readonly AzuriteProcess? _azurite;

    private LocalHost(WebApplication app, LocalDurableEngine engine, AzuriteProcess? azurite, string url, string connectionString, IReadOnlyList<StoredWorkflow> workflows)
    {
        _app = app;
        _engine = engine;
        _azurite = azurite;
        Url = url;
        StorageConnectionString = connectionString;
        Workflows = workflows;
    }

    public string Url { get; }
    public string StorageConnectionString { get; }
    public IReadOnlyList<StoredWorkflow> Workflows { get; }
    public DurableTaskClient Client => _engine.Client;
    public IServiceProvider Services => _app.Services;
    public UploadListener? Uploads => _app.Services.GetServices<Microsoft.Extensions.Hosting.IHostedService>().OfType<UploadListener>().FirstOrDefault();

    public static async Task<LocalHost> StartAsync(LocalHostOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        AzuriteProcess? azurite = null;
        var connectionString = options.StorageConnectionString;
        if (connectionString is null)
        {
            azurite = await AzuriteProcess.StartAsync(Path.Combine(Path.GetFullPath(options.DataDirectory), "azurite"), cancellationToken: cancellationToken);
            connectionString = azurite.ConnectionString;
        }

        var settings = new Dictionary<string, string?>
        {
            ["MLOps:Storage:ConnectionString"] = connectionString,
            ["MLOps:Storage:Prefix"] = options.StoragePrefix,
            ["MLOps:Approval:SigningKey"] = options.ApprovalSigningKey ?? await SigningKeyAsync(options.DataDirectory, cancellationToken),
        };

        void ConfigureServices(IServiceCollection services, IConfiguration configuration)
        {
            services.AddMLOpsInfrastructure(configuration);
            services.AddMLOpsLifecycle(configuration);
        }

        var engineConfiguration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var engine = await LocalDurableEngine.StartAsync(
            new LocalDurableEngineOptions
            {
                StorageConnectionString = connectionString,
                TaskHubName = options.TaskHub,
                WorkerId = options.WorkerId,
                OrchestrationVersion = options.OrchestrationVersion,
                RejectNewerVersions = options.RejectNewerVersions,
            },
            registry => registry.AddLifecycleTasks(),
            services => ConfigureServices(services, engineConfiguration),
            cancellationToken);

        var builder = WebApplication.CreateSlimBuilder();
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.ClearProviders().AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(options.LogLevel);
        builder.WebHost.UseUrls($"http://127.0.0.1:{(options.Port == 0 ? AzuriteProcess.FreePort() : options.Port)}");
        ConfigureServices(builder.Services, builder.Configuration);
        builder.Services.AddSingleton(engine.Client);
        builder.Services.AddSingleton(options);
        if (options.RunBackgroundServices)
        {
            builder.Services.AddHostedService<UploadListener>();
            builder.Services.AddHostedService<DriftScheduler>();
        }

        var app = builder.Build();
        app.MapMLOpsApi();

        // Storage and workflows first, then the listeners.
        await app.Services.GetRequiredService<IStorageInitializer>().EnsureCreatedAsync(cancellationToken);
        var workflows = await RegisterWorkflowsAsync(app.Services.GetRequiredService<IWorkflowStore>(), options.ResolveWorkflowsDirectory(), cancellationToken);
        await app.StartAsync(cancellationToken);
        var url = app.Urls.First();
        var host = new LocalHost(app, engine, azurite, url, connectionString, workflows);
        await host.WriteStateAsync(options, cancellationToken);
        return host;
    }

    /// <summary>Registers every <c>*.yaml</c> of the folder (a file that does not parse stops the start with its errors).</summary>
    public static async Task<IReadOnlyList<StoredWorkflow>> RegisterWorkflowsAsync(IWorkflowStore store, string directory, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        var registered = new List<StoredWorkflow>();
        foreach (var file in Directory.EnumerateFiles(directory, "*.yaml").Order(StringComparer.Ordinal))
        {
            var yaml = await File.ReadAllTextAsync(file, cancellationToken);
            registered.Add(await store.RegisterAsync(yaml, Path.GetFileName(file), cancellationToken));
        }

        return registered;
    }

    /// <summary>The approval-token signing key of a data directory: read from <c>approval-signing.key</c>, created
    /// (random, 256 bits, base64) on first use. It never leaves the machine.</summary>
    public static async Task<string> SigningKeyAsync(string dataDirectory, CancellationToken cancellationToken)
    {
        var directory = Path.GetFullPath(dataDirectory);
        var file = Path.Combine(directory, "approval-signing.key");
        if (File.Exists(file))
        {
            return (await File.ReadAllTextAsync(file, cancellationToken)).Trim();
        }

        Directory.CreateDirectory(directory);
        var key = MLOps.Core.Approval.ApprovalTokenSigner.GenerateKey();
        try
        {
            await using var stream = new FileStream(file, FileMode.CreateNew, FileAccess.Write, FileShare.None);
            await using var writer = new StreamWriter(stream);
            await writer.WriteAsync(key);
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }

            return key;
        }
        catch (IOException) when (File.Exists(file))
        {
            // Another process created it first.
            return (await File.ReadAllTextAsync(file, cancellationToken)).Trim();
        }
    }

    /// <summary>Where CLI commands find a running host.</summary>
    public static string StateFile(string dataDirectory) => Path.Combine(Path.GetFullPath(dataDirectory), "host.json");

    private async Task WriteStateAsync(LocalHostOptions options, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetFullPath(options.DataDirectory));
        await File.WriteAllTextAsync(StateFile(options.DataDirectory),
            JsonSerializer.Serialize(new { url = Url, pid = Environment.ProcessId, storage = StorageConnectionString, prefix = options.StoragePrefix }), cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        await _engine.DisposeAsync();
        if (_azurite is not null)
        {
            await _azurite.DisposeAsync();
        }
    }
}
