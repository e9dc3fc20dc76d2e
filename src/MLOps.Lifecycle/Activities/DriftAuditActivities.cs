using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.DurableTask.Client;
using MLOps.Lifecycle.Contracts;
using MLOps.Lifecycle.Services;

namespace MLOps.Lifecycle.Activities;

// The audit's activities return bad data (InvalidDataException: a missing reference, an unreadable capture, a corrupt
// profile) as a DataProblem in their output instead of failing: it is not retried, and the orchestration ends with it
// the same way on every engine. Anything else still fails the activity and is retried as a storage hiccup.

/// <summary>Resolves what a drift audit reads and lists the window's captures in ranges (names only); bad data is
/// returned as <see cref="DriftAuditPlan.Problem"/>.</summary>
public sealed class PlanDriftAuditActivity(DriftAuditService audits)
{
    public async Task<DriftAuditPlan> RunAsync(PlanDriftAuditInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        try
        {
            return await audits.PlanAsync(input, cancellationToken);
        }
        catch (InvalidDataException ex)
        {
            return new DriftAuditPlan { Model = input.Model, WindowEnd = input.WindowEnd, Problem = DataProblem.From(ex, nameof(PlanDriftAuditActivity)) };
        }
    }
}

/// <summary>Profiles one range of a window's captures and stores the profile; returns its URI, or bad data as
/// <see cref="PartitionProfileRef.Problem"/>. Idempotent: a retry overwrites the same blob with the same profile.</summary>
public sealed class ProfilePartitionActivity(DriftAuditService audits)
{
    public async Task<PartitionProfileRef> RunAsync(ProfilePartitionInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        try
        {
            return await audits.ProfilePartitionAsync(input, cancellationToken);
        }
        catch (InvalidDataException ex)
        {
            return new PartitionProfileRef { Uri = "", Problem = DataProblem.From(ex, nameof(ProfilePartitionActivity)) };
        }
    }
}

/// <summary>Merges the partition profiles, judges drift, keeps the history, stores the report, publishes, and starts
/// retraining when the policy says so; bad data is returned as <see cref="DriftAuditResult.Problem"/>. Idempotent by
/// audit id.</summary>
public sealed class AnalyzeDriftActivity(DriftAuditService audits)
{
    public async Task<DriftAuditResult> RunAsync(AnalyzeDriftInput input, DurableTaskClient client, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        try
        {
            return await audits.AnalyzeAsync(input, client, cancellationToken);
        }
        catch (InvalidDataException ex)
        {
            return new DriftAuditResult
            {
                Model = input.Model,
                Version = input.Version,
                WindowStart = input.WindowStart,
                WindowEnd = input.WindowEnd,
                Partitions = input.ProfileUris.Count,
                ProfileUris = input.ProfileUris,
                Problem = DataProblem.From(ex, nameof(AnalyzeDriftActivity)),
            };
        }
    }
}

/// <summary>Service registrations of the fanned-out drift audit.</summary>
public static class DriftAuditServiceCollectionExtensions
{
    /// <summary>Registers the audit's activities and binds <see cref="DriftAuditOptions"/> from <c>MLOps:DriftAudit</c>
    /// of <paramref name="configuration"/> when given.</summary>
    public static IServiceCollection AddDriftAudit(this IServiceCollection services, IConfiguration? configuration = null)
    {
        var options = services.AddOptions<DriftAuditOptions>();
        if (configuration is not null)
        {
            options.Bind(configuration.GetSection(DriftAuditOptions.Section));
        }

        services.AddTransient<PlanDriftAuditActivity>();
        services.AddTransient<ProfilePartitionActivity>();
        services.AddTransient<AnalyzeDriftActivity>();
        return services;
    }
}
