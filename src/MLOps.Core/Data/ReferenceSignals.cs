using System.Globalization;
using System.IO.Pipelines;
using System.Runtime.InteropServices;
using System.Text;
using MLOps.Core.Drift;
using MLOps.Core.Workflows;
using nietras.SeparatedValues;

namespace MLOps.Core.Data;

/// <summary>
/// Signals of a dataset against a reference — the profile of the data the production version was trained on — added
/// to a validation report after the contract checks, in a second streaming pass over the file (the validator's pass
/// keeps no category counts). Per category and boolean column: the unseen-category rate (share of non-null values
/// whose category the reference never saw) and the category shift (Jensen–Shannon distance, base 2, over the union
/// of categories, with PSI beside it). Per number and integer column: Azure ML's out-of-bounds rate against the
/// reference's [min, max] (share of non-null values outside it). Only columns the reference profiles are compared:
/// features, not the label, the id or <c>feature: false</c> columns.
/// </summary>
/// <remarks>
/// Bounds come from the contract (<c>max_unseen_category_rate</c>, <c>max_category_shift</c>,
/// <c>max_out_of_reference_rate</c>, per column or as defaults in <c>data</c>): set and exceeded, the dataset fails
/// with an issue (rules <c>unseen_category</c>, <c>category_shift</c>, <c>reference_bounds</c>). Unset, the values are
/// reported and, as in Azure ML monitoring and Evidently, a warning is raised for any unseen category (Azure ML's
/// default threshold 0) and for a shift of <see cref="DefaultShiftWarning"/> or more; the reference-range rate is only
/// reported. Booleans are compared as <c>true</c>/<c>false</c> whatever their spelling. A file the validator could not
/// read (a <c>malformed</c> issue) or without rows is left as it is.
/// </remarks>
public static class ReferenceSignals
{
    /// <summary>Jensen–Shannon distance at or above which an unbounded category shift is a warning (Azure ML's and
    /// Evidently's default drift threshold for categorical features).</summary>
    public const double DefaultShiftWarning = 0.1;

    /// <summary>Most distinct categories counted per column; further new categories share one bucket (they are all
    /// unseen by then, so the unseen rate stays exact and the shift is a lower bound).</summary>
    public const int MaxCategoriesPerColumn = 10_000;

    private const string OtherBucket = "\u0000other";
    private const int MaxUnseenExamples = 10;

    /// <summary>Reads <paramref name="content"/> (the same bytes the report was made from, from the start) and returns
    /// the report with the reference signals, issues and warnings added. <paramref name="referenceName"/> says what the
    /// reference is (e.g. <c>credit-risk v3 (production)</c>). The stream is left open.</summary>
    public static async Task<DatasetValidationReport> ApplyAsync(DatasetValidationReport report, Stream content, DataContract contract,
        DatasetProfile reference, string referenceName, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(content);
        ArgumentNullException.ThrowIfNull(contract);
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(referenceName);
        if (report.Rows == 0 || report.Issues.Any(i => i.Rule == "malformed"))
        {
            return report with { Reference = referenceName, ReferenceRows = reference.Rows };
        }

        var targets = Targets(report, contract, reference);
        if (targets.Count == 0)
        {
            return report with { Reference = referenceName, ReferenceRows = reference.Rows };
        }

        if (report.Format == DatasetFormat.Parquet)
        {
            await ReadParquetAsync(content, targets, cancellationToken);
        }
        else
        {
            await Task.Run(() => ReadCsv(content, targets, cancellationToken), cancellationToken);
        }
        return Apply(report, contract, targets, referenceName, reference.Rows);
    }

