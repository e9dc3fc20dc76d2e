using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using MLOps.Core.Ports;

namespace MLOps.Functions;

/// <summary>At start, registers the workflow files deployed with the app (<c>workflows/*.yaml</c>) by content hash
/// and makes them current. Runs already in flight stay pinned to the hash they started with.</summary>
public sealed class WorkflowBootstrapper(IServiceProvider services) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var directory = Path.Combine(AppContext.BaseDirectory, "workflows");
        if (!Directory.Exists(directory))
        {
            return;
        }

        await using var scope = services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<MLOps.Infrastructure.Storage.IStorageInitializer>().EnsureCreatedAsync(cancellationToken);
        var store = scope.ServiceProvider.GetRequiredService<IWorkflowStore>();
        foreach (var file in Directory.EnumerateFiles(directory, "*.yaml").Order(StringComparer.Ordinal))
        {
            await store.RegisterAsync(await File.ReadAllTextAsync(file, cancellationToken), Path.GetFileName(file), cancellationToken);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
