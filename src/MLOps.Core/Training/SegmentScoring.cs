using Microsoft.ML;
using Microsoft.ML.Data;
using MLOps.Core.Gates;
using MLOps.Core.Workflows;

namespace MLOps.Core.Training;

/// <summary>Metrics per segment (<c>data.segments</c>) of a scored holdout: the scored rows are read once, each row is
/// assigned to every segment whose expression it satisfies, and each segment's rows are evaluated with the same ML.NET
/// evaluator as the whole holdout, so segment and overall metrics mean the same thing.</summary>
internal static class SegmentScoring
{
    internal static Dictionary<string, SegmentMetrics> Evaluate(MLContext mlContext, TabularSchema schema, IDataView scored)
    {
        var segments = schema.Workflow.Data.Segments;
        var result = new Dictionary<string, SegmentMetrics>(StringComparer.Ordinal);
        if (segments.Count == 0)
        {
            return result;
        }

        var binary = schema.Task == ModelTask.Binary;
        var columnNames = segments.SelectMany(s => s.Conditions).Select(c => c.Column).Distinct(StringComparer.Ordinal).ToList();
        var label = scored.Schema[schema.Label];
        var score = scored.Schema["Score"];
        var needed = new List<DataViewSchema.Column> { label, score };
        if (binary)
        {
            needed.Add(scored.Schema["Probability"]);
            needed.Add(scored.Schema["PredictedLabel"]);
        }

        foreach (var name in columnNames)
        {
            var column = scored.Schema.GetColumnOrNull(name)
                ?? throw new InvalidOperationException($"segment column '{name}' is not in the holdout");
            if (!needed.Contains(column))
            {
                needed.Add(column);
            }
        }

        var binaryRows = segments.ToDictionary(s => s.Name, _ => new List<BinaryRow>(), StringComparer.Ordinal);
        var regressionRows = segments.ToDictionary(s => s.Name, _ => new List<RegressionRow>(), StringComparer.Ordinal);
        using (var cursor = scored.GetRowCursor(needed))
        {
            var readers = columnNames.ToDictionary(n => n, n => Reader(cursor, scored.Schema[n]), StringComparer.Ordinal);
            var numbers = new Dictionary<string, double>(StringComparer.Ordinal);
            var texts = new Dictionary<string, string?>(StringComparer.Ordinal);
            var scoreGetter = cursor.GetGetter<float>(score);
            var probabilityGetter = binary ? cursor.GetGetter<float>(scored.Schema["Probability"]) : null;
            var predictedGetter = binary ? cursor.GetGetter<bool>(scored.Schema["PredictedLabel"]) : null;
            var boolLabel = binary ? cursor.GetGetter<bool>(label) : null;
            var floatLabel = binary ? null : cursor.GetGetter<float>(label);
            float s = 0, p = 0, y = 0;
            bool predicted = false, truth = false;
            while (cursor.MoveNext())
            {
                foreach (var (name, read) in readers)
                {
                    var (number, text) = read();
                    numbers[name] = number;
                    texts[name] = text;
                }

                scoreGetter(ref s);
                if (binary)
                {
                    probabilityGetter!(ref p);
                    predictedGetter!(ref predicted);
                    boolLabel!(ref truth);
                }
                else
                {
                    floatLabel!(ref y);
                }

                foreach (var segment in segments)
                {
                    if (!SegmentExpression.Matches(segment.Conditions, n => numbers[n], n => texts[n]))
                    {
                        continue;
                    }

                    if (binary)
                    {
                        binaryRows[segment.Name].Add(new BinaryRow { Label = truth, Score = s, Probability = p, PredictedLabel = predicted });
                    }
                    else
                    {
                        regressionRows[segment.Name].Add(new RegressionRow { Label = y, Score = s });
                    }
                }
            }
        }

        foreach (var segment in segments)
        {
            var rows = binary ? binaryRows[segment.Name].Count : regressionRows[segment.Name].Count;
            IReadOnlyDictionary<string, double> metrics = new Dictionary<string, double>();
            if (rows > 0)
            {
                try
                {
                    var view = binary
                        ? mlContext.Data.LoadFromEnumerable(binaryRows[segment.Name])
                        : mlContext.Data.LoadFromEnumerable(regressionRows[segment.Name]);
                    metrics = TrainingRunner.Evaluate(mlContext, schema, view, labelColumn: "Label");
                }
                catch (ArgumentOutOfRangeException)
                {
                    // A segment with one class only has no AUC; its metrics are left out and its gates say so.
                }
            }

            result[segment.Name] = new SegmentMetrics { Rows = rows, Metrics = metrics };
        }

        return result;
    }

    /// <summary>Reads one segment column of the current row as (number, text): numbers as <see cref="float"/> (NaN when
    /// missing), text and booleans as text.</summary>
    private static Func<(double Number, string? Text)> Reader(DataViewRowCursor cursor, DataViewSchema.Column column)
    {
        if (column.Type == NumberDataViewType.Single)
        {
            var getter = cursor.GetGetter<float>(column);
            float value = 0;
            return () =>
            {
                getter(ref value);
                return (value, null);
            };
        }

        if (column.Type == BooleanDataViewType.Instance)
        {
            var getter = cursor.GetGetter<bool>(column);
            var value = false;
            return () =>
            {
                getter(ref value);
                return (double.NaN, value ? "true" : "false");
            };
        }

        var textGetter = cursor.GetGetter<ReadOnlyMemory<char>>(column);
        var text = default(ReadOnlyMemory<char>);
        return () =>
        {
            textGetter(ref text);
            return (double.NaN, text.ToString());
        };
    }

    // Rows of one segment as the ML.NET evaluators read them (instantiated by LoadFromEnumerable's consumers).
    internal sealed class BinaryRow
    {
        public bool Label { get; set; }
        public float Score { get; set; }
        public float Probability { get; set; }
        public bool PredictedLabel { get; set; }
    }

    internal sealed class RegressionRow
    {
        public float Label { get; set; }
        public float Score { get; set; }
    }
}
