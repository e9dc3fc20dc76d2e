using System.Net;
using Azure.Core;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using DurableTask.AzureStorage;
using DurableTask.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Testing.Sidecar.Grpc;
using Microsoft.DurableTask.Worker;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging.Abstractions;

namespace MLOps.Local.Durable;

/// <summary>The local durable engine: the Durable Task SDK gRPC worker and client, connected to an in-process
/// gRPC sidecar (<see cref="TaskHubGrpcServer"/> on Kestrel, HTTP/2 on 127.0.0.1) that runs the Azure Storage
/// orchestration service — Azurite locally. Orchestrations survive a crash of the process.</summary>
/// <remarks>
/// <para>Start with <see cref="StartAsync"/> (worker and client) or <see cref="StartClientAsync"/> (client only: it
/// schedules, queries and raises events on a hub that another process runs, and takes no partition leases).</para>
/// <para><see cref="DisposeAsync"/> stops gracefully: worker host, then sidecar, then the orchestration service with
/// <c>StopAsync(false)</c>, which releases the partition leases so another worker can take them at once
/// (see <see cref="EngineOwnedOrchestrationService"/> for why the engine, not the sidecar, stops it).</para>
/// <para>Two traps of this backend are handled: timers fire no earlier than their due time (see
/// <see cref="RoundUpVisibilityTimeoutPolicy"/>), and <see cref="DurableClientExtensions.WaitForCompletionAsync"/>
/// polls every 100 ms instead of the backend's 2 s. A third is the caller's: scheduling an existing instance id
/// again is accepted and corrupts that instance, so use unique ids or check first.</para>
/// </remarks>
public sealed class LocalDurableEngine : IAsyncDisposable
{
    private static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan WorkerConnectTimeout = TimeSpan.FromSeconds(30);
    private static readonly string[] QuietCategories = ["Microsoft", "Grpc", "DurableTask", "System"];

    private readonly EngineOwnedOrchestrationService _service;
    private readonly WebApplication _sidecar;
    private readonly GrpcChannel _channel;
    private readonly IHost _host;
    private readonly ILoggerFactory _loggerFactory;
    private int _disposed;

    private LocalDurableEngine(
        EngineOwnedOrchestrationService service,
        WebApplication sidecar,
        GrpcChannel channel,
        IHost host,
        ILoggerFactory loggerFactory,
        Uri sidecarAddress)
    {
        _service = service;
        _sidecar = sidecar;
        _channel = channel;
        _host = host;
        _loggerFactory = loggerFactory;
        SidecarAddress = sidecarAddress;
        Client = host.Services.GetRequiredService<DurableTaskClient>();
    }

    /// <summary>Client for scheduling, querying, raising events, terminating and purging.</summary>
    public DurableTaskClient Client { get; }

    /// <summary>Services of the worker host: what <c>configureServices</c> registered, used to build activities.</summary>
    public IServiceProvider Services => _host.Services;

    /// <summary>Address of the gRPC sidecar (http://127.0.0.1:port).</summary>
    public Uri SidecarAddress { get; }

    /// <summary>Creates the task hub if needed, starts sidecar, worker and client, and returns once the worker is
    /// connected and the orchestration service has started (partition leases follow within a moment).</summary>
    /// <param name="options">Hub, storage and polling settings.</param>
    /// <param name="registerTasks">Registers the orchestrators and activities this worker runs.</param>
    /// <param name="configureServices">Registers services activities resolve (called before the worker's own).</param>
    /// <param name="ct">Cancels the start.</param>
    public static Task<LocalDurableEngine> StartAsync(
        LocalDurableEngineOptions options,
        Action<DurableTaskRegistry> registerTasks,
        Action<IServiceCollection>? configureServices = null,
        CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(registerTasks);
        return StartCoreAsync(options, registerTasks, configureServices, ct);
    }

    /// <summary>Starts a client-only engine on a hub that another process runs: it can schedule, query, raise
    /// events, terminate and purge, but runs no orchestrations and takes no partition leases.</summary>
    public static Task<LocalDurableEngine> StartClientAsync(
        LocalDurableEngineOptions options,
        Action<IServiceCollection>? configureServices = null,
        CancellationToken ct = default) =>
        StartCoreAsync(options, registerTasks: null, configureServices, ct);

