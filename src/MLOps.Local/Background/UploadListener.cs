using Microsoft.DurableTask.Client;
using MLOps.Core.Ports;
using MLOps.Lifecycle.Handlers;

namespace MLOps.Local.Background;

/// <summary>The local stand-in for the blob trigger: polls the <c>datasets</c> container and feeds each new
/// (name, ETag) to the same <see cref="DatasetUploadHandler"/> the Functions app uses. The handler is idempotent,
/// so a restart that sees old uploads again starts nothing twice.</summary>
public sealed partial class UploadListener(IServiceProvider services, DurableTaskClient client, LocalHostOptions options, ILogger<UploadListener> logger)
    : BackgroundService
{
    private readonly HashSet<(string Name, string ETag)> _seen = [];

    /// <summary>Outcomes in arrival order (the demo and tests read them).</summary>
    public event Action<UploadOutcome>? Handled;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await PollOnceAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogPollFailed(logger, ex);
            }

            await Task.Delay(options.UploadPollInterval, stoppingToken);
        }
    }

    public async Task PollOnceAsync(CancellationToken cancellationToken)
    {
        await using var scope = services.CreateAsyncScope();
        var datasets = scope.ServiceProvider.GetRequiredService<IDatasetStore>();
        var handler = scope.ServiceProvider.GetRequiredService<DatasetUploadHandler>();
        await foreach (var (name, etag) in datasets.ListUploadsAsync(cancellationToken))
        {
            if (!_seen.Add((name, etag)))
            {
                continue;
            }

            try
            {
                var outcome = await handler.HandleAsync(name, client, cancellationToken);
                Handled?.Invoke(outcome);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Like the blob trigger: a failing upload is retried on the next poll, and never blocks the others.
                _seen.Remove((name, etag));
                LogUploadFailed(logger, name, ex);
            }
        }
    }

    [LoggerMessage(EventId = 2000, Level = LogLevel.Warning, Message = "Polling the datasets container failed")]
    private static partial void LogPollFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 2001, Level = LogLevel.Error, Message = "Handling upload {Blob} failed; it is retried on the next poll")]
    private static partial void LogUploadFailed(ILogger logger, string blob, Exception exception);
}
