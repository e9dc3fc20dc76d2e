using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using MLOps.Infrastructure;
using MLOps.Infrastructure.Options;

namespace MLOps.Integration.Tests.Infrastructure;

public sealed class InfrastructureOptionsTests
{
    private static ServiceProvider Build(Dictionary<string, string?> values)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        return new ServiceCollection().AddLogging().AddMLOpsInfrastructure(configuration).BuildServiceProvider();
    }

    [Theory]
    [InlineData("Upper")]
    [InlineData("1abc")]
    [InlineData("a-b")]
    public void StorageOptions_BadPrefix_FailsValidation(string prefix)
    {
        var services = Build(new() { ["MLOps:Storage:ConnectionString"] = "UseDevelopmentStorage=true", ["MLOps:Storage:Prefix"] = prefix });
        Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<StorageOptions>>().Value);
    }

    [Fact]
    public void StorageOptions_NoConnectionStringOrUris_FailsValidation()
    {
        var services = Build(new() { ["MLOps:Storage:BlobServiceUri"] = "https://a.blob.core.windows.net" });
        Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<StorageOptions>>().Value);
    }

    [Fact]
    public void StorageOptions_ServiceUris_CreateClientsWithoutSecrets()
    {
        var services = Build(new()
        {
            ["MLOps:Storage:BlobServiceUri"] = "https://acct.blob.core.windows.net",
            ["MLOps:Storage:TableServiceUri"] = "https://acct.table.core.windows.net",
            ["MLOps:Storage:Prefix"] = "dev1",
        });

        Assert.Equal("dev1", services.GetRequiredService<IOptions<StorageOptions>>().Value.Prefix);
        Assert.Equal("acct", services.GetRequiredService<Azure.Storage.Blobs.BlobServiceClient>().AccountName);
        Assert.Equal("acct", services.GetRequiredService<Azure.Data.Tables.TableServiceClient>().AccountName);
    }
}