    private static async Task<LocalDurableEngine> StartCoreAsync(
        LocalDurableEngineOptions options,
        Action<DurableTaskRegistry>? registerTasks,
        Action<IServiceCollection>? configureServices,
        CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var dispatching = registerTasks is not null;
        var loggerFactory = CreateLoggerFactory(options.LoggerFactory);
        EngineOwnedOrchestrationService? service = null;
        WebApplication? sidecar = null;
        GrpcChannel? channel = null;
        IHost? host = null;
        try
        {
            var storage = new AzureStorageOrchestrationService(CreateSettings(options, loggerFactory));
            await storage.CreateIfNotExistsAsync().WaitAsync(ct);
            service = new EngineOwnedOrchestrationService(storage);

            sidecar = BuildSidecar(storage, service, dispatching, options.SidecarPort, loggerFactory);
            await sidecar.StartAsync(ct);
            var address = ResolveAddress(sidecar);

            channel = GrpcChannel.ForAddress(address, new GrpcChannelOptions { LoggerFactory = loggerFactory });
            host = BuildHost(channel, registerTasks, configureServices, loggerFactory, options.OrchestrationVersion, options.RejectNewerVersions);
            await host.StartAsync(ct);
            if (dispatching)
            {
                try
                {
                    await service.Started.WaitAsync(WorkerConnectTimeout, ct);
                }
                catch (TimeoutException ex)
                {
                    throw new TimeoutException($"The worker did not connect to the sidecar at {address} within {WorkerConnectTimeout}.", ex);
                }
            }

            return new LocalDurableEngine(service, sidecar, channel, host, loggerFactory, address);
        }
        catch
        {
            try
            {
                await StopAllAsync(host, channel, sidecar, service);
            }
            catch (Exception)
            {
                // Keep the start failure; the cleanup one would hide it.
            }

            loggerFactory.Dispose();
            throw;
        }
    }

