using System.Collections.Concurrent;
using MLOps.Core.Monitoring;
using MLOps.Core.Ports;
using MLOps.Core.Registry;
using MLOps.Core.Training;

namespace MLOps.Lifecycle.Services;

/// <summary>The answer to one scoring request.</summary>
public sealed record ScoreResponse(string Model, int Version, string RequestId, IReadOnlyList<Prediction> Predictions);

/// <summary>Scores rows with the version the production alias points at, and captures request and response for
/// monitoring. Loaded models are cached per version.</summary>
public sealed class ScoringService(IModelRegistry registry, IWorkflowStore workflows, IArtifactStore artifacts, IInferenceStore inference, TimeProvider time)
{
    private readonly ConcurrentDictionary<(string Model, int Version), Lazy<Task<ModelScorer>>> _scorers = new();

    /// <summary>Scores and captures. Throws <see cref="KeyNotFoundException"/> when nothing serves the model and
    /// <see cref="ArgumentException"/> for bad rows.</summary>
    public async Task<ScoreResponse> ScoreAsync(string model, IReadOnlyList<IReadOnlyDictionary<string, string?>> rows, string? requestId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(rows);
        if (rows.Count == 0)
        {
            throw new ArgumentException("the request has no rows", nameof(rows));
        }

        var alias = await registry.GetAliasAsync(model, Aliases.Production, cancellationToken)
            ?? throw new KeyNotFoundException($"model '{model}' has no '{Aliases.Production}' version");
        var scorer = await _scorers.GetOrAdd((model, alias.Version), key => new Lazy<Task<ModelScorer>>(() => LoadAsync(key.Model, key.Version))).Value;
        var predictions = scorer.Score(rows);
        var id = string.IsNullOrWhiteSpace(requestId) ? Guid.NewGuid().ToString("N") : requestId;
        await inference.CaptureAsync(new InferenceRecord
        {
            RequestId = id,
            Model = model,
            Version = alias.Version,
            Timestamp = time.GetUtcNow(),
            Rows = rows,
            Predictions = predictions,
        }, cancellationToken);
        return new ScoreResponse(model, alias.Version, id, predictions);
    }

    private async Task<ModelScorer> LoadAsync(string model, int version)
    {
        var record = await registry.GetVersionAsync(model, version)
            ?? throw new KeyNotFoundException($"version {version} of '{model}' does not exist");
        var workflow = await workflows.GetAsync(model, record.WorkflowHash)
            ?? throw new KeyNotFoundException($"workflow {record.WorkflowHash} of '{model}' is not registered");
        await using var stream = await artifacts.OpenReadAsync(record.ArtifactUri);
        var buffer = new MemoryStream();
        await stream.CopyToAsync(buffer);
        buffer.Position = 0;
        return ModelScorer.Load(workflow.Definition, buffer);
    }
}
