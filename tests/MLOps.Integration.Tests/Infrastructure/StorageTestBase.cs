using Microsoft.Extensions.DependencyInjection;
using MLOps.Infrastructure.Storage;
using MLOps.Integration.Tests.Fixtures;

namespace MLOps.Integration.Tests.Infrastructure;

/// <summary>A test class on the shared Azurite with its own prefix, so its containers and tables are its own.</summary>
[Collection(AzuriteTestGroup.Name)]
public abstract class StorageTestBase(AzuriteFixture azurite) : IAsyncLifetime
{
    private ServiceProvider? _services;

    protected AzuriteFixture Azurite { get; } = azurite;

    protected string Prefix { get; } = AzuriteFixture.NewPrefix();

    protected IServiceProvider Services => _services ?? throw new InvalidOperationException("Not initialized.");

    protected StorageContext Storage => Services.GetRequiredService<StorageContext>();

    protected T Get<T>() where T : notnull => Services.GetRequiredService<T>();

    protected virtual IDictionary<string, string?>? Settings => null;

    public async Task InitializeAsync() => _services = await Azurite.CreateServicesAsync(Prefix, Settings);

    public async Task DisposeAsync()
    {
        if (_services is not null)
        {
            await _services.DisposeAsync();
        }
    }
}
