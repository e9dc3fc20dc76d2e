using Microsoft.DurableTask.Abstractions;

namespace MLOps.Lifecycle.Orchestrations;

/// <summary>Versions of <see cref="LifecycleOrchestrator"/>. Every run is started with the deployment's version
/// (client default version: <c>host.json</c> <c>durableTask.defaultVersion</c> in Azure, the local engine's option
/// locally) and reads it back as <c>TaskOrchestrationContext.Version</c> on every replay. A code path added after
/// <see cref="V1"/> runs only for runs started under a version that has it, so a run that was waiting when a newer
/// build was deployed replays exactly the steps it took before. In Azure, workers accept their own version and older
/// ones (<c>CurrentOrOlder</c>) and leave newer runs alone (<c>Reject</c>), so an old worker never replays a new run;
/// the local engine does that only when asked (<c>RejectNewerVersions</c>; see there why).</summary>
/// <remarks>Policy: bump <see cref="Current"/> whenever the orchestrator schedules different tasks (added, removed or
/// reordered activities, timers, events) for the same history; gate the new path with <see cref="Supports"/>; never
/// remove an old path while runs of its version can still be waiting (approval timeout + rollout bake). Changes
/// inside activities need no new version.</remarks>
public static class LifecycleVersions
{
    /// <summary>Train one model, gates, approval and rollout inline in the run (runs started with no version behave as
    /// this one).</summary>
    public const string V1 = "1.0";

    /// <summary>Adds the parameter grid (a fan-out of candidates picked on a validation split), the budget ledger
    /// (admission before training, charges after), and runs approval and rollout as sub-orchestrations
    /// (<see cref="ApprovalOrchestrator"/>, <see cref="RolloutOrchestrator"/>) where v1 ran them inline.</summary>
    public const string V2 = "2.0";

    /// <summary>The version new runs are started under.</summary>
    public const string Current = V2;

    /// <summary>Whether a run started under <paramref name="runVersion"/> takes the path introduced in
    /// <paramref name="introducedIn"/>; an empty version (a run from before versioning) is older than every version.</summary>
    public static bool Supports(string? runVersion, string introducedIn) =>
        TaskOrchestrationVersioningUtils.CompareVersions(runVersion ?? "", introducedIn) >= 0;
}
