using MLOps.Infrastructure.Azurite;

namespace MLOps.Integration.Tests.Fixtures;

/// <summary>One Azurite for the test run, on free ports, with its data in a temporary folder.</summary>
public sealed class AzuriteFixture : IAsyncLifetime
{
    private AzuriteProcess? _azurite;

    public string ConnectionString => (_azurite ?? throw new InvalidOperationException("Azurite is not started.")).ConnectionString;

    public async Task InitializeAsync() =>
        _azurite = await AzuriteProcess.StartAsync(Path.Combine(Path.GetTempPath(), "mlops-azurite-" + Guid.NewGuid().ToString("N")[..8]));

    public async Task DisposeAsync()
    {
        if (_azurite is not null)
        {
            await _azurite.DisposeAsync();
            try
            {
                Directory.Delete(_azurite.DataDirectory, recursive: true);
            }
            catch (IOException)
            {
                // Best effort: a temporary folder.
            }
        }
    }
}

[CollectionDefinition("Azurite")]
public sealed class AzuriteCollectionDefinition : ICollectionFixture<AzuriteFixture>;
