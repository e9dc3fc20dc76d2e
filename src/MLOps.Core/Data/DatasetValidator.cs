using System.Globalization;
using System.Text;
using System.Threading.Channels;
using MLOps.Core.Workflows;
using nietras.SeparatedValues;

namespace MLOps.Core.Data;

/// <summary>Streams a CSV through a data contract with Sep, never loading the file.</summary>
/// <remarks>
/// The bytes are hashed (SHA-256) and counted while they are read. The header is read as a row of its own so
/// duplicate names and a BOM are handled here, not by the parser. Every problem becomes a
/// <see cref="ValidationIssue"/>; malformed input (not CSV, wrong field counts, runaway rows) is reported, never
/// thrown. Cells are checked on spans: the only per-cell allocations are for unique and distinct values.
/// </remarks>
public static partial class DatasetValidator
{
    /// <summary>Validates <paramref name="csv"/> (UTF-8, comma-separated, header first) against <paramref name="contract"/>.
    /// The stream is read to its end and left open.</summary>
    public static async Task<DatasetValidationReport> ValidateAsync(
        Stream csv, string fileName, DataContract contract, ValidationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(csv);
        ArgumentNullException.ThrowIfNull(contract);
        options ??= new ValidationOptions();
        using var hashing = new HashingReadStream(csv, Math.Max(options.MaxRowBytes, 1024), hashInBackground: true);
        long expectedBytes = 0;
        try
        {
            expectedBytes = csv.CanSeek ? csv.Length - csv.Position : 0;
        }
        catch (NotSupportedException)
        {
        }
        var state = new ValidationRun(fileName, contract, options, expectedBytes);
        try
        {
            try
            {
                using var text = new StreamReader(hashing, new UTF8Encoding(false), detectEncodingFromByteOrderMarks: true, bufferSize: 1 << 16, leaveOpen: true);
                using var reader = await Sep.New(',')
                    .Reader(o => o with { HasHeader = false, DisableColCountCheck = true, Unescape = true, CultureInfo = CultureInfo.InvariantCulture })
                    .FromAsync(text, cancellationToken);
                while (await reader.MoveNextAsync(cancellationToken))
                {
                    if (!state.Accept(reader.Current))
                    {
                        break;
                    }
                    hashing.MarkRow();
                    if (state.NumberBatchFull)
                    {
                        await state.SendNumberBatchAsync(cancellationToken);
                    }
                }
            }
            catch (RowTooLongException)
            {
                state.Malformed(state.Rows + 1, $"row {state.Rows + 1} (or a field in it) is longer than {options.MaxRowBytes} bytes, perhaps an unterminated quote; reading stopped");
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                state.Malformed(state.Rows + 1, $"row {state.Rows + 1} could not be read as CSV ({ex.Message}); reading stopped");
            }
            await state.CompleteNumbersAsync(cancellationToken);
        }
        finally
        {
            state.StopNumbers();
        }
        await hashing.DrainAsync(cancellationToken);
        return state.Finish(await hashing.HashHexAsync(), hashing.BytesRead);
    }

    /// <summary>Per-column state while streaming.</summary>
    private sealed class ColumnState(ColumnSpec spec, int contractIndex)
    {
        public const int DistinctCap = 1000;

        public ColumnSpec Spec { get; } = spec;
        public bool IsNumber { get; } = spec.Type == ColumnType.Number;
        /// <summary>Index of the column in the header (orders the issues of one row).</summary>
        public int Position { get; set; } = -1;
        /// <summary>The contract's bounds, ±∞ when absent.</summary>
        public double MinBound { get; } = spec.Min ?? double.NegativeInfinity;
        public double MaxBound { get; } = spec.Max ?? double.PositiveInfinity;
        public int ContractIndex { get; } = contractIndex;
        public bool Present { get; set; }
        /// <summary>Part of the row's identity for the duplicate-row check (present and not unique).</summary>
        public bool ComparedForDuplicates { get; set; }
        /// <summary>The duplicate-row key of the cell just checked (see <see cref="DuplicateRowTracker"/>), set by every
        /// path that checks a cell.</summary>
        public ulong Key;
        public bool IsLabel { get; init; }
        public long Nulls;
        public long TypeErrors;
        public long OutOfBounds;
        public long NumericCount;
        public double Sum;
        public double Min = double.PositiveInfinity;
        public double Max = double.NegativeInfinity;

        /// <summary>Allowed values of a category column → index into <see cref="CategorySeen"/>.</summary>
        public Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>>? Categories { get; init; }
        public bool[] CategorySeen { get; init; } = [];
        /// <summary>Allowed values in declaration order; a few are searched linearly (faster than hashing).</summary>
        public string[] CategoryValues { get; init; } = [];

