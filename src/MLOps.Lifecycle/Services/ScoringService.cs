using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.ExceptionServices;
using MLOps.Core.Monitoring;
using MLOps.Core.Ports;
using MLOps.Core.Registry;
using MLOps.Core.Rollout;
using MLOps.Core.Training;

namespace MLOps.Lifecycle.Services;

/// <summary>The answer to one scoring request: which version (and rollout arm) answered.</summary>
public sealed record ScoreResponse(string Model, int Version, string RequestId, IReadOnlyList<Prediction> Predictions)
{
    /// <summary><see cref="Arms.Stable"/> or, during a canary, <see cref="Arms.Candidate"/>.</summary>
    public string Arm { get; init; } = Arms.Stable;
    /// <summary>The key the request was routed by (the same key always reaches the same arm).</summary>
    public string? RoutingKey { get; init; }
}

/// <summary>Scores rows with the version the production alias points at, and captures request and response for
/// monitoring. During a rollout the model's traffic split routes each request by a sticky key: a canary sends the
/// keys whose bucket is below its percentage to the candidate; a shadow answers with the stable version and also
/// scores a sampled share with the candidate, capturing both. Loaded models are cached per version.</summary>
public sealed class ScoringService(IModelRegistry registry, IWorkflowStore workflows, IArtifactStore artifacts, IInferenceStore inference, TimeProvider time)
{
    private sealed record Loaded(ModelScorer Scorer, string? IdColumn);

    private readonly ConcurrentDictionary<(string Model, int Version), Lazy<Task<Loaded>>> _scorers = new();

    /// <summary>Scores and captures. Throws <see cref="KeyNotFoundException"/> when nothing serves the model and
    /// <see cref="ArgumentException"/> for bad rows.</summary>
    public Task<ScoreResponse> ScoreAsync(string model, IReadOnlyList<IReadOnlyDictionary<string, string?>> rows, string? requestId, CancellationToken cancellationToken = default) =>
        ScoreAsync(model, rows, requestId, routingKey: null, cancellationToken);

    /// <summary>Scores and captures, routing by <paramref name="routingKey"/> (else the first row's id column, else
    /// the request id) while a traffic split exists.</summary>
    public async Task<ScoreResponse> ScoreAsync(string model, IReadOnlyList<IReadOnlyDictionary<string, string?>> rows, string? requestId, string? routingKey, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(rows);
        if (rows.Count == 0)
        {
            throw new ArgumentException("the request has no rows", nameof(rows));
        }

        var alias = await registry.GetAliasAsync(model, Aliases.Production, cancellationToken)
            ?? throw new KeyNotFoundException($"model '{model}' has no '{Aliases.Production}' version");
        var id = string.IsNullOrWhiteSpace(requestId) ? Guid.NewGuid().ToString("N") : requestId;

        // A split whose stable version is no longer production is stale (production moved): ignore it.
        var split = await registry.GetTrafficAsync(model, cancellationToken);
        if (split is not null && split.StableVersion != alias.Version)
        {
            split = null;
        }

        var stable = await GetAsync(model, alias.Version);
        var key = TrafficRouter.Key(routingKey, rows, stable.IdColumn, id);
        if (split is not null && TrafficRouter.Route(split, key) == Arms.Candidate)
        {
            var candidate = await GetAsync(model, split.CandidateVersion);
            var (predictions, latency, failure) = Score(candidate.Scorer, rows);
            if (failure is ArgumentException)
            {
                ExceptionDispatchInfo.Throw(failure);
            }

            await CaptureAsync(model, split.CandidateVersion, id, Arms.Candidate, key, rows, predictions, latency, failure is not null, cancellationToken);
            if (failure is not null)
            {
                throw new InvalidOperationException($"version {split.CandidateVersion} of '{model}' failed to score: {failure.Message}", failure);
            }

            return new ScoreResponse(model, split.CandidateVersion, id, predictions!) { Arm = Arms.Candidate, RoutingKey = key };
        }

        var (stablePredictions, stableLatency, stableFailure) = Score(stable.Scorer, rows);
        if (stableFailure is not null)
        {
            ExceptionDispatchInfo.Throw(stableFailure);
        }

        await CaptureAsync(model, alias.Version, id, Arms.Stable, key, rows, stablePredictions, stableLatency, error: false, cancellationToken);
        if (split is not null && TrafficRouter.Mirrors(split, key))
        {
            // The caller's answer never depends on the candidate: its failures are captured, not thrown.
            var shadow = await GetAsync(model, split.CandidateVersion);
            var (shadowPredictions, shadowLatency, shadowFailure) = Score(shadow.Scorer, rows);
            await CaptureAsync(model, split.CandidateVersion, id + Activities.EvaluateRolloutGuardsActivity.ShadowSuffix, Arms.Shadow, key, rows, shadowPredictions, shadowLatency, shadowFailure is not null, cancellationToken);
        }

        return new ScoreResponse(model, alias.Version, id, stablePredictions!) { Arm = Arms.Stable, RoutingKey = split is null ? null : key };
    }

    private static (IReadOnlyList<Prediction>? Predictions, double LatencyMs, Exception? Failure) Score(ModelScorer scorer, IReadOnlyList<IReadOnlyDictionary<string, string?>> rows)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            var predictions = scorer.Score(rows);
            return (predictions, Stopwatch.GetElapsedTime(started).TotalMilliseconds, null);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return (null, Stopwatch.GetElapsedTime(started).TotalMilliseconds, ex);
        }
    }

    private Task CaptureAsync(string model, int version, string id, string arm, string key, IReadOnlyList<IReadOnlyDictionary<string, string?>> rows,
        IReadOnlyList<Prediction>? predictions, double latencyMs, bool error, CancellationToken cancellationToken) =>
        inference.CaptureAsync(new InferenceRecord
        {
            RequestId = id,
            Model = model,
            Version = version,
            Timestamp = time.GetUtcNow(),
            Rows = rows,
            Predictions = predictions ?? [],
            Arm = arm,
            LatencyMs = latencyMs,
            Error = error,
            RoutingKey = key,
        }, cancellationToken);

    private Task<Loaded> GetAsync(string model, int version) =>
        _scorers.GetOrAdd((model, version), key => new Lazy<Task<Loaded>>(() => LoadAsync(key.Model, key.Version))).Value;

    private async Task<Loaded> LoadAsync(string model, int version)
    {
        var record = await registry.GetVersionAsync(model, version)
            ?? throw new KeyNotFoundException($"version {version} of '{model}' does not exist");
        var workflow = await workflows.GetAsync(model, record.WorkflowHash)
            ?? throw new KeyNotFoundException($"workflow {record.WorkflowHash} of '{model}' is not registered");
        await using var stream = await artifacts.OpenReadAsync(record.ArtifactUri);
        var buffer = new MemoryStream();
        await stream.CopyToAsync(buffer);
        buffer.Position = 0;
        return new Loaded(ModelScorer.Load(workflow.Definition, buffer), workflow.Definition.Model.Id);
    }
}
