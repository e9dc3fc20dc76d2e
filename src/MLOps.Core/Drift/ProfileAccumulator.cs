using MLOps.Core.Workflows;

namespace MLOps.Core.Drift;

/// <summary>
/// Profiles rows as they come (column name → invariant-culture text), without keeping them: each row goes straight
/// into the per-feature accumulators of <see cref="ProfileBuilder"/> (counts, nulls, the seeded reservoir sample), so
/// memory is bounded by the sample size, not by the rows. <see cref="ToProfile"/> equals
/// <see cref="ProfileBuilder.FromRows"/> over the same rows; <see cref="WriteBinary"/> writes the same profile in the
/// compact format of <see cref="ProfileBinary"/> without copying the samples.
/// </summary>
public sealed class ProfileAccumulator
{
    private readonly ProfileBuilder.Accumulator[] _accumulators;

    /// <summary>An empty profile of the workflow contract's feature columns.</summary>
    public ProfileAccumulator(WorkflowDefinition workflow, int maxValuesPerFeature = 100_000)
    {
        ArgumentNullException.ThrowIfNull(workflow);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxValuesPerFeature, 1);
        _accumulators = ProfileBuilder.CreateAccumulators(workflow, maxValuesPerFeature);
    }

    /// <summary>Rows added so far.</summary>
    public long Rows { get; private set; }

    /// <summary>Adds one row; a missing or null column counts as a null of that feature.</summary>
    public void Add(IReadOnlyDictionary<string, string?> row)
    {
        ArgumentNullException.ThrowIfNull(row);
        Rows++;
        foreach (var acc in _accumulators)
        {
            if (row.TryGetValue(acc.Name, out var text) && text is not null) acc.Add(text.AsSpan());
            else acc.AddNull();
        }
    }

    /// <summary>The profile of the rows so far (copies the samples).</summary>
    public DatasetProfile ToProfile() => ProfileBuilder.Build(_accumulators, Rows);

    /// <summary>Writes the profile of the rows so far to <paramref name="destination"/> in the binary format; the
    /// model's output (<paramref name="predictions"/>, when given) is written last, as the feature
    /// <see cref="PredictionFeature.Name"/>, flagged as the prediction feature.</summary>
    public void WriteBinary(Stream destination, PredictionFeature.Collector? predictions = null)
    {
        ArgumentNullException.ThrowIfNull(destination);
        var features = new ProfileBinary.FeatureData[_accumulators.Length + (predictions is null ? 0 : 1)];
        for (int i = 0; i < _accumulators.Length; i++)
        {
            var a = _accumulators[i];
            features[i] = new ProfileBinary.FeatureData(a.Name, a.IsNumeric ? FeatureKind.Numeric : FeatureKind.Categorical, Rows, a.Nulls,
                a.IsNumeric ? a.ValueList : null, a.IsNumeric ? null : a.Counts, a.Min, a.Max);
        }
        if (predictions is not null)
        {
            var p = predictions.Accumulator;
            features[^1] = new ProfileBinary.FeatureData(PredictionFeature.Name, p.IsNumeric ? FeatureKind.Numeric : FeatureKind.Categorical, predictions.Rows, p.Nulls,
                p.IsNumeric ? p.ValueList : null, p.IsNumeric ? null : p.Counts, p.Min, p.Max, IsPrediction: true);
        }

        ProfileBinary.Write(destination, Rows, features);
    }
}
