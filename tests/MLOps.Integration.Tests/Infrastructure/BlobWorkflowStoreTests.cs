using System.Security.Cryptography;
using System.Text;
using MLOps.Core.Workflows;
using MLOps.Infrastructure.Storage;
using MLOps.Integration.Tests.Fixtures;

namespace MLOps.Integration.Tests.Infrastructure;

/// <summary>The blob and pointer part of the workflow store, with a stand-in parser (the real
/// <see cref="WorkflowParser"/> is tested with the core).</summary>
public sealed class BlobWorkflowStoreTests(AzuriteFixture azurite) : StorageTestBase(azurite)
{
    private BlobWorkflowStore CreateStore() => new(Storage, TimeProvider.System, FakeParse, FakeHash);

    // "model: <name>" on the first line is all the stand-in reads.
    private static WorkflowDefinition FakeParse(string yaml, string fileName) => new()
    {
        Model = new ModelSection { Name = yaml.Split('\n')[0]["model: ".Length..].Trim(), Label = "label" },
        Data = new DataContract { Columns = [new ColumnSpec { Name = "x" }] },
        Training = new TrainingSpec(),
    };

    private static string FakeHash(string yaml) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(yaml.Replace("\r\n", "\n", StringComparison.Ordinal))));

    [Fact]
    public async Task RegisterAsync_StoresByHashAndMovesCurrent()
    {
        var store = CreateStore();
        var v1 = await store.RegisterAsync("model: credit-risk\n# v1\n", "credit-risk.yaml");
        var v1Again = await store.RegisterAsync("model: credit-risk\n# v1\n", "credit-risk.yaml");
        var v2 = await store.RegisterAsync("model: credit-risk\n# v2\n", "credit-risk.yaml");
        await store.RegisterAsync("model: churn\n", "churn.yaml");

        Assert.Equal(v1.Hash, v1Again.Hash);
        Assert.NotEqual(v1.Hash, v2.Hash);
        var current = await store.GetCurrentAsync("credit-risk");
        Assert.NotNull(current);
        Assert.Equal(v2.Hash, current.Hash);
        Assert.Equal("credit-risk", current.Definition.Model.Name);
        var old = await store.GetAsync("credit-risk", v1.Hash);
        Assert.Equal("model: credit-risk\n# v1\n", old!.Yaml);
        Assert.Null(await store.GetAsync("credit-risk", "0000"));
        Assert.Null(await store.GetCurrentAsync("unknown"));
        Assert.Equal(["churn", "credit-risk"], (await store.ListCurrentAsync()).Select(w => w.Model).Order(StringComparer.Ordinal));
        Assert.True(await Storage.Container(StorageNames.Workflows).GetBlobClient($"credit-risk/{v1.Hash}.yaml").ExistsAsync());
    }
}
