using Microsoft.Extensions.DependencyInjection;
using MLOps.Core.Drift;
using MLOps.Core.Ports;
using MLOps.Core.Registry;
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
}
