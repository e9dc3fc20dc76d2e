using Microsoft.DurableTask;

namespace MLOps.Local.Durable;

/// <summary>Registers activities that are plain DI services.</summary>
public static class DurableRegistryExtensions
{
    /// <summary>Registers activity <paramref name="name"/> that resolves <typeparamref name="TService"/> from the
    /// worker's service provider on every call and runs <paramref name="run"/> on it.</summary>
    /// <remarks>
    /// <para>Lifecycle activities are classes with a method <c>Task&lt;TOut&gt; RunAsync(TIn input, CancellationToken ct)</c>
    /// and dependencies from DI; they know nothing of Durable Task. Register the service in
    /// <c>configureServices</c> and the activity here:</para>
    /// <code>
    /// await using var engine = await LocalDurableEngine.StartAsync(
    ///     options,
    ///     r => r.AddActivityService&lt;TrainModel, TrainRequest, TrainResult&gt;(
    ///         nameof(TrainModel), (svc, input, ct) => svc.RunAsync(input, ct)),
    ///     services => services.AddScoped&lt;TrainModel&gt;());
    /// </code>
    /// <para>The worker creates a service scope per activity call, so scoped services live for one call.
    /// The token passed to <paramref name="run"/> is <see cref="CancellationToken.None"/>: the worker in
    /// Durable Task SDK 1.28 has no per-activity cancellation, and cancelling on shutdown would record a failure
    /// in the orchestration's history instead of letting the activity run again after restart.</para>
    /// <para>Underneath this is <c>DurableTaskRegistry.AddActivity(TaskName, Func&lt;IServiceProvider, ITaskActivity&gt;)</c>
    /// with a <see cref="TaskActivity{TInput, TOutput}"/> adapter.</para>
    /// </remarks>
    public static DurableTaskRegistry AddActivityService<TService, TIn, TOut>(
        this DurableTaskRegistry registry,
        string name,
        Func<TService, TIn, CancellationToken, Task<TOut>> run)
        where TService : notnull
    {
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(run);
        return registry.AddActivity(name, services => new ServiceActivity<TService, TIn, TOut>(services, run));
    }

    private sealed class ServiceActivity<TService, TIn, TOut>(
        IServiceProvider services,
        Func<TService, TIn, CancellationToken, Task<TOut>> run) : TaskActivity<TIn, TOut>
        where TService : notnull
    {
        public override Task<TOut> RunAsync(TaskActivityContext context, TIn input) =>
            run(services.GetRequiredService<TService>(), input, CancellationToken.None);
    }
}