        public bool TryGetCategory(ReadOnlySpan<char> value, out int index)
        {
            var values = CategoryValues;
            if (values.Length <= 8)
            {
                for (index = 0; index < values.Length; index++)
                {
                    if (value.SequenceEqual(values[index]))
                    {
                        return true;
                    }
                }
                index = -1;
                return false;
            }
            return Categories!.Value.TryGetValue(value, out index);
        }
        /// <summary>Values seen so far in a unique column.</summary>
        public SpanSet? Seen { get; init; }
        /// <summary>Distinct values of an open category or string column (up to <see cref="DistinctCap"/>).</summary>
        public SpanSet? Distinct { get; init; }
        public bool DistinctOverflow;
        public bool SawTrue;
        public bool SawFalse;

        public int? DistinctCount => Spec.Type switch
        {
            ColumnType.Boolean => (SawTrue ? 1 : 0) + (SawFalse ? 1 : 0),
            ColumnType.Category when Categories is not null => CategorySeen.Count(seen => seen),
            ColumnType.Category or ColumnType.String when !DistinctOverflow => Distinct?.Count,
            _ => null,
        };
    }

    private sealed partial class ValidationRun
    {
        private readonly string _file;
        private readonly DataContract _contract;
        private readonly ValidationOptions _options;
        private readonly List<((long Row, int Position, long Sequence) Key, ValidationIssue Issue)> _kept = [];
        private readonly Lock _issueLock = new();
        private int _largestKept;
        private bool _finishing;
        private NumberPipeline? _numbers;
        private readonly Dictionary<string, long> _ruleCounts = new(StringComparer.Ordinal);
        private readonly ColumnState[] _columns;
        private ColumnState?[] _byPosition = [];
        private List<string> _header = [];
        private bool _sawHeader;
        private long _issueCount;
        /// <summary>Finds exact duplicate rows; null when no column is compared.</summary>
        private DuplicateRowTracker? _duplicates;
        /// <summary>Compared Number columns in file order: their keys are chained after the other columns' (so the
        /// chain is the same whether numbers are checked on this thread or the pipeline's).</summary>
        private ColumnState[] _numberKeyColumns = [];

        private readonly long _expectedBytes;

        public ValidationRun(string file, DataContract contract, ValidationOptions options, long expectedBytes)
        {
            _expectedBytes = expectedBytes;
            _file = file;
            _contract = contract;
            _options = options;
            _columns = new ColumnState[contract.Columns.Count];
            for (var i = 0; i < _columns.Length; i++)
            {
                var spec = contract.Columns[i];
                _columns[i] = new ColumnState(spec, i)
                {
                    IsLabel = contract.Label is not null && spec.Name == contract.Label,
                    Categories = spec is { Type: ColumnType.Category, Values: { } values }
                        ? values.Distinct(StringComparer.Ordinal).Select((v, index) => (v, index))
                            .ToDictionary(p => p.v, p => p.index, StringComparer.Ordinal).GetAlternateLookup<ReadOnlySpan<char>>()
                        : null,
                    CategorySeen = new bool[spec.Values?.Distinct(StringComparer.Ordinal).Count() ?? 0],
                    CategoryValues = spec.Values?.Distinct(StringComparer.Ordinal).ToArray() ?? [],
                    Seen = spec.Unique ? new SpanSet() : null,
                    Distinct = spec.Type is ColumnType.Category or ColumnType.String && spec.Values is null ? new SpanSet() : null,
                };
            }
        }

        /// <summary>The duplicate-row tracker, when rows are compared.</summary>
        public DuplicateRowTracker? Duplicates => _duplicates;

        /// <summary>Data rows read (rows after the header).</summary>
        public long Rows { get; private set; }

