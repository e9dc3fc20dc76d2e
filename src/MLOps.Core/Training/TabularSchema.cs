using System.Globalization;
using System.Text;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLOps.Core.Workflows;

namespace MLOps.Core.Training;

/// <summary>How a workflow's data contract maps onto ML.NET columns. The one place that builds the text loader,
/// shared by training (CSV file) and scoring (in-memory CSV built from request rows), so both see the same
/// column names and types.</summary>
internal sealed class TabularSchema
{
    /// <summary>Name of the assembled feature vector.</summary>
    internal const string FeaturesColumn = "Features";

    private const string EncodedPrefix = "__enc_";
    private const string FilledPrefix = "__num_";

    /// <summary>The label's text as read (training only), to tell an empty label from <c>false</c>.</summary>
    internal const string RawLabelColumn = "__label_text";

    private TabularSchema(WorkflowDefinition workflow)
    {
        Workflow = workflow;
        Label = workflow.Model.Label;
        Id = string.IsNullOrWhiteSpace(workflow.Model.Id) ? null : workflow.Model.Id;
        Task = workflow.Model.Task;
        Columns = workflow.Data.Columns;

        var label = Columns.FirstOrDefault(c => c.Name == Label)
            ?? throw new InvalidOperationException($"The label column '{Label}' of model '{workflow.Model.Name}' is not in its data contract.");
        LabelSpec = label;

        var duplicates = Columns.GroupBy(c => c.Name, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        if (duplicates.Count > 0)
        {
            throw new InvalidOperationException($"The data contract of model '{workflow.Model.Name}' declares column(s) more than once: {string.Join(", ", duplicates)}.");
        }

        if (Columns.Any(c => c.Name == FeaturesColumn))
        {
            throw new InvalidOperationException($"The data contract may not declare a column named '{FeaturesColumn}'; the name is reserved for the feature vector.");
        }

        NumericFeatures = [.. Columns.Where(c => IsFeature(c) && IsNumeric(c.Type)).Select(c => c.Name)];
        CategoricalFeatures = [.. Columns.Where(c => IsFeature(c) && !IsNumeric(c.Type)).Select(c => c.Name)];
        if (NumericFeatures.Count + CategoricalFeatures.Count == 0)
        {
            throw new InvalidOperationException($"The data contract of model '{workflow.Model.Name}' has no feature columns.");
        }
    }

    internal WorkflowDefinition Workflow { get; }
    internal string Label { get; }
    internal ColumnSpec LabelSpec { get; }
    internal string? Id { get; }
    internal ModelTask Task { get; }
    internal IReadOnlyList<ColumnSpec> Columns { get; }
    internal IReadOnlyList<string> NumericFeatures { get; }
    internal IReadOnlyList<string> CategoricalFeatures { get; }

    internal static TabularSchema For(WorkflowDefinition workflow)
    {
        ArgumentNullException.ThrowIfNull(workflow);
        if (workflow.Model.Task == ModelTask.Multiclass)
        {
            throw new NotSupportedException($"Model '{workflow.Model.Name}': multiclass training is not supported yet; use binary or regression.");
        }

        return new TabularSchema(workflow);
    }

    internal static bool IsNumeric(ColumnType type) => type is ColumnType.Number or ColumnType.Integer;

    /// <summary>Feature columns: everything but the label, the id, non-feature columns and timestamps.</summary>
    internal bool IsFeature(ColumnSpec column)
        => column.Feature && column.Name != Label && column.Name != Id && column.Type != ColumnType.Timestamp;

    /// <summary>True when a scoring row must carry the column.</summary>
    internal bool IsRequiredForScoring(ColumnSpec column) => IsFeature(column);

    internal DataKind KindOf(ColumnSpec column)
    {
        if (column.Name == Label)
        {
            return Task == ModelTask.Binary ? DataKind.Boolean : DataKind.Single;
        }

        return IsNumeric(column.Type) ? DataKind.Single : DataKind.String;
    }

    /// <summary>Builds the text loader. <paramref name="header"/> is the file's header (columns are bound by name,
    /// so a file may order its columns freely and carry extra ones); contract columns absent from the header are
    /// left out, the caller decides whether that is an error.</summary>
    internal TextLoader CreateLoader(MLContext mlContext, IReadOnlyList<string> header, bool withRawLabel = false)
    {
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < header.Count; i++)
        {
            index.TryAdd(header[i].Trim(), i);
        }

        var columns = new List<TextLoader.Column>();
        foreach (var column in Columns)
        {
            if (index.TryGetValue(column.Name, out var position))
            {
                columns.Add(new TextLoader.Column(column.Name, KindOf(column), position));
                if (withRawLabel && column.Name == Label)
                {
                    columns.Add(new TextLoader.Column(RawLabelColumn, DataKind.String, position));
                }
            }
        }

        return mlContext.Data.CreateTextLoader(new TextLoader.Options
        {
            Columns = [.. columns],
            HasHeader = true,
            Separators = [','],
            AllowQuoting = true,
            ReadMultilines = true,
            TrimWhitespace = true,
            // Empty numeric fields are missing (NaN, then mean-imputed), not 0.
            MissingRealsAsNaNs = true,
        });
    }

