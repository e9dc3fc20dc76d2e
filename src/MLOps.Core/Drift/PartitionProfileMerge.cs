namespace MLOps.Core.Drift;

/// <summary>
/// <see cref="ProfileBuilder.Merge"/> over stored binary profiles (<see cref="ProfileBinary"/>), one feature at a time:
/// <see cref="OpenAsync"/> reads only the parts' headers; <see cref="MergeFeatureAsync"/> reads that feature's section
/// of every part (in parallel) and merges them with the same quotas, seeded shuffle and order as
/// <see cref="ProfileBuilder.Merge"/>. At any time only one feature's values from all parts are in memory.
/// </summary>
public sealed class PartitionProfileMerge
{
    private readonly ProfileRangeSource[] _sources;
    private readonly string[] _names;
    private readonly ProfileIndex[] _indexes;
    private readonly long[] _rows;
    private readonly int _maxValuesPerFeature;

    private PartitionProfileMerge(ProfileRangeSource[] sources, string[] names, ProfileIndex[] indexes, int maxValuesPerFeature)
    {
        _sources = sources;
        _names = names;
        _indexes = indexes;
        _rows = [.. indexes.Select(i => i.Rows)];
        _maxValuesPerFeature = maxValuesPerFeature;
    }

    /// <summary>Reads the headers of the parts (in order); <paramref name="names"/> name them in errors.</summary>
    public static async Task<PartitionProfileMerge> OpenAsync(IReadOnlyList<ProfileRangeSource> parts, IReadOnlyList<string> names,
        int maxValuesPerFeature = 100_000, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(parts);
        ArgumentNullException.ThrowIfNull(names);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxValuesPerFeature, 1);
        if (names.Count != parts.Count) throw new ArgumentException("one name per part", nameof(names));
        var indexes = await Task.WhenAll(parts.Select((p, i) => ProfileBinary.ReadIndexAsync(p, names[i], cancellationToken))).ConfigureAwait(false);
        return new PartitionProfileMerge([.. parts], [.. names], indexes, maxValuesPerFeature);
    }

    /// <summary>Rows of all parts.</summary>
    public long Rows => _rows.Sum();

    /// <summary>The parts' headers, in part order.</summary>
    public IReadOnlyList<ProfileIndex> Parts => _indexes;

    /// <summary>Names of the merged features: the first part's, in its order (empty without parts).</summary>
    public IReadOnlyList<string> FeatureNames => _indexes.Length == 0 ? [] : [.. _indexes[0].Features.Select(f => f.Name)];

    /// <summary>The merged profile of one feature, equal to that feature of <see cref="ProfileBuilder.Merge"/>; null
    /// when the first part has no such feature (the merge would not have it).</summary>
    public async Task<FeatureProfile?> MergeFeatureAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (_indexes.Length == 0) return null;
        int position = _indexes[0].IndexOf(name);
        if (position < 0) return null;
        var same = await Task.WhenAll(_indexes.Select((index, i) => index.IndexOf(name) is var at and >= 0
            ? ProfileBinary.ReadFeatureAsync(_sources[i], index.Features[at], _names[i], cancellationToken)
            : Task.FromResult<FeatureProfile>(null!))).ConfigureAwait(false);
        // The arrays were read for this merge alone: shuffle them in place.
        return ProfileBuilder.MergeFeature(position, same, _rows, _maxValuesPerFeature, copy: false);
    }

    /// <summary>Every merged feature, in the first part's order: <see cref="ProfileBuilder.Merge"/> as a whole
    /// (holds every feature; for tests and small profiles).</summary>
    public async Task<DatasetProfile> MergeAllAsync(CancellationToken cancellationToken = default)
    {
        var features = new List<FeatureProfile>();
        foreach (var name in FeatureNames)
        {
            features.Add((await MergeFeatureAsync(name, cancellationToken).ConfigureAwait(false))!);
        }
        return new DatasetProfile { Features = features, Rows = Rows };
    }
}