    private static List<Target> Targets(DatasetValidationReport report, DataContract contract, DatasetProfile reference)
    {
        var targets = new List<Target>();
        foreach (var spec in contract.Columns)
        {
            if (!report.Header.Contains(spec.Name, StringComparer.Ordinal))
            {
                continue;
            }
            var feature = reference.Features.FirstOrDefault(f => string.Equals(f.Name, spec.Name, StringComparison.Ordinal));
            if (feature is null)
            {
                continue;
            }
            if (spec.Type is ColumnType.Category or ColumnType.Boolean && feature.Kind == FeatureKind.Categorical)
            {
                var counts = new Dictionary<string, long>(StringComparer.Ordinal);
                foreach (var (key, count) in feature.Counts)
                {
                    if (count <= 0) continue;
                    var canonical = spec.Type == ColumnType.Boolean ? CanonicalBoolean(key) ?? key : key;
                    counts[canonical] = counts.GetValueOrDefault(canonical) + count;
                }
                if (counts.Count > 0)
                {
                    targets.Add(new Target(spec, counts, double.NaN, double.NaN));
                }
            }
            else if (spec.Type is ColumnType.Number or ColumnType.Integer && feature.Kind == FeatureKind.Numeric)
            {
                double min = feature.Min ?? (feature.Values.Length > 0 ? feature.Values.Min() : double.NaN);
                double max = feature.Max ?? (feature.Values.Length > 0 ? feature.Values.Max() : double.NaN);
                if (double.IsFinite(min) && double.IsFinite(max))
                {
                    targets.Add(new Target(spec, null, min, max));
                }
            }
        }
        return targets;
    }

    private static void ReadCsv(Stream content, List<Target> targets, CancellationToken cancellationToken)
    {
        using var text = new StreamReader(content, new UTF8Encoding(false), detectEncodingFromByteOrderMarks: true, bufferSize: 1 << 16, leaveOpen: true);
        using var reader = Sep.New(',')
            .Reader(o => o with { HasHeader = false, DisableColCountCheck = true, Unescape = true, CultureInfo = CultureInfo.InvariantCulture })
            .From(text);
        int[]? positions = null;
        foreach (var row in reader)
        {
            if (positions is null)
            {
                positions = new int[targets.Count];
                var names = new List<string>(row.ColCount);
                for (int i = 0; i < row.ColCount; i++)
                {
                    names.Add(row[i].ToString().Trim().TrimStart('\uFEFF'));
                }
                for (int t = 0; t < targets.Count; t++)
                {
                    positions[t] = names.IndexOf(targets[t].Spec.Name);
                }
                continue;
            }
            cancellationToken.ThrowIfCancellationRequested();
            for (int t = 0; t < targets.Count; t++)
            {
                int at = positions[t];
                if (at >= 0 && at < row.ColCount)
                {
                    targets[t].Add(row[at].Span);
                }
            }
        }
    }

    /// <summary>Parquet is converted to CSV on the fly (one row group at a time) and read like a CSV. A forward-only
    /// stream is spooled to a temporary file first: Parquet's footer is at the end.</summary>
    private static async Task ReadParquetAsync(Stream content, List<Target> targets, CancellationToken cancellationToken)
    {
        FileStream? spool = null;
        try
        {
            var source = content;
            if (!content.CanSeek)
            {
                spool = new FileStream(Path.GetTempFileName(), FileMode.Create, FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.DeleteOnClose | FileOptions.Asynchronous);
                await content.CopyToAsync(spool, cancellationToken);
                spool.Position = 0;
                source = spool;
            }
            var pipe = new Pipe();
            var produce = Task.Run(async () =>
            {
                try
                {
                    await using (var writer = new StreamWriter(pipe.Writer.AsStream(leaveOpen: true), new UTF8Encoding(false), 1 << 16))
                    {
                        await ParquetConversion.ParquetToCsvAsync(source, writer, cancellationToken);
                    }
                    await pipe.Writer.CompleteAsync();
                }
                catch (Exception ex)
                {
                    await pipe.Writer.CompleteAsync(ex);
                    throw;
                }
            }, cancellationToken);
            var consume = Task.Run(() =>
            {
                using var csv = pipe.Reader.AsStream();
                ReadCsv(csv, targets, cancellationToken);
            }, cancellationToken);
            await Task.WhenAll(produce, consume);
        }
        finally
        {
            if (spool is not null)
            {
                await spool.DisposeAsync();
            }
        }
    }

