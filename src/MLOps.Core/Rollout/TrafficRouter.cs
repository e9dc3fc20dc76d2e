using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace MLOps.Core.Rollout;

/// <summary>Sticky request routing: a request's key is hashed (SHA-256, so every process and every host agrees)
/// into a bucket; the same key always lands in the same bucket and so on the same arm.</summary>
public static class TrafficRouter
{
    /// <summary>Bucket of <paramref name="key"/> in 0..<paramref name="buckets"/>-1.</summary>
    public static int Bucket(string key, int buckets = 100)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentOutOfRangeException.ThrowIfLessThan(buckets, 1);
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(key), hash);
        return (int)(BinaryPrimitives.ReadUInt64BigEndian(hash) % (ulong)buckets);
    }

    /// <summary>The arm that answers a request with this key: the candidate when its bucket is below the canary's
    /// percentage, else the stable version. Shadow splits always answer with the stable version.</summary>
    public static string Route(TrafficSplit split, string key)
    {
        ArgumentNullException.ThrowIfNull(split);
        return split.Mode == TrafficMode.Canary && Bucket(key) < split.Percent ? Arms.Candidate : Arms.Stable;
    }

    /// <summary>Whether a shadow split mirrors this request to the candidate (a bucket of its own, independent of
    /// the canary bucket, at 0.01 % resolution).</summary>
    public static bool Mirrors(TrafficSplit split, string key)
    {
        ArgumentNullException.ThrowIfNull(split);
        return split.Mode == TrafficMode.Shadow && Bucket("shadow|" + key, 10_000) < split.Sampling * 10_000;
    }

    /// <summary>The routing key of a request: the caller's key, else the first row's id column, else the request id.</summary>
    public static string Key(string? routingKey, IReadOnlyList<IReadOnlyDictionary<string, string?>> rows, string? idColumn, string requestId)
    {
        ArgumentNullException.ThrowIfNull(rows);
        if (!string.IsNullOrWhiteSpace(routingKey))
        {
            return routingKey;
        }

        if (idColumn is not null && rows.Count > 0 && rows[0].TryGetValue(idColumn, out var id) && !string.IsNullOrWhiteSpace(id))
        {
            return id;
        }

        return requestId;
    }
}
