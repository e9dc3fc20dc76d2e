using MLOps.Core.Registry;
using MLOps.Core.Ports;
using MLOps.Lifecycle.Contracts;

namespace MLOps.Lifecycle.Activities;

/// <summary>Registers the candidate as a new version, pending approval. Idempotent by run id.</summary>
public sealed class RegisterVersionActivity(IModelRegistry registry, TimeProvider time)
{
    public async Task<VersionSummary> RunAsync(RegisterVersionInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var version = await registry.RegisterVersionAsync(new NewModelVersion
        {
            Model = input.Run.Model,
            RunId = input.Run.RunId,
            ArtifactUri = input.Training.CandidateUri,
            ArtifactSha256 = input.Training.CandidateSha256,
            DatasetSha256 = input.Run.DatasetSha256,
            WorkflowHash = input.Run.WorkflowHash,
            Trainer = input.Training.Trainer,
            Metrics = input.Training.Metrics,
            ReferenceProfileUri = input.Training.ReferenceProfileUri,
            EvaluationUri = input.EvidenceUri,
            CreatedBy = input.Run.Author,
            CreatedAt = time.GetUtcNow(),
        }, cancellationToken);
        return new VersionSummary(version.Model, version.Version, version.Status);
    }
}

/// <summary>Records an approval, rejection or expiry on the version itself (not only in the run).</summary>
public sealed class RecordDecisionActivity(IModelRegistry registry)
{
    public async Task<VersionSummary> RunAsync(DecisionInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var version = await registry.SetStatusAsync(input.Model, input.Version, input.Status, input.Actor, input.Reason, input.ApprovedBy, cancellationToken);
        return new VersionSummary(version.Model, version.Version, version.Status);
    }
}

/// <summary>Moves the production alias to an approved version; the previous one stays the rollback candidate.
/// Refuses a version that is not approved. Idempotent: an alias already there is left as it is.</summary>
public sealed class DeployActivity(IModelRegistry registry)
{
    public async Task<DeployOutput> RunAsync(DeployInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var version = await registry.GetVersionAsync(input.Model, input.Version, cancellationToken)
            ?? throw new InvalidDataException($"version {input.Version} of '{input.Model}' does not exist");
        if (version.Status != ModelVersionStatus.Approved)
        {
            throw new InvalidDataException($"version {input.Version} of '{input.Model}' is {version.Status}, not Approved: it cannot be deployed");
        }

        for (var attempt = 1; ; attempt++)
        {
            var current = await registry.GetAliasAsync(input.Model, Aliases.Production, cancellationToken);
            if (current?.Version == input.Version)
            {
                return new DeployOutput(current.Version, current.PreviousVersion);
            }

            try
            {
                var moved = await registry.SetAliasAsync(input.Model, Aliases.Production, input.Version, input.Actor,
                    $"deployed by run {input.RunId}", current?.ETag, force: false, cancellationToken);
                return new DeployOutput(moved.Version, moved.PreviousVersion);
            }
            catch (ConcurrencyException) when (attempt < 5)
            {
                // Another writer moved the alias; read again and decide again.
            }
        }
    }
}