    private static DatasetValidationReport Apply(DatasetValidationReport report, DataContract contract, List<Target> targets, string referenceName, long referenceRows)
    {
        var issues = new List<ValidationIssue>();
        var warnings = new List<string>();
        var columns = report.Columns.ToList();
        foreach (var target in targets)
        {
            var spec = target.Spec;
            var index = columns.FindIndex(c => string.Equals(c.Name, spec.Name, StringComparison.Ordinal));
            if (index < 0)
            {
                continue;
            }
            var where = $"{report.File}, column '{spec.Name}'";
            if (target.Counts is { } referenceCounts)
            {
                var current = target.CurrentCounts;
                long unseen = 0;
                var examples = new List<string>();
                foreach (var (key, count) in current)
                {
                    if (referenceCounts.ContainsKey(key))
                    {
                        continue;
                    }
                    unseen += count;
                    if (key != OtherBucket && examples.Count < MaxUnseenExamples)
                    {
                        examples.Add(key);
                    }
                }
                examples.Sort(StringComparer.Ordinal);
                double? unseenRate = target.NonNull == 0 ? null : (double)unseen / target.NonNull;
                double? shift = null, psi = null;
                if (target.NonNull > 0)
                {
                    shift = Finite(DriftStatistics.JensenShannonCategorical(referenceCounts, current));
                    psi = Finite(DriftAnalyzer.CategoricalPsi(referenceCounts, current));
                }
                columns[index] = columns[index] with
                {
                    UnseenCategoryValues = unseen,
                    UnseenCategoryRate = unseenRate,
                    UnseenCategories = examples,
                    CategoryShift = shift,
                    CategoryPsi = psi,
                };

                var maxUnseen = spec.MaxUnseenCategoryRate ?? contract.MaxUnseenCategoryRate;
                var unseenText = unseenRate is { } u
                    ? $"{R(u)} of {target.NonNull} non-null values ({unseen}) have a category the reference never saw ({string.Join(", ", examples.Select(e => $"'{Clip(e)}'"))}{(examples.Count < DistinctUnseen(current, referenceCounts) ? ", …" : "")})"
                    : "";
                if (unseenRate is { } rate && maxUnseen is { } bound && rate > bound)
                {
                    issues.Add(new ValidationIssue(0, spec.Name, "unseen_category", R(rate), $"{where}: {unseenText}, above max_unseen_category_rate {R(bound)}"));
                }
                else if (unseenRate > 0 && maxUnseen is null)
                {
                    warnings.Add($"{where}: {unseenText}");
                }

                var maxShift = spec.MaxCategoryShift ?? contract.MaxCategoryShift;
                if (shift is { } js)
                {
                    var shiftText = $"category shift (Jensen–Shannon distance) {R(js)}, PSI {(psi is { } p ? R(p) : "n/a")} against the reference";
                    if (maxShift is { } shiftBound && js > shiftBound)
                    {
                        issues.Add(new ValidationIssue(0, spec.Name, "category_shift", R(js), $"{where}: {shiftText}, above max_category_shift {R(shiftBound)}"));
                    }
                    else if (maxShift is null && js >= DefaultShiftWarning)
                    {
                        warnings.Add($"{where}: {shiftText} (at or above {R(DefaultShiftWarning)}; set max_category_shift to bound it)");
                    }
                }
            }
            else
            {
                double? rate = target.NonNull == 0 ? null : (double)target.Outside / target.NonNull;
                columns[index] = columns[index] with
                {
                    ReferenceMin = target.Min,
                    ReferenceMax = target.Max,
                    OutOfReferenceBounds = target.Outside,
                    OutOfReferenceBoundsRate = rate,
                };
                var maxOutside = spec.MaxOutOfReferenceRate ?? contract.MaxOutOfReferenceRate;
                if (rate is { } r && maxOutside is { } bound && r > bound)
                {
                    issues.Add(new ValidationIssue(0, spec.Name, "reference_bounds", R(r),
                        $"{where}: {R(r)} of {target.NonNull} non-null values ({target.Outside}) are outside the reference range [{R(target.Min)}, {R(target.Max)}], above max_out_of_reference_rate {R(bound)}"));
                }
            }
        }

        var isValid = report.IsValid && issues.Count == 0;
        var summary = report.Summary;
        if (issues.Count > 0)
        {
            var rules = string.Join(", ", issues.GroupBy(i => i.Rule).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key} {g.Count()}"));
            summary = report.IsValid
                ? $"{report.File}: invalid; {issues.Count} issue(s) against the reference {referenceName} ({rules}) in {report.Rows} rows, {report.Bytes} bytes"
                : $"{report.Summary}; and {issues.Count} issue(s) against the reference {referenceName} ({rules})";
        }
        return report with
        {
            IsValid = isValid,
            Columns = columns,
            Issues = [.. report.Issues, .. issues],
            IssueCount = report.IssueCount + issues.Count,
            Warnings = [.. report.Warnings, .. warnings],
            Summary = summary,
            Reference = referenceName,
            ReferenceRows = referenceRows,
        };
    }

