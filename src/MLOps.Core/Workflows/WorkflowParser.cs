using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Xml;
using Cronos;
using MLOps.Core.Drift;
using MLOps.Core.Training;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace MLOps.Core.Workflows;

/// <summary>One problem found in a workflow file, with its place.</summary>
public sealed record WorkflowError(string File, int Line, int Column, string Message)
{
    public override string ToString() => $"{File}({Line},{Column}): {Message}";
}

/// <summary>Thrown when a workflow file cannot be used; carries every problem found.</summary>
public sealed class WorkflowValidationException : Exception
{
    public WorkflowValidationException(IReadOnlyList<WorkflowError> errors)
        : base(string.Join(Environment.NewLine, errors)) => Errors = errors;

    public WorkflowValidationException() : this([]) { }
    public WorkflowValidationException(string message) : base(message) => Errors = [];
    public WorkflowValidationException(string message, Exception inner) : base(message, inner) => Errors = [];

    public IReadOnlyList<WorkflowError> Errors { get; }
}

/// <summary>Parses and checks workflow YAML.</summary>
/// <remarks>
/// The file is read with YamlDotNet's representation model so that every node keeps its start mark; the
/// mapping to <see cref="WorkflowDefinition"/> is done by hand. That gives every error a line and column,
/// rejects unknown keys (a typo must not silently switch a policy off) and collects all problems at once.
/// </remarks>
public static class WorkflowParser
{
    /// <summary>Trainers <see cref="TrainingSpec.Trainer"/> accepts.</summary>
    public static IReadOnlyList<string> Trainers { get; } = ["fasttree", "lightgbm", "linear"];

    /// <summary>Rollout strategies <see cref="RolloutSpec.Strategy"/> accepts.</summary>
    public static IReadOnlyList<string> RolloutStrategies { get; } = ["direct", "canary", "shadow"];

    /// <summary>Values of <see cref="DriftSpec.Prediction"/>.</summary>
    public static IReadOnlyList<string> PredictionDriftModes { get; } = ["monitor", "count", "off"];

    /// <summary>Drift methods <see cref="DriftSpec.Method"/> accepts.</summary>
    public static IReadOnlyList<string> DriftMethods { get; } = ["auto", "psi", "ks", "wasserstein", "jensen_shannon", "chi_square"];

    /// <summary>Holdout metrics a binary classifier reports.</summary>
    public static IReadOnlyList<string> BinaryMetrics { get; } = ["auc", "accuracy", "f1", "precision", "recall", "log_loss", "aucpr"];

    /// <summary>Holdout metrics a regression model reports.</summary>
    public static IReadOnlyList<string> RegressionMetrics { get; } = ["rmse", "mae", "r2"];

    /// <summary>Holdout metrics a multiclass classifier reports.</summary>
    public static IReadOnlyList<string> MulticlassMetrics { get; } = ["accuracy", "log_loss"];

    /// <summary>Top-level sections of a workflow file.</summary>
    public static IReadOnlyList<string> Sections { get; } =
        ["$schema", "version", "model", "data", "training", "gates", "approval", "rollout", "monitoring", "retraining", "budget"];

    /// <summary>Parses <paramref name="yaml"/>; throws <see cref="WorkflowValidationException"/> naming file, line and column.</summary>
    public static WorkflowDefinition Parse(string yaml, string fileName)
    {
        ArgumentNullException.ThrowIfNull(yaml);
        var reader = new Reader(fileName);
        var result = reader.ReadDocument(yaml);
        if (reader.Errors.Count > 0 || result is null)
        {
            if (reader.Errors.Count == 0)
            {
                reader.Error(1, 1, "the workflow could not be read");
            }
            var ordered = reader.Errors.OrderBy(e => e.Line).ThenBy(e => e.Column).ToList();
            throw new WorkflowValidationException(ordered);
        }
        return result;
    }