        /// <summary>Takes one CSV row (the first is the header); false stops reading.</summary>
        public bool Accept(SepReader.Row row)
        {
            if (!_sawHeader)
            {
                _sawHeader = true;
                return ReadHeader(row);
            }
            Rows++;
            var rowNumber = Rows;
            if (rowNumber == 1 && _expectedBytes > 0)
            {
                PresizeUniqueSets(row);
            }
            if (row.ColCount != _header.Count)
            {
                var what = row.ColCount == 1 && row.Span.IsWhiteSpace() ? "is empty" : $"has {row.ColCount} fields";
                Malformed(rowNumber, $"row {rowNumber} (line {row.LineNumberFrom}) {what}; the header has {_header.Count}");
                return true;
            }
            var pipelined = _numbers is not null;
            if (pipelined && row.Span.Length > _options.MaxRowBytes)
            {
                // A field may be too long: find it before any cell of the row is queued.
                for (var i = 0; i < _byPosition.Length; i++)
                {
                    if (_byPosition[i] is { } column && row[i].Span.Length > _options.MaxRowBytes)
                    {
                        Malformed(rowNumber, $"row {rowNumber}, column '{column.Spec.Name}': the field is longer than {_options.MaxRowBytes} characters; reading stopped");
                        return false;
                    }
                }
            }
            if (pipelined)
            {
                _numbers!.Add(row, rowNumber);
            }
            var duplicates = _duplicates;
            var hash = DuplicateRowTracker.Start;
            for (var i = 0; i < _byPosition.Length; i++)
            {
                var column = _byPosition[i];
                if (column is null || (pipelined && column.IsNumber))
                {
                    continue;
                }
                var span = row[i].Span;
                if (span.Length > _options.MaxRowBytes)
                {
                    Malformed(rowNumber, $"row {rowNumber}, column '{column.Spec.Name}': the field is longer than {_options.MaxRowBytes} characters; reading stopped");
                    return false;
                }
                if (column.IsNumber)
                {
                    NumberCell(column, span, rowNumber);
                    continue;
                }
                CheckCell(column, span.Trim(), rowNumber);
                if (duplicates is not null && column.ComparedForDuplicates)
                {
                    hash = DuplicateRowTracker.Mix(hash, column.Key);
                }
            }
            if (duplicates is not null)
            {
                if (pipelined)
                {
                    _numbers!.SetRowHash(hash);
                }
                else
                {
                    foreach (var column in _numberKeyColumns)
                    {
                        hash = DuplicateRowTracker.Mix(hash, column.Key);
                    }
                    duplicates.EndRow(hash, rowNumber);
                }
            }
            return true;
        }

        /// <summary>A cell of a Number column. Fast paths for the common case: a plain decimal (<see cref="FastDouble"/>),
        /// then any well-formed finite number; the rest goes through the general checks.</summary>
        public void NumberCell(ColumnState column, ReadOnlySpan<char> span, long rowNumber)
        {
            if (FastDouble.TryParse(span, out var number, out var exact))
            {
                FastNumeric(column, rowNumber, span, number, exact);
                return;
            }
            if (span.Length > 0 && double.TryParse(span, NumberStyles.Float, CultureInfo.InvariantCulture, out number) && double.IsFinite(number))
            {
                Numeric(column, rowNumber, span, number);
                return;
            }
            CheckCell(column, span.Trim(), rowNumber);
        }

        /// <summary>True when the queued Number cells should go to the checking thread.</summary>
        public bool NumberBatchFull => _numbers is { Full: true };

        public ValueTask SendNumberBatchAsync(CancellationToken cancellationToken) => _numbers!.SendAsync(cancellationToken);

        /// <summary>Sends the last Number cells and waits until every queued cell is checked.</summary>
        public async Task CompleteNumbersAsync(CancellationToken cancellationToken)
        {
            if (_numbers is not null)
            {
                await _numbers.CompleteAsync(cancellationToken);
            }
        }

        /// <summary>Lets the checking thread end (after an error or a cancellation); checks nothing more.</summary>
        public void StopNumbers() => _numbers?.Stop();

        /// <summary>Estimates the row count from the stream length and the first row, and sizes the unique sets.</summary>
        private void PresizeUniqueSets(SepReader.Row first)
        {
            var estimatedRows = _expectedBytes / Math.Max(first.Span.Length + 1, 1);
            _duplicates?.EnsureCapacity(Math.Min(estimatedRows + (estimatedRows / 8), 1 << 20));
            for (var i = 0; i < _byPosition.Length && i < first.ColCount; i++)
            {
                if (_byPosition[i] is { Seen: { } seen })
                {
                    seen.EnsureCapacity((int)Math.Min(estimatedRows + estimatedRows / 8, 1 << 26), first[i].Span.Length);
                }
            }
        }

        private bool ReadHeader(SepReader.Row row)
        {
            var names = new List<string>(row.ColCount);
            for (var i = 0; i < row.ColCount; i++)
            {
                var name = row[i].Span.Trim().ToString();
                if (i == 0)
                {
                    name = name.TrimStart('\uFEFF');
                }
                names.Add(name);
            }
            _header = names;
            if (names.Any(n => n.Any(c => char.IsControl(c) && c is not '\t')))
            {
                Malformed(0, "the header contains binary or control characters; the file does not look like CSV text");
                return false;
            }
            if (names.Count == 1 && names[0].Length == 0)
            {
                Malformed(0, "the first line is empty; expected a header naming the columns");
                return false;
            }

            MapHeader(names);
            var numberColumns = _byPosition.OfType<ColumnState>().Where(c => c.IsNumber).ToArray();
            _numberKeyColumns = numberColumns.Where(c => c.ComparedForDuplicates).ToArray();
            if (_options.CheckNumbersInParallel && numberColumns.Length > 0 && Environment.ProcessorCount > 1)
            {
                _numbers = new NumberPipeline(this, numberColumns);
            }
            return true;
        }

