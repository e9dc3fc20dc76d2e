using MLOps.Core.Drift;
using MLOps.Core.Ports;

namespace MLOps.Lifecycle.Services;

/// <summary>
/// A version's reference profile in the artifacts: the JSON that people and the <c>mlops</c> commands read, and beside
/// it the same profile in the binary format of <see cref="ProfileBinary"/> (<see cref="BinaryLocation"/>), which a
/// drift audit's analysis reads one feature at a time by ranged reads instead of parsing the whole JSON. Versions
/// registered before the binary form was written have the JSON only; <see cref="OpenAsync"/> falls back to it.
/// </summary>
public static class ReferenceProfiles
{
    /// <summary>Extension of the binary form (as the partition profiles of an audit).</summary>
    public const string BinaryExtension = ".profile";

    /// <summary>Where the binary form of the reference profile at <paramref name="json"/> (a path or a URI) lies: the same
    /// name with <see cref="BinaryExtension"/> for <c>.json</c> (appended when the name has no <c>.json</c>).</summary>
    public static string BinaryLocation(string json)
    {
        ArgumentException.ThrowIfNullOrEmpty(json);
        return (json.EndsWith(".json", StringComparison.OrdinalIgnoreCase) ? json[..^".json".Length] : json) + BinaryExtension;
    }

    /// <summary>Stores <paramref name="profile"/> as a version's reference at <paramref name="path"/> (JSON) and its
    /// binary form beside it (<see cref="BinaryLocation"/>; written first, staged in a temporary file, so that a stored
    /// JSON always has its binary form from the same write). Returns the JSON's reference, the version's
    /// <c>ReferenceProfileUri</c>. Idempotent: a retry overwrites both with the same profile.</summary>
    public static async Task<ArtifactRef> SaveReferenceProfileAsync(this IArtifactStore artifacts, string path, DatasetProfile profile, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(artifacts);
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(profile);
        await using (var staged = new FileStream(Path.Combine(Path.GetTempPath(), $"mlops-reference-{Guid.NewGuid():N}.tmp"), FileMode.CreateNew,
            FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.DeleteOnClose | FileOptions.Asynchronous))
        {
            ProfileBinary.Write(staged, profile);
            staged.Position = 0;
            await artifacts.SaveAsync(BinaryLocation(path), staged, cancellationToken);
        }

        return await artifacts.SaveJsonAsync(path, profile, cancellationToken);
    }

    /// <summary>Opens the reference profile stored at <paramref name="jsonUri"/> for reading feature by feature: its
    /// binary form when stored beside it (the header now, each feature by its own ranged read later), else the JSON,
    /// read whole (<see cref="StoredProfile.IsStreamed"/> is then false); null when neither is stored.</summary>
    /// <exception cref="InvalidDataException">The binary form is damaged (named in the message).</exception>
    public static async Task<StoredProfile?> OpenAsync(IArtifactStore artifacts, string jsonUri, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(artifacts);
        ArgumentException.ThrowIfNullOrEmpty(jsonUri);
        var binaryUri = BinaryLocation(jsonUri);
        if (await artifacts.ExistsAsync(binaryUri, cancellationToken))
        {
            return await StoredProfile.OpenAsync((offset, length, ct) => artifacts.OpenReadRangeAsync(binaryUri, offset, length, ct), binaryUri, cancellationToken);
        }

        var json = await artifacts.ReadJsonAsync<DatasetProfile>(jsonUri, cancellationToken);
        return json is null ? null : StoredProfile.InMemory(json);
    }
}
