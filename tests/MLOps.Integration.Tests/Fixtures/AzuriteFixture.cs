using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using MLOps.Infrastructure;
using MLOps.Infrastructure.Azurite;
using MLOps.Infrastructure.Storage;

namespace MLOps.Integration.Tests.Fixtures;

/// <summary>Starts one Azurite for the whole test run (data in a temporary folder) and stops it at the end.
/// Each test class isolates itself with its own container/table prefix (<see cref="NewPrefix"/>).</summary>
public sealed class AzuriteFixture : IAsyncLifetime
{
    private AzuriteProcess? _azurite;
    private string? _dataDirectory;

    public string ConnectionString => _azurite?.ConnectionString ?? throw new InvalidOperationException("Azurite is not running.");

    public async Task InitializeAsync()
    {
        _dataDirectory = Path.Combine(Path.GetTempPath(), "mlops-azurite-" + Guid.NewGuid().ToString("N")[..8]);
        _azurite = await AzuriteProcess.StartAsync(_dataDirectory);
    }

    public async Task DisposeAsync()
    {
        if (_azurite is not null)
        {
            await _azurite.DisposeAsync();
        }

        if (_dataDirectory is not null && Directory.Exists(_dataDirectory))
        {
            try
            {
                Directory.Delete(_dataDirectory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    /// <summary>A fresh prefix: lowercase, starts with a letter.</summary>
    public static string NewPrefix() => "t" + Guid.NewGuid().ToString("N")[..8];

    /// <summary>A service provider wired exactly as a host wires it (<c>AddMLOpsInfrastructure</c>), on this Azurite,
    /// with the given prefix, and with every container and table created.</summary>
    public async Task<ServiceProvider> CreateServicesAsync(string prefix, IDictionary<string, string?>? settings = null)
    {
        var values = new Dictionary<string, string?>
        {
            ["MLOps:Storage:ConnectionString"] = ConnectionString,
            ["MLOps:Storage:Prefix"] = prefix,
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            values[key] = value;
        }

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddMLOpsInfrastructure(configuration);
        var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });
        await provider.GetRequiredService<IStorageInitializer>().EnsureCreatedAsync();
        return provider;
    }
}

[CollectionDefinition(Name)]
public sealed class AzuriteTestGroup : ICollectionFixture<AzuriteFixture>
{
    public const string Name = "Azurite";
}