        /// <summary>Maps header names to contract columns: duplicate, extra and missing columns become issues.</summary>
        private void MapHeader(List<string> names)
        {
            _header = names;
            _byPosition = new ColumnState?[names.Count];
            var byName = _columns.ToDictionary(c => c.Spec.Name, StringComparer.Ordinal);
            var firstPosition = new Dictionary<string, int>(StringComparer.Ordinal);
            for (var i = 0; i < names.Count; i++)
            {
                var name = names[i];
                if (firstPosition.TryGetValue(name, out var first))
                {
                    Issue(0, name, "duplicate_column", name, $"{_file}: column '{name}' appears more than once in the header (positions {first + 1} and {i + 1}); only the first is checked");
                    continue;
                }
                firstPosition[name] = i;
                if (byName.TryGetValue(name, out var column))
                {
                    column.Present = true;
                    column.Position = i;
                    _byPosition[i] = column;
                }
                else if (!_contract.AllowExtraColumns)
                {
                    Issue(0, name, "extra_column", name, $"{_file}: column '{name}' is not in the data contract (set allow_extra_columns to accept extra columns)");
                }
            }
            foreach (var column in _columns.Where(c => !c.Present))
            {
                Issue(0, column.Spec.Name, "missing_column", null, $"{_file}: column '{column.Spec.Name}' is missing from the header");
            }
            foreach (var column in _columns)
            {
                column.ComparedForDuplicates = column.Present && !column.Spec.Unique;
            }
            if (_options.MaxDuplicateTrackedRows > 0 && _columns.Any(c => c.ComparedForDuplicates))
            {
                _duplicates = new DuplicateRowTracker(_options.MaxDuplicateTrackedRows, Math.Max(_options.MaxDuplicateExamples, 0));
            }
        }

        private void CheckCell(ColumnState column, ReadOnlySpan<char> value, long row)
        {
            if (value.IsEmpty)
            {
                column.Key = DuplicateRowTracker.NullKey;
                column.Nulls++;
                if (column.IsLabel)
                {
                    Issue(row, column, "null", value, "the label is empty");
                }
                else if (!column.Spec.Nullable)
                {
                    Issue(row, column, "null", value, "value is empty but the column is not nullable");
                }
                return;
            }

            switch (column.Spec.Type)
            {
                case ColumnType.Number:
                    if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
                    {
                        TypeError(column, row, value, "is not a number");
                        return;
                    }
                    if (!double.IsFinite(number))
                    {
                        TypeError(column, row, value, "is not a finite number");
                        return;
                    }
                    Numeric(column, row, value, number);
                    return;

                case ColumnType.Integer:
                    if (!TryParseInteger(value, out var integer))
                    {
                        TypeError(column, row, value, "is not an integer");
                        return;
                    }
                    Numeric(column, row, value, integer);
                    return;

                case ColumnType.Boolean:
                    switch (ParseBoolean(value))
                    {
                        case true:
                            column.Key = 1;
                            column.SawTrue = true;
                            return;
                        case false:
                            column.Key = 0;
                            column.SawFalse = true;
                            return;
                        default:
                            TypeError(column, row, value, "is not a boolean (true/false, 1/0, yes/no)");
                            return;
                    }

                case ColumnType.Category:
                    if (column.Categories is not null)
                    {
                        if (!column.TryGetCategory(value, out var index))
                        {
                            SetTextKey(column, value);
                            column.OutOfBounds++;
                            Issue(row, column, "category", value, $"value '{Clip(value)}' is not one of: {string.Join(", ", column.Spec.Values!)}");
                            return;
                        }
                        column.Key = (ulong)index;
                        column.CategorySeen[index] = true;
                    }
                    else
                    {
                        SetTextKey(column, value);
                        AddDistinct(column, value);
                    }
                    CheckUnique(column, row, value);
                    return;

                case ColumnType.Timestamp:
                    SetTextKey(column, value);
                    if (!IsIsoTimestamp(value))
                    {
                        TypeError(column, row, value, "is not an ISO-8601 timestamp");
                        return;
                    }
                    CheckUnique(column, row, value);
                    return;

                default:
                    SetTextKey(column, value);
                    AddDistinct(column, value);
                    CheckUnique(column, row, value);
                    return;
            }
        }