    private static int DistinctUnseen(Dictionary<string, long> current, Dictionary<string, long> reference) =>
        current.Keys.Count(k => k != OtherBucket && !reference.ContainsKey(k)) + (current.ContainsKey(OtherBucket) ? 1 : 0);

    private static double? Finite(double value) => double.IsFinite(value) ? value : null;

    private static string R(double value) => value.ToString("0.####", CultureInfo.InvariantCulture);

    private static string Clip(string value) => value.Length <= 60 ? value : string.Concat(value.AsSpan(0, 60), "…");

    private static string? CanonicalBoolean(ReadOnlySpan<char> v) => v.Length switch
    {
        1 when v[0] == '1' => "true",
        1 when v[0] == '0' => "false",
        2 when v.Equals("no", StringComparison.OrdinalIgnoreCase) => "false",
        3 when v.Equals("yes", StringComparison.OrdinalIgnoreCase) => "true",
        4 when v.Equals("true", StringComparison.OrdinalIgnoreCase) => "true",
        5 when v.Equals("false", StringComparison.OrdinalIgnoreCase) => "false",
        _ => null,
    };

    /// <summary>One compared column: the reference's category counts (categorical) or range (numeric), and what the
    /// pass counts of the dataset.</summary>
    private sealed class Target
    {
        private readonly Dictionary<string, long>.AlternateLookup<ReadOnlySpan<char>> _lookup;

        public Target(ColumnSpec spec, Dictionary<string, long>? counts, double min, double max)
        {
            Spec = spec;
            Counts = counts;
            Min = min;
            Max = max;
            _lookup = CurrentCounts.GetAlternateLookup<ReadOnlySpan<char>>();
        }

        public ColumnSpec Spec { get; }
        public Dictionary<string, long>? Counts { get; }
        public double Min { get; }
        public double Max { get; }
        public Dictionary<string, long> CurrentCounts { get; } = new(StringComparer.Ordinal);
        public long NonNull { get; private set; }
        public long Outside { get; private set; }

        /// <summary>Counts one cell. Empty cells are nulls; cells that fail their type (already reported by the
        /// validator) are skipped.</summary>
        public void Add(ReadOnlySpan<char> value)
        {
            if (value.IsEmpty)
            {
                return;
            }
            if (Counts is null)
            {
                if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) || !double.IsFinite(number))
                {
                    return;
                }
                NonNull++;
                if (number < Min || number > Max)
                {
                    Outside++;
                }
                return;
            }
            if (Spec.Type == ColumnType.Boolean)
            {
                if (CanonicalBoolean(value) is not { } canonical)
                {
                    return;
                }
                value = canonical;
            }
            NonNull++;
            ref long slot = ref CollectionsMarshal.GetValueRefOrNullRef(_lookup, value);
            if (!System.Runtime.CompilerServices.Unsafe.IsNullRef(ref slot))
            {
                slot++;
                return;
            }
            var key = CurrentCounts.Count < MaxCategoriesPerColumn ? value.ToString() : OtherBucket;
            CurrentCounts[key] = CurrentCounts.GetValueOrDefault(key) + 1;
        }
    }
}
