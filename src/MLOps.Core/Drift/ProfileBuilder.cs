using System.Globalization;
using MLOps.Core.Data;
using MLOps.Core.Workflows;
using nietras.SeparatedValues;

namespace MLOps.Core.Drift;

/// <summary>
/// Builds profiles from CSV files and from captured rows. Feature columns are the contract's columns minus
/// the label, the id and columns with <c>feature: false</c> (timestamps are not profiled). Number and
/// Integer columns become numeric profiles (invariant culture; empty or unparsable text counts as a null);
/// Category, Boolean and String columns become category counts (Boolean text lower-cased; empty is a null).
/// When a numeric column has more than <c>maxValuesPerFeature</c> values, a uniform reservoir sample
/// (Li's Algorithm L, fixed seed per column position) is kept, so the same input always gives the same profile.
/// Numbers are parsed with a fast path for plain decimals whose result is exact (see FastDouble), the general
/// invariant parser otherwise; both give the same values.
/// </summary>
public static class ProfileBuilder
{
    /// <summary>Base seed of the reservoir samples; column i uses <c>ReservoirSeed + i</c>.</summary>
    public const int ReservoirSeed = 20_240_601;

    /// <summary>Profiles the contract's feature columns of a CSV (label and id columns excluded). Streams the file.</summary>
    public static DatasetProfile FromCsv(Stream csv, WorkflowDefinition workflow, int maxValuesPerFeature = 100_000)
    {
        ArgumentNullException.ThrowIfNull(csv);
        ArgumentNullException.ThrowIfNull(workflow);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxValuesPerFeature, 1);
        var accumulators = CreateAccumulators(workflow, maxValuesPerFeature);
        using var reader = Sep.Reader(o => o with { Unescape = true }).From(csv);
        var indexes = new int[accumulators.Length];
        for (int i = 0; i < accumulators.Length; i++)
            indexes[i] = reader.Header.TryIndexOf(accumulators[i].Name, out int idx) ? idx : -1;
        long rows = 0;
        foreach (var row in reader)
        {
            rows++;
            for (int i = 0; i < accumulators.Length; i++)
            {
                if (indexes[i] < 0) accumulators[i].AddNull();
                else accumulators[i].Add(row[indexes[i]].Span);
            }
        }
        return Build(accumulators, rows);
    }

    /// <summary>Profiles rows given as column name → invariant-culture text.</summary>
    public static DatasetProfile FromRows(IEnumerable<IReadOnlyDictionary<string, string?>> rows, WorkflowDefinition workflow, int maxValuesPerFeature = 100_000)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var accumulator = new ProfileAccumulator(workflow, maxValuesPerFeature);
        foreach (var row in rows) accumulator.Add(row);
        return accumulator.ToProfile();
    }

    /// <summary>
    /// Merges profiles of disjoint parts of one dataset (e.g. chunks profiled in parallel) into one: rows, nulls and
    /// category counts add up; numeric samples are combined into one sample of at most
    /// <paramref name="maxValuesPerFeature"/> values in which each part is represented in proportion to its non-null
    /// values (largest remainders), drawn from the part by a seeded partial shuffle, so the result is deterministic.
    /// When everything fits, every value is kept, in part order. Features are matched by name, in the first part's order.
    /// </summary>
    public static DatasetProfile Merge(IReadOnlyList<DatasetProfile> parts, int maxValuesPerFeature = 100_000)
    {
        ArgumentNullException.ThrowIfNull(parts);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxValuesPerFeature, 1);
        if (parts.Count == 0) return new DatasetProfile { Features = [], Rows = 0 };
        long rows = parts.Sum(p => p.Rows);
        var partRows = parts.Select(p => p.Rows).ToArray();
        var features = new List<FeatureProfile>(parts[0].Features.Count);
        for (int f = 0; f < parts[0].Features.Count; f++)
        {
            var first = parts[0].Features[f];
            var same = parts.Select(p => p.Features.FirstOrDefault(x => x.Name == first.Name)).ToArray();
            features.Add(MergeFeature(f, same, partRows, maxValuesPerFeature, copy: true));
        }
        return new DatasetProfile { Features = features, Rows = rows };
    }

    /// <summary>
    /// Merges one feature of <see cref="Merge"/>: <paramref name="position"/> is its index in the first part,
    /// <paramref name="same"/> holds each part's profile of it (null where a part lacks it; the first part's is not
    /// null) and <paramref name="partRows"/> each part's rows. With <paramref name="copy"/> false the parts' value
    /// arrays are shuffled in place (the caller owns them).
    /// </summary>
    internal static FeatureProfile MergeFeature(int position, IReadOnlyList<FeatureProfile?> same, IReadOnlyList<long> partRows, int maxValuesPerFeature, bool copy)
    {
        var first = same[0] ?? throw new ArgumentException("the first part must hold the feature", nameof(same));
        long rows = partRows.Sum();
        long nulls = 0;
        for (int i = 0; i < same.Count; i++) nulls += same[i]?.Nulls ?? partRows[i];
        if (first.Kind == FeatureKind.Categorical)
        {
            var counts = new Dictionary<string, long>(StringComparer.Ordinal);
            foreach (var part in same)
            {
                if (part is null) continue;
                foreach (var (key, count) in part.Counts) counts[key] = counts.GetValueOrDefault(key) + count;
            }
            return first with { Counts = counts, Values = [], Nulls = nulls, Rows = rows };
        }

        var seen = same.Select((p, i) => p is null ? 0 : Math.Max(p.Rows - p.Nulls, p.Values.Length)).ToArray();
        long totalSeen = seen.Sum();
        long totalValues = same.Sum(p => (long)(p?.Values.Length ?? 0));
        double[] values;
        if (totalValues <= maxValuesPerFeature)
        {
            values = [.. same.SelectMany(p => p?.Values ?? [])];
        }
        else
        {
            // Largest-remainder quotas proportional to each part's non-null count, capped by its sample.
            var quota = new int[same.Count];
            var remainders = new double[same.Count];
            int assigned = 0;
            for (int i = 0; i < same.Count; i++)
            {
                double exact = totalSeen == 0 ? 0 : (double)maxValuesPerFeature * seen[i] / totalSeen;
                quota[i] = Math.Min((int)exact, same[i]?.Values.Length ?? 0);
                remainders[i] = exact - Math.Floor(exact);
                assigned += quota[i];
            }
            foreach (int i in Enumerable.Range(0, same.Count).OrderByDescending(i => remainders[i]).ThenBy(i => i))
            {
                if (assigned >= maxValuesPerFeature) break;
                if (quota[i] < (same[i]?.Values.Length ?? 0))
                {
                    quota[i]++;
                    assigned++;
                }
            }
            values = new double[assigned];
            int at = 0;
            for (int i = 0; i < same.Count; i++)
            {
                if (quota[i] == 0) continue;
                double[] sample = copy ? [.. same[i]!.Values] : same[i]!.Values;
                var random = new Random(ReservoirSeed + position + (i * 7919));
                for (int k = 0; k < quota[i]; k++)
                {
                    int j = k + random.Next(sample.Length - k);
                    (sample[k], sample[j]) = (sample[j], sample[k]);
                }
                Array.Copy(sample, 0, values, at, quota[i]);
                at += quota[i];
            }
        }
        double? min = null, max = null;
        foreach (var part in same)
        {
            if (part is null) continue;
            // Profiles written before exact bounds were kept fall back to their sample's bounds.
            double? low = part.Min ?? (part.Values.Length > 0 ? part.Values.Min() : null);
            double? high = part.Max ?? (part.Values.Length > 0 ? part.Values.Max() : null);
            if (low is { } l && (min is null || l < min)) min = l;
            if (high is { } h && (max is null || h > max)) max = h;
        }
        return first with { Values = values, Counts = new Dictionary<string, long>(), Nulls = nulls, Rows = rows, Min = min, Max = max };
    }

    /// <summary>The feature columns of a workflow's contract, in contract order.</summary>
    public static IReadOnlyList<ColumnSpec> FeatureColumns(WorkflowDefinition workflow)
    {
        ArgumentNullException.ThrowIfNull(workflow);
        return workflow.Data.Columns
            .Where(c => c.Feature && c.Type != ColumnType.Timestamp
                && !string.Equals(c.Name, workflow.Model.Label, StringComparison.Ordinal)
                && !string.Equals(c.Name, workflow.Model.Id, StringComparison.Ordinal))
            .ToList();
    }

    internal static Accumulator[] CreateAccumulators(WorkflowDefinition workflow, int maxValues)
    {
        var columns = FeatureColumns(workflow);
        var result = new Accumulator[columns.Count];
        for (int i = 0; i < columns.Count; i++) result[i] = new Accumulator(columns[i], maxValues, ReservoirSeed + i);
        return result;
    }

    internal static DatasetProfile Build(Accumulator[] accumulators, long rows)
        => new() { Rows = rows, Features = accumulators.Select(a => a.ToProfile(rows)).ToList() };

    internal sealed class Accumulator
    {
        private readonly ColumnSpec _column;
        private readonly bool _numeric;
        private readonly int _maxValues;
        private readonly Random _random;
        private readonly List<double> _values = [];
        private readonly Dictionary<string, long> _counts = new(StringComparer.Ordinal);
        private readonly Dictionary<string, long>.AlternateLookup<ReadOnlySpan<char>> _lookup;
        private long _seen;
        private long _nextReplacement;
        private double _weight;
        private long _nulls;
        private double _min = double.PositiveInfinity;
        private double _max = double.NegativeInfinity;

        public Accumulator(ColumnSpec column, int maxValues, int seed)
        {
            _column = column;
            _numeric = column.Type is ColumnType.Number or ColumnType.Integer;
            _maxValues = maxValues;
            _random = new Random(seed);
            _lookup = _counts.GetAlternateLookup<ReadOnlySpan<char>>();
        }

        public string Name => _column.Name;

        public bool IsNumeric => _numeric;

        public long Nulls => _nulls;

        /// <summary>The sample so far (not a copy).</summary>
        public List<double> ValueList => _values;

        public IReadOnlyDictionary<string, long> Counts => _counts;

        public void AddNull() => _nulls++;

        /// <summary>Adds a finite number as <see cref="Add"/> adds its shortest round-trip text: a numeric column takes the
        /// value itself (the text would parse back to it), without formatting it; another column counts the text.</summary>
        public void AddNumber(double value)
        {
            if (_numeric)
            {
                AddValue(value);
                return;
            }
            Span<char> text = stackalloc char[32];
            if (!value.TryFormat(text, out var written, "R", CultureInfo.InvariantCulture))
            {
                throw new InvalidOperationException($"value {value} could not be formatted");
            }
            Add(text[..written]);
        }

        public void Add(ReadOnlySpan<char> text)
        {
            // Plain decimals (almost every numeric cell) take the fast parse when its result is the exact one.
            if (_numeric && FastDouble.TryParse(text, out double fast, out bool exact) && exact)
            {
                AddValue(fast);
                return;
            }
            if (text.IsEmpty || text.IsWhiteSpace())
            {
                _nulls++;
                return;
            }
            if (_numeric)
            {
                if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v))
                {
                    _nulls++;
                    return;
                }
                AddValue(v);
                return;
            }
            if (_column.Type == ColumnType.Boolean)
            {
                Span<char> lower = text.Length <= 64 ? stackalloc char[text.Length] : new char[text.Length];
                text.ToLowerInvariant(lower);
                Count(lower);
                return;
            }
            Count(text);
        }

        private void Count(ReadOnlySpan<char> key)
        {
            ref long slot = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_lookup, key, out _);
            slot++;
        }

        /// <summary>Reservoir sampling with Li's Algorithm L: once the reservoir is full, the number of values to skip
        /// before the next replacement is drawn directly, so the generator is called about k·(1 + ln(n/k)) times
        /// instead of once per value. Every value has the same chance k/n of being in the sample.</summary>
        private void AddValue(double v)
        {
            _seen++;
            if (v < _min) _min = v;
            if (v > _max) _max = v;
            if (_values.Count < _maxValues)
            {
                _values.Add(v);
                if (_values.Count == _maxValues)
                {
                    _weight = Math.Exp(Math.Log(Uniform()) / _maxValues);
                    ScheduleNextReplacement();
                }
                return;
            }
            if (_seen == _nextReplacement)
            {
                _values[_random.Next(_maxValues)] = v;
                _weight *= Math.Exp(Math.Log(Uniform()) / _maxValues);
                ScheduleNextReplacement();
            }
        }

        /// <summary>A uniform draw in (0, 1].</summary>
        private double Uniform() => 1.0 - _random.NextDouble();

        private void ScheduleNextReplacement()
        {
            double skip = Math.Floor(Math.Log(Uniform()) / Math.Log(1.0 - _weight));
            _nextReplacement = _seen + 1 + (skip is >= 0 and < long.MaxValue / 2 ? (long)skip : long.MaxValue / 2);
        }

        public FeatureProfile ToProfile(long rows) => new()
        {
            Name = _column.Name,
            Kind = _numeric ? FeatureKind.Numeric : FeatureKind.Categorical,
            Values = _numeric ? [.. _values] : [],
            Counts = _numeric ? new Dictionary<string, long>() : new Dictionary<string, long>(_counts, StringComparer.Ordinal),
            Nulls = _nulls,
            Rows = rows,
            Min = Min,
            Max = Max,
        };

        /// <summary>Smallest numeric value seen; null for categorical features and before any value.</summary>
        public double? Min => _numeric && _seen > 0 ? _min : null;

        /// <summary>Largest numeric value seen; null for categorical features and before any value.</summary>
        public double? Max => _numeric && _seen > 0 ? _max : null;
    }
}