    /// <summary>Stops gracefully: worker host, sidecar, then the orchestration service (releasing its leases).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await StopAllAsync(_host, _channel, _sidecar, _service);
        _loggerFactory.Dispose();
    }

    private static async Task StopAllAsync(IHost? host, GrpcChannel? channel, WebApplication? sidecar, EngineOwnedOrchestrationService? service)
    {
        if (host is not null)
        {
            using var timeout = new CancellationTokenSource(ShutdownTimeout);
            await host.StopAsync(timeout.Token);
            if (host is IAsyncDisposable asyncHost)
            {
                await asyncHost.DisposeAsync();
            }
            else
            {
                host.Dispose();
            }
        }

        if (channel is not null)
        {
            await channel.ShutdownAsync();
            channel.Dispose();
        }

        if (sidecar is not null)
        {
            using var timeout = new CancellationTokenSource(ShutdownTimeout);
            await sidecar.StopAsync(timeout.Token);
            await sidecar.DisposeAsync();
        }

        if (service is not null)
        {
            // StopAsync(false) drains and releases the partition leases: another worker takes them at once.
            await service.StopOwnedAsync();
        }
    }

    private static AzureStorageOrchestrationServiceSettings CreateSettings(LocalDurableEngineOptions options, ILoggerFactory loggerFactory)
    {
        var connectionString = options.StorageConnectionString;

        // Azure.Storage 12.30 sends service version 2026-10-06, which Azurite 3.37 refuses without
        // --skipApiVersionCheck; 2026-06-06 is served by both Azurite and Azure.
        var queueOptions = new QueueClientOptions(QueueClientOptions.ServiceVersion.V2026_06_06);
        queueOptions.AddPolicy(new RoundUpVisibilityTimeoutPolicy(), HttpPipelinePosition.PerCall);
        var blobOptions = new BlobClientOptions(BlobClientOptions.ServiceVersion.V2026_06_06);

        return new AzureStorageOrchestrationServiceSettings
        {
            TaskHubName = options.TaskHubName,
            WorkerId = options.WorkerId,
            PartitionCount = options.PartitionCount,
            MaxQueuePollingInterval = options.MaxQueuePollingInterval,
            StorageAccountClientProvider = new StorageAccountClientProvider(
                StorageServiceClientProvider.ForBlob(connectionString, blobOptions),
                StorageServiceClientProvider.ForQueue(connectionString, queueOptions),
                StorageServiceClientProvider.ForTable(connectionString, new TableClientOptions())),

            // Table partition management: first orchestration in 0.3 s instead of 5.5 s with blob leases.
            UseTablePartitionManagement = true,

            // A single local app: no app lease to wait for.
            UseAppLease = false,

            // 10 s breaks lease acquisition; 30 s is the default and measured to work.
            LeaseInterval = TimeSpan.FromSeconds(30),
            LoggerFactory = loggerFactory,
        };
    }

    private static WebApplication BuildSidecar(
        AzureStorageOrchestrationService storage,
        EngineOwnedOrchestrationService dispatch,
        bool dispatching,
        int port,
        ILoggerFactory loggerFactory)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = typeof(LocalDurableEngine).Assembly.GetName().Name });
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(IPAddress.Loopback, port, listen => listen.Protocols = HttpProtocols.Http2);
        });
        builder.Services.Replace(ServiceDescriptor.Singleton(loggerFactory));
        builder.Services.AddRoutingCore();
        builder.Services.AddGrpc();
        builder.Services.AddSingleton<IOrchestrationService>(dispatch);

        // The real service for the API: the server checks it for the query and purge client interfaces.
        builder.Services.AddSingleton<IOrchestrationServiceClient>(storage);
        builder.Services.Configure<TaskHubGrpcServerOptions>(o =>
            o.Mode = dispatching ? TaskHubGrpcServerMode.ApiServerAndDispatcher : TaskHubGrpcServerMode.ApiServerOnly);

        // One server instance: it owns the dispatchers and the single worker stream.
        builder.Services.AddSingleton<TaskHubGrpcServer>();
        var app = builder.Build();
        app.UseRouting();
        app.MapGrpcService<TaskHubGrpcServer>();
        return app;
    }

    private static Uri ResolveAddress(WebApplication sidecar)
    {
        var addresses = sidecar.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses;
        var bound = addresses?.FirstOrDefault() ?? throw new InvalidOperationException("The sidecar reported no listening address.");
        return new Uri(bound.Replace("[::1]", "127.0.0.1", StringComparison.Ordinal));
    }

    private static IHost BuildHost(
        GrpcChannel channel,
        Action<DurableTaskRegistry>? registerTasks,
        Action<IServiceCollection>? configureServices,
        ILoggerFactory loggerFactory,
        string? version,
        bool rejectNewer)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.Replace(ServiceDescriptor.Singleton(loggerFactory));
        configureServices?.Invoke(builder.Services);
        if (registerTasks is not null)
        {
            builder.Services.AddDurableTaskWorker(worker =>
            {
                worker.AddTasks(registerTasks);
                worker.UseGrpc(channel);
                if (version is not null && rejectNewer)
                {
                    // This worker runs its own version and older ones; a newer run is left for a newer worker.
                    worker.UseVersioning(new DurableTaskWorkerOptions.VersioningOptions
                    {
                        Version = version,
                        DefaultVersion = version,
                        MatchStrategy = DurableTaskWorkerOptions.VersionMatchStrategy.CurrentOrOlder,
                        FailureStrategy = DurableTaskWorkerOptions.VersionFailureStrategy.Reject,
                    });
                }
            });
        }

        builder.Services.AddDurableTaskClient(client =>
        {
            client.UseGrpc(channel);
            client.RegisterDirectly();
            if (version is not null)
            {
                client.UseDefaultVersion(version);
            }
        });
        return builder.Build();
    }

    private static ILoggerFactory CreateLoggerFactory(ILoggerFactory? target)
    {
        if (target is null)
        {
            return new NullLoggerFactory();
        }

        return LoggerFactory.Create(logging =>
        {
            logging.AddProvider(new ForwardingLoggerProvider(target));
            logging.SetMinimumLevel(LogLevel.Information);
            foreach (var noisy in QuietCategories)
            {
                logging.AddFilter(noisy, LogLevel.Warning);
            }
        });
    }
}
