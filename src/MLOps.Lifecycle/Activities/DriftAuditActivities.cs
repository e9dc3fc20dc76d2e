using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.DurableTask.Client;
using MLOps.Lifecycle.Contracts;
using MLOps.Lifecycle.Services;

namespace MLOps.Lifecycle.Activities;

/// <summary>Resolves what a drift audit reads and lists the window's captures in ranges (names only).</summary>
public sealed class PlanDriftAuditActivity(DriftAuditService audits)
{
    public Task<DriftAuditPlan> RunAsync(PlanDriftAuditInput input, CancellationToken cancellationToken) =>
        audits.PlanAsync(input, cancellationToken);
}

/// <summary>Profiles one range of a window's captures and stores the profile; returns its URI. Idempotent: a retry
/// overwrites the same blob with the same profile.</summary>
public sealed class ProfilePartitionActivity(DriftAuditService audits)
{
    public Task<PartitionProfileRef> RunAsync(ProfilePartitionInput input, CancellationToken cancellationToken) =>
        audits.ProfilePartitionAsync(input, cancellationToken);
}

/// <summary>Merges the partition profiles, judges drift, keeps the history, stores the report, publishes, and starts
/// retraining when the policy says so. Idempotent by audit id.</summary>
public sealed class AnalyzeDriftActivity(DriftAuditService audits)
{
    public Task<DriftAuditResult> RunAsync(AnalyzeDriftInput input, DurableTaskClient client, CancellationToken cancellationToken) =>
        audits.AnalyzeAsync(input, client, cancellationToken);
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