        /// <summary>A number from <see cref="FastDouble"/>. An inexact one (17–19 digits, within a few ulps) is used as it
        /// is for the count and the sum (the mean), and parsed again exactly when it could be a new minimum or maximum or
        /// lie on the wrong side of a bound, so ranges, minimum and maximum are always those of the exact values.</summary>
        private void FastNumeric(ColumnState column, long row, ReadOnlySpan<char> text, double value, bool exact)
        {
            if (!exact)
            {
                var tolerance = Math.Abs(value) * FastDouble.InexactRelativeError;
                var low = value - tolerance;
                var high = value + tolerance;
                if (low > column.Min && high < column.Max && low >= column.MinBound && high <= column.MaxBound && column.Seen is null)
                {
                    column.Key = DuplicateRowTracker.NumberKey(value);
                    column.NumericCount++;
                    column.Sum += value;
                    return;
                }
                value = double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
            }
            Numeric(column, row, text, value);
        }

        private void Numeric(ColumnState column, long row, ReadOnlySpan<char> text, double value)
        {
            column.Key = DuplicateRowTracker.NumberKey(value);
            column.NumericCount++;
            column.Sum += value;
            if (value < column.Min)
            {
                column.Min = value;
            }
            if (value > column.Max)
            {
                column.Max = value;
            }
            if (value < column.MinBound)
            {
                column.OutOfBounds++;
                Issue(row, column, "range", text, $"value {Clip(text)} is below the minimum {Fmt(column.MinBound)}");
            }
            else if (value > column.MaxBound)
            {
                column.OutOfBounds++;
                Issue(row, column, "range", text, $"value {Clip(text)} is above the maximum {Fmt(column.MaxBound)}");
            }
            CheckUnique(column, row, text);
        }

        private void CheckUnique(ColumnState column, long row, ReadOnlySpan<char> value)
        {
            if (column.Seen is { } seen && !seen.TryAdd(value, row, out var firstRow))
            {
                Issue(row, column, "unique", value, $"value '{Clip(value)}' also appears in row {firstRow}");
            }
        }

        private static void AddDistinct(ColumnState column, ReadOnlySpan<char> value)
        {
            if (column.Distinct is not { } distinct || column.DistinctOverflow || distinct.Contains(value))
            {
                return;
            }
            if (distinct.Count >= ColumnState.DistinctCap)
            {
                column.DistinctOverflow = true;
                return;
            }
            distinct.TryAdd(value, 0, out _);
        }

        /// <summary>A text key for the duplicate-row check, only when the column is compared (hashing costs).</summary>
        private void SetTextKey(ColumnState column, ReadOnlySpan<char> value)
        {
            if (column.ComparedForDuplicates && _duplicates is not null)
            {
                column.Key = DuplicateRowTracker.TextKey(value);
            }
        }

        private void TypeError(ColumnState column, long row, ReadOnlySpan<char> value, string what)
        {
            SetTextKey(column, value);
            column.TypeErrors++;
            Issue(row, column, "type", value, $"value '{Clip(value)}' {what}");
        }

        private void Issue(long row, ColumnState column, string rule, ReadOnlySpan<char> value, string message)
        {
            // Count always; build strings only for issues that are kept.
            lock (_issueLock)
            {
                CountRule(rule);
                if (WouldKeep(row, column.Position))
                {
                    Keep(row, column.Position, new ValidationIssue(row, column.Spec.Name, rule, Clip(value), $"{_file} row {row}, column '{column.Spec.Name}': {message}"));
                }
            }
        }

        private void Issue(long row, string? column, string rule, string? value, string message)
        {
            lock (_issueLock)
            {
                CountRule(rule);
                var position = rule == "malformed" ? int.MaxValue : -1;
                if (WouldKeep(row, position))
                {
                    Keep(row, position, new ValidationIssue(row, column, rule, value, message));
                }
            }
        }

        private void CountRule(string rule)
        {
            _issueCount++;
            _ruleCounts[rule] = _ruleCounts.GetValueOrDefault(rule) + 1;
        }

        /// <summary>Issues are kept by (row, column position, arrival): the first <see cref="ValidationOptions.MaxIssues"/>
        /// in file order, even when Number columns are checked on another thread. Issues found at the end (row
        /// counts, null rates) come after every row, as they are reported after them.</summary>
        private (long Row, int Position, long Sequence) SortKey(long row, int position) =>
            (_finishing ? long.MaxValue : row, position, _issueCount);

        private bool WouldKeep(long row, int position) =>
            _kept.Count < _options.MaxIssues || (_kept.Count > 0 && SortKey(row, position).CompareTo(_kept[_largestKept].Key) < 0);

