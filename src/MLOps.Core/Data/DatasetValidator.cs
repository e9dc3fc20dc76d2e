using System.Globalization;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Text;
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
            // Rows are read with Sep's synchronous enumerator on a thread of their own: a per-row await costs more than
            // the parse itself, and blocking a dedicated thread on the stream's reads is harmless.
            await Task.Factory.StartNew(() => ReadRows(hashing, state, options, cancellationToken), cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);
            await state.CompleteBatchesAsync(cancellationToken);
        }
        finally
        {
            await state.StopBatchesAsync();
        }
        await hashing.DrainAsync(cancellationToken);
        return state.Finish(await hashing.HashHexAsync(), hashing.BytesRead);
    }

    /// <summary>Reads every row into <paramref name="state"/> (the reading thread of <see cref="ValidateAsync"/>); unreadable
    /// input becomes a malformed issue.</summary>
    private static void ReadRows(HashingReadStream hashing, ValidationRun state, ValidationOptions options, CancellationToken cancellationToken)
    {
        try
        {
            using var text = new StreamReader(hashing, new UTF8Encoding(false), detectEncodingFromByteOrderMarks: true, bufferSize: 1 << 16, leaveOpen: true);
            using var reader = Sep.New(',')
                .Reader(o => o with { HasHeader = false, DisableColCountCheck = true, Unescape = true, CultureInfo = CultureInfo.InvariantCulture })
                .From(text);
            foreach (var row in reader)
            {
                if (!state.Accept(row))
                {
                    break;
                }
                hashing.MarkRow();
                if (state.BatchFull)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var dispatched = state.DispatchBatchAsync(cancellationToken);
                    if (!dispatched.IsCompletedSuccessfully)
                    {
                        dispatched.AsTask().GetAwaiter().GetResult();
                    }
                }
            }
        }
        catch (RowTooLongException)
        {
            state.Malformed(state.Rows + 1, $"row {state.Rows + 1} (or a field in it) is longer than {options.MaxRowBytes} bytes, perhaps an unterminated quote; reading stopped");
        }
        catch (Exception ex) when (ex is not OperationCanceledException and not RowCheckException)
        {
            state.Malformed(state.Rows + 1, $"row {state.Rows + 1} could not be read as CSV ({ex.Message}); reading stopped");
        }
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

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
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

        /// <summary>Set on a batch's copy of a column: its issues go to the batch, not to the run.</summary>
        public RowBatch? Batch { get; init; }

        /// <summary>The last number counted (a batch hands its numbers to the merge, which sums them in row order).</summary>
        public double Last;

        /// <summary>A copy for one batch: the same contract, counters of its own (no unique or distinct set: those
        /// are checked when the batch is merged, in row order).</summary>
        public ColumnState CopyFor(RowBatch batch) => new(Spec, ContractIndex)
        {
            IsLabel = IsLabel,
            Categories = Categories,
            CategorySeen = new bool[CategorySeen.Length],
            CategoryValues = CategoryValues,
            Position = Position,
            Present = Present,
            ComparedForDuplicates = ComparedForDuplicates,
            Batch = batch,
        };

        /// <summary>Clears a batch copy's counters.</summary>
        public void ResetCounters()
        {
            Nulls = TypeErrors = OutOfBounds = NumericCount = 0;
            Sum = 0;
            Min = double.PositiveInfinity;
            Max = double.NegativeInfinity;
            SawTrue = SawFalse = false;
            Array.Clear(CategorySeen);
        }

        /// <summary>Adds a batch copy's counters (not its sum: the merge adds the batch's numbers in row order, so the
        /// sum is the one of checking row by row). The first of equal extremes is kept, as row by row.</summary>
        public void AddCounters(ColumnState part)
        {
            Nulls += part.Nulls;
            TypeErrors += part.TypeErrors;
            OutOfBounds += part.OutOfBounds;
            NumericCount += part.NumericCount;
            if (part.Min < Min)
            {
                Min = part.Min;
            }
            if (part.Max > Max)
            {
                Max = part.Max;
            }
            SawTrue |= part.SawTrue;
            SawFalse |= part.SawFalse;
            for (var i = 0; i < CategorySeen.Length; i++)
            {
                CategorySeen[i] |= part.CategorySeen[i];
            }
        }

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
        /// <summary>Orders issues found at the same row and column (in the order they were found).</summary>
        private long _sequence;
        private RowPipeline? _batches;
        private readonly Dictionary<string, long> _ruleCounts = new(StringComparer.Ordinal);
        private readonly ColumnState[] _columns;
        private ColumnState?[] _byPosition = [];
        private List<string> _header = [];
        private bool _sawHeader;
        private long _issueCount;
        /// <summary>Finds exact duplicate rows; null when no column is compared.</summary>
        private DuplicateRowTracker? _duplicates;
        /// <summary>The contract's columns present in the file, in file order: the cells a batch holds for each row.</summary>
        private ColumnState[] _mapped = [];
        /// <summary>For each of <see cref="_mapped"/>: its place among a batch row's numbers (Number and Integer
        /// columns checked in the batch), or −1.</summary>
        private int[] _valueSlots = [];
        private int _valueColumns;
        /// <summary>Positions in <see cref="_mapped"/> of the columns the merge reads text for: unique columns
        /// (checked there, in row order) and columns counting distinct values.</summary>
        private int[] _mergeTextColumns = [];
        /// <summary>Positions in <see cref="_mapped"/> of the columns a batch chains into the duplicate-row hash (all but
        /// unique columns), in file order.</summary>
        private int[] _batchCompared = [];
        /// <summary>For each field of the header: its place in <see cref="_mapped"/>, or −1.</summary>
        private int[] _slotOfPosition = [];
        /// <summary>The header position of the last mapped column (cells of a row are located up to it).</summary>
        private int _lastMappedPosition;

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

        /// <summary>Takes one CSV row (the first is the header); false stops reading. A data row's cells are copied
        /// into the current batch (<see cref="BatchFull"/> says when to hand it on).</summary>
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
            if (row.Span.Length > _options.MaxRowBytes)
            {
                // A field may be too long: find it before any cell of the row is queued.
                foreach (var column in _mapped)
                {
                    if (row[column.Position].Span.Length > _options.MaxRowBytes)
                    {
                        Malformed(rowNumber, $"row {rowNumber}, column '{column.Spec.Name}': the field is longer than {_options.MaxRowBytes} characters; reading stopped");
                        return false;
                    }
                }
            }
            _batches!.Current.Add(row, _mapped, rowNumber);
            return true;
        }

        /// <summary>True when the current batch should be checked.</summary>
        public bool BatchFull => _batches is { Current.Full: true };

        /// <summary>Hands the current batch to a checking thread (or checks it here without them).</summary>
        public ValueTask DispatchBatchAsync(CancellationToken cancellationToken) => _batches!.DispatchAsync(cancellationToken);

        /// <summary>Checks the last rows and waits until every batch is merged.</summary>
        public async Task CompleteBatchesAsync(CancellationToken cancellationToken)
        {
            if (_batches is not null)
            {
                await _batches.CompleteAsync(cancellationToken);
            }
        }

        /// <summary>Lets the checking threads end (after an error or a cancellation, they check nothing more) and
        /// waits for them.</summary>
        public async Task StopBatchesAsync()
        {
            if (_batches is not null)
            {
                await _batches.StopAsync();
            }
        }

        /// <summary>Checks a batch's rows: every column except unique ones, on the batch's own copies of the columns
        /// (any thread may do it). Column by column: each column's loop keeps its state in locals, and a Number cell
        /// takes <see cref="FastDouble.TryParsePadded"/>; a value within the bounds and the batch's extremes is counted
        /// there without further calls. Each cell's duplicate-row key is kept, and each row's hash chained at the end,
        /// in column order.</summary>
        public void CheckBatch(RowBatch batch)
        {
            var columns = batch.Columns;
            var width = columns.Length;
            var rows = batch.Rows;
            var slotOf = _slotOfPosition;
            var lastPosition = _lastMappedPosition;
            var keys = batch.Keys;
            var hashes = batch.Hashes;
            var compared = _batchCompared;
            // Blocks of rows small enough that their text stays in the core's cache while each column goes over them.
            for (var from = 0; from < rows; from += RowsPerBlock)
            {
                var to = Math.Min(rows, from + RowsPerBlock);
                batch.LocateCells(from, to, slotOf, lastPosition);
                for (var j = 0; j < width; j++)
                {
                    if (columns[j] is not { } column)
                    {
                        continue;
                    }
                    if (column.IsNumber)
                    {
                        CheckNumbers(batch, column, j, from, to);
                    }
                    else
                    {
                        CheckOthers(batch, column, j, from, to);
                    }
                }
                if (_duplicates is null)
                {
                    continue;
                }
                for (var r = from; r < to; r++)
                {
                    var hash = DuplicateRowTracker.Start;
                    var cell = r * width;
                    foreach (var j in compared)
                    {
                        hash = DuplicateRowTracker.Mix(hash, keys[cell + j]);
                    }
                    hashes[r] = hash;
                }
            }
        }

        /// <summary>Rows checked column by column at a time (their text is about 100 KB for 200-character rows).</summary>
        private const int RowsPerBlock = 256;

        /// <summary>The cells of Number column <paramref name="j"/> of a batch.</summary>
        // Not inlined, here and below: each loop gets the registers to itself instead of spilling to the stack.
        [MethodImpl(MethodImplOptions.NoInlining)]
        private void CheckNumbers(RowBatch batch, ColumnState column, int j, int from, int to)
        {
            var width = batch.Columns.Length;
            var valueColumns = _valueColumns;
            var slot = _valueSlots[j];
            var text = batch.Text;
            var starts = batch.Starts;
            var ends = batch.Ends;
            var values = batch.Values;
            var keys = batch.Keys;
            var rowNumbers = batch.RowNumbers;
            double min = column.Min, max = column.Max, minBound = column.MinBound, maxBound = column.MaxBound;
            var count = column.NumericCount;
            for (var r = from; r < to; r++)
            {
                var cell = (r * width) + j;
                var start = starts[cell];
                var length = ends[cell] - start;
                // NaN (the fast window did not take the cell) fails every comparison below: the exact path decides.
                double number;
                if (FastDouble.Wide)
                {
                    number = FastDouble.WideOrNaN(text, start, length);
                }
                else if (!FastDouble.TryParsePadded(text, start, length, out number, out _))
                {
                    number = double.NaN;
                }
                var tolerance = Math.Abs(number) * FastDouble.InexactRelativeError;
                var low = number - tolerance;
                var high = number + tolerance;
                if (low > min && high < max && low >= minBound && high <= maxBound)
                {
                    count++;
                    keys[cell] = DuplicateRowTracker.NumberKey(number);
                    values[(r * valueColumns) + slot] = number;
                    continue;
                }
                column.NumericCount = count;
                values[(r * valueColumns) + slot] = BatchNumber(column, text, start, length, rowNumbers[r]);
                keys[cell] = column.Key;
                count = column.NumericCount;
                min = column.Min;
                max = column.Max;
            }
            column.NumericCount = count;
        }

        /// <summary>The cells of a batch's column <paramref name="j"/> that is not a Number column: categories and
        /// booleans take a short path, the rest <see cref="CheckCell"/>.</summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        private void CheckOthers(RowBatch batch, ColumnState column, int j, int from, int to)
        {
            var width = batch.Columns.Length;
            var valueColumns = _valueColumns;
            var slot = _valueSlots[j];
            var text = batch.Text;
            var starts = batch.Starts;
            var ends = batch.Ends;
            var values = batch.Values;
            var keys = batch.Keys;
            var rowNumbers = batch.RowNumbers;
            var type = column.Spec.Type;
            var listed = type == ColumnType.Category && column.Categories is not null;
            for (var r = from; r < to; r++)
            {
                var cell = (r * width) + j;
                var value = text.AsSpan(starts[cell], ends[cell] - starts[cell]).Trim();
                if (listed && column.TryGetCategory(value, out var index))
                {
                    keys[cell] = (ulong)index;
                    column.CategorySeen[index] = true;
                    continue;
                }
                if (type == ColumnType.Boolean && ParseBoolean(value) is { } flag)
                {
                    keys[cell] = flag ? 1UL : 0UL;
                    if (flag)
                    {
                        column.SawTrue = true;
                    }
                    else
                    {
                        column.SawFalse = true;
                    }
                    continue;
                }
                var counted = column.NumericCount;
                CheckCell(column, value, rowNumbers[r]);
                if (slot >= 0)
                {
                    values[(r * valueColumns) + slot] = column.NumericCount != counted ? column.Last : double.NaN;
                }
                keys[cell] = column.Key;
            }
        }

        /// <summary>A Number cell of a batch; returns the number counted, or NaN when none was.</summary>
        /// <remarks>Whether the fast parser's value is exact or not (that varies from cell to cell, so a branch on it
        /// mispredicts often), a value whose error interval lies inside both the bounds and the batch's minimum and
        /// maximum so far is counted at once; anything else (a new extreme, a value near a bound) takes the exact path.</remarks>
        private double BatchNumber(ColumnState column, char[] text, int start, int length, long rowNumber)
        {
            if (FastDouble.TryParsePadded(text, start, length, out var number, out var exact))
            {
                var tolerance = Math.Abs(number) * FastDouble.InexactRelativeError;
                var low = number - tolerance;
                var high = number + tolerance;
                if (low > column.Min && high < column.Max && low >= column.MinBound && high <= column.MaxBound)
                {
                    column.NumericCount++;
                    column.Key = DuplicateRowTracker.NumberKey(number);
                    return number;
                }
                return BatchExtreme(column, text.AsSpan(start, length), number, exact, rowNumber);
            }
            var counted = column.NumericCount;
            NumberCell(column, text.AsSpan(start, length), rowNumber);
            return column.NumericCount != counted ? column.Last : double.NaN;
        }

        /// <summary>A number of a batch that may be a new minimum or maximum or lie near a bound: checked exactly.</summary>
        private double BatchExtreme(ColumnState column, ReadOnlySpan<char> text, double number, bool exact, long rowNumber)
        {
            var before = column.NumericCount;
            FastNumeric(column, rowNumber, text, number, exact);
            // The sum takes this parser's value whether or not it was parsed again exactly (that depends on the
            // batch's extremes so far), so the mean does not depend on where batches start.
            return column.NumericCount != before ? number : double.NaN;
        }

        /// <summary>Merges a checked batch into the run; batches are merged one at a time, in file order. Unique
        /// columns are checked here (their sets see every value in row order), distinct values counted, the batch's
        /// numbers summed in row order, its counters and issues added, and its rows' hashes looked up for
        /// duplicates, so the report is the one of checking row by row.</summary>
        public void MergeBatch(RowBatch batch)
        {
            var width = _mapped.Length;
            foreach (var j in _mergeTextColumns)
            {
                var column = _mapped[j];
                var unique = batch.Columns[j] is null;
                for (var r = 0; r < batch.Rows; r++)
                {
                    var span = batch.Cell((r * width) + j);
                    if (!unique)
                    {
                        var value = span.Trim();
                        if (!value.IsEmpty)
                        {
                            AddDistinct(column, value);
                        }
                    }
                    else if (column.IsNumber)
                    {
                        NumberCell(column, span, batch.RowNumbers[r]);
                    }
                    else
                    {
                        CheckCell(column, span.Trim(), batch.RowNumbers[r]);
                    }
                }
            }
            var values = batch.Values;
            var valueColumns = _valueColumns;
            for (var j = 0; j < width; j++)
            {
                if (batch.Columns[j] is not { } part)
                {
                    continue;
                }
                var column = _mapped[j];
                if (_valueSlots[j] is var slot and >= 0)
                {
                    var sum = column.Sum;
                    for (var i = slot; i < batch.Rows * valueColumns; i += valueColumns)
                    {
                        var value = values[i];
                        if (!double.IsNaN(value))
                        {
                            sum += value;
                        }
                    }
                    column.Sum = sum;
                }
                column.AddCounters(part);
            }
            if (batch.IssueCount > 0)
            {
                lock (_issueLock)
                {
                    foreach (var (rule, count) in batch.RuleCounts)
                    {
                        _issueCount += count;
                        _ruleCounts[rule] = _ruleCounts.GetValueOrDefault(rule) + count;
                    }
                    foreach (var (row, position, issue) in batch.IssuesInFileOrder())
                    {
                        var key = SortKey(row, position);
                        if (WouldKeep(key))
                        {
                            Keep(key, issue);
                        }
                    }
                }
            }
            if (_duplicates is { } duplicates)
            {
                for (var r = 0; r < batch.Rows; r++)
                {
                    duplicates.EndRow(batch.Hashes[r], batch.RowNumbers[r]);
                }
            }
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
            _mapped = _byPosition.OfType<ColumnState>().ToArray();
            _valueSlots = new int[_mapped.Length];
            _valueColumns = 0;
            var mergeText = new List<int>();
            for (var j = 0; j < _mapped.Length; j++)
            {
                var column = _mapped[j];
                var inBatch = column.Seen is null;
                _valueSlots[j] = inBatch && column.Spec.Type is ColumnType.Number or ColumnType.Integer ? _valueColumns++ : -1;
                if (!inBatch || column.Distinct is not null)
                {
                    mergeText.Add(j);
                }
            }
            _mergeTextColumns = [.. mergeText];
            _slotOfPosition = new int[names.Count + 1];
            Array.Fill(_slotOfPosition, -1);
            for (var j = 0; j < _mapped.Length; j++)
            {
                _slotOfPosition[_mapped[j].Position] = j;
            }
            _lastMappedPosition = _mapped.Length > 0 ? _mapped[^1].Position : 0;
            _batchCompared = Enumerable.Range(0, _mapped.Length).Where(j => _mapped[j].Seen is null).ToArray();
            var threads = _options.CheckThreads ?? (Environment.ProcessorCount > 1 ? Math.Min(Environment.ProcessorCount, 4) : 0);
            _batches = new RowPipeline(this, Math.Max(threads, 0), () => new RowBatch(_mapped, _valueColumns, Math.Max(_options.RowsPerBatch, 1), _options.MaxIssues));
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
                    column.Last = value;
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
            column.Last = value;
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
            if (column.Batch is { } batch)
            {
                // A batch's copy: kept with the batch until it is merged (in file order).
                if (batch.CountIssue(rule, row, column.Position))
                {
                    batch.KeepIssue(row, column.Position, new ValidationIssue(row, column.Spec.Name, rule, Clip(value), $"{_file} row {row}, column '{column.Spec.Name}': {message}"));
                }
                return;
            }
            // Count always; build strings only for issues that are kept.
            lock (_issueLock)
            {
                CountRule(rule);
                var key = SortKey(row, column.Position);
                if (WouldKeep(key))
                {
                    Keep(key, new ValidationIssue(row, column.Spec.Name, rule, Clip(value), $"{_file} row {row}, column '{column.Spec.Name}': {message}"));
                }
            }
        }

        private void Issue(long row, string? column, string rule, string? value, string message)
        {
            lock (_issueLock)
            {
                CountRule(rule);
                var key = SortKey(row, rule == "malformed" ? int.MaxValue : -1);
                if (WouldKeep(key))
                {
                    Keep(key, new ValidationIssue(row, column, rule, value, message));
                }
            }
        }

        private void CountRule(string rule)
        {
            _issueCount++;
            _ruleCounts[rule] = _ruleCounts.GetValueOrDefault(rule) + 1;
        }

        /// <summary>Issues are kept by (row, column position, arrival): the first <see cref="ValidationOptions.MaxIssues"/>
        /// in file order, whichever thread finds them. Issues found at the end (row counts, null rates) come after
        /// every row, as they are reported after them.</summary>
        private (long Row, int Position, long Sequence) SortKey(long row, int position) =>
            (_finishing ? long.MaxValue : row, position, _sequence++);

        private bool WouldKeep((long Row, int Position, long Sequence) key) =>
            _kept.Count < _options.MaxIssues || (_kept.Count > 0 && key.CompareTo(_kept[_largestKept].Key) < 0);

        private void Keep((long Row, int Position, long Sequence) key, ValidationIssue issue)
        {
            var entry = (key, issue);
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

    /// <summary>Thrown on the reading thread when a checking thread failed (a bug, never bad input).</summary>
    private sealed class RowCheckException(Exception inner) : Exception("checking a batch of rows failed", inner);

    /// <summary>
    /// Checks rows on other threads while the reading thread goes on. The reader copies each row's cells into a
    /// batch; a checking thread checks a whole batch on the batch's own copies of the columns; then the batch is
    /// merged into the run by whichever thread finished it, strictly in file order (a batch that finishes early
    /// waits for the ones before it). A fixed number of batches circulate, so memory stays flat. Without checking
    /// threads (or for a file of one batch) the reader checks and merges each batch itself, by the same code.
    /// </summary>
    private sealed class RowPipeline
    {
        private readonly ValidationRun _run;
        private readonly int _threads;
        private readonly Func<RowBatch> _create;
        /// <summary>Every batch created (the reader's thread only adds to it).</summary>
        private readonly List<RowBatch> _all = [];
        private readonly int _capacity;
        /// <summary>Batches to check (guarded by itself; checking threads wait on it).</summary>
        private readonly Queue<RowBatch> _full = new();
        /// <summary>Merged batches the reader may fill again (guarded by itself).</summary>
        private readonly Queue<RowBatch> _free = new();
        /// <summary>Completed when a batch comes free while the reader waits for one.</summary>
        private TaskCompletionSource? _freeWaiter;
        /// <summary>Checked batches waiting for their turn to merge, by sequence number modulo the capacity.</summary>
        private readonly RowBatch?[] _checked;
        /// <summary>1 while a thread merges (<see cref="Merge"/>).</summary>
        private int _merging;
        private readonly TaskCompletionSource _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private long _nextSequence;
        private long _nextMerge;
        private int _created = 1;
        private int _running;
        private bool _started;
        private bool _ended; // guarded by _full
        private volatile bool _stopped;
        private Exception? _failure;

        public RowPipeline(ValidationRun run, int threads, Func<RowBatch> create)
        {
            _run = run;
            _threads = threads;
            _create = create;
            _capacity = (threads * 2) + 2;
            _checked = new RowBatch?[_capacity];
            Current = create();
            _all.Add(Current);
        }

        /// <summary>The batch the reader fills.</summary>
        public RowBatch Current { get; private set; }

        public async ValueTask DispatchAsync(CancellationToken cancellationToken)
        {
            if (_threads == 0)
            {
                CheckHere(Current);
                return;
            }
            ThrowIfFailed();
            if (!_started)
            {
                Start();
            }
            Send(Current);
            if (_created < _capacity)
            {
                _created++;
                Current = _create();
                _all.Add(Current);
                return;
            }
            while (true)
            {
                TaskCompletionSource waiter;
                lock (_free)
                {
                    if (_free.TryDequeue(out var next))
                    {
                        Current = next;
                        return;
                    }
                    waiter = _freeWaiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                }
                ThrowIfFailed();
                await waiter.Task.WaitAsync(cancellationToken);
                ThrowIfFailed();
            }
        }

        public async Task CompleteAsync(CancellationToken cancellationToken)
        {
            if (!_started)
            {
                // A single batch (or no threads): no thread is worth starting.
                if (Current.Rows > 0)
                {
                    CheckHere(Current);
                }
                return;
            }
            if (Current.Rows > 0)
            {
                Send(Current);
            }
            End();
            await _exited.Task.WaitAsync(cancellationToken);
            ThrowIfFailed();
        }

        public async Task StopAsync()
        {
            _stopped = true;
            if (_started)
            {
                End();
                await _exited.Task;
            }
            // No thread holds a batch any more: their arrays can serve the next validation.
            foreach (var batch in _all)
            {
                batch.ReleaseBuffers();
            }
            _all.Clear();
        }

        private void CheckHere(RowBatch batch)
        {
            _run.CheckBatch(batch);
            _run.MergeBatch(batch);
            batch.Clear();
        }

        private void Start()
        {
            _started = true;
            _running = _threads;
            for (var i = 0; i < _threads; i++)
            {
                new Thread(Work) { IsBackground = true, Name = "mlops-validate" }.Start();
            }
        }

        private void Send(RowBatch batch)
        {
            batch.Sequence = _nextSequence++;
            lock (_full)
            {
                _full.Enqueue(batch);
                Monitor.Pulse(_full);
            }
        }

        /// <summary>No more batches: each thread ends when the queue is empty.</summary>
        private void End()
        {
            lock (_full)
            {
                _ended = true;
                Monitor.PulseAll(_full);
            }
        }

        private RowBatch? Take()
        {
            lock (_full)
            {
                while (_full.Count == 0 && !_ended)
                {
                    Monitor.Wait(_full);
                }
                return _full.TryDequeue(out var batch) ? batch : null;
            }
        }

        private void Free(RowBatch batch)
        {
            TaskCompletionSource? waiter;
            lock (_free)
            {
                _free.Enqueue(batch);
                waiter = _freeWaiter;
                _freeWaiter = null;
            }
            waiter?.TrySetResult();
        }

        private void Work()
        {
            try
            {
                while (Take() is { } batch)
                {
                    if (!_stopped)
                    {
                        try
                        {
                            _run.CheckBatch(batch);
                        }
                        catch (Exception ex)
                        {
                            Fail(ex);
                        }
                    }
                    Merge(batch);
                }
            }
            finally
            {
                if (Interlocked.Decrement(ref _running) == 0)
                {
                    _exited.TrySetResult();
                }
            }
        }

        /// <summary>Leaves a checked batch for the merge and merges every batch whose turn has come, in sequence, unless
        /// another thread is merging: then that thread merges this batch too, and this one goes back to checking
        /// instead of waiting for it.</summary>
        private void Merge(RowBatch batch)
        {
            Volatile.Write(ref _checked[batch.Sequence % _capacity], batch);
            while (Interlocked.CompareExchange(ref _merging, 1, 0) == 0)
            {
                while (Volatile.Read(ref _checked[_nextMerge % _capacity]) is { } next && next.Sequence == _nextMerge)
                {
                    _checked[_nextMerge % _capacity] = null;
                    _nextMerge++;
                    if (!_stopped)
                    {
                        try
                        {
                            _run.MergeBatch(next);
                        }
                        catch (Exception ex)
                        {
                            Fail(ex);
                        }
                    }
                    next.Clear();
                    Free(next);
                }
                // Both sides fence (the exchange here, the compare-exchange of a thread that found this one merging
                // after leaving its batch): either that thread takes the merge over, or its batch is seen here.
                Interlocked.Exchange(ref _merging, 0);
                if (Volatile.Read(ref _checked[_nextMerge % _capacity]) is not { } ready || ready.Sequence != _nextMerge)
                {
                    return;
                }
            }
        }

        private void Fail(Exception ex)
        {
            Interlocked.CompareExchange(ref _failure, ex, null);
            _stopped = true;
            // Wake a reader waiting for a free batch.
            TaskCompletionSource? waiter;
            lock (_free)
            {
                waiter = _freeWaiter;
                _freeWaiter = null;
            }
            waiter?.TrySetResult();
        }

        private void ThrowIfFailed()
        {
            if (Volatile.Read(ref _failure) is { } failure)
            {
                throw new RowCheckException(failure);
            }
        }
    }

    /// <summary>The cells of up to <see cref="ValidationOptions.RowsPerBatch"/> rows (the contract's columns, in file
    /// order), their text back to back; what checking them found (the batch's copies of the columns, their numbers,
    /// issues and row hashes) until the batch is merged.</summary>
    private sealed class RowBatch
    {
        /// <summary>Characters the text may hold before the batch counts as full (whatever its rows).</summary>
        private const int MaxChars = 1 << 22;

        /// <summary>Characters kept readable after the text (<see cref="FastDouble.TryParsePadded"/> reads past a cell,
        /// <see cref="FastDouble.FastPathReach"/> from its start at most; <see cref="LocateCells"/> 31 past a row).</summary>
        private const int Padding = FastDouble.FastPathReach;

        private readonly int _capacity;
        private readonly int _maxIssues;
        private readonly List<(long Row, int Position, ValidationIssue Issue)> _issues = [];
        private readonly Dictionary<string, long> _ruleCounts = new(StringComparer.Ordinal);
        private int _length;
        /// <summary>Index in <see cref="_issues"/> of the last kept issue in file order.</summary>
        private int _largest;

        public RowBatch(ColumnState[] mapped, int valueColumns, int rows, int maxIssues)
        {
            _capacity = rows;
            _maxIssues = maxIssues;
            Columns = mapped.Select(c => c.Seen is null ? c.CopyFor(this) : null).ToArray();
            var buffers = BatchBuffers.Take(rows, mapped.Length, valueColumns, Math.Max(rows * mapped.Length * 20, 64) + Padding);
            Text = buffers.Text;
            Starts = buffers.Starts;
            Ends = buffers.Ends;
            RowNumbers = buffers.RowNumbers;
            RowStarts = buffers.RowStarts;
            RowLengths = buffers.RowLengths;
            Hashes = buffers.Hashes;
            Keys = buffers.Keys;
            Values = buffers.Values;
        }

        /// <summary>Hands the batch's arrays on to a later validation's batches; the batch must not be used after.</summary>
        public void ReleaseBuffers() => new BatchBuffers(Text, Starts, Ends, RowNumbers, RowStarts, RowLengths, Hashes, Keys, Values).Give();

        /// <summary>This batch's copy of each mapped column; null for unique columns (checked when merged).</summary>
        public ColumnState?[] Columns { get; }
        public char[] Text { get; private set; }
        /// <summary>The start of each cell in <see cref="Text"/> (row by row, column by column).</summary>
        public int[] Starts { get; }
        /// <summary>The end of each cell in <see cref="Text"/>.</summary>
        public int[] Ends { get; }
        public long[] RowNumbers { get; }
        /// <summary>Where each row copied whole starts in <see cref="Text"/>.</summary>
        public int[] RowStarts { get; }
        /// <summary>The length of each row copied whole; −1 for a row copied cell by cell (its cells already placed).</summary>
        public int[] RowLengths { get; }
        public ulong[] Hashes { get; }
        /// <summary>The duplicate-row key of each cell (row by row, column by column).</summary>
        public ulong[] Keys { get; }
        /// <summary>The number counted from each row's Number and Integer cells, NaN where none was.</summary>
        public double[] Values { get; }
        public int Rows { get; private set; }
        public long Sequence { get; set; }
        public bool Full => Rows == _capacity || _length >= MaxChars;
        public long IssueCount { get; private set; }
        public IReadOnlyDictionary<string, long> RuleCounts => _ruleCounts;

        public void Add(SepReader.Row row, ColumnState[] mapped, long rowNumber)
        {
            // A row without quotes whose cells are mostly the contract's is copied whole, in one move; the checking thread
            // finds its cells (every comma of it separates two fields, as Sep split them). Otherwise (quoted cells are
            // unescaped apart from the row) cell by cell.
            var line = row.Span;
            if (mapped.Length * 2 >= row.ColCount && !line.Contains('"'))
            {
                EnsureRoom(line.Length);
                line.CopyTo(Text.AsSpan(_length));
                RowStarts[Rows] = _length;
                RowLengths[Rows] = line.Length;
                _length += line.Length;
            }
            else
            {
                var cell = Rows * mapped.Length;
                for (var j = 0; j < mapped.Length; j++, cell++)
                {
                    var value = row[mapped[j].Position].Span;
                    EnsureRoom(value.Length);
                    value.CopyTo(Text.AsSpan(_length));
                    Starts[cell] = _length;
                    _length += value.Length;
                    Ends[cell] = _length;
                }
                RowLengths[Rows] = -1;
            }
            RowNumbers[Rows] = rowNumber;
            Rows++;
        }

        /// <summary>Places the cells of rows <paramref name="from"/> to <paramref name="to"/> (excluded) copied whole.</summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        public void LocateCells(int from, int to, int[] slotOf, int lastPosition)
        {
            for (var r = from; r < to; r++)
            {
                LocateRow(r, slotOf, lastPosition);
            }
        }

        /// <summary>Places the cells of row <paramref name="r"/> if it was copied whole: the fields between its commas,
        /// found 32 (or 16) characters at a time, up to the last one the contract maps (<paramref name="slotOf"/>: a field's
        /// place among the mapped cells, or −1).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void LocateRow(int r, int[] slotOf, int lastPosition)
        {
            var length = RowLengths[r];
            if (length < 0)
            {
                return;
            }
            var start = RowStarts[r];
            var cell = r * Columns.Length;
            var starts = Starts;
            var ends = Ends;
            ref var chars = ref Unsafe.As<char, ushort>(ref MemoryMarshal.GetArrayDataReference(Text));
            var position = 0;
            var fieldStart = start;
            var step = Vector512.IsHardwareAccelerated ? Vector512<ushort>.Count : Vector256<ushort>.Count;
            for (var offset = 0; offset < length; offset += step)
            {
                // The padding after the text keeps this load inside the buffer; bits past the row are dropped.
                var commas = Vector512.IsHardwareAccelerated
                    ? Vector512.Equals(Vector512.LoadUnsafe(ref chars, (nuint)(start + offset)), Vector512.Create((ushort)',')).ExtractMostSignificantBits()
                    : Vector256.Equals(Vector256.LoadUnsafe(ref chars, (nuint)(start + offset)), Vector256.Create((ushort)',')).ExtractMostSignificantBits();
                if (length - offset < step)
                {
                    commas &= (1UL << (length - offset)) - 1;
                }
                while (commas != 0)
                {
                    var at = start + offset + BitOperations.TrailingZeroCount(commas);
                    commas &= commas - 1;
                    if (slotOf[position] is var slot and >= 0)
                    {
                        starts[cell + slot] = fieldStart;
                        ends[cell + slot] = at;
                    }
                    if (++position > lastPosition)
                    {
                        return;
                    }
                    fieldStart = at + 1;
                }
            }
            if (slotOf[position] is var last and >= 0)
            {
                starts[cell + last] = fieldStart;
                ends[cell + last] = start + length;
            }
        }

        /// <summary>Grows the text so that <paramref name="length"/> more characters and the padding fit.</summary>
        private void EnsureRoom(int length)
        {
            if (_length + length + Padding > Text.Length)
            {
                var text = Text;
                Array.Resize(ref text, Math.Max(Text.Length * 2, _length + length + Padding));
                Text = text;
            }
        }

        public ReadOnlySpan<char> Cell(int cell) => Text.AsSpan(Starts[cell], Ends[cell] - Starts[cell]);

        /// <summary>Counts an issue; true when it is among the batch's first in file order so far (the only ones that can
        /// be reported). Columns are checked one after the other, so a later issue may come before a kept one.</summary>
        public bool CountIssue(string rule, long row, int position)
        {
            IssueCount++;
            _ruleCounts[rule] = _ruleCounts.GetValueOrDefault(rule) + 1;
            return _issues.Count < _maxIssues || (_issues.Count > 0 && (row, position).CompareTo((_issues[_largest].Row, _issues[_largest].Position)) < 0);
        }

        /// <summary>Keeps an issue <see cref="CountIssue"/> accepted, in place of the batch's last one in file order
        /// when the batch keeps enough.</summary>
        public void KeepIssue(long row, int position, ValidationIssue issue)
        {
            if (_issues.Count < _maxIssues)
            {
                _issues.Add((row, position, issue));
                if (_issues.Count == 1 || (row, position).CompareTo((_issues[_largest].Row, _issues[_largest].Position)) >= 0)
                {
                    _largest = _issues.Count - 1;
                }
                return;
            }
            _issues[_largest] = (row, position, issue);
            _largest = 0;
            for (var i = 1; i < _issues.Count; i++)
            {
                if ((_issues[i].Row, _issues[i].Position).CompareTo((_issues[_largest].Row, _issues[_largest].Position)) >= 0)
                {
                    _largest = i;
                }
            }
        }

        /// <summary>The kept issues in file order (by row, then column; found order among equals).</summary>
        public IEnumerable<(long Row, int Position, ValidationIssue Issue)> IssuesInFileOrder() =>
            _issues.Select((issue, index) => (issue, index)).OrderBy(p => (p.issue.Row, p.issue.Position, p.index)).Select(p => p.issue);

        public void Clear()
        {
            Rows = 0;
            _length = 0;
            IssueCount = 0;
            _issues.Clear();
            _largest = 0;
            _ruleCounts.Clear();
            foreach (var column in Columns)
            {
                column?.ResetCounters();
            }
            if (Text.Length > (MaxChars * 2) + Padding)
            {
                // One batch of very long rows: do not keep its buffer.
                Text = new char[MaxChars + Padding];
            }
        }
    }

    /// <summary>The arrays of a <see cref="RowBatch"/>. A finished validation leaves them (weakly held: the collector may
    /// take them back) to the next validation's batches of the same shape, which would otherwise first-touch megabytes
    /// of fresh memory every time.</summary>
    private sealed class BatchBuffers(char[] text, int[] starts, int[] ends, long[] rowNumbers, int[] rowStarts, int[] rowLengths, ulong[] hashes, ulong[] keys, double[] values)
    {
        /// <summary>At most as many as the batches of one validation on four checking threads.</summary>
        private const int MaxSpares = 10;

        private static readonly List<WeakReference<BatchBuffers>> Spares = [];

        public char[] Text { get; } = text;
        public int[] Starts { get; } = starts;
        public int[] Ends { get; } = ends;
        public long[] RowNumbers { get; } = rowNumbers;
        public int[] RowStarts { get; } = rowStarts;
        public int[] RowLengths { get; } = rowLengths;
        public ulong[] Hashes { get; } = hashes;
        public ulong[] Keys { get; } = keys;
        public double[] Values { get; } = values;

        /// <summary>A spare of this shape, or new arrays.</summary>
        public static BatchBuffers Take(int rows, int width, int valueColumns, int textLength)
        {
            lock (Spares)
            {
                for (var i = Spares.Count - 1; i >= 0; i--)
                {
                    if (!Spares[i].TryGetTarget(out var spare))
                    {
                        Spares.RemoveAt(i);
                    }
                    else if (spare.RowNumbers.Length == rows && spare.Starts.Length == rows * width
                        && spare.Values.Length == rows * valueColumns && spare.Text.Length >= textLength)
                    {
                        Spares.RemoveAt(i);
                        return spare;
                    }
                }
            }
            return new BatchBuffers(new char[textLength], new int[rows * width], new int[rows * width], new long[rows], new int[rows], new int[rows], new ulong[rows], new ulong[rows * width], new double[rows * valueColumns]);
        }

        /// <summary>Leaves these arrays to a later batch.</summary>
        public void Give()
        {
            lock (Spares)
            {
                Spares.RemoveAll(spare => !spare.TryGetTarget(out _));
                if (Spares.Count < MaxSpares)
                {
                    Spares.Add(new WeakReference<BatchBuffers>(this));
                }
            }
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

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
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
