using MLOps.Core.Monitoring;
using MLOps.Core.Training;
using MLOps.Core.Workflows;
using nietras.SeparatedValues;

namespace MLOps.Core.Drift;

/// <summary>
/// The model's output as one more drift feature, named <see cref="Name"/> and flagged
/// <see cref="FeatureProfile.IsPrediction"/>: the probability of the positive class for a binary model, the score
/// for a regression, the predicted label (categorical) for a multiclass model. The reference side is the model's
/// predictions on its holdout (stored with the version's reference profile); the current side is the predictions
/// captured with production traffic, or a prediction column of a CSV offline. Every side is profiled by
/// <see cref="Collector"/>, which samples exactly as <see cref="ProfileBuilder"/> does for an input column at the
/// position after the contract's features, so the offline command and the audit get the same numbers.
/// </summary>
public static class PredictionFeature
{
    /// <summary>The reserved feature name of the model's output in profiles, reports and the history.</summary>
    public const string Name = "prediction";

    /// <summary>True unless the workflow turns prediction drift off.</summary>
    public static bool Enabled(WorkflowDefinition workflow)
    {
        ArgumentNullException.ThrowIfNull(workflow);
        return !string.Equals(workflow.Monitoring.Drift.Prediction?.Trim(), "off", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Numeric (probability, score) except for a multiclass model, whose predicted label is a category.</summary>
    public static FeatureKind KindFor(ModelTask task) => task == ModelTask.Multiclass ? FeatureKind.Categorical : FeatureKind.Numeric;

    /// <summary>What the prediction feature holds for a task, for reports and errors.</summary>
    public static string Describe(ModelTask task) => task switch
    {
        ModelTask.Binary => "probability of the positive class",
        ModelTask.Regression => "predicted score",
        _ => "predicted label",
    };

    /// <summary>Starts a profile of the prediction feature for the workflow's model.</summary>
    public static Collector Create(WorkflowDefinition workflow, int maxValues = 100_000)
    {
        ArgumentNullException.ThrowIfNull(workflow);
        return new Collector(KindFor(workflow.Model.Task), workflow.Model.Task, maxValues,
            ProfileBuilder.ReservoirSeed + ProfileBuilder.FeatureColumns(workflow).Count);
    }

    /// <summary>The profile with the prediction feature appended (or replacing one of the same name); the profile
    /// itself when <paramref name="prediction"/> is null.</summary>
    public static DatasetProfile Append(DatasetProfile profile, FeatureProfile? prediction)
    {
        ArgumentNullException.ThrowIfNull(profile);
        if (prediction is null)
        {
            return profile;
        }

        return profile with { Features = [.. profile.Features.Where(f => f.Name != Name), prediction with { Name = Name, IsPrediction = true }] };
    }

    /// <summary>The prediction feature of a profile, or null (a reference profile stored before prediction drift).</summary>
    public static FeatureProfile? Find(DatasetProfile profile)
    {
        ArgumentNullException.ThrowIfNull(profile);
        return profile.Features.FirstOrDefault(f => f.IsPrediction);
    }

    /// <summary>The reference features a comparison judges: without the prediction feature when the spec turns it off
    /// or the current data has no predictions (then <paramref name="note"/> says so); a note too when the current data
    /// has predictions but the reference has none (a version trained before prediction drift was profiled).</summary>
    public static DatasetProfile JudgedReference(DatasetProfile reference, bool currentHasPrediction, MonitoringSpec monitoring, out string? note)
    {
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(monitoring);
        note = null;
        var hasPrediction = reference.Features.Any(f => f.IsPrediction);
        var off = string.Equals(monitoring.Drift.Prediction?.Trim(), "off", StringComparison.OrdinalIgnoreCase);
        if (!off && !hasPrediction && currentHasPrediction)
        {
            note = "prediction drift not judged: the reference profile has no prediction feature (a version trained before prediction drift was profiled)";
        }
        else if (!off && hasPrediction && !currentHasPrediction)
        {
            note = "prediction drift not judged: the current data has no predictions";
        }

        return hasPrediction && (off || !currentHasPrediction)
            ? reference with { Features = [.. reference.Features.Where(f => !f.IsPrediction)] }
            : reference;
    }

    /// <summary>True when the CSV's header has <paramref name="column"/>. Reads the header only.</summary>
    public static bool CsvHasColumn(Stream csv, string column)
    {
        ArgumentNullException.ThrowIfNull(csv);
        ArgumentException.ThrowIfNullOrEmpty(column);
        using var reader = Sep.Reader(o => o with { Unescape = true }).From(csv);
        return reader.Header.TryIndexOf(column, out _);
    }

    /// <summary>Profiles the prediction feature from column <paramref name="column"/> of a CSV (streamed): the same
    /// values an audit reads from captured predictions. A cell that is not a finite number (numeric kinds) or is
    /// empty counts as a null.</summary>
    /// <exception cref="InvalidDataException">The CSV has no such column.</exception>
    public static FeatureProfile FromCsv(Stream csv, string column, WorkflowDefinition workflow, string? fileName = null, int maxValues = 100_000)
    {
        ArgumentNullException.ThrowIfNull(csv);
        ArgumentException.ThrowIfNullOrEmpty(column);
        var collector = Create(workflow, maxValues);
        using var reader = Sep.Reader(o => o with { Unescape = true }).From(csv);
        if (!reader.Header.TryIndexOf(column, out var index))
        {
            throw new InvalidDataException($"'{fileName ?? "csv"}' has no prediction column '{column}'; its columns: {string.Join(", ", reader.Header.ColNames)}");
        }

        foreach (var row in reader)
        {
            collector.AddText(row[index].Span);
        }

        return collector.ToProfile();
    }

    /// <summary>Accumulates the prediction feature of one sample (a holdout, a range of captures, a CSV column).</summary>
    public sealed class Collector
    {
        private readonly ProfileBuilder.Accumulator _accumulator;
        private readonly ModelTask _task;
        private long _rows;

        internal Collector(FeatureKind kind, ModelTask task, int maxValues, int seed)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(maxValues, 1);
            _task = task;
            var column = new ColumnSpec { Name = Name, Type = kind == FeatureKind.Numeric ? ColumnType.Number : ColumnType.Category, Nullable = true };
            _accumulator = new ProfileBuilder.Accumulator(column, maxValues, seed);
        }

        /// <summary>Rows seen so far (nulls included).</summary>
        public long Rows => _rows;

        /// <summary>The underlying accumulator (for the binary profile writer).</summary>
        internal ProfileBuilder.Accumulator Accumulator => _accumulator;

        /// <summary>Adds one prediction; a missing prediction (or a missing probability of a binary model) is a null.</summary>
        public void Add(Prediction? prediction)
        {
            if (prediction is null)
            {
                AddText([]);
                return;
            }

            if (_task == ModelTask.Multiclass)
            {
                AddText(prediction.PredictedLabel.AsSpan());
                return;
            }

            double? value = _task == ModelTask.Binary ? prediction.Probability : prediction.Score;
            AddNumber(value);
        }

        /// <summary>Adds the predictions of a captured request, one per row: rows without a prediction (a failed
        /// request) count as nulls, as an input column missing from a row does.</summary>
        public void Add(InferenceRecord record)
        {
            ArgumentNullException.ThrowIfNull(record);
            for (var i = 0; i < record.Rows.Count; i++)
            {
                Add(i < record.Predictions.Count ? record.Predictions[i] : null);
            }
        }

        /// <summary>Adds a number exactly as a CSV cell holding its shortest round-trip text would be added (the text
        /// is not made: it would parse back to the same value).</summary>
        public void AddNumber(double? value)
        {
            if (value is not { } v || !double.IsFinite(v))
            {
                AddText([]);
                return;
            }

            _rows++;
            _accumulator.AddNumber(v);
        }

        /// <summary>Adds one cell of text (invariant culture; empty is a null).</summary>
        public void AddText(ReadOnlySpan<char> text)
        {
            _rows++;
            if (text.IsEmpty)
            {
                _accumulator.AddNull();
            }
            else
            {
                _accumulator.Add(text);
            }
        }

        /// <summary>The profile of what was added, named <see cref="Name"/> and flagged as the prediction.</summary>
        public FeatureProfile ToProfile() => _accumulator.ToProfile(_rows) with { IsPrediction = true };
    }
}
