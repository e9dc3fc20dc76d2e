using Azure;
using Azure.Core;
using Azure.Data.Tables;
using Azure.Messaging.EventGrid;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Microsoft.Extensions.Azure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MLOps.Core.Ports;
using MLOps.Infrastructure.Events;
using MLOps.Infrastructure.Options;
using MLOps.Infrastructure.Storage;

namespace MLOps.Infrastructure;

/// <summary>Registers the Blob, Table and Event Grid adapters of the core's ports.</summary>
public static class InfrastructureServiceCollectionExtensions
{
    /// <summary>The Blob API version pinned so that both Azure and Azurite accept the client's requests.</summary>
    public const BlobClientOptions.ServiceVersion BlobServiceVersion = BlobClientOptions.ServiceVersion.V2026_06_06;

    /// <summary>
    /// Binds <see cref="StorageOptions"/> (<c>MLOps:Storage</c>) and <see cref="EventGridOptions"/> (<c>MLOps:EventGrid</c>),
    /// validated on start; registers <see cref="BlobServiceClient"/>, <see cref="TableServiceClient"/> and
    /// <see cref="QueueServiceClient"/> singletons (connection string, or service URIs with the default Azure
    /// credential), every port implementation, and <see cref="IStorageInitializer"/>.
    /// </summary>
    public static IServiceCollection AddMLOpsInfrastructure(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);

        services.AddOptions<StorageOptions>().Bind(configuration.GetSection(StorageOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<EventGridOptions>().Bind(configuration.GetSection(EventGridOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddAzureClientsCore();
        services.TryAddSingleton(TimeProvider.System);

        services.TryAddSingleton(sp =>
        {
            var o = sp.GetRequiredService<IOptions<StorageOptions>>().Value;
            var options = new BlobClientOptions(BlobServiceVersion);
            return string.IsNullOrWhiteSpace(o.ConnectionString)
                ? new BlobServiceClient(Required(o.BlobServiceUri, "BlobServiceUri"), Credential(sp, configuration), options)
                : new BlobServiceClient(o.ConnectionString, options);
        });
        services.TryAddSingleton(sp =>
        {
            var o = sp.GetRequiredService<IOptions<StorageOptions>>().Value;
            return string.IsNullOrWhiteSpace(o.ConnectionString)
                ? new TableServiceClient(Required(o.TableServiceUri, "TableServiceUri"), Credential(sp, configuration))
                : new TableServiceClient(o.ConnectionString);
        });
        services.TryAddSingleton(sp =>
        {
            var o = sp.GetRequiredService<IOptions<StorageOptions>>().Value;
            return string.IsNullOrWhiteSpace(o.ConnectionString)
                ? new QueueServiceClient(Required(o.QueueServiceUri, "QueueServiceUri"), Credential(sp, configuration))
                : new QueueServiceClient(o.ConnectionString);
        });

        services.TryAddSingleton<StorageContext>();
        services.TryAddSingleton<IStorageInitializer, StorageInitializer>();
        services.TryAddSingleton<IDatasetStore, BlobDatasetStore>();
        services.TryAddSingleton<IArtifactStore, BlobArtifactStore>();
        services.TryAddSingleton<IModelRegistry, TableModelRegistry>();
        services.TryAddSingleton<IInferenceStore, BlobInferenceStore>();
        services.TryAddSingleton<TableMonitoringStore>();
        services.TryAddSingleton<IMonitoringStore>(sp => sp.GetRequiredService<TableMonitoringStore>());
        services.TryAddSingleton<IMetricHistory>(sp => sp.GetRequiredService<TableMonitoringStore>());
        services.TryAddSingleton<IAuditTrail, TableAuditTrail>();
        services.TryAddSingleton<IWorkflowStore, BlobWorkflowStore>();
        services.TryAddSingleton<IApprovalNonceStore, TableApprovalNonceStore>();
        services.TryAddSingleton<IBudgetLedger, TableBudgetLedger>();
        services.TryAddSingleton<IEventPublisher>(sp =>
        {
            var o = sp.GetRequiredService<IOptions<EventGridOptions>>().Value;
            EventGridPublisherClient? client = null;
            if (o.TopicEndpoint is { } endpoint)
            {
                var clientOptions = new EventGridPublisherClientOptions { Retry = { MaxRetries = o.MaxRetries, NetworkTimeout = TimeSpan.FromSeconds(30) } };
                client = string.IsNullOrWhiteSpace(o.Key)
                    ? new EventGridPublisherClient(endpoint, Credential(sp, configuration.GetSection(EventGridOptions.Section)), clientOptions)
                    : new EventGridPublisherClient(endpoint, new AzureKeyCredential(o.Key), clientOptions);
            }

            return new EventPublisher(sp.GetRequiredService<IAuditTrail>(), client, sp.GetRequiredService<ILogger<EventPublisher>>());
        });
        return services;
    }

    /// <summary>The default Azure credential chain (managed identity in Azure), configurable from the section
    /// (e.g. <c>MLOps:Storage:clientId</c> for a user-assigned identity).</summary>
    private static TokenCredential Credential(IServiceProvider sp, IConfiguration configuration)
    {
        var section = configuration is IConfigurationSection ? configuration : configuration.GetSection(StorageOptions.Section);
        return sp.GetRequiredService<AzureComponentFactory>().CreateTokenCredential(section);
    }

    private static Uri Required(Uri? uri, string name) =>
        uri ?? throw new OptionsValidationException(StorageOptions.Section, typeof(StorageOptions), [$"MLOps:Storage:{name} is required when no connection string is set."]);
}