        private void Keep(long row, int position, ValidationIssue issue)
        {
            var entry = (SortKey(row, position), issue);
            if (_kept.Count < _options.MaxIssues)
            {
                _kept.Add(entry);
                if (_kept.Count == 1 || entry.Item1.CompareTo(_kept[_largestKept].Key) > 0)
                {
                    _largestKept = _kept.Count - 1;
                }
                return;
            }
            _kept[_largestKept] = entry;
            _largestKept = 0;
            for (var i = 1; i < _kept.Count; i++)
            {
                if (_kept[i].Key.CompareTo(_kept[_largestKept].Key) > 0)
                {
                    _largestKept = i;
                }
            }
        }

        public void Malformed(long row, string message) => Issue(row, null, "malformed", null, $"{_file}: {message}");

        public DatasetValidationReport Finish(string sha256, long bytes)
        {
            _finishing = true;
            if (bytes == 0 || (!_sawHeader && _issueCount == 0))
            {
                Malformed(0, "the file is empty; expected a header and data rows");
            }
            else if (_sawHeader && Rows == 0 && _header.Count > 0)
            {
                Issue(0, null, "row_count", null, $"{_file}: the file has a header but no data rows");
            }
            if (Rows > 0 && _contract.MinRows is { } minRows && Rows < minRows)
            {
                Issue(0, null, "row_count", Rows.ToString(CultureInfo.InvariantCulture), $"{_file}: {Rows} rows is fewer than min_rows {minRows}");
            }
            if (_contract.MaxRows is { } maxRows && Rows > maxRows)
            {
                Issue(0, null, "row_count", Rows.ToString(CultureInfo.InvariantCulture), $"{_file}: {Rows} rows is more than max_rows {maxRows}");
            }

            var (duplicates, warnings) = FinishDuplicates();
            var summaries = new List<ColumnSummary>(_columns.Length);
            foreach (var c in _columns)
            {
                var nullRate = Rate(c.Nulls);
                if (c.Present && Rows > 0 && c.Spec.Nullable && c.Spec.MaxNullRate is { } maxNullRate && nullRate > maxNullRate)
                {
                    Issue(0, c.Spec.Name, "null_rate", nullRate.ToString("0.####", CultureInfo.InvariantCulture),
                        $"{_file}, column '{c.Spec.Name}': null rate {nullRate.ToString("0.####", CultureInfo.InvariantCulture)} ({c.Nulls} of {Rows} rows) exceeds max_null_rate {Fmt(maxNullRate)}");
                }
                var numeric = c.Spec.Type is ColumnType.Number or ColumnType.Integer && c.NumericCount > 0;
                summaries.Add(new ColumnSummary
                {
                    Name = c.Spec.Name,
                    Type = c.Spec.Type,
                    Nulls = c.Nulls,
                    TypeErrors = c.TypeErrors,
                    OutOfBounds = c.OutOfBounds,
                    NullRate = nullRate,
                    TypeErrorRate = Rate(c.TypeErrors),
                    OutOfBoundsRate = Rate(c.OutOfBounds),
                    Min = numeric ? c.Min : null,
                    Max = numeric ? c.Max : null,
                    Mean = numeric ? c.Sum / c.NumericCount : null,
                    DistinctValues = c.DistinctCount,
                });
            }

            var isValid = _issueCount == 0;
            var duplicateNote = duplicates is { Count: > 0 } d ? $", {d.Count} duplicate row(s)" : "";
            var summary = isValid
                ? $"{_file}: valid; {Rows} rows, {_header.Count} columns, {bytes} bytes{duplicateNote}"
                : $"{_file}: invalid; {_issueCount} issue(s) ({string.Join(", ", _ruleCounts.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key} {kv.Value}"))}) in {Rows} rows, {bytes} bytes";
            return new DatasetValidationReport
            {
                File = _file,
                IsValid = isValid,
                Rows = Rows,
                Sha256 = sha256,
                Bytes = bytes,
                Header = _header,
                Columns = summaries,
                Issues = _kept.OrderBy(k => k.Key).Select(k => k.Issue).ToList(),
                IssueCount = _issueCount,
                Duplicates = duplicates,
                Warnings = warnings,
                Summary = summary,
            };
        }

        private double Rate(long count) => Rows == 0 ? 0 : (double)count / Rows;

        /// <summary>The duplicate-row signal, and the issue (rate above the contract's <c>max_duplicate_rate</c>) or
        /// the warning (no limit set) it raises.</summary>
        private (DuplicateRowsSummary? Summary, List<string> Warnings) FinishDuplicates()
        {
            var warnings = new List<string>();
            if (_duplicates is not { } tracker || Rows == 0)
            {
                _duplicates?.Release();
                _duplicates = null;
                return (null, warnings);
            }
            tracker.Flush();
            _duplicates = null;
            var rate = Rate(tracker.Duplicates);
            var summary = new DuplicateRowsSummary
            {
                Count = tracker.Duplicates,
                Rate = rate,
                Columns = _columns.Where(c => c.ComparedForDuplicates).OrderBy(c => c.Position).Select(c => c.Spec.Name).ToList(),
                Examples = tracker.Examples.ToList(),
                Complete = tracker.Complete,
                MaxRate = _contract.MaxDuplicateRate,
            };
            tracker.Release();
            if (tracker.Duplicates == 0)
            {
                return (summary, warnings);
            }
            var rateText = rate.ToString("0.####", CultureInfo.InvariantCulture);
            var pairs = string.Join(", ", tracker.Examples.Take(3).Select(p => $"row {p.Row} duplicates row {p.FirstRow}"));
            var lowerBound = tracker.Complete ? "" : $" (at least: only the first {_options.MaxDuplicateTrackedRows} distinct rows were remembered)";
            var what = $"{tracker.Duplicates} duplicate row(s){lowerBound}, rate {rateText} of {Rows} rows";
            if (_contract.MaxDuplicateRate is { } maxRate)
            {
                if (rate > maxRate)
                {
                    Issue(tracker.Examples.Count > 0 ? tracker.Examples[0].Row : 0, null, "duplicate_rows", tracker.Duplicates.ToString(CultureInfo.InvariantCulture),
                        $"{_file}: {what} exceeds max_duplicate_rate {Fmt(maxRate)}; {pairs}");
                }
            }
            else
            {
                warnings.Add($"{_file}: {what}; {pairs} (set data.max_duplicate_rate to fail on duplicates)");
            }
            return (summary, warnings);
        }
    }

    /// <summary>
    /// Checks the cells of Number columns on a second thread while the reader goes on (parsing numbers is most of
    /// the work of validating a numeric CSV). The reader copies those cells into a batch (text and row numbers); the
    /// checker parses and checks them with the same code and owns those columns' state. Four batches circulate, so
    /// memory stays flat; issues are ordered by row and column whichever thread finds them.
    /// </summary>
    private sealed class NumberPipeline
    {
        private const int RowsPerBatch = 2048;
        private const int Batches = 4;

        private readonly ValidationRun _run;
        private readonly ColumnState[] _columns;
        private readonly Channel<NumberBatch> _full = Channel.CreateBounded<NumberBatch>(new BoundedChannelOptions(Batches)
        {
            SingleReader = true,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        private readonly Channel<NumberBatch> _free = Channel.CreateUnbounded<NumberBatch>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        private readonly Task _checker;
        private NumberBatch _current;
        private int _created = 1;
        private volatile bool _stopped;

        public NumberPipeline(ValidationRun run, ColumnState[] columns)
        {
            _run = run;
            _columns = columns;
            _current = new NumberBatch(columns.Length);
            _checker = Task.Run(CheckAsync);
        }

        public bool Full => _current.Rows == RowsPerBatch;

        /// <summary>The duplicate-row hash of the row just added, chained over its other columns; the checker chains
        /// the Number cells' keys and ends the row, in row order.</summary>
        public void SetRowHash(ulong hash) => _current.RowHashes[_current.Rows - 1] = hash;

        /// <summary>Copies the row's Number cells into the current batch.</summary>
        public void Add(SepReader.Row row, long rowNumber)
        {
            var batch = _current;
            var cell = batch.Rows * _columns.Length;
            batch.RowNumbers[batch.Rows] = rowNumber;
            for (var j = 0; j < _columns.Length; j++)
            {
                batch.Append(cell + j, row[_columns[j].Position].Span);
            }
            batch.Rows++;
        }

        public async ValueTask SendAsync(CancellationToken cancellationToken)
        {
            await _full.Writer.WriteAsync(_current, cancellationToken);
            if (_free.Reader.TryRead(out var next))
            {
                _current = next;
            }
            else if (_created < Batches)
            {
                _current = new NumberBatch(_columns.Length);
                _created++;
            }
            else
            {
                _current = await _free.Reader.ReadAsync(cancellationToken);
            }
        }

        public async Task CompleteAsync(CancellationToken cancellationToken)
        {
            if (_current.Rows > 0)
            {
                await _full.Writer.WriteAsync(_current, cancellationToken);
                _current = new NumberBatch(0);
            }
            _full.Writer.TryComplete();
            await _checker;
        }

        public void Stop()
        {
            _stopped = true;
            _full.Writer.TryComplete();
        }

        private async Task CheckAsync()
        {
            try
            {
                await foreach (var batch in _full.Reader.ReadAllAsync())
                {
                    if (!_stopped)
                    {
                        Check(batch);
                    }
                    batch.Clear();
                    _free.Writer.TryWrite(batch);
                }
            }
            catch (Exception ex)
            {
                // Never leave the reader waiting for a batch that will not come back.
                _full.Writer.TryComplete(ex);
                _free.Writer.TryComplete(ex);
                throw;
            }
        }

        private void Check(NumberBatch batch)
        {
            var columns = _columns;
            var duplicates = _run.Duplicates;
            var cell = 0;
            for (var r = 0; r < batch.Rows; r++)
            {
                var rowNumber = batch.RowNumbers[r];
                var hash = batch.RowHashes[r];
                for (var j = 0; j < columns.Length; j++, cell++)
                {
                    var column = columns[j];
                    _run.NumberCell(column, batch.Cell(cell), rowNumber);
                    if (column.ComparedForDuplicates)
                    {
                        hash = DuplicateRowTracker.Mix(hash, column.Key);
                    }
                }
                duplicates?.EndRow(hash, rowNumber);
            }
        }
    }

    /// <summary>The Number cells of up to <see cref="NumberPipeline"/>'s batch size rows: their text back to back.</summary>
    private sealed class NumberBatch(int cellsPerRow)
    {
        private const int RowsPerBatch = 2048;

        private char[] _text = new char[Math.Max(RowsPerBatch * cellsPerRow * 20, 16)];
        private readonly int[] _ends = new int[RowsPerBatch * cellsPerRow];
        private int _length;

        public long[] RowNumbers { get; } = new long[RowsPerBatch];
        public ulong[] RowHashes { get; } = new ulong[RowsPerBatch];
        public int Rows { get; set; }

        public void Append(int cell, ReadOnlySpan<char> value)
        {
            if (_length + value.Length > _text.Length)
            {
                Array.Resize(ref _text, Math.Max(_text.Length * 2, _length + value.Length));
            }
            value.CopyTo(_text.AsSpan(_length));
            _length += value.Length;
            _ends[cell] = _length;
        }

        public ReadOnlySpan<char> Cell(int cell)
        {
            var start = cell == 0 ? 0 : _ends[cell - 1];
            return _text.AsSpan(start, _ends[cell] - start);
        }

        public void Clear()
        {
            Rows = 0;
            _length = 0;
        }
    }

    /// <summary>Invariant integer parse (optional sign, ASCII digits) without the general parser's overhead.</summary>
    private static bool TryParseInteger(ReadOnlySpan<char> v, out long value)
    {
        value = 0;
        var i = v.Length > 0 && (v[0] == '-' || v[0] == '+') ? 1 : 0;
        if (v.Length - i is < 1 or > 18)
        {
            return long.TryParse(v, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);
        }
        long result = 0;
        for (; i < v.Length; i++)
        {
            var d = (uint)(v[i] - '0');
            if (d > 9)
            {
                return false;
            }
            result = result * 10 + d;
        }
        value = v[0] == '-' ? -result : result;
        return true;
    }

    private static bool? ParseBoolean(ReadOnlySpan<char> v) => v.Length switch
    {
        1 when v[0] == '1' => true,
        1 when v[0] == '0' => false,
        2 when v.Equals("no", StringComparison.OrdinalIgnoreCase) => false,
        3 when v.Equals("yes", StringComparison.OrdinalIgnoreCase) => true,
        4 when v.Equals("true", StringComparison.OrdinalIgnoreCase) => true,
        5 when v.Equals("false", StringComparison.OrdinalIgnoreCase) => false,
        _ => null,
    };

    /// <summary>ISO-8601 date or date-time: <c>yyyy-MM-dd</c> first, then anything <see cref="DateTimeOffset"/> reads.</summary>
    private static bool IsIsoTimestamp(ReadOnlySpan<char> v) =>
        v.Length >= 10
        && char.IsAsciiDigit(v[0]) && char.IsAsciiDigit(v[1]) && char.IsAsciiDigit(v[2]) && char.IsAsciiDigit(v[3]) && v[4] == '-'
        && char.IsAsciiDigit(v[5]) && char.IsAsciiDigit(v[6]) && v[7] == '-' && char.IsAsciiDigit(v[8]) && char.IsAsciiDigit(v[9])
        && (v.Length == 10 || v[10] is 'T' or 't' or ' ')
        && DateTimeOffset.TryParse(v, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out _);

    private static string Clip(ReadOnlySpan<char> value) => value.Length <= 200 ? value.ToString() : string.Concat(value[..200], "…");

    private static string Fmt(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
