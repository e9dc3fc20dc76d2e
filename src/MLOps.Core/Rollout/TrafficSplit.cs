namespace MLOps.Core.Rollout;

// Records kept in the registry (Table storage) and passed through durable history: add members, never rename.

public enum TrafficMode { Canary, Shadow }

/// <summary>Which arm answered (or mirrored) a request.</summary>
public static class Arms
{
    /// <summary>The version <c>production</c> points at.</summary>
    public const string Stable = "stable";
    /// <summary>The candidate, answering its canary share.</summary>
    public const string Candidate = "candidate";
    /// <summary>The candidate scoring a mirrored request whose answer came from the stable arm.</summary>
    public const string Shadow = "shadow";
}

/// <summary>A model's live traffic split during a rollout (row <c>traffic</c> of the registry). Without one,
/// every request is answered by <c>production</c>.</summary>
public sealed record TrafficSplit
{
    public required string Model { get; init; }
    /// <summary>The version <c>production</c> pointed at when the split was set; a split whose stable version is no
    /// longer production is stale and ignored.</summary>
    public required int StableVersion { get; init; }
    public required int CandidateVersion { get; init; }
    public required TrafficMode Mode { get; init; }
    /// <summary>Canary: the candidate's share of requests, 0–100.</summary>
    public int Percent { get; init; }
    /// <summary>Shadow: the share of requests (0–1) the candidate also scores.</summary>
    public double Sampling { get; init; }
    /// <summary>The run whose rollout owns the split.</summary>
    public required string RunId { get; init; }
    /// <summary>1-based step of the rollout.</summary>
    public int Step { get; init; }
    public DateTimeOffset ChangedAt { get; init; }
    public string ChangedBy { get; init; } = "system";
    public string? ETag { get; init; }
}
