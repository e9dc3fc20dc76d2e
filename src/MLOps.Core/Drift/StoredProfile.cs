namespace MLOps.Core.Drift;

/// <summary>
/// A profile read one feature at a time: a binary profile (<see cref="ProfileBinary"/>) behind a
/// <see cref="ProfileRangeSource"/> is opened by its header only (<see cref="Outline"/>) and each feature is read by
/// its own range when asked for; a profile already in memory (a JSON reference stored before the binary form was
/// written beside it) is served as it is. Both give the same features, bit for bit, for the same profile.
/// </summary>
public sealed class StoredProfile
{
    private readonly ProfileRangeSource? _source;
    private readonly string _name;
    private readonly Dictionary<FeatureProfile, ProfileSection>? _sections;

    private StoredProfile(DatasetProfile outline, ProfileRangeSource? source, string name, Dictionary<FeatureProfile, ProfileSection>? sections)
    {
        Outline = outline;
        _source = source;
        _name = name;
        _sections = sections;
    }

    /// <summary>Rows and features of the profile, in profile order. Read from a binary profile, the features carry
    /// name, kind, rows, nulls, bounds and the prediction flag but no values or counts (<see cref="ReadFeatureAsync"/>
    /// reads those); held in memory, they are the features themselves.</summary>
    public DatasetProfile Outline { get; }

    /// <summary>Rows of the profile.</summary>
    public long Rows => Outline.Rows;

    /// <summary>True when the features are read by ranges (a binary profile), false when the profile is in memory.</summary>
    public bool IsStreamed => _source is not null;

    /// <summary>Opens the binary profile behind <paramref name="source"/>: reads its header only (two range reads);
    /// <paramref name="name"/> names it in errors.</summary>
    public static async Task<StoredProfile> OpenAsync(ProfileRangeSource source, string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(name);
        var index = await ProfileBinary.ReadIndexAsync(source, name, cancellationToken).ConfigureAwait(false);
        var sections = new Dictionary<FeatureProfile, ProfileSection>(index.Features.Count, ReferenceEqualityComparer.Instance);
        var features = new List<FeatureProfile>(index.Features.Count);
        foreach (var section in index.Features)
        {
            var outline = new FeatureProfile
            {
                Name = section.Name, Kind = section.Kind, Rows = section.Rows, Nulls = section.Nulls,
                Min = section.Min, Max = section.Max, IsPrediction = section.IsPrediction,
            };
            sections.Add(outline, section);
            features.Add(outline);
        }

        return new StoredProfile(new DatasetProfile { Rows = index.Rows, Features = features }, source, name, sections);
    }

    /// <summary>A profile held in memory, served feature by feature as it is.</summary>
    public static StoredProfile InMemory(DatasetProfile profile)
    {
        ArgumentNullException.ThrowIfNull(profile);
        return new StoredProfile(profile, null, "", null);
    }

    /// <summary>The whole feature of which <paramref name="outline"/> is one of <see cref="Outline"/>'s features (also
    /// after <see cref="PredictionFeature.JudgedReference"/> filtered them): one range read of a binary profile, and
    /// a new array each time (the caller may keep or drop it).</summary>
    public Task<FeatureProfile> ReadFeatureAsync(FeatureProfile outline, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(outline);
        if (_source is null || _sections is null)
        {
            return Outline.Features.Contains(outline, ReferenceEqualityComparer.Instance)
                ? Task.FromResult(outline)
                : throw new ArgumentException($"feature '{outline.Name}' is not a feature of this profile", nameof(outline));
        }

        return _sections.TryGetValue(outline, out var section)
            ? ProfileBinary.ReadFeatureAsync(_source, section, _name, cancellationToken)
            : throw new ArgumentException($"feature '{outline.Name}' is not a feature of {_name}", nameof(outline));
    }
}
