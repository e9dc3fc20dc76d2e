using Microsoft.Extensions.DependencyInjection;
using MLOps.Core.Drift;
using MLOps.Core.Monitoring;
using MLOps.Core.Ports;
using MLOps.Core.Registry;
using MLOps.Core.Samples;
using MLOps.Infrastructure.Storage;
using MLOps.Lifecycle.Services;
using MLOps.Local;

namespace MLOps.Integration.Tests.Support;

/// <summary>Registry set-ups the drift tests share.</summary>
internal static class TestRegistry
{
    /// <summary>Stores <paramref name="reference"/> at <paramref name="path"/> in the artifacts as training does (JSON and
    /// its binary form beside it; the JSON only with <paramref name="jsonOnly"/>, as versions registered before the
    /// binary form have it), registers a version of the workflow's model whose artifact and reference profile are that
    /// JSON, and points production at it (forced). Returns the version and the profile's URI.</summary>
    public static async Task<(ModelVersion Version, string ProfileUri)> PublishReferenceAsync(
        LocalHost host, StoredWorkflow workflow, DatasetProfile reference, string path, string runId, bool jsonOnly = false)
    {
        var artifacts = host.Services.GetRequiredService<IArtifactStore>();
        var profile = jsonOnly ? await artifacts.SaveJsonAsync(path, reference) : await artifacts.SaveReferenceProfileAsync(path, reference);
        var registry = host.Services.GetRequiredService<IModelRegistry>();
        var version = await registry.RegisterVersionAsync(new NewModelVersion
        {
            Model = workflow.Model,
            RunId = runId,
            ArtifactUri = profile.Uri,
            ArtifactSha256 = profile.Sha256,
            DatasetSha256 = new string('0', 64),
            WorkflowHash = workflow.Hash,
            Trainer = "fast_tree",
            CreatedBy = "test",
            ReferenceProfileUri = profile.Uri,
        });
        await registry.SetAliasAsync(workflow.Model, Aliases.Production, version.Version, "test", runId, expectedETag: null, force: true);
        return (version, profile.Uri);
    }

    /// <summary>Captures 300 rows of the sample model's traffic for <paramref name="version"/> in the hour before now:
    /// three requests of 100 rows (seed 2), ids <paramref name="requestPrefix"/>0001 to 0003.</summary>
    public static async Task CaptureSampleTrafficAsync(LocalHost host, string model, int version, string requestPrefix)
    {
        var store = host.Services.GetRequiredService<IInferenceStore>();
        var at = DateTimeOffset.UtcNow.AddHours(-1);
        var request = 0;
        foreach (var chunk in CreditRiskData.FeatureRows(300, seed: 2).Chunk(100))
        {
            request++;
            await store.CaptureAsync(new InferenceRecord
            {
                RequestId = $"{requestPrefix}{request:D4}",
                Model = model,
                Version = version,
                Timestamp = at.AddMinutes(request),
                Rows = chunk,
                Predictions = [.. chunk.Select(_ => new Core.Training.Prediction(0.5, 0.5, null))],
            });
        }
    }

    /// <summary>Deletes a stored reference profile: the JSON and its binary form beside it (the analysis reads the binary
    /// form when it is there).</summary>
    public static async Task DeleteReferenceAsync(LocalHost host, string referenceUri)
    {
        var storage = host.Services.GetRequiredService<StorageContext>();
        Assert.True(await storage.ResolveBlob(ReferenceProfiles.BinaryLocation(referenceUri)).DeleteIfExistsAsync());
        await storage.ResolveBlob(referenceUri).DeleteAsync();
    }
}