    /// <summary>The feature pipeline: mean imputation of numeric features, one-hot encoding of categories, one
    /// <see cref="FeaturesColumn"/> vector (normalised for linear trainers).</summary>
    internal IEstimator<ITransformer> CreateFeaturePipeline(MLContext mlContext, bool normalize)
    {
        var parts = new List<string>();
        IEstimator<ITransformer>? pipeline = null;

        if (NumericFeatures.Count > 0)
        {
            var pairs = NumericFeatures.Select(n => new InputOutputColumnPair(FilledPrefix + n, n)).ToArray();
            pipeline = mlContext.Transforms.ReplaceMissingValues(pairs, Microsoft.ML.Transforms.MissingValueReplacingEstimator.ReplacementMode.Mean);
            parts.AddRange(pairs.Select(p => p.OutputColumnName));
        }

        if (CategoricalFeatures.Count > 0)
        {
            var pairs = CategoricalFeatures.Select(n => new InputOutputColumnPair(EncodedPrefix + n, n)).ToArray();
            var encode = mlContext.Transforms.Categorical.OneHotEncoding(pairs, Microsoft.ML.Transforms.OneHotEncodingEstimator.OutputKind.Indicator);
            pipeline = pipeline is null ? encode : pipeline.Append(encode);
            parts.AddRange(pairs.Select(p => p.OutputColumnName));
        }

        var concat = mlContext.Transforms.Concatenate(FeaturesColumn, [.. parts]);
        var result = pipeline is null ? (IEstimator<ITransformer>)concat : pipeline.Append(concat);
        return normalize ? result.Append(mlContext.Transforms.NormalizeMinMax(FeaturesColumn)) : result;
    }

    /// <summary>Columns a scoring request is written with: every contract column but the label, in contract order.</summary>
    internal IReadOnlyList<ColumnSpec> ScoringColumns => [.. Columns.Where(c => c.Name != Label)];

    /// <summary>Validates request rows and writes them as CSV text (header plus one line per row) in the order of
    /// <see cref="ScoringColumns"/>. Row numbers in messages are 1-based.</summary>
    internal string ToCsv(IReadOnlyList<IReadOnlyDictionary<string, string?>> rows)
    {
        var columns = ScoringColumns;
        var known = new HashSet<string>(Columns.Select(c => c.Name), StringComparer.Ordinal);
        var builder = new StringBuilder(64 * (rows.Count + 1));
        AppendLine(builder, columns.Select(c => c.Name));

        var values = new string[columns.Count];
        for (var r = 0; r < rows.Count; r++)
        {
            var row = rows[r] ?? throw new ArgumentException($"row {r + 1} is null", nameof(rows));
            foreach (var name in row.Keys)
            {
                if (!known.Contains(name))
                {
                    throw new ArgumentException($"row {r + 1}: unknown column '{name}'", nameof(rows));
                }
            }

            for (var c = 0; c < columns.Count; c++)
            {
                var column = columns[c];
                if (!row.TryGetValue(column.Name, out var value))
                {
                    if (IsRequiredForScoring(column))
                    {
                        throw new ArgumentException($"row {r + 1}: missing column '{column.Name}'", nameof(rows));
                    }

                    value = null;
                }

                values[c] = Normalize(value, column)
                    ?? throw new ArgumentException($"row {r + 1}, column '{column.Name}': '{value}' is not a number", nameof(rows));
            }

            AppendLine(builder, values);
        }

        return builder.ToString();
    }

    /// <summary>The field text for a value, or null when a numeric column's value is not a finite number.</summary>
    private static string? Normalize(string? value, ColumnSpec column)
    {
        if (value is null)
        {
            return "";
        }

        if (!IsNumeric(column.Type))
        {
            return value;
        }

        var trimmed = value.Trim();
        if (trimmed.Length == 0)
        {
            return "";
        }

        return double.TryParse(trimmed, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number)
            ? trimmed
            : null;
    }

    private static void AppendLine(StringBuilder builder, IEnumerable<string> fields)
    {
        var first = true;
        foreach (var field in fields)
        {
            if (!first)
            {
                builder.Append(',');
            }

            first = false;
            if (field.AsSpan().IndexOfAny(",\"\r\n") >= 0)
            {
                builder.Append('"').Append(field.Replace("\"", "\"\"", StringComparison.Ordinal)).Append('"');
            }
            else
            {
                builder.Append(field);
            }
        }

        builder.Append('\n');
    }
}

/// <summary>An in-memory text source for <see cref="TextLoader"/>, so scoring never writes temp files.</summary>
internal sealed class InMemoryTextSource(string text) : IMultiStreamSource
{
    public int Count => 1;

    public string? GetPathOrNull(int index) => null;

    public Stream Open(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNotEqual(index, 0);
        return new MemoryStream(Encoding.UTF8.GetBytes(text), writable: false);
    }

    public TextReader OpenTextReader(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNotEqual(index, 0);
        return new StringReader(text);
    }
}
