using MLOps.Core.Monitoring;
using MLOps.Core.Ports;
using MLOps.Core.Registry;
using MLOps.Core.Rollout;
using MLOps.Lifecycle.Contracts;

namespace MLOps.Lifecycle.Activities;

/// <summary>Sets a rollout's traffic split against the current production version (ETag-guarded). Idempotent: the
/// same run and step leave the split as it is. Refuses when another run's rollout owns a live split.</summary>
public sealed class SetTrafficActivity(IModelRegistry registry, TimeProvider time)
{
    public async Task<TrafficOutput> RunAsync(SetTrafficInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var candidate = await registry.GetVersionAsync(input.Model, input.CandidateVersion, cancellationToken)
            ?? throw new InvalidDataException($"version {input.CandidateVersion} of '{input.Model}' does not exist");
        if (candidate.Status != ModelVersionStatus.Approved)
        {
            throw new InvalidDataException($"version {input.CandidateVersion} of '{input.Model}' is {candidate.Status}, not Approved: it cannot take traffic");
        }

        for (var attempt = 1; ; attempt++)
        {
            var production = await registry.GetAliasAsync(input.Model, Aliases.Production, cancellationToken);
            if (production is null || production.Version == input.CandidateVersion)
            {
                return new TrafficOutput(null, time.GetUtcNow());
            }

            var current = await registry.GetTrafficAsync(input.Model, cancellationToken);
            if (current is not null && current.RunId != input.RunId && current.StableVersion == production.Version)
            {
                throw new InvalidDataException($"the rollout of run {current.RunId} (version {current.CandidateVersion}) owns the traffic split of '{input.Model}'");
            }

            if (current is not null && current.RunId == input.RunId && current.Step == input.Step && current.StableVersion == production.Version)
            {
                return new TrafficOutput(current.StableVersion, current.ChangedAt);
            }

            try
            {
                var split = await registry.SetTrafficAsync(new TrafficSplit
                {
                    Model = input.Model,
                    StableVersion = production.Version,
                    CandidateVersion = input.CandidateVersion,
                    Mode = input.Mode,
                    Percent = input.Mode == TrafficMode.Canary ? input.Percent : 0,
                    Sampling = input.Mode == TrafficMode.Shadow ? input.Sampling : 0,
                    RunId = input.RunId,
                    Step = input.Step,
                    ChangedAt = time.GetUtcNow(),
                    ChangedBy = input.Actor,
                }, current?.ETag, cancellationToken);
                return new TrafficOutput(split.StableVersion, split.ChangedAt);
            }
            catch (ConcurrencyException) when (attempt < 5)
            {
                // Another writer changed the split; read again and decide again.
            }
        }
    }
}

/// <summary>Removes the run's traffic split (a split of another run is left alone). Idempotent.</summary>
public sealed class ClearTrafficActivity(IModelRegistry registry)
{
    public async Task<bool> RunAsync(ClearTrafficInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        for (var attempt = 1; ; attempt++)
        {
            var current = await registry.GetTrafficAsync(input.Model, cancellationToken);
            if (current is null || current.RunId != input.RunId)
            {
                return false;
            }

            try
            {
                return await registry.ClearTrafficAsync(input.Model, current.ETag, cancellationToken);
            }
            catch (ConcurrencyException) when (attempt < 5)
            {
            }
        }
    }
}

/// <summary>Judges a rollout step from the traffic captured since it began: the candidate arm (canary answers or
/// shadow mirrors) against the control arm (the stable version's answers; for a shadow, the same requests).</summary>
public sealed class EvaluateRolloutGuardsActivity(IInferenceStore inference)
{
    /// <summary>Appended to the request id of a mirrored request's capture.</summary>
    public const string ShadowSuffix = ".shadow";

    public async Task<GuardReport> RunAsync(RolloutGuardsInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var candidateArm = input.Mode == TrafficMode.Shadow ? Arms.Shadow : Arms.Candidate;
        var candidate = new List<InferenceRecord>();
        var control = new List<InferenceRecord>();
        await foreach (var record in inference.ReadAsync(input.Model, input.From, input.To, cancellationToken))
        {
            if (record.Version == input.CandidateVersion && record.Arm == candidateArm)
            {
                candidate.Add(record);
            }
            else if (record.Version == input.StableVersion && record.Arm is null or Arms.Stable)
            {
                control.Add(record);
            }
        }

        if (input.Mode == TrafficMode.Shadow)
        {
            // Compare on the same requests: the stable answers of the mirrored ones.
            var mirrored = candidate.Select(r => r.RequestId.EndsWith(ShadowSuffix, StringComparison.Ordinal) ? r.RequestId[..^ShadowSuffix.Length] : r.RequestId).ToHashSet(StringComparer.Ordinal);
            control = [.. control.Where(r => mirrored.Contains(r.RequestId))];
        }

        return RolloutGuardEvaluator.Evaluate(input.Guards, Summarize(candidate), Summarize(control));
    }

    private static ArmTraffic Summarize(List<InferenceRecord> records) => new()
    {
        Requests = records.Count,
        Errors = records.Count(r => r.Error),
        LatenciesMs = [.. records.Where(r => !r.Error && r.LatencyMs is not null).Select(r => r.LatencyMs!.Value)],
        Scores = [.. records.Where(r => !r.Error).SelectMany(r => r.Predictions).Select(p => p.Probability ?? p.Score)],
    };
}