    /// <summary>Content hash (lowercase hex SHA-256 of the text with line endings normalised to LF).</summary>
    public static string ComputeHash(string yaml)
    {
        ArgumentNullException.ThrowIfNull(yaml);
        var normalised = yaml.Replace("\r\n", "\n", StringComparison.Ordinal).Replace('\r', '\n');
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(normalised)));
    }

    /// <summary>Parses a duration: <c>30s</c>, <c>15m</c>, <c>2h</c>, <c>7d</c>, <c>1w</c>, compounds such as
    /// <c>1h30m</c>, or ISO-8601 (<c>PT1H</c>). Returns false for anything else, including negative values.</summary>
    public static bool TryParseDuration(string? text, out TimeSpan value)
    {
        value = TimeSpan.Zero;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }
        var s = text.Trim();
        if (s[0] is 'P' or 'p')
        {
            try
            {
                value = XmlConvert.ToTimeSpan(s.ToUpperInvariant());
                return value >= TimeSpan.Zero;
            }
            catch (FormatException)
            {
                return false;
            }
            catch (OverflowException)
            {
                return false;
            }
        }

        var total = 0.0;
        var i = 0;
        while (i < s.Length)
        {
            var start = i;
            while (i < s.Length && (char.IsAsciiDigit(s[i]) || s[i] == '.'))
            {
                i++;
            }
            if (i == start || !double.TryParse(s.AsSpan(start, i - start), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number))
            {
                return false;
            }
            var unitStart = i;
            while (i < s.Length && char.IsAsciiLetter(s[i]))
            {
                i++;
            }
            double? seconds = s.AsSpan(unitStart, i - unitStart) switch
            {
                "ms" => 0.001,
                "s" => 1,
                "m" => 60,
                "h" => 3600,
                "d" => 86400,
                "w" => 7 * 86400,
                _ => null,
            };
            if (seconds is null)
            {
                return false;
            }
            total += number * seconds.Value;
        }
        if (total > TimeSpan.MaxValue.TotalSeconds)
        {
            return false;
        }
        value = TimeSpan.FromSeconds(total);
        return true;
    }

    /// <summary>Metrics a model of <paramref name="task"/> reports on its holdout.</summary>
    public static IReadOnlyList<string> MetricsFor(ModelTask task) => task switch
    {
        ModelTask.Regression => RegressionMetrics,
        ModelTask.Multiclass => MulticlassMetrics,
        _ => BinaryMetrics,
    };

    private static readonly string[] ModelKeys = ["name", "task", "label", "id", "risk", "description", "owners", "intended_uses", "excluded_uses"];
    private static readonly string[] DataKeys = ["columns", "min_rows", "max_rows", "allow_extra_columns", "max_duplicate_rate", "segments",
        "max_unseen_category_rate", "max_category_shift", "max_out_of_reference_rate"];
    private static readonly string[] SegmentKeys = ["name", "where"];
    private static readonly string[] ColumnKeys = ["name", "type", "nullable", "max_null_rate", "min", "max", "values", "unique", "feature",
        "max_unseen_category_rate", "max_category_shift", "max_out_of_reference_rate"];
    private static readonly string[] TrainingKeys = ["trainer", "parameters", "holdout", "seed", "grid", "select_by", "max_candidates", "max_parallel", "validation"];
    private static readonly string[] GridOnlyKeys = ["select_by", "max_candidates", "max_parallel", "validation"];
    private static readonly string[] GateKeys = ["metric", "min", "max", "min_absolute_change", "min_relative_change", "segment", "min_rows", "on_small_segment"];
    private static readonly string[] ApprovalKeys = ["required", "required_by_risk", "timeout", "approvers", "roles", "escalation", "token"];
    private static readonly string[] RoleKeys = ["approver"];
    private static readonly string[] EscalationKeys = ["after", "to"];
    private static readonly string[] RiskKeys = ["unknown", "low", "medium", "high"];

    /// <summary>What <see cref="GateSpec.OnSmallSegment"/> accepts.</summary>
    public static IReadOnlyList<string> SmallSegmentActions { get; } = ["fail", "skip"];
    private static readonly string[] RolloutKeys = ["strategy", "steps", "bake_time", "duration", "sampling", "max_bakes", "guards"];
    private static readonly string[] GuardKeys = ["max_error_rate", "max_latency_p99_ms", "max_prediction_drift", "min_requests"];
    private static readonly string[] MonitoringKeys = ["schedule", "window", "min_rows", "drift"];
    private static readonly string[] DriftKeys = ["method", "threshold", "dataset_share", "threshold_mode", "fdr", "alert_after", "prediction"];
    private static readonly string[] AlertAfterKeys = ["k", "n"];
    private static readonly string[] RetrainingKeys = ["on_drift", "min_drifted_features", "cooldown", "require_approval"];
    private static readonly string[] BudgetKeys = ["monthly", "per_run", "currency"];

    /// <summary>A mapping's entries by key, with the mapping itself (for its start mark) and its path.</summary>
    private sealed class Fields(YamlMappingNode node, string path, Dictionary<string, (YamlScalarNode Key, YamlNode Value)> entries)
    {
        public YamlMappingNode Node { get; } = node;
        public string Path { get; } = path;
        public Dictionary<string, (YamlScalarNode Key, YamlNode Value)> Entries { get; } = entries;

        public string Child(string key) => Path.Length == 0 ? key : $"{Path}.{key}";

        public Mark MarkOf(string key) => Entries.TryGetValue(key, out var e) ? e.Value.Start : Node.Start;
    }

    private sealed class Reader(string file)
    {
        private Mark? _predictionColumn;

        public List<WorkflowError> Errors { get; } = [];

        public void Error(long line, long column, string message) =>
            Errors.Add(new WorkflowError(file, (int)line, (int)column, message));

        public void Error(Mark mark, string message) => Error(mark.Line, mark.Column, message);

        public WorkflowDefinition? ReadDocument(string yaml)
        {
            var stream = new YamlStream();
            try
            {
                stream.Load(new StringReader(yaml));
            }
            catch (YamlException ex)
            {
                var message = ex.InnerException is { } inner && ex.Message.StartsWith("(Line", StringComparison.Ordinal)
                    ? inner.Message
                    : StripMark(ex.Message);
                Error(ex.Start.Line, ex.Start.Column, $"invalid YAML: {message}");
                return null;
            }
            if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is YamlScalarNode { Value: null or "" })
            {
                Error(1, 1, "the workflow file is empty");
                return null;
            }
            if (stream.Documents.Count > 1)
            {
                Error(stream.Documents[1].RootNode.Start, "a workflow file holds one YAML document; found more than one");
            }
            var root = Map(stream.Documents[0].RootNode, "", Sections);
            if (root is null)
            {
                return null;
            }

            if (root.Entries.TryGetValue("version", out var version))
            {
                var v = Int(root, "version");
                if (v is not null && v != 1)
                {
                    Error(version.Value.Start, $"unsupported workflow version {v}; this parser reads version 1");
                }
            }
            Str(root, "$schema");

            var model = Section(root, "model", required: true, ModelKeys, ReadModel);
            var data = Section(root, "data", required: true, DataKeys, ReadData);
            var training = Section(root, "training", required: false, TrainingKeys, ReadTraining) ?? new TrainingSpec();
            if (model is not null)
            {
                CheckTrainingAgainstModel(root, training, model.Task);
            }
            var gates = ReadGates(root, model?.Task ?? ModelTask.Binary, data?.Segments ?? []);
            var approval = Section(root, "approval", required: false, ApprovalKeys, ReadApproval) ?? new ApprovalSpec();
            CheckApprovalAgainstRisk(root, approval, model?.Risk ?? RiskTier.Unknown);
            var rollout = Section(root, "rollout", required: false, RolloutKeys, ReadRollout) ?? new RolloutSpec();
            var monitoring = Section(root, "monitoring", required: false, MonitoringKeys, ReadMonitoring) ?? new MonitoringSpec();
            var retraining = Section(root, "retraining", required: false, RetrainingKeys, ReadRetraining) ?? new RetrainingSpec();
            var budget = Section(root, "budget", required: false, BudgetKeys, ReadBudget);

            if (model is null || data is null)
            {
                return null;
            }
            data = CheckModelAgainstData(root, model, data);
            CheckPredictionName(data, monitoring);
            return new WorkflowDefinition
            {
                Model = model,
                Data = data,
                Training = training,
                Gates = gates,
                Approval = approval,
                Rollout = rollout,
                Monitoring = monitoring,
                Retraining = retraining,
                Budget = budget,
            };
        }

        private static string StripMark(string message)
        {
            // YamlDotNet prefixes messages with "(Line: 3, Col: 5, Idx: 20) - (Line: ...): "; the mark is reported separately.
            var i = message.IndexOf("): ", StringComparison.Ordinal);
            return message.StartsWith("(Line", StringComparison.Ordinal) && i >= 0 ? message[(i + 3)..] : message;
        }

        private T? Section<T>(Fields root, string key, bool required, string[] keys, Func<Fields, T?> read)
            where T : class
        {
            if (!root.Entries.TryGetValue(key, out var entry) || IsNull(entry.Value))
            {
                if (required)
                {
                    Error(entry.Value?.Start ?? root.Node.Start, $"missing required section '{key}'");
                }
                return null;
            }
            var fields = Map(entry.Value, key, keys);
            return fields is null ? null : read(fields);
        }

        // ---- sections ------------------------------------------------------------------------------------

        private ModelSection? ReadModel(Fields f)
        {
            var name = Str(f, "name", required: true);
            if (name is not null && !IsSlug(name))
            {
                Error(f.MarkOf("name"), $"'model.name' must be lowercase letters, digits and '-' (it names blobs and table keys); got '{name}'");
            }
            var task = Enum<ModelTask>(f, "task");
            var label = Str(f, "label", required: true);
            var id = Str(f, "id");
            var risk = Enum<RiskTier>(f, "risk");
            var description = Str(f, "description");
            var owners = StrMap(f, "owners");
            var intended = StrList(f, "intended_uses");
            var excluded = StrList(f, "excluded_uses");
            if (name is null || label is null)
            {
                return null;
            }
            return new ModelSection
            {
                Name = name,
                Task = task ?? ModelTask.Binary,
                Label = label,
                Id = id,
                Risk = risk ?? RiskTier.Unknown,
                Description = description,
                Owners = owners ?? new Dictionary<string, string>(),
                IntendedUses = intended ?? [],
                ExcludedUses = excluded ?? [],
            };
        }

        private DataContract? ReadData(Fields f)
        {
            var minRows = Long(f, "min_rows");
            var maxRows = Long(f, "max_rows");
            var allowExtra = Bool(f, "allow_extra_columns");
            var maxDuplicateRate = Num(f, "max_duplicate_rate");
            if (maxDuplicateRate is < 0 or > 1)
            {
                Error(f.MarkOf("max_duplicate_rate"), $"'data.max_duplicate_rate' must be between 0 and 1; got {Fmt(maxDuplicateRate.Value)}");
            }
            var maxUnseen = Rate(f, "max_unseen_category_rate", "'data.max_unseen_category_rate'");
            var maxShift = Rate(f, "max_category_shift", "'data.max_category_shift'");
            var maxOutOfReference = Rate(f, "max_out_of_reference_rate", "'data.max_out_of_reference_rate'");
            if (minRows < 0)
            {
                Error(f.MarkOf("min_rows"), $"'data.min_rows' must be 0 or more; got {minRows}");
            }
            if (minRows is not null && maxRows is not null && minRows > maxRows)
            {
                Error(f.MarkOf("max_rows"), $"'data.max_rows' ({maxRows}) is less than 'data.min_rows' ({minRows})");
            }

            var columns = new List<ColumnSpec>();
            if (!f.Entries.TryGetValue("columns", out var entry) || IsNull(entry.Value))
            {
                Error(f.MarkOf("columns"), "missing required key 'columns' in 'data'");
                return null;
            }
            if (entry.Value is not YamlSequenceNode seq)
            {
                Error(entry.Value.Start, "'data.columns' must be a list of columns");
                return null;
            }
            if (seq.Children.Count == 0)
            {
                Error(entry.Value.Start, "'data.columns' must declare at least one column");
                return null;
            }
            var firstSeen = new Dictionary<string, Mark>(StringComparer.Ordinal);
            for (var i = 0; i < seq.Children.Count; i++)
            {
                var path = $"data.columns[{i}]";
                var cf = Map(seq.Children[i], path, ColumnKeys);
                if (cf is null)
                {
                    continue;
                }
                var column = ReadColumn(cf);
                if (column is null)
                {
                    continue;
                }
                if (firstSeen.TryGetValue(column.Name, out var first))
                {
                    Error(cf.MarkOf("name"), $"duplicate column name '{column.Name}' in 'data.columns' (first declared at line {first.Line})");
                    continue;
                }
                firstSeen[column.Name] = cf.MarkOf("name");
                if (column.Name == Drift.PredictionFeature.Name)
                {
                    _predictionColumn = cf.MarkOf("name");
                }
                columns.Add(column);
            }
            return new DataContract
            {
                Columns = columns,
                MinRows = minRows,
                MaxRows = maxRows,
                AllowExtraColumns = allowExtra ?? false,
                MaxDuplicateRate = maxDuplicateRate,
                MaxUnseenCategoryRate = maxUnseen,
                MaxCategoryShift = maxShift,
                MaxOutOfReferenceRate = maxOutOfReference,
                Segments = ReadSegments(f, columns),
            };
        }

        private List<SegmentSpec> ReadSegments(Fields f, List<ColumnSpec> columns)
        {
            var segments = new List<SegmentSpec>();
            var seq = Sequence(f, "segments", "a list of segments ({ name, where })");
            if (seq is null)
            {
                return segments;
            }
            for (var i = 0; i < seq.Children.Count; i++)
            {
                var sf = Map(seq.Children[i], $"data.segments[{i}]", SegmentKeys);
                if (sf is null)
                {
                    continue;
                }
                var name = Str(sf, "name", required: true);
                var where = Scalar(sf, "where", required: true, "a text expression such as 'region == \"EU\"'");
                if (name is not null && !IsSegmentName(name))
                {
                    Error(sf.MarkOf("name"), $"segment name '{name}' must be letters, digits, '_' or '-'");
                }
                else if (name is not null && segments.Any(s => s.Name == name))
                {
                    Error(sf.MarkOf("name"), $"duplicate segment name '{name}' in 'data.segments'");
                    continue;
                }
                if (name is null || where?.Value is null)
                {
                    continue;
                }
                var text = where.Value;
                // Where the expression's text starts in the file (after the opening quote of a quoted scalar).
                var shift = where.Style is ScalarStyle.SingleQuoted or ScalarStyle.DoubleQuoted ? 1 : 0;
                void At(int offset, string message) => Error(where.Start.Line, where.Start.Column + shift + offset, $"segment '{name}': {message}");
                if (!SegmentExpression.TryParse(text, out var conditions, out var problem, out var at))
                {
                    At(at, $"{problem} in '{text}'");
                    continue;
                }
                var ok = true;
                foreach (var condition in conditions)
                {
                    var offset = Math.Max(0, text.IndexOf(condition.Column, StringComparison.Ordinal));
                    var column = columns.FirstOrDefault(c => c.Name == condition.Column);
                    if (column is null)
                    {
                        At(offset, $"'{condition.Column}' is not a column in 'data.columns'");
                        ok = false;
                    }
                    else if (column.Type is ColumnType.Number or ColumnType.Integer)
                    {
                        if (!condition.Numeric)
                        {
                            At(offset, $"column '{column.Name}' is {Lower(column.Type)}; compare it with a number, not '{condition.Value}'");
                            ok = false;
                        }
                    }
                    else if (condition.Numeric)
                    {
                        At(offset, $"column '{column.Name}' is {Lower(column.Type)}; compare it with quoted text (e.g. == \"{condition.Value}\")");
                        ok = false;
                    }
                    else if (column.Values is { Count: > 0 } values && !values.Contains(condition.Value, StringComparer.OrdinalIgnoreCase))
                    {
                        At(offset, $"'{condition.Value}' is not a value of category column '{column.Name}' ({string.Join(", ", values)})");
                        ok = false;
                    }
                }
                if (ok)
                {
                    segments.Add(new SegmentSpec { Name = name, Where = text, Conditions = conditions });
                }
            }
            return segments;
        }

        /// <summary>An optional share between 0 and 1.</summary>
        private double? Rate(Fields f, string key, string what)
        {
            var value = Num(f, key);
            if (value is < 0 or > 1)
            {
                Error(f.MarkOf(key), $"{what} must be between 0 and 1; got {Fmt(value.Value)}");
            }
            return value;
        }

        private ColumnSpec? ReadColumn(Fields f)
        {
            var name = Str(f, "name", required: true);
            var type = Enum<ColumnType>(f, "type");
            var nullable = Bool(f, "nullable");
            var maxNullRate = Num(f, "max_null_rate");
            var min = Num(f, "min");
            var max = Num(f, "max");
            var values = StrList(f, "values");
            var unique = Bool(f, "unique");
            var feature = Bool(f, "feature");
            var label = name is null ? f.Path : $"column '{name}'";
            var effectiveType = type ?? ColumnType.Number;
            var maxUnseen = Rate(f, "max_unseen_category_rate", $"'max_unseen_category_rate' of {label}");
            var maxShift = Rate(f, "max_category_shift", $"'max_category_shift' of {label}");
            var maxOutOfReference = Rate(f, "max_out_of_reference_rate", $"'max_out_of_reference_rate' of {label}");
            foreach (var key in (string[])["max_unseen_category_rate", "max_category_shift"])
            {
                if (f.Entries.ContainsKey(key) && effectiveType is not (ColumnType.Category or ColumnType.Boolean))
                {
                    Error(f.MarkOf(key), $"'{key}' applies to category and boolean columns; {label} is {Lower(effectiveType)}");
                }
            }
            if (maxOutOfReference is not null && effectiveType is not (ColumnType.Number or ColumnType.Integer))
            {
                Error(f.MarkOf("max_out_of_reference_rate"), $"'max_out_of_reference_rate' applies to number and integer columns; {label} is {Lower(effectiveType)}");
            }

            if (maxNullRate is < 0 or > 1)
            {
                Error(f.MarkOf("max_null_rate"), $"'max_null_rate' of {label} must be between 0 and 1; got {Fmt(maxNullRate.Value)}");
            }
            if (min is not null && max is not null && min > max)
            {
                Error(f.MarkOf("min"), $"'min' ({Fmt(min.Value)}) of {label} is greater than 'max' ({Fmt(max.Value)})");
            }
            if ((min is not null || max is not null) && type is not null && effectiveType is not (ColumnType.Number or ColumnType.Integer))
            {
                Error(f.MarkOf(min is not null ? "min" : "max"), $"'min'/'max' apply to number and integer columns; {label} is {Lower(effectiveType)}");
            }
            if (values is not null && effectiveType != ColumnType.Category)
            {
                Error(f.MarkOf("values"), $"'values' apply to category columns; {label} is {Lower(effectiveType)}");
            }
            if (values is not null && effectiveType == ColumnType.Category)
            {
                if (values.Count == 0)
                {
                    Error(f.MarkOf("values"), $"'values' of {label} must list at least one value");
                }
                var dup = values.GroupBy(v => v, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
                if (dup is not null)
                {
                    Error(f.MarkOf("values"), $"'values' of {label} lists '{dup.Key}' more than once");
                }
            }
            if (name is null)
            {
                return null;
            }
            return new ColumnSpec
            {
                Name = name,
                Type = effectiveType,
                Nullable = nullable ?? false,
                MaxNullRate = maxNullRate,
                Min = min,
                Max = max,
                Values = values,
                Unique = unique ?? false,
                Feature = feature ?? true,
                MaxUnseenCategoryRate = maxUnseen,
                MaxCategoryShift = maxShift,
                MaxOutOfReferenceRate = maxOutOfReference,
            };
        }

        private TrainingSpec ReadTraining(Fields f)
        {
            var trainer = Str(f, "trainer");
            if (trainer is not null && !Trainers.Contains(trainer))
            {
                Error(f.MarkOf("trainer"), $"'training.trainer' must be one of: {string.Join(", ", Trainers)}; got '{trainer}'");
            }
            var parameters = NumMap(f, "parameters");
            var holdout = Num(f, "holdout");
            if (holdout is <= 0 or >= 1)
            {
                Error(f.MarkOf("holdout"), $"'training.holdout' must be greater than 0 and less than 1; got {Fmt(holdout.Value)}");
            }
            var seed = Int(f, "seed");
            var maxCandidates = Int(f, "max_candidates");
            if (maxCandidates is < 1 or > 64)
            {
                Error(f.MarkOf("max_candidates"), $"'training.max_candidates' must be from 1 to 64; got {maxCandidates}");
            }
            var maxParallel = Int(f, "max_parallel");
            if (maxParallel is < 1 or > 16)
            {
                Error(f.MarkOf("max_parallel"), $"'training.max_parallel' must be from 1 to 16; got {maxParallel}");
            }
            var validation = Num(f, "validation");
            if (validation is <= 0 or > 0.5)
            {
                Error(f.MarkOf("validation"), $"'training.validation' must be greater than 0 and at most 0.5; got {Fmt(validation.Value)}");
            }
            var selectBy = Str(f, "select_by");
            var errorsBefore = Errors.Count;
            var grid = ReadGrid(f, trainer ?? "fasttree");
            var spec = new TrainingSpec
            {
                Trainer = trainer ?? "fasttree",
                Parameters = parameters ?? new Dictionary<string, double>(),
                Holdout = holdout ?? 0.2,
                Seed = seed ?? 42,
                Grid = grid ?? new Dictionary<string, IReadOnlyList<double>>(),
                SelectBy = selectBy,
                MaxCandidates = maxCandidates is >= 1 and <= 64 ? maxCandidates.Value : 16,
                MaxParallel = maxParallel is >= 1 and <= 16 ? maxParallel.Value : 4,
                Validation = validation is > 0 and <= 0.5 ? validation.Value : 0.2,
            };
            if (grid is null)
            {
                foreach (var key in GridOnlyKeys.Where(f.Entries.ContainsKey))
                {
                    Error(f.MarkOf(key), $"'training.{key}' applies only with a parameter grid; add 'training.grid'");
                }
            }
            else if (grid.Count > 0 && Errors.Count == errorsBefore)
            {
                var count = TrainingGrid.CountCandidates(spec);
                if (count > spec.MaxCandidates)
                {
                    Error(f.MarkOf("grid"), $"'training.grid' makes {count} candidates; at most {spec.MaxCandidates} are allowed ('training.max_candidates')");
                }
            }
            return spec;
        }

        /// <summary>Reads <c>training.grid</c>: parameter → non-empty list of distinct numbers, each parameter one the
        /// trainer knows.</summary>
        private Dictionary<string, IReadOnlyList<double>>? ReadGrid(Fields f, string trainer)
        {
            var map = RawMap(f, "grid");
            if (map is null)
            {
                return null;
            }
            var known = TrainingGrid.ParametersByTrainer.TryGetValue(trainer, out var names) ? names : [];
            var grid = new Dictionary<string, IReadOnlyList<double>>(StringComparer.Ordinal);
            if (map.Children.Count == 0)
            {
                Error(map.Start, "'training.grid' must list at least one parameter with its values");
            }
            foreach (var (k, v) in map.Children)
            {
                var name = (k as YamlScalarNode)?.Value ?? "";
                if (!known.Contains(name))
                {
                    Error(k.Start, $"unknown parameter '{name}' in 'training.grid' for trainer '{trainer}'; expected one of: {string.Join(", ", known)}");
                    continue;
                }
                if (v is not YamlSequenceNode seq)
                {
                    Error(v.Start, $"'training.grid.{name}' must be a list of numbers, e.g. [10, 20]");
                    continue;
                }
                if (seq.Children.Count == 0)
                {
                    Error(seq.Start, $"'training.grid.{name}' is empty; give at least one value");
                    continue;
                }
                var values = new List<double>();
                foreach (var item in seq.Children)
                {
                    if (item is not YamlScalarNode { Value: { } text }
                        || !double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) || !double.IsFinite(number))
                    {
                        Error(item.Start, $"values of 'training.grid.{name}' must be numbers; got '{(item as YamlScalarNode)?.Value}'");
                        continue;
                    }
                    if (number < 0 || (number == 0 && name is not ("l1" or "l2")))
                    {
                        Error(item.Start, $"values of 'training.grid.{name}' must be greater than 0; got {Fmt(number)}");
                        continue;
                    }
                    if (name is "trees" or "leaves" or "min_leaf" or "iterations" && number != Math.Floor(number))
                    {
                        Error(item.Start, $"values of 'training.grid.{name}' must be whole numbers; got {Fmt(number)}");
                        continue;
                    }
                    if (values.Contains(number))
                    {
                        Error(item.Start, $"'training.grid.{name}' lists {Fmt(number)} more than once");
                        continue;
                    }
                    values.Add(number);
                }
                grid[name] = values;
            }
            return grid;
        }

        /// <summary><c>training.select_by</c> must be a metric the model's task reports.</summary>
        private void CheckTrainingAgainstModel(Fields root, TrainingSpec training, ModelTask task)
        {
            if (training.SelectBy is not { } metric || !root.Entries.TryGetValue("training", out var entry) || entry.Value is not YamlMappingNode node)
            {
                return;
            }
            var known = task switch
            {
                ModelTask.Regression => RegressionMetrics,
                ModelTask.Multiclass => MulticlassMetrics,
                _ => BinaryMetrics,
            };
            if (!known.Contains(metric))
            {
                var mark = node.Children.FirstOrDefault(c => c.Key is YamlScalarNode { Value: "select_by" }).Value?.Start ?? node.Start;
                Error(mark, $"'training.select_by' must be a metric of a {Lower(task)} model: {string.Join(", ", known)}; got '{metric}'");
            }
        }

        private List<GateSpec> ReadGates(Fields root, ModelTask task, IReadOnlyList<SegmentSpec> segments)
        {
            var gates = new List<GateSpec>();
            if (!root.Entries.TryGetValue("gates", out var entry) || IsNull(entry.Value))
            {
                return gates;
            }
            if (entry.Value is not YamlSequenceNode seq)
            {
                Error(entry.Value.Start, "'gates' must be a list of gates");
                return gates;
            }
            var known = MetricsFor(task);
            var all = BinaryMetrics.Concat(RegressionMetrics).Distinct().ToList();
            for (var i = 0; i < seq.Children.Count; i++)
            {
                var f = Map(seq.Children[i], $"gates[{i}]", GateKeys);
                if (f is null)
                {
                    continue;
                }
                var metric = Str(f, "metric", required: true);
                var min = Num(f, "min");
                var max = Num(f, "max");
                var absChange = Num(f, "min_absolute_change");
                var relChange = Num(f, "min_relative_change");
                var segment = Str(f, "segment");
                var minRows = Int(f, "min_rows");
                var onSmall = Str(f, "on_small_segment");
                if (segment is not null && !segments.Any(s => s.Name == segment))
                {
                    Error(f.MarkOf("segment"), segments.Count == 0
                        ? $"segment '{segment}' is not defined; declare it under 'data.segments'"
                        : $"segment '{segment}' is not defined in 'data.segments' ({string.Join(", ", segments.Select(s => s.Name))})");
                }
                if (segment is null && (minRows is not null || onSmall is not null))
                {
                    Error(f.MarkOf(minRows is not null ? "min_rows" : "on_small_segment"), "'min_rows' and 'on_small_segment' apply to segment gates; set 'segment'");
                }
                if (minRows < 1)
                {
                    Error(f.MarkOf("min_rows"), $"'min_rows' of a segment gate must be at least 1; got {minRows}");
                }
                if (onSmall is not null && !SmallSegmentActions.Contains(onSmall))
                {
                    Error(f.MarkOf("on_small_segment"), $"'on_small_segment' must be one of: {string.Join(", ", SmallSegmentActions)}; got '{onSmall}'");
                }
                if (metric is not null && !known.Contains(metric))
                {
                    Error(f.MarkOf("metric"), all.Contains(metric)
                        ? $"metric '{metric}' does not apply to a {Lower(task)} model; expected one of: {string.Join(", ", known)}"
                        : $"unknown metric '{metric}'; expected one of: {string.Join(", ", known)}");
                }
                if (min is null && max is null && absChange is null && relChange is null)
                {
                    Error(f.Node.Start, $"gate '{metric ?? f.Path}' needs at least one of: min, max, min_absolute_change, min_relative_change");
                }
                if (min is not null && max is not null && min > max)
                {
                    Error(f.MarkOf("min"), $"'min' ({Fmt(min.Value)}) of gate '{metric}' is greater than 'max' ({Fmt(max.Value)})");
                }
                if (metric is not null)
                {
                    gates.Add(new GateSpec
                    {
                        Metric = metric, Min = min, Max = max, MinAbsoluteChange = absChange, MinRelativeChange = relChange,
                        Segment = segment, MinRows = minRows, OnSmallSegment = onSmall,
                    });
                }
            }
            return gates;
        }

        private ApprovalSpec ReadApproval(Fields f)
        {
            var required = Int(f, "required");
            if (required < 1)
            {
                Error(f.MarkOf("required"), $"'approval.required' must be at least 1; got {required}");
            }
            var byRisk = new Dictionary<string, int>(StringComparer.Ordinal);
            var riskMap = RawMap(f, "required_by_risk");
            if (riskMap is not null)
            {
                var rf = Map(riskMap, "approval.required_by_risk", RiskKeys);
                foreach (var key in RiskKeys)
                {
                    if (rf is not null && Int(rf, key) is { } count)
                    {
                        if (count < 1)
                        {
                            Error(rf.MarkOf(key), $"'approval.required_by_risk.{key}' must be at least 1; got {count}");
                        }
                        byRisk[key] = count;
                    }
                }
                if (rf is not null && byRisk.Count == 0)
                {
                    Error(riskMap.Start, "'approval.required_by_risk' must give a count for at least one tier (low, medium, high, unknown)");
                }
            }
            var timeout = Duration(f, "timeout");
            if (timeout == TimeSpan.Zero)
            {
                Error(f.MarkOf("timeout"), "'approval.timeout' must be greater than zero");
            }
            var approvers = StrList(f, "approvers");
            List<string>? roleApprovers = null;
            if (RawMap(f, "roles") is { } rolesNode && Map(rolesNode, "approval.roles", RoleKeys) is { } roles)
            {
                roleApprovers = StrList(roles, "approver");
                if (roleApprovers is not null && approvers is not null)
                {
                    Error(f.MarkOf("roles"), "give approvers either as 'approval.approvers' or as 'approval.roles.approver', not both");
                }
            }
            var eligible = approvers ?? roleApprovers;
            var eligibleKey = approvers is not null ? "approvers" : "roles";
            if (required is not null && eligible is { Count: > 0 } && eligible.Distinct(StringComparer.OrdinalIgnoreCase).Count() < required)
            {
                Error(f.MarkOf(eligibleKey), $"'approval.{(approvers is not null ? "approvers" : "roles.approver")}' lists fewer people than 'approval.required' ({required})");
            }
            EscalationSpec? escalation = null;
            if (RawMap(f, "escalation") is { } escalationNode && Map(escalationNode, "approval.escalation", EscalationKeys) is { } ef)
            {
                var after = Duration(ef, "after");
                var to = StrList(ef, "to");
                if (!ef.Entries.ContainsKey("after"))
                {
                    Error(ef.Node.Start, "missing required key 'after' in 'approval.escalation'");
                }
                else if (after == TimeSpan.Zero)
                {
                    Error(ef.MarkOf("after"), "'approval.escalation.after' must be greater than zero");
                }
                if (to is null || to.Count == 0)
                {
                    Error(ef.MarkOf("to"), "'approval.escalation.to' must list at least one person");
                }
                var effectiveTimeout = timeout ?? TimeSpan.FromDays(7);
                if (after is { } a && a >= effectiveTimeout)
                {
                    Error(ef.MarkOf("after"), $"'approval.escalation.after' ({a}) must be shorter than 'approval.timeout' ({effectiveTimeout})");
                }
                if (after is { } delay && to is not null)
                {
                    escalation = new EscalationSpec { After = delay, To = to };
                }
            }
            var token = Bool(f, "token");
            if (token == true && (eligible is null || eligible.Count == 0))
            {
                Error(f.MarkOf("token"), "'approval.token: true' needs named approvers ('approval.approvers' or 'approval.roles.approver'): each gets a token of their own");
            }
            return new ApprovalSpec
            {
                Required = required ?? 1,
                RequiredIsExplicit = required is not null,
                RequiredByRisk = byRisk,
                Timeout = timeout ?? TimeSpan.FromDays(7),
                Approvers = eligible ?? [],
                Escalation = escalation,
                Token = token ?? false,
            };
        }

        /// <summary>The count the model's risk tier picks must be reachable by the named approvers.</summary>
        private void CheckApprovalAgainstRisk(Fields root, ApprovalSpec approval, RiskTier risk)
        {
            if (approval.RequiredIsExplicit || approval.RequiredByRisk.Count == 0 || approval.Approvers.Count == 0
                || root.Entries["approval"].Value is not YamlMappingNode node)
            {
                return;
            }
            var needed = approval.RequiredFor(risk);
            var people = approval.Approvers.Concat(approval.Escalation?.To ?? []).Distinct(StringComparer.OrdinalIgnoreCase).Count();
            if (people < needed)
            {
                var mark = node.Children.TryGetValue(new YamlScalarNode("required_by_risk"), out var v) ? v.Start : node.Start;
                Error(mark, $"a {Lower(risk)}-risk model needs {needed} approvals but only {people} people may approve");
            }
        }

        private RolloutSpec ReadRollout(Fields f)
        {
            var strategy = Str(f, "strategy");
            if (strategy is not null && !RolloutStrategies.Contains(strategy))
            {
                Error(f.MarkOf("strategy"), $"'rollout.strategy' must be one of: {string.Join(", ", RolloutStrategies)}; got '{strategy}'");
            }
            var steps = IntList(f, "steps");
            var bake = Duration(f, "bake_time");
            var duration = Duration(f, "duration");
            var sampling = Num(f, "sampling");
            var maxBakes = Int(f, "max_bakes");
            var guards = f.Entries.TryGetValue("guards", out var g) && !IsNull(g.Value) && Map(g.Value, "rollout.guards", GuardKeys) is { } gf
                ? ReadGuards(gf)
                : null;
            var effective = strategy ?? "direct";
            if (effective == "canary")
            {
                if (steps is null || steps.Count == 0)
                {
                    Error(f.MarkOf(f.Entries.ContainsKey("steps") ? "steps" : "strategy"), "a canary rollout needs 'steps' (traffic percentages ending at 100, e.g. [10, 50, 100])");
                }
                else
                {
                    var seq = (YamlSequenceNode)f.Entries["steps"].Value;
                    for (var i = 0; i < steps.Count; i++)
                    {
                        if (steps[i] is < 1 or > 100)
                        {
                            Error(seq.Children[i].Start, $"'rollout.steps' must be percentages from 1 to 100; got {steps[i]}");
                            break;
                        }
                        if (i > 0 && steps[i] <= steps[i - 1])
                        {
                            Error(seq.Children[i].Start, $"'rollout.steps' must be increasing; {steps[i]} follows {steps[i - 1]}");
                            break;
                        }
                    }
                    if (steps[0] > 50)
                    {
                        Error(seq.Children[0].Start, $"the first canary step may take at most 50 % of the traffic; got {steps[0]}");
                    }
                    if (steps[^1] != 100)
                    {
                        Error(seq.Children[^1].Start, $"'rollout.steps' must end at 100; the last step is {steps[^1]}");
                    }
                }
                if (bake is { } b && b > TimeSpan.FromHours(1))
                {
                    Error(f.MarkOf("bake_time"), $"'rollout.bake_time' must be at most 1h (3600 s); got {b.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s");
                }
            }
            else if (steps is { Count: > 0 })
            {
                Error(f.MarkOf("steps"), $"'rollout.steps' apply only to the canary strategy; strategy is '{effective}'");
            }
            if (effective != "canary" && bake is { } bt && bt > TimeSpan.Zero)
            {
                Error(f.MarkOf("bake_time"), $"'rollout.bake_time' applies only to the canary strategy; strategy is '{effective}'");
            }
            if (effective == "shadow")
            {
                if (duration == TimeSpan.Zero)
                {
                    Error(f.MarkOf("duration"), "'rollout.duration' must be greater than zero");
                }
                if (sampling is { } s && s is <= 0 or > 0.5)
                {
                    Error(f.MarkOf("sampling"), $"'rollout.sampling' must be greater than 0 and at most 0.5 (mirrored traffic is capped at 50 %); got {Fmt(s)}");
                }
            }
            else
            {
                foreach (var key in new[] { "duration", "sampling" })
                {
                    if (f.Entries.ContainsKey(key))
                    {
                        Error(f.MarkOf(key), $"'rollout.{key}' applies only to the shadow strategy; strategy is '{effective}'");
                    }
                }
            }
            if (effective == "direct")
            {
                foreach (var key in new[] { "guards", "max_bakes" })
                {
                    if (f.Entries.ContainsKey(key))
                    {
                        Error(f.MarkOf(key), $"'rollout.{key}' applies only to canary and shadow rollouts; strategy is 'direct'");
                    }
                }
            }
            if (maxBakes < 1)
            {
                Error(f.MarkOf("max_bakes"), $"'rollout.max_bakes' must be at least 1; got {maxBakes}");
            }
            return new RolloutSpec
            {
                Strategy = effective,
                Steps = steps ?? [],
                BakeTime = bake ?? TimeSpan.Zero,
                Duration = duration ?? TimeSpan.FromDays(7),
                Sampling = sampling ?? 0.2,
                MaxBakes = maxBakes ?? 3,
                Guards = guards ?? new RolloutGuards(),
            };
        }

        private RolloutGuards ReadGuards(Fields f)
        {
            var errorRate = Num(f, "max_error_rate");
            if (errorRate is { } e && e is < 0 or > 1)
            {
                Error(f.MarkOf("max_error_rate"), $"'rollout.guards.max_error_rate' must be between 0 and 1; got {Fmt(e)}");
            }
            var latency = Num(f, "max_latency_p99_ms");
            if (latency is { } l && l <= 0)
            {
                Error(f.MarkOf("max_latency_p99_ms"), $"'rollout.guards.max_latency_p99_ms' must be greater than 0; got {Fmt(l)}");
            }
            var drift = Num(f, "max_prediction_drift");
            if (drift is { } d && d is <= 0 or > 1)
            {
                Error(f.MarkOf("max_prediction_drift"), $"'rollout.guards.max_prediction_drift' is a Jensen-Shannon distance: greater than 0 and at most 1; got {Fmt(d)}");
            }
            var minRequests = Int(f, "min_requests");
            if (minRequests < 1)
            {
                Error(f.MarkOf("min_requests"), $"'rollout.guards.min_requests' must be at least 1; got {minRequests}");
            }
            return new RolloutGuards
            {
                MaxErrorRate = f.Entries.ContainsKey("max_error_rate") ? errorRate : 0.05,
                MaxLatencyP99Ms = latency,
                MaxPredictionDrift = drift,
                MinRequests = minRequests ?? 50,
            };
        }

        private MonitoringSpec ReadMonitoring(Fields f)
        {
            var schedule = Str(f, "schedule");
            if (schedule is not null)
            {
                try
                {
                    CronExpression.Parse(schedule, CronFormat.Standard);
                }
                catch (CronFormatException)
                {
                    Error(f.MarkOf("schedule"), $"'monitoring.schedule' must be a 5-field cron expression (minute hour day-of-month month day-of-week, UTC); got '{schedule}'");
                }
            }
            var window = Duration(f, "window");
            if (window == TimeSpan.Zero)
            {
                Error(f.MarkOf("window"), "'monitoring.window' must be greater than zero");
            }
            var minRows = Int(f, "min_rows");
            if (minRows < 1)
            {
                Error(f.MarkOf("min_rows"), $"'monitoring.min_rows' must be at least 1; got {minRows}");
            }
            DriftSpec? drift = null;
            if (f.Entries.TryGetValue("drift", out var entry) && !IsNull(entry.Value))
            {
                var df = Map(entry.Value, "monitoring.drift", DriftKeys);
                if (df is not null)
                {
                    drift = ReadDrift(df);
                }
            }
            return new MonitoringSpec
            {
                Schedule = schedule ?? "0 */6 * * *",
                Window = window ?? TimeSpan.FromDays(1),
                MinRows = minRows ?? 100,
                Drift = drift ?? new DriftSpec(),
            };
        }

        private DriftSpec ReadDrift(Fields f)
        {
            var method = Str(f, "method");
            if (method is not null && !DriftMethods.Contains(method))
            {
                Error(f.MarkOf("method"), $"'monitoring.drift.method' must be one of: {string.Join(", ", DriftMethods)}; got '{method}'");
            }
            var threshold = Num(f, "threshold");
            if (threshold <= 0)
            {
                Error(f.MarkOf("threshold"), $"'monitoring.drift.threshold' must be greater than 0; got {Fmt(threshold.Value)}");
            }
            var share = Num(f, "dataset_share");
            if (share is <= 0 or > 1)
            {
                Error(f.MarkOf("dataset_share"), $"'monitoring.drift.dataset_share' must be greater than 0 and at most 1; got {Fmt(share.Value)}");
            }
            var mode = Str(f, "threshold_mode");
            if (mode is not null && mode is not ("fixed" or "calibrated"))
            {
                Error(f.MarkOf("threshold_mode"), $"'monitoring.drift.threshold_mode' must be one of: fixed, calibrated; got '{mode}'");
            }
            var fdr = Str(f, "fdr");
            if (fdr is not null && fdr is not ("none" or "benjamini_hochberg"))
            {
                Error(f.MarkOf("fdr"), $"'monitoring.drift.fdr' must be one of: none, benjamini_hochberg; got '{fdr}'");
            }
            else if (fdr == "benjamini_hochberg" && (mode is null or "fixed" or "calibrated")
                && (method is null || DriftMethods.Contains(method)) && DriftAnalyzer.FdrConflict(method, mode) is { } conflict)
            {
                Error(f.MarkOf("fdr"), $"'monitoring.drift.fdr': {conflict}");
            }
            var prediction = Str(f, "prediction");
            if (prediction is not null && !PredictionDriftModes.Contains(prediction))
            {
                Error(f.MarkOf("prediction"), $"'monitoring.drift.prediction' must be one of: {string.Join(", ", PredictionDriftModes)}; got '{prediction}'");
            }
            AlertAfterSpec? alertAfter = null;
            if (f.Entries.TryGetValue("alert_after", out var alertEntry) && !IsNull(alertEntry.Value))
            {
                var af = Map(alertEntry.Value, "monitoring.drift.alert_after", AlertAfterKeys);
                if (af is not null)
                {
                    var k = Int(af, "k");
                    var n = Int(af, "n");
                    if (k < 1)
                    {
                        Error(af.MarkOf("k"), $"'monitoring.drift.alert_after.k' must be at least 1; got {k}");
                    }
                    if (n < 1)
                    {
                        Error(af.MarkOf("n"), $"'monitoring.drift.alert_after.n' must be at least 1; got {n}");
                    }
                    if (k is { } kv && n is { } nv && kv > nv)
                    {
                        Error(af.MarkOf("k"), $"'monitoring.drift.alert_after.k' ({kv}) is greater than 'n' ({nv})");
                    }
                    alertAfter = new AlertAfterSpec { K = k ?? 1, N = n ?? Math.Max(1, k ?? 1) };
                }
            }
            return new DriftSpec
            {
                Method = method ?? "auto",
                Threshold = threshold,
                DatasetShare = share ?? 0.5,
                ThresholdMode = mode ?? "fixed",
                Fdr = fdr ?? "none",
                AlertAfter = alertAfter ?? new AlertAfterSpec(),
                Prediction = prediction ?? "monitor",
            };
        }

        private RetrainingSpec ReadRetraining(Fields f)
        {
            var onDrift = Bool(f, "on_drift");
            var minDrifted = Int(f, "min_drifted_features");
            if (minDrifted < 1)
            {
                Error(f.MarkOf("min_drifted_features"), $"'retraining.min_drifted_features' must be at least 1; got {minDrifted}");
            }
            var cooldown = Duration(f, "cooldown");
            var requireApproval = Bool(f, "require_approval");
            return new RetrainingSpec
            {
                OnDrift = onDrift ?? true,
                MinDriftedFeatures = minDrifted ?? 1,
                Cooldown = cooldown ?? TimeSpan.FromHours(1),
                RequireApproval = requireApproval ?? true,
            };
        }

        private BudgetSpec ReadBudget(Fields f)
        {
            var monthly = NumMap(f, "monthly");
            if (monthly is not null)
            {
                foreach (var (key, value) in monthly)
                {
                    if (!BudgetSpec.MonthlyLimits.Contains(key))
                    {
                        var keyMark = (f.Entries["monthly"].Value as YamlMappingNode)?.Children.Keys
                            .FirstOrDefault(k => k is YamlScalarNode { Value: var v } && v == key)?.Start ?? f.MarkOf("monthly");
                        Error(keyMark, $"unknown limit '{key}' in 'budget.monthly'; expected one of: {string.Join(", ", BudgetSpec.MonthlyLimits)}");
                    }
                    else if (value < 0)
                    {
                        Error(f.MarkOf("monthly"), $"'budget.monthly.{key}' must be 0 or more; got {Fmt(value)}");
                    }
                }
            }
            var perRun = Num(f, "per_run");
            if (perRun < 0)
            {
                Error(f.MarkOf("per_run"), $"'budget.per_run' must be 0 or more; got {Fmt(perRun.Value)}");
            }
            var currency = Str(f, "currency");
            if (currency is not null && (currency.Length != 3 || !currency.All(char.IsAsciiLetterUpper)))
            {
                Error(f.MarkOf("currency"), $"'budget.currency' must be a three-letter ISO 4217 code such as USD or EUR; got '{currency}'");
            }
            return new BudgetSpec
            {
                Monthly = monthly ?? new Dictionary<string, double>(),
                PerRun = perRun,
                Currency = currency ?? "USD",
            };
        }

        /// <summary>A feature column may not take the name drift profiles reserve for the model's output.</summary>
        private void CheckPredictionName(DataContract data, MonitoringSpec monitoring)
        {
            if (_predictionColumn is { } mark && monitoring.Drift.Prediction != "off"
                && data.Columns.Any(c => c.Name == Drift.PredictionFeature.Name && c.Feature && c.Type != ColumnType.Timestamp))
            {
                Error(mark, $"feature column '{Drift.PredictionFeature.Name}' clashes with the prediction feature of drift profiles; rename it, mark it 'feature: false', or set 'monitoring.drift.prediction: off'");
            }
        }

        /// <summary>Checks across sections (label and id against the columns) and marks the label and id columns.</summary>
        private DataContract CheckModelAgainstData(Fields root, ModelSection model, DataContract data)
        {
            var modelFields = root.Entries["model"].Value as YamlMappingNode;
            Mark MarkOf(string key) =>
                modelFields is not null && modelFields.Children.TryGetValue(new YamlScalarNode(key), out var v) ? v.Start : root.Node.Start;

            var columns = data.Columns.ToList();
            var labelIndex = columns.FindIndex(c => c.Name == model.Label);
            if (labelIndex < 0)
            {
                Error(MarkOf("label"), $"'model.label' '{model.Label}' is not a column in 'data.columns'");
            }
            else
            {
                var label = columns[labelIndex];
                if (label.Nullable)
                {
                    Error(MarkOf("label"), $"label column '{label.Name}' must not be nullable");
                }
                var fits = model.Task switch
                {
                    ModelTask.Binary => label.Type is ColumnType.Boolean or ColumnType.Category or ColumnType.Integer,
                    ModelTask.Regression => label.Type is ColumnType.Number or ColumnType.Integer,
                    _ => label.Type is ColumnType.Category or ColumnType.Integer or ColumnType.String,
                };
                if (!fits)
                {
                    Error(MarkOf("label"), $"label column '{label.Name}' is {Lower(label.Type)}, which does not fit a {Lower(model.Task)} model");
                }
                columns[labelIndex] = label with { Feature = false };
            }
            if (model.Id is not null)
            {
                var idIndex = columns.FindIndex(c => c.Name == model.Id);
                if (idIndex < 0)
                {
                    Error(MarkOf("id"), $"'model.id' '{model.Id}' is not a column in 'data.columns'");
                }
                else if (model.Id == model.Label)
                {
                    Error(MarkOf("id"), "'model.id' and 'model.label' must be different columns");
                }
                else
                {
                    var id = columns[idIndex];
                    if (id.Nullable)
                    {
                        Error(MarkOf("id"), $"id column '{id.Name}' must not be nullable");
                    }
                    columns[idIndex] = id with { Unique = true, Feature = false };
                }
            }
            return data with { Columns = columns, Label = model.Label };
        }

        // ---- typed readers -------------------------------------------------------------------------------

        private static bool IsNull(YamlNode node) =>
            node is YamlScalarNode { Style: ScalarStyle.Plain or ScalarStyle.Any, Value: null or "" or "~" or "null" or "Null" or "NULL" };

        private Fields? Map(YamlNode node, string path, IReadOnlyList<string> allowed)
        {
            if (node is not YamlMappingNode map)
            {
                Error(node.Start, path.Length == 0 ? "the workflow must be a YAML mapping of sections" : $"'{path}' must be a mapping");
                return null;
            }
            var entries = new Dictionary<string, (YamlScalarNode, YamlNode)>(StringComparer.Ordinal);
            foreach (var (keyNode, value) in map.Children)
            {
                if (keyNode is not YamlScalarNode { Value: { } key } scalar)
                {
                    Error(keyNode.Start, $"keys in '{(path.Length == 0 ? "(top level)" : path)}' must be plain names");
                    continue;
                }
                if (!allowed.Contains(key))
                {
                    var where = path.Length == 0 ? "at top level" : $"in '{path}'";
                    Error(keyNode.Start, $"unknown key '{key}' {where}; expected one of: {string.Join(", ", allowed)}");
                    continue;
                }
                entries[key] = (scalar, value);
            }
            return new Fields(map, path, entries);
        }

        private YamlScalarNode? Scalar(Fields f, string key, bool required, string expected)
        {
            if (!f.Entries.TryGetValue(key, out var entry) || IsNull(entry.Value))
            {
                if (required)
                {
                    var where = f.Path.Length == 0 ? "at top level" : $"in '{f.Path}'";
                    Error(entry.Value?.Start ?? f.Node.Start, $"missing required key '{key}' {where}");
                }
                return null;
            }
            if (entry.Value is not YamlScalarNode scalar)
            {
                Error(entry.Value.Start, $"'{f.Child(key)}' must be {expected}");
                return null;
            }
            return scalar;
        }

        private string? Str(Fields f, string key, bool required = false) => Scalar(f, key, required, "a text value")?.Value;

        private double? Num(Fields f, string key)
        {
            var s = Scalar(f, key, false, "a number");
            if (s is null)
            {
                return null;
            }
            if (!double.TryParse(s.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value))
            {
                Error(s.Start, $"'{f.Child(key)}' must be a number; got '{s.Value}'");
                return null;
            }
            return value;
        }

        private long? Long(Fields f, string key)
        {
            var s = Scalar(f, key, false, "an integer");
            if (s is null)
            {
                return null;
            }
            if (!long.TryParse(s.Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
            {
                Error(s.Start, $"'{f.Child(key)}' must be an integer; got '{s.Value}'");
                return null;
            }
            return value;
        }

        private int? Int(Fields f, string key)
        {
            var s = Scalar(f, key, false, "an integer");
            if (s is null)
            {
                return null;
            }
            if (!int.TryParse(s.Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
            {
                Error(s.Start, $"'{f.Child(key)}' must be an integer; got '{s.Value}'");
                return null;
            }
            return value;
        }

        private bool? Bool(Fields f, string key)
        {
            var s = Scalar(f, key, false, "true or false");
            if (s is null)
            {
                return null;
            }
            if (!bool.TryParse(s.Value, out var value))
            {
                Error(s.Start, $"'{f.Child(key)}' must be true or false; got '{s.Value}'");
                return null;
            }
            return value;
        }

        private TimeSpan? Duration(Fields f, string key)
        {
            var s = Scalar(f, key, false, "a duration");
            if (s is null)
            {
                return null;
            }
            if (!TryParseDuration(s.Value, out var value))
            {
                Error(s.Start, $"'{f.Child(key)}' must be a duration such as 30s, 15m, 2h, 7d or PT1H; got '{s.Value}'");
                return null;
            }
            return value;
        }

        private T? Enum<T>(Fields f, string key)
            where T : struct, Enum
        {
            var s = Scalar(f, key, false, "a text value");
            if (s is null)
            {
                return null;
            }
            foreach (var value in System.Enum.GetValues<T>())
            {
                if (string.Equals(Lower(value), s.Value, StringComparison.Ordinal))
                {
                    return value;
                }
            }
            var names = string.Join(", ", System.Enum.GetValues<T>().Select(v => Lower(v)));
            Error(s.Start, $"'{f.Child(key)}' must be one of: {names}; got '{s.Value}'");
            return null;
        }

        private YamlSequenceNode? Sequence(Fields f, string key, string expected)
        {
            if (!f.Entries.TryGetValue(key, out var entry) || IsNull(entry.Value))
            {
                return null;
            }
            if (entry.Value is not YamlSequenceNode seq)
            {
                Error(entry.Value.Start, $"'{f.Child(key)}' must be {expected}");
                return null;
            }
            return seq;
        }

        private List<string>? StrList(Fields f, string key)
        {
            var seq = Sequence(f, key, "a list of text values");
            if (seq is null)
            {
                return null;
            }
            var list = new List<string>();
            foreach (var item in seq.Children)
            {
                if (item is YamlScalarNode { Value: { Length: > 0 } v })
                {
                    list.Add(v);
                }
                else
                {
                    Error(item.Start, $"items of '{f.Child(key)}' must be non-empty text values");
                }
            }
            return list;
        }

        private List<int>? IntList(Fields f, string key)
        {
            var seq = Sequence(f, key, "a list of integers");
            if (seq is null)
            {
                return null;
            }
            var list = new List<int>();
            foreach (var item in seq.Children)
            {
                if (item is YamlScalarNode { Value: { } v } && int.TryParse(v, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n))
                {
                    list.Add(n);
                }
                else
                {
                    Error(item.Start, $"items of '{f.Child(key)}' must be integers");
                    return null;
                }
            }
            return list;
        }

        private YamlMappingNode? RawMap(Fields f, string key)
        {
            if (!f.Entries.TryGetValue(key, out var entry) || IsNull(entry.Value))
            {
                return null;
            }
            if (entry.Value is not YamlMappingNode map)
            {
                Error(entry.Value.Start, $"'{f.Child(key)}' must be a mapping");
                return null;
            }
            return map;
        }

        private Dictionary<string, string>? StrMap(Fields f, string key)
        {
            var map = RawMap(f, key);
            if (map is null)
            {
                return null;
            }
            var result = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (k, v) in map.Children)
            {
                if (k is YamlScalarNode { Value: { } name } && v is YamlScalarNode { Value: { } text })
                {
                    result[name] = text;
                }
                else
                {
                    Error(v.Start, $"entries of '{f.Child(key)}' must be 'name: text'");
                }
            }
            return result;
        }

        private Dictionary<string, double>? NumMap(Fields f, string key)
        {
            var map = RawMap(f, key);
            if (map is null)
            {
                return null;
            }
            var result = new Dictionary<string, double>(StringComparer.Ordinal);
            foreach (var (k, v) in map.Children)
            {
                if (k is YamlScalarNode { Value: { } name } && v is YamlScalarNode { Value: { } text }
                    && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number))
                {
                    result[name] = number;
                }
                else
                {
                    var name2 = (k as YamlScalarNode)?.Value ?? "?";
                    Error(v.Start, $"'{f.Child(key)}.{name2}' must be a number; got '{(v as YamlScalarNode)?.Value}'");
                }
            }
            return result;
        }

        private static bool IsSegmentName(string s) =>
            s.Length is > 0 and <= 63 && char.IsAsciiLetter(s[0]) && s.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-');

        private static bool IsSlug(string s) =>
            s.Length is > 0 and <= 63 && char.IsAsciiLetterOrDigit(s[0]) && char.IsAsciiLetterOrDigit(s[^1])
            && s.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-');

        private static string Fmt(double value) => value.ToString("R", CultureInfo.InvariantCulture);
    }

    private static string Lower<T>(T value)
        where T : struct, Enum => value.ToString().ToLowerInvariant();
}
