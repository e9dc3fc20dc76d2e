using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using MLOps.Core.Monitoring;
using MLOps.Lifecycle.Contracts;
using MLOps.Lifecycle.Logging;
using MLOps.Lifecycle.Orchestrations;

namespace MLOps.Lifecycle.Services;

/// <summary>
/// Starting and following audits. A start claims the model's window in Table storage first (insert-only, so of any
/// number of starters racing on a window exactly one schedules); the others answer with the claimed instance. A window
/// whose attempt failed, stopped on bad data (<see cref="DriftAuditResult.Problem"/>) or was terminated, or was claimed and never scheduled for longer than
/// <see cref="DriftAuditOptions.ClaimGrace"/>, is taken over by replacing the claim under its ETag and scheduling the
/// next attempt as <c>{id}-r{n}</c>: new ids on every backend (an existing id is refused, overwritten or split-brained
/// depending on the backend), the failed attempt's history kept, and the audit id (what results are stored under) the
/// same for every attempt.
/// </summary>
public sealed partial class DriftAuditService
{
    /// <summary>How often a wait reads the state of the audit it waits for.</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>Claim reads and replaces one start tries before giving up (each lost round means another starter moved
    /// the claim meanwhile).</summary>
    private const int MaxClaimRounds = 8;

    /// <summary>The instance id of attempt <paramref name="attempt"/> at the window: <see cref="InstanceIdFor(string, DateTimeOffset)"/> for the
    /// first, <c>-r{n}</c> after it for the re-runs.</summary>
    public static string InstanceIdFor(string model, DateTimeOffset windowEnd, int attempt) =>
        attempt == 0 ? InstanceIdFor(model, windowEnd) : $"{InstanceIdFor(model, windowEnd)}-r{attempt.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>The id the audit of the window is stored under, the same for every attempt: 32 hex digits of the
    /// SHA-256 of the window's first instance id.</summary>
    public static string AuditIdFor(string model, DateTimeOffset windowEnd) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(InstanceIdFor(model, windowEnd))))[..32];

    /// <summary>Starts the audit of the window unless it is claimed by an attempt that is pending, running, completed or
    /// (within the grace period) about to be scheduled; re-runs a failed or terminated attempt. Returns the instance id of
    /// the window's current attempt. Atomic across starters (timer, scheduler, requests) through the claim.</summary>
    public async Task<string> StartAsync(DurableTaskClient client, string model, DateTimeOffset windowEnd, string trigger, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentException.ThrowIfNullOrEmpty(model);
        windowEnd = windowEnd.ToUniversalTime();
        for (var round = 0; round < MaxClaimRounds; round++)
        {
            var now = time.GetUtcNow();
            var first = new DriftAuditClaim
            {
                Model = model,
                WindowEnd = windowEnd,
                InstanceId = InstanceIdFor(model, windowEnd),
                ClaimedAt = now,
                Trigger = trigger,
            };
            if (await monitoring.TryAddAuditClaimAsync(first, cancellationToken))
            {
                // An instance started before windows were claimed keeps its window.
                if (await client.GetInstanceAsync(first.InstanceId, getInputsAndOutputs: false, cancellationToken) is null)
                {
                    await ScheduleAsync(client, first, cancellationToken);
                }

                return first.InstanceId;
            }

            var claim = await monitoring.GetAuditClaimAsync(model, windowEnd, cancellationToken);
            if (claim is null)
            {
                continue;
            }

            // With outputs: an attempt that stopped on bad data completed with the problem in its (small) result.
            var state = await client.GetInstanceAsync(claim.InstanceId, getInputsAndOutputs: true, cancellationToken);
            var reason = state switch
            {
                null when now - claim.ClaimedAt >= _options.ClaimGrace => $"was claimed at {claim.ClaimedAt:O} and never scheduled",
                { RuntimeStatus: OrchestrationRuntimeStatus.Failed } => "failed",
                { RuntimeStatus: OrchestrationRuntimeStatus.Terminated } => "was terminated",
                { RuntimeStatus: OrchestrationRuntimeStatus.Completed } when ProblemOf(state) is { } problem => $"stopped on {problem.Kind}: {problem.Message}",
                _ => null,
            };
            if (reason is null)
            {
                return claim.InstanceId;
            }

            if (state is not null && claim.Attempt + 1 >= _options.MaxAttempts)
            {
                // Failed (or terminated) as often as allowed: the window keeps its last attempt.
                Log.DriftAuditAttemptsExhausted(logger, model, claim.InstanceId, claim.Attempt + 1, reason);
                return claim.InstanceId;
            }

            var next = claim with
            {
                Attempt = claim.Attempt + 1,
                InstanceId = InstanceIdFor(model, windowEnd, claim.Attempt + 1),
                ClaimedAt = now,
                Trigger = trigger,
            };
            if (await monitoring.TryReplaceAuditClaimAsync(next, cancellationToken))
            {
                Log.DriftAuditTakenOver(logger, model, next.InstanceId, claim.Attempt, claim.InstanceId, reason);
                await ScheduleAsync(client, next, cancellationToken);
                return next.InstanceId;
            }

            // Another starter moved the claim first: read it again.
        }

        throw new InvalidOperationException($"could not claim the drift audit window {windowEnd:O} of '{model}' in {MaxClaimRounds} rounds: other starters kept changing it");
    }

    private async Task ScheduleAsync(DurableTaskClient client, DriftAuditClaim claim, CancellationToken cancellationToken)
    {
        await client.ScheduleNewOrchestrationInstanceAsync(nameof(DriftAuditOrchestrator), new DriftAuditInput
        {
            Model = claim.Model,
            WindowEnd = claim.WindowEnd,
            Trigger = claim.Trigger,
            CapturesPerPartition = _options.CapturesPerPartition,
            MaxPartitions = _options.MaxPartitions,
            AuditId = AuditIdFor(claim.Model, claim.WindowEnd),
        }, new StartOrchestrationOptions(claim.InstanceId), cancellationToken);
        Log.DriftAuditScheduled(logger, claim.InstanceId, claim.Model, claim.Trigger, claim.Attempt);
    }

    /// <summary>Audits one model now (window ending now) through the orchestration and waits for it up to
    /// <see cref="DriftAuditOptions.RequestTimeout"/>; returns the stored audit, or null when no version serves the
    /// model. A failed audit throws with its failure, a longer one throws <see cref="TimeoutException"/> (it goes on).</summary>
    public async Task<DriftAuditRecord?> AuditAsync(string model, DurableTaskClient client, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        var instanceId = await StartAsync(client, model, time.GetUtcNow(), "request", cancellationToken);
        var result = await WaitAsync(client, instanceId, _options.RequestTimeout, cancellationToken);
        if (result.AuditId is null)
        {
            return null;
        }

        return await FindAuditAsync(model, result.AuditId, cancellationToken)
            ?? throw new InvalidOperationException($"drift audit {result.AuditId} of '{model}' completed but is not in the monitoring store");
    }

    /// <summary>What the HTTP route does: starts an audit of the window ending now and waits for it at most
    /// <paramref name="wait"/> (<see cref="DriftAuditOptions.RequestWait"/> when null; capped at
    /// <see cref="DriftAuditOptions.RequestTimeout"/>); returns its status, still <c>pending</c>/<c>running</c> when
    /// it did not end in time (the caller then polls <see cref="GetStatusAsync"/>).</summary>
    public async Task<DriftAuditStatus> RequestAuditAsync(string model, DurableTaskClient client, TimeSpan? wait = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentException.ThrowIfNullOrEmpty(model);
        var limit = wait ?? _options.RequestWait;
        limit = limit < TimeSpan.Zero ? TimeSpan.Zero : limit > _options.RequestTimeout ? _options.RequestTimeout : limit;
        var instanceId = await StartAsync(client, model, time.GetUtcNow(), "request", cancellationToken);
        var (state, _) = await PollAsync(client, instanceId, limit, cancellationToken);
        return await DescribeAsync(model, instanceId, state, cancellationToken)
            ?? throw new InvalidOperationException($"instance {instanceId} is not a drift audit of '{model}'");
    }

    /// <summary>The status of one audit instance of the model; null when there is no such instance, or it is not a
    /// drift audit of that model.</summary>
    public async Task<DriftAuditStatus?> GetStatusAsync(DurableTaskClient client, string model, string instanceId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentException.ThrowIfNullOrEmpty(model);
        ArgumentException.ThrowIfNullOrEmpty(instanceId);
        var state = await client.GetInstanceAsync(instanceId, getInputsAndOutputs: true, cancellationToken);
        return state is null ? null : await DescribeAsync(model, instanceId, state, cancellationToken);
    }

    /// <summary>Waits for an audit orchestration and returns its result. An audit that stopped on bad data throws
    /// <see cref="InvalidDataException"/> naming the problem; a failed or terminated one throws
    /// <see cref="InvalidOperationException"/> with its failure.</summary>
    public static async Task<DriftAuditResult> WaitAsync(DurableTaskClient client, string instanceId, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        var (state, done) = await PollAsync(client, instanceId, timeout, cancellationToken);
        if (!done || state is null)
        {
            throw new TimeoutException($"drift audit {instanceId} did not finish within {timeout} (last status: {state?.RuntimeStatus.ToString() ?? "not found"})");
        }

        if (state.RuntimeStatus != OrchestrationRuntimeStatus.Completed)
        {
            throw new InvalidOperationException($"drift audit {instanceId} {state.RuntimeStatus}: {ErrorOf(state)}");
        }

        var result = state.ReadOutputAs<DriftAuditResult>() ?? throw new InvalidOperationException($"drift audit {instanceId} completed without a result");
        return result.Problem is { } problem
            ? throw new InvalidDataException($"drift audit {instanceId} stopped on {problem.Kind} in {problem.Step}: {problem.Message}")
            : result;
    }

    /// <summary>The bad data a completed attempt stopped on, or null.</summary>
    private static DataProblem? ProblemOf(OrchestrationMetadata state) =>
        state.SerializedOutput is null ? null : state.ReadOutputAs<DriftAuditResult>()?.Problem;

    /// <summary>Reads the instance (with inputs and outputs) every <see cref="PollInterval"/> until it has ended or
    /// <paramref name="timeout"/> has passed; returns the last state read and whether it had ended. The deadline is
    /// checked between reads, never by cancelling one (the gRPC client reports a cancelled read as an RpcException).</summary>
    private static async Task<(OrchestrationMetadata? State, bool Done)> PollAsync(DurableTaskClient client, string instanceId, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var state = await client.GetInstanceAsync(instanceId, getInputsAndOutputs: true, cancellationToken);
            if (state is not null && state.IsCompleted)
            {
                return (state, true);
            }

            var left = timeout - clock.Elapsed;
            if (left <= TimeSpan.Zero)
            {
                return (state, false);
            }

            await Task.Delay(left < PollInterval ? left : PollInterval, cancellationToken);
        }
    }

    private static string ErrorOf(OrchestrationMetadata state) => InstanceFailure.MessageOf(state);

    private async Task<DriftAuditStatus?> DescribeAsync(string model, string instanceId, OrchestrationMetadata? state, CancellationToken cancellationToken)
    {
        if (state is null)
        {
            // Claimed, not yet scheduled (another starter is about to).
            return new DriftAuditStatus { InstanceId = instanceId, Model = model, Status = DriftAuditStatus.Pending, RuntimeStatus = "NotFound" };
        }

        if (!string.Equals(state.Name, nameof(DriftAuditOrchestrator), StringComparison.Ordinal)
            || (state.SerializedInput is not null && state.ReadInputAs<DriftAuditInput>() is { } input && !string.Equals(input.Model, model, StringComparison.Ordinal)))
        {
            return null;
        }

        var status = new DriftAuditStatus
        {
            InstanceId = instanceId,
            Model = model,
            Status = DriftAuditStatus.Running,
            RuntimeStatus = state.RuntimeStatus.ToString(),
            WindowEnd = state.SerializedInput is null ? null : state.ReadInputAs<DriftAuditInput>()?.WindowEnd,
            Progress = state.SerializedCustomStatus is null ? null : state.ReadCustomStatusAs<string>(),
            CreatedAt = state.CreatedAt,
            LastUpdatedAt = state.LastUpdatedAt,
        };
        switch (state.RuntimeStatus)
        {
            case OrchestrationRuntimeStatus.Pending:
                return status with { Status = DriftAuditStatus.Pending };
            case OrchestrationRuntimeStatus.Failed:
                return status with { Status = DriftAuditStatus.Failed, Error = ErrorOf(state), ErrorType = state.FailureDetails?.ErrorType };
            case OrchestrationRuntimeStatus.Terminated:
                return status with { Status = DriftAuditStatus.Terminated, Error = ErrorOf(state) };
            case OrchestrationRuntimeStatus.Completed:
                var result = state.ReadOutputAs<DriftAuditResult>();
                if (result?.Problem is { } problem)
                {
                    return status with
                    {
                        Status = DriftAuditStatus.Failed,
                        Result = result,
                        Error = $"{problem.Kind} in {problem.Step}: {problem.Message}",
                        ErrorType = typeof(InvalidDataException).FullName,
                        Problem = problem,
                    };
                }

                if (result?.AuditId is null)
                {
                    return status with { Status = DriftAuditStatus.Skipped, Result = result, Error = result?.Skipped ?? "completed without a result" };
                }

                var audit = await FindAuditAsync(model, result.AuditId, cancellationToken);
                return audit is null
                    ? status with { Status = DriftAuditStatus.Failed, Result = result, Error = $"drift audit {result.AuditId} of '{model}' completed but is not in the monitoring store" }
                    : status with { Status = DriftAuditStatus.Completed, Result = result, Audit = audit };
            default:
                return status;
        }
    }
}
