using Microsoft.DurableTask;
using MLOps.Lifecycle;

namespace MLOps.Integration.Tests.Durable;

/// <summary>A plain DI class shaped like a lifecycle activity: <c>Task&lt;TOut&gt; RunAsync(TIn, CancellationToken)</c>.</summary>
public sealed class Greeter(GreetingFormat format)
{
    public Task<string> RunAsync(string name, CancellationToken ct) => Task.FromResult(string.Format(System.Globalization.CultureInfo.InvariantCulture, format.Template, name));
}

public sealed record GreetingFormat(string Template);

public sealed record TimerProbeResult(DateTime StartedAt, DateTime FireAt, DateTime ResumedAt, DateTime ActivityWallClock);

/// <summary>Orchestrations and activities the durable engine tests run.</summary>
public static class TestOrchestrations
{
    public const string Greet = "GreetOrchestrator";
    public const string GreetActivity = "GreetActivity";
    public const string Approval = "ApprovalOrchestrator";
    public const string ApprovalEvent = "Approval";
    public const string Timer = "TimerOrchestrator";
    public const string UtcNowActivity = "UtcNowActivity";

    public static void Register(DurableTaskRegistry registry)
    {
        registry.AddService<Greeter, string, string>(GreetActivity, (greeter, name, ct) => greeter.RunAsync(name, ct));
        registry.AddOrchestratorFunc<string, string>(Greet, (context, name) => context.CallActivityAsync<string>(GreetActivity, name));

        registry.AddOrchestratorFunc<string, string>(Approval, async (context, input) =>
        {
            try
            {
                var decision = await context.WaitForExternalEvent<string>(ApprovalEvent, TimeSpan.FromSeconds(10));
                return $"{input}:{decision}";
            }
            catch (TaskCanceledException)
            {
                return $"{input}:timed-out";
            }
        });

        registry.AddActivityFunc<DateTime>(UtcNowActivity, _ => DateTime.UtcNow);
        registry.AddOrchestratorFunc<int, TimerProbeResult>(Timer, async (context, seconds) =>
        {
            var startedAt = context.CurrentUtcDateTime;
            var fireAt = startedAt.AddSeconds(seconds);
            await context.CreateTimer(fireAt, CancellationToken.None);
            var resumedAt = context.CurrentUtcDateTime;
            var wallClock = await context.CallActivityAsync<DateTime>(UtcNowActivity);
            return new TimerProbeResult(startedAt, fireAt, resumedAt, wallClock);
        });
    }
}
