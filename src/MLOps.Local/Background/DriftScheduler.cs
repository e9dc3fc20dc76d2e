using Microsoft.DurableTask.Client;
using MLOps.Lifecycle.Services;

namespace MLOps.Local.Background;

/// <summary>The local stand-in for the timer trigger: checks every interval which models' monitoring schedules
/// have come due and starts their audit orchestrations with the same <see cref="DriftAuditService"/> (one instance per
/// model and due window, shared with the timer trigger's ids).</summary>
public sealed partial class DriftScheduler(IServiceProvider services, DurableTaskClient client, LocalHostOptions options, ILogger<DriftScheduler> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.DriftCheckInterval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await using var scope = services.CreateAsyncScope();
                await scope.ServiceProvider.GetRequiredService<DriftAuditService>().AuditDueAsync(client, force: false, stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogAuditFailed(logger, ex);
            }
        }
    }

    [LoggerMessage(EventId = 2010, Level = LogLevel.Warning, Message = "Scheduled drift audits failed")]
    private static partial void LogAuditFailed(ILogger logger, Exception exception);
}
