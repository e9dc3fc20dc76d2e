using System.Globalization;
using MLOps.Core.Workflows;
using nietras.SeparatedValues;

namespace MLOps.Core.Drift;

/// <summary>What <see cref="DriftFeatureInference.Infer"/> found: a workflow that profiles the shared columns, and
/// the reference's columns the current file lacks (not compared).</summary>
public sealed record InferredDriftFeatures
{
    /// <summary>A workflow whose contract lists the features (Number or Category) and whose monitoring is the default
    /// (method auto, fixed thresholds, min_rows 100).</summary>
    public required WorkflowDefinition Workflow { get; init; }

    /// <summary>Columns of the reference's header that the current file does not have.</summary>
    public IReadOnlyList<string> MissingFromCurrent { get; init; } = [];
}

/// <summary>
/// The features of two CSV files compared without a workflow (<c>mlops drift</c> without <c>--workflow</c>): every
/// column of the reference's header that the current file also has, in the reference's order. A column is numeric when
/// every non-empty value in both files parses as a number (invariant culture), categorical otherwise; empty cells are
/// nulls. Both files are streamed once; nothing is kept but one flag per column.
/// </summary>
public static class DriftFeatureInference
{
    /// <summary>Name of the synthetic model of an inferred workflow.</summary>
    public const string ModelName = "offline-drift";

    public static InferredDriftFeatures Infer(Stream reference, Stream current)
    {
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(current);
        using var referenceReader = Sep.Reader(o => o with { Unescape = true }).From(reference);
        using var currentReader = Sep.Reader(o => o with { Unescape = true }).From(current);
        var currentNames = new HashSet<string>(currentReader.Header.ColNames, StringComparer.Ordinal);
        var names = new List<string>();
        var missing = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in referenceReader.Header.ColNames)
        {
            if (name.Length == 0 || !seen.Add(name)) continue;
            if (currentNames.Contains(name)) names.Add(name);
            else missing.Add(name);
        }

        var numeric = new bool[names.Count];
        Array.Fill(numeric, true);
        int stillNumeric = names.Count;
        stillNumeric = Scan(referenceReader, names, numeric, stillNumeric);
        Scan(currentReader, names, numeric, stillNumeric);

        var columns = names.Select((n, i) => new ColumnSpec { Name = n, Type = numeric[i] ? ColumnType.Number : ColumnType.Category, Nullable = true }).ToList();
        var workflow = new WorkflowDefinition
        {
            // No label: an empty name matches no column, so every listed column is a feature.
            Model = new ModelSection { Name = ModelName, Label = "" },
            Data = new DataContract { Columns = columns, AllowExtraColumns = true },
            Training = new TrainingSpec(),
            Monitoring = new MonitoringSpec(),
        };
        return new InferredDriftFeatures { Workflow = workflow, MissingFromCurrent = missing };
    }

    /// <summary>Clears the numeric flag of every column with a non-empty value that is not a number; stops reading
    /// once no column is numeric. Returns how many still are.</summary>
    private static int Scan(SepReader reader, List<string> names, bool[] numeric, int stillNumeric)
    {
        if (stillNumeric == 0) return 0;
        var indexes = names.Select(n => reader.Header.IndexOf(n)).ToArray();
        foreach (var row in reader)
        {
            for (int i = 0; i < indexes.Length; i++)
            {
                if (!numeric[i]) continue;
                var text = row[indexes[i]].Span;
                if (text.IsEmpty || text.IsWhiteSpace()) continue;
                if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out _))
                {
                    numeric[i] = false;
                    if (--stillNumeric == 0) return 0;
                }
            }
        }
        return stillNumeric;
    }
}
