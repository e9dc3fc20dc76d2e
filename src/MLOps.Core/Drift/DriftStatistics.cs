using System.Buffers;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace MLOps.Core.Drift;

/// <summary>Chi-square goodness-of-fit result.</summary>
public readonly record struct ChiSquareResult(double Statistic, double PValue, int DegreesOfFreedom);

/// <summary>
/// Pure drift statistics. Numeric methods whose name ends in <c>Sorted</c> take ascending, NaN-free arrays so
/// one sort per sample serves PSI, KS, Wasserstein and the binned Jensen–Shannon distance
/// (<see cref="SortedCopy"/> sorts with a radix sort, linear in the length).
/// <list type="bullet">
/// <item>PSI: <see cref="DefaultPsiBins"/> bins whose inner edges are the reference's quantiles (linear
/// interpolation, NumPy's default); the outer bins are open, so current values beyond the reference's range
/// count in the first or last bin; a bin is [lower, upper) and tied edges collapse into one. Empty bins
/// take the proportion <see cref="PsiEpsilon"/> (Evidently's value) so the logarithm stays finite.
/// PSI = Σ (cur − ref)·ln(cur / ref).</item>
/// <item>KS: the statistic is max |F_ref − F_cur| over every observed value (ties handled as
/// scipy.stats.ks_2samp); p-values as SciPy's 'auto', 'exact' and 'asymp'.</item>
/// <item>Wasserstein-1: ∫|F_ref − F_cur| (scipy.stats.wasserstein_distance). Normalized: divided by the
/// reference's population standard deviation (ddof = 0, as Evidently's np.std), floored at 0.001 as Evidently.</item>
/// <item>Jensen–Shannon: distance (square root of the divergence) in base 2, in [0, 1], as
/// scipy.spatial.distance.jensenshannon(p, q, base=2). Numeric values are binned into
/// <see cref="DefaultJensenShannonBins"/> equal-width bins over the union's [min, max] exactly as numpy.histogram
/// (numpy.linspace edges, every bin half-open but the last); categorical counts are compared over the union of categories.</item>
/// <item>Chi-square: current counts against reference proportions × current total over the union of
/// categories; dof = categories − 1; a category never seen in the reference gives an infinite statistic
/// and p = 0. P-value from the regularized upper incomplete gamma function.</item>
/// <item>Two-proportion z-test with the pooled proportion; two-sided p = erfc(|z|/√2).</item>
/// </list>
/// </summary>
public static partial class DriftStatistics
{
    public const int DefaultPsiBins = 10;
    public const double PsiEpsilon = 1e-4;
    public const int DefaultJensenShannonBins = 20;
    /// <summary>Floor of the reference standard deviation in the normalized Wasserstein distance (Evidently).</summary>
    public const double MinNormalizationStd = 0.001;

    // ---------------------------------------------------------------- sorting

    /// <summary>An ascending copy without NaN values (LSD radix sort above 2,048 values, see <see cref="SortInPlace"/>).
    /// The first pass reads <paramref name="values"/> directly and the last writes the result, so the values are
    /// read once for the digit counts and moved once per live digit.</summary>
    public static double[] SortedCopy(ReadOnlySpan<double> values)
    {
        if (values.Length < RadixMinLength)
        {
            int count = 0;
            foreach (double v in values) if (!double.IsNaN(v)) count++;
            var small = new double[count];
            int k = 0;
            foreach (double v in values) if (!double.IsNaN(v)) small[k++] = v;
            small.AsSpan().Sort();
            return small;
        }
        if (values.Length >= MsdMinLength)
        {
            int nonNaN = 0;
            foreach (double v in values) if (!double.IsNaN(v)) nonNaN++;
            var sorted = GC.AllocateUninitializedArray<double>(nonNaN);
            MsdRadixSort(values, nonNaN, sorted);
            return sorted;
        }
        int[] counts = ArrayPool<int>.Shared.Rent(RadixBuckets * RadixPasses);
        try
        {
            int n = CountDigits(values, counts);
            var result = GC.AllocateUninitializedArray<double>(n);
            RadixScatter(values, n, counts, result);
            return result;
        }
        finally
        {
            ArrayPool<int>.Shared.Return(counts);
        }
    }

    /// <summary>Sorts NaN-free values ascending: LSD radix sort on the order-preserving 64-bit image of each double
    /// (6 passes of 11 bits, passes whose digit is the same for every value skipped) above 2,048 values, introsort below.
    /// −0.0 sorts before +0.0 (they compare equal, so every statistic is unaffected).</summary>
    public static void SortInPlace(Span<double> values)
    {
        if (values.Length < RadixMinLength)
        {
            values.Sort();
            return;
        }
        if (values.Length >= MsdMinLength)
        {
            foreach (double v in values) if (double.IsNaN(v)) throw new ArgumentException("values must not contain NaN.", nameof(values));
            MsdRadixSort(values, values.Length, values);
            return;
        }
        int[] counts = ArrayPool<int>.Shared.Rent(RadixBuckets * RadixPasses);
        try
        {
            int n = CountDigits(values, counts);
            if (n != values.Length) throw new ArgumentException("values must not contain NaN.", nameof(values));
            RadixScatter(values, n, counts, values);
        }
        finally
        {
            ArrayPool<int>.Shared.Return(counts);
        }
    }

    /// <summary>From this length on, one most-significant-digit pass on the top 16 key bits (sign, exponent and the
    /// first 4 mantissa bits) splits the values into buckets that mostly fit in the CPU cache; each bucket is then sorted
    /// on its low 48 bits (insertion sort when small, LSD radix with 8-bit digits otherwise). Two passes over main
    /// memory instead of six.</summary>
    private const int MsdMinLength = 65_536;
    private const int MsdBuckets = 1 << 16;
    private const int InsertionSortMax = 48;

    private static void MsdRadixSort(ReadOnlySpan<double> source, int n, Span<double> destination)
    {
        int[] starts = ArrayPool<int>.Shared.Rent(MsdBuckets + 1);
        int[] cursor = ArrayPool<int>.Shared.Rent(MsdBuckets);
        ulong[] keys = ArrayPool<ulong>.Shared.Rent(n);
        ulong[]? scratch = null;
        try
        {
            Array.Clear(starts, 0, MsdBuckets + 1);
            foreach (double v in source)
            {
                if (!double.IsNaN(v)) starts[(int)(SortKey(v) >> 48) + 1]++;
            }
            int largest = 0;
            for (int b = 0; b < MsdBuckets; b++)
            {
                largest = Math.Max(largest, starts[b + 1]);
                starts[b + 1] += starts[b];
            }
            Array.Copy(starts, cursor, MsdBuckets);
            ref int c = ref MemoryMarshal.GetArrayDataReference(cursor);
            foreach (double v in source)
            {
                if (double.IsNaN(v)) continue;
                ulong u = SortKey(v);
                keys[Unsafe.Add(ref c, (int)(u >> 48))++] = u;
            }
            if (largest > InsertionSortMax) scratch = ArrayPool<ulong>.Shared.Rent(largest);
            for (int b = 0; b < MsdBuckets; b++)
            {
                int start = starts[b], length = starts[b + 1] - start;
                if (length < 2) continue;
                var bucket = keys.AsSpan(start, length);
                if (length <= InsertionSortMax) InsertionSort(bucket);
                else SortLow48(bucket, scratch.AsSpan(0, length));
            }
            for (int i = 0; i < n; i++) destination[i] = FromSortKey(keys[i]);
        }
        finally
        {
            ArrayPool<int>.Shared.Return(starts);
            ArrayPool<int>.Shared.Return(cursor);
            ArrayPool<ulong>.Shared.Return(keys);
            if (scratch is not null) ArrayPool<ulong>.Shared.Return(scratch);
        }
    }

    private static void InsertionSort(Span<ulong> keys)
    {
        for (int i = 1; i < keys.Length; i++)
        {
            ulong x = keys[i];
            int j = i - 1;
            while (j >= 0 && keys[j] > x)
            {
                keys[j + 1] = keys[j];
                j--;
            }
            keys[j + 1] = x;
        }
    }

    /// <summary>LSD radix sort of keys that share their top 16 bits: six 8-bit digits over the low 48 bits, passes whose
    /// digit is the same for every key skipped.</summary>
    private static void SortLow48(Span<ulong> keys, Span<ulong> scratch)
    {
        const int digits = 6, buckets = 256;
        Span<int> counts = stackalloc int[digits * buckets];
        counts.Clear();
        foreach (ulong u in keys)
        {
            for (int d = 0; d < digits; d++) counts[(d * buckets) + (int)((u >> (d * 8)) & 0xFF)]++;
        }
        Span<ulong> from = keys, to = scratch;
        ulong first = keys[0];
        for (int d = 0; d < digits; d++)
        {
            var count = counts.Slice(d * buckets, buckets);
            if (count[(int)((first >> (d * 8)) & 0xFF)] == keys.Length) continue;
            int sum = 0;
            for (int k = 0; k < buckets; k++)
            {
                int x = count[k];
                count[k] = sum;
                sum += x;
            }
            int shift = d * 8;
            foreach (ulong u in from) to[count[(int)((u >> shift) & 0xFF)]++] = u;
            var swap = from;
            from = to;
            to = swap;
        }
        if (from != keys) from.CopyTo(keys);
    }

    private const int RadixMinLength = 2048;
    private const int RadixBits = 11;
    private const int RadixBuckets = 1 << RadixBits;
    private const int RadixPasses = 6;
    private const ulong RadixMask = RadixBuckets - 1;

    /// <summary>Order-preserving map of a (non-NaN) double to an unsigned key: negative → all bits flipped,
    /// positive → sign bit flipped.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong SortKey(double value)
    {
        ulong u = (ulong)BitConverter.DoubleToInt64Bits(value);
        return u ^ ((ulong)((long)u >> 63) | 0x8000_0000_0000_0000UL);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double FromSortKey(ulong key)
    {
        key ^= (ulong)((long)~key >> 63) | 0x8000_0000_0000_0000UL;
        return BitConverter.Int64BitsToDouble((long)key);
    }

    /// <summary>One pass over the values: the digit histograms of every pass; returns the number of non-NaN values.</summary>
    private static int CountDigits(ReadOnlySpan<double> values, int[] counts)
    {
        Array.Clear(counts, 0, RadixBuckets * RadixPasses);
        ref int c = ref MemoryMarshal.GetArrayDataReference(counts);
        int n = 0;
        foreach (double v in values)
        {
            if (double.IsNaN(v)) continue;
            n++;
            ulong u = SortKey(v);
            Unsafe.Add(ref c, (int)(u & RadixMask))++;
            Unsafe.Add(ref c, RadixBuckets + (int)((u >> RadixBits) & RadixMask))++;
            Unsafe.Add(ref c, (2 * RadixBuckets) + (int)((u >> (2 * RadixBits)) & RadixMask))++;
            Unsafe.Add(ref c, (3 * RadixBuckets) + (int)((u >> (3 * RadixBits)) & RadixMask))++;
            Unsafe.Add(ref c, (4 * RadixBuckets) + (int)((u >> (4 * RadixBits)) & RadixMask))++;
            Unsafe.Add(ref c, (5 * RadixBuckets) + (int)(u >> (5 * RadixBits)))++;
        }
        return n;
    }

    /// <summary>The scatter passes: the first reads the (NaN-skipping) source doubles, the middle ones move keys
    /// between two pooled buffers, the last writes doubles to <paramref name="destination"/> (which may be the source).</summary>
    private static void RadixScatter(ReadOnlySpan<double> source, int n, int[] counts, Span<double> destination)
    {
        Span<int> live = stackalloc int[RadixPasses];
        int liveCount = 0;
        ulong firstKey = 0;
        foreach (double v in source)
        {
            if (!double.IsNaN(v))
            {
                firstKey = SortKey(v);
                break;
            }
        }
        for (int p = 0; p < RadixPasses; p++)
        {
            int offset = p * RadixBuckets;
            if (counts[offset + (int)((firstKey >> (p * RadixBits)) & RadixMask)] == n) continue; // one digit value: skip
            live[liveCount++] = p;
            int sum = 0;
            for (int d = 0; d < RadixBuckets; d++)
            {
                int count = counts[offset + d];
                counts[offset + d] = sum;
                sum += count;
            }
        }
        if (liveCount == 0)
        {
            // Every value has the same bits: copy in place of sorting.
            int k = 0;
            foreach (double v in source) if (!double.IsNaN(v)) destination[k++] = v;
            return;
        }
        ulong[]? a = liveCount > 1 ? ArrayPool<ulong>.Shared.Rent(n) : null;
        ulong[]? b = liveCount > 2 ? ArrayPool<ulong>.Shared.Rent(n) : null;
        try
        {
            for (int l = 0; l < liveCount; l++)
            {
                int shift = live[l] * RadixBits;
                ref int offsets = ref counts[live[l] * RadixBuckets];
                bool first = l == 0, last = l == liveCount - 1;
                if (first && last)
                {
                    // One live digit: the source cannot be overwritten while it is read, so go through the key buffer.
                    a = ArrayPool<ulong>.Shared.Rent(n);
                    int k = 0;
                    foreach (double v in source) if (!double.IsNaN(v)) a[k++] = SortKey(v);
                    for (int i = 0; i < n; i++)
                    {
                        ulong u = a[i];
                        destination[Unsafe.Add(ref offsets, (int)((u >> shift) & RadixMask))++] = FromSortKey(u);
                    }
                }
                else if (first)
                {
                    foreach (double v in source)
                    {
                        if (double.IsNaN(v)) continue;
                        ulong u = SortKey(v);
                        a![Unsafe.Add(ref offsets, (int)((u >> shift) & RadixMask))++] = u;
                    }
                }
                else
                {
                    ulong[] from = a!;
                    if (last)
                    {
                        for (int i = 0; i < n; i++)
                        {
                            ulong u = from[i];
                            destination[Unsafe.Add(ref offsets, (int)((u >> shift) & RadixMask))++] = FromSortKey(u);
                        }
                    }
                    else
                    {
                        ulong[] to = b!;
                        for (int i = 0; i < n; i++)
                        {
                            ulong u = from[i];
                            to[Unsafe.Add(ref offsets, (int)((u >> shift) & RadixMask))++] = u;
                        }
                        (a, b) = (b, a);
                    }
                }
            }
        }
        finally
        {
            if (a is not null) ArrayPool<ulong>.Shared.Return(a);
            if (b is not null) ArrayPool<ulong>.Shared.Return(b);
        }
    }

    // ---------------------------------------------------------------- descriptive

    public static double Mean(ReadOnlySpan<double> values)
    {
        if (values.IsEmpty) return double.NaN;
        double sum = 0;
        foreach (double v in values) sum += v;
        return sum / values.Length;
    }

    /// <summary>Population standard deviation (ddof = 0), two-pass.</summary>
    public static double PopulationStandardDeviation(ReadOnlySpan<double> values)
    {
        if (values.IsEmpty) return double.NaN;
        double mean = Mean(values), ss = 0;
        foreach (double v in values)
        {
            double d = v - mean;
            ss += d * d;
        }
        return Math.Sqrt(ss / values.Length);
    }

    /// <summary>Quantile of sorted values with linear interpolation (NumPy's default, Hyndman–Fan type 7).</summary>
    public static double QuantileSorted(ReadOnlySpan<double> sorted, double q)
    {
        if (sorted.IsEmpty) return double.NaN;
        double pos = q * (sorted.Length - 1);
        int lo = (int)Math.Floor(pos);
        if (lo >= sorted.Length - 1) return sorted[^1];
        double frac = pos - lo, a = sorted[lo], b = sorted[lo + 1], diff = b - a;
        // NumPy's _lerp: from the nearer end, so the result matches numpy.quantile to the last bit.
        return frac >= 0.5 ? b - (diff * (1 - frac)) : a + (diff * frac);
    }

    /// <summary>Number of sorted values strictly below <paramref name="x"/>.</summary>
    private static int LowerBound(ReadOnlySpan<double> sorted, double x)
    {
        int lo = 0, hi = sorted.Length;
        while (lo < hi)
        {
            int mid = (int)((uint)(lo + hi) >> 1);
            if (sorted[mid] < x) lo = mid + 1; else hi = mid;
        }
        return lo;
    }

    /// <summary>Number of sorted values less than or equal to <paramref name="x"/>.</summary>
    private static int UpperBound(ReadOnlySpan<double> sorted, double x)
    {
        int lo = 0, hi = sorted.Length;
        while (lo < hi)
        {
            int mid = (int)((uint)(lo + hi) >> 1);
            if (sorted[mid] <= x) lo = mid + 1; else hi = mid;
        }
        return lo;
    }

    // ---------------------------------------------------------------- PSI

    /// <summary>Population stability index of sorted samples (see the class remarks for bins and epsilon).</summary>
    public static double PsiSorted(ReadOnlySpan<double> sortedReference, ReadOnlySpan<double> sortedCurrent, int bins = DefaultPsiBins)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bins, 1);
        if (sortedReference.IsEmpty || sortedCurrent.IsEmpty) return double.NaN;
        Span<double> edges = bins <= 256 ? stackalloc double[bins - 1] : new double[bins - 1];
        int edgeCount = 0;
        for (int k = 1; k < bins; k++)
        {
            double e = QuantileSorted(sortedReference, (double)k / bins);
            if (edgeCount == 0 || e > edges[edgeCount - 1]) edges[edgeCount++] = e;
        }
        double psi = 0;
        int prevRef = 0, prevCur = 0;
        for (int b = 0; b <= edgeCount; b++)
        {
            int endRef = b < edgeCount ? LowerBound(sortedReference, edges[b]) : sortedReference.Length;
            int endCur = b < edgeCount ? LowerBound(sortedCurrent, edges[b]) : sortedCurrent.Length;
            double r = (double)(endRef - prevRef) / sortedReference.Length;
            double c = (double)(endCur - prevCur) / sortedCurrent.Length;
            if (r == 0) r = PsiEpsilon;
            if (c == 0) c = PsiEpsilon;
            psi += (c - r) * Math.Log(c / r);
            prevRef = endRef;
            prevCur = endCur;
        }
        return psi;
    }

    /// <summary>PSI of unsorted samples (sorts copies).</summary>
    public static double Psi(ReadOnlySpan<double> reference, ReadOnlySpan<double> current, int bins = DefaultPsiBins)
        => PsiSorted(SortedCopy(reference), SortedCopy(current), bins);

    // ---------------------------------------------------------------- KS and Wasserstein

    /// <summary>Two-sample KS statistic of sorted samples: max over observed values of |F1 − F2|.</summary>
    public static double KolmogorovSmirnovStatisticSorted(ReadOnlySpan<double> sorted1, ReadOnlySpan<double> sorted2)
        => EmpiricalDistanceSorted(sorted1, sorted2).KolmogorovSmirnov;

    /// <summary>The KS statistic and the Wasserstein-1 distance of two sorted samples from one merge of the two.</summary>
    /// <remarks>The empirical CDFs are compared as integers: at each distinct value v of the union (ties within and
    /// across the samples taken together), i values of the first and j of the second are ≤ v, and
    /// |F1 − F2| = |i·n2 − j·n1| / (n1·n2). KS is the largest of these, evaluated as |i/n1 − j/n2| at the count pair that
    /// attains it (SciPy's formula); Wasserstein-1 is Σ |i·n2 − j·n1|·(next v − v), divided by n1·n2 once at the end.</remarks>
    public static (double KolmogorovSmirnov, double Wasserstein) EmpiricalDistanceSorted(ReadOnlySpan<double> sorted1, ReadOnlySpan<double> sorted2)
    {
        if (sorted1.IsEmpty || sorted2.IsEmpty) return (double.NaN, double.NaN);
        int n1 = sorted1.Length, n2 = sorted2.Length;
        long ln1 = n1, ln2 = n2;
        ref double first1 = ref MemoryMarshal.GetReference(sorted1);
        ref double first2 = ref MemoryMarshal.GetReference(sorted2);
        int i = 0, j = 0, bestI = 0, bestJ = 0;
        long best = -1, gap = 0; // gap = i·n2 − j·n1, kept up to date as i and j move
        double sum = 0;
        double prev = Math.Min(sorted1[0], sorted2[0]);
        // Both samples have values left: take the smaller head (both when equal); close a group when the value changes.
        while (i < n1 && j < n2)
        {
            double a = Unsafe.Add(ref first1, i), b = Unsafe.Add(ref first2, j);
            double v = Math.Min(a, b);
            if (v != prev)
            {
                long size = Math.Abs(gap);
                if (size > best)
                {
                    best = size;
                    bestI = i;
                    bestJ = j;
                }
                sum += size * (v - prev);
                prev = v;
            }
            // Branch-free: which head moves is a coin toss for samples of one distribution.
            bool takeA = a == v, takeB = b == v;
            int stepA = Unsafe.As<bool, byte>(ref takeA), stepB = Unsafe.As<bool, byte>(ref takeB);
            i += stepA;
            j += stepB;
            gap += (stepA * ln2) - (stepB * ln1);
        }
        // One sample is used up: its CDF is 1 from here on.
        for (; i < n1; i++)
        {
            double v = sorted1[i];
            if (v == prev) continue;
            long size = Math.Abs((i * ln2) - (j * ln1));
            if (size > best)
            {
                best = size;
                bestI = i;
                bestJ = j;
            }
            sum += size * (v - prev);
            prev = v;
        }
        for (; j < n2; j++)
        {
            double v = sorted2[j];
            if (v == prev) continue;
            long size = Math.Abs((i * ln2) - (j * ln1));
            if (size > best)
            {
                best = size;
                bestI = i;
                bestJ = j;
            }
            sum += size * (v - prev);
            prev = v;
        }
        // The last group closes with both CDFs at 1 (gap 0).
        double ks = best <= 0 ? 0.0 : Math.Abs(((double)bestI / n1) - ((double)bestJ / n2));
        return (ks, sum / ((double)n1 * n2));
    }

    /// <summary>Two-sample KS statistic and two-sided p-value of sorted samples.</summary>
    public static KsResult KolmogorovSmirnovSorted(ReadOnlySpan<double> sorted1, ReadOnlySpan<double> sorted2, KsMethod method = KsMethod.Auto)
    {
        double d = KolmogorovSmirnovStatisticSorted(sorted1, sorted2);
        return KolmogorovSmirnovPValueCore(d, sorted1.Length, sorted2.Length, method);
    }

    public static KsResult KolmogorovSmirnov(ReadOnlySpan<double> sample1, ReadOnlySpan<double> sample2, KsMethod method = KsMethod.Auto)
        => KolmogorovSmirnovSorted(SortedCopy(sample1), SortedCopy(sample2), method);

    /// <summary>Wasserstein-1 distance of sorted samples: Σ over the merged values of |F1 − F2|·Δx.</summary>
    public static double WassersteinSorted(ReadOnlySpan<double> sorted1, ReadOnlySpan<double> sorted2)
        => EmpiricalDistanceSorted(sorted1, sorted2).Wasserstein;

    public static double Wasserstein(ReadOnlySpan<double> sample1, ReadOnlySpan<double> sample2)
        => WassersteinSorted(SortedCopy(sample1), SortedCopy(sample2));

    /// <summary>Wasserstein-1 divided by max(population std of the reference, 0.001), as Evidently.</summary>
    public static double NormalizedWassersteinSorted(ReadOnlySpan<double> sortedReference, ReadOnlySpan<double> sortedCurrent)
        => WassersteinSorted(sortedReference, sortedCurrent) / Math.Max(PopulationStandardDeviation(sortedReference), MinNormalizationStd);

    // ---------------------------------------------------------------- Jensen–Shannon

    /// <summary>Jensen–Shannon distance in base 2 of two non-negative weight vectors (each normalized to sum 1).</summary>
    public static double JensenShannonDistance(ReadOnlySpan<double> p, ReadOnlySpan<double> q)
    {
        if (p.Length != q.Length) throw new ArgumentException("p and q must have the same length.", nameof(q));
        double sp = 0, sq = 0;
        foreach (double v in p) sp += v;
        foreach (double v in q) sq += v;
        if (sp <= 0 || sq <= 0) return double.NaN;
        double left = 0, right = 0;
        for (int i = 0; i < p.Length; i++)
        {
            double pi = p[i] / sp, qi = q[i] / sq, mi = (pi + qi) / 2.0;
            left += RelEntr(pi, mi);
            right += RelEntr(qi, mi);
        }
        double js = (left + right) / Math.Log(2.0);
        return Math.Sqrt(Math.Max(js / 2.0, 0.0));
    }

    private static double RelEntr(double x, double y)
    {
        if (x > 0 && y > 0) return x * Math.Log(x / y);
        if (x == 0 && y >= 0) return 0;
        return double.PositiveInfinity;
    }

    /// <summary>Jensen–Shannon distance (base 2) of sorted numeric samples binned into equal-width bins over the union's
    /// range (see <see cref="HistogramSorted"/>): numpy.histogram(x, bins, range=(min, max)) of each sample, then
    /// scipy.spatial.distance.jensenshannon(p, q, base=2).</summary>
    public static double JensenShannonBinnedSorted(ReadOnlySpan<double> sortedReference, ReadOnlySpan<double> sortedCurrent, int bins = DefaultJensenShannonBins)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bins, 1);
        if (sortedReference.IsEmpty || sortedCurrent.IsEmpty) return double.NaN;
        double lo = Math.Min(sortedReference[0], sortedCurrent[0]);
        double hi = Math.Max(sortedReference[^1], sortedCurrent[^1]);
        if (!(hi > lo)) return 0.0; // one value in both samples
        Span<double> p = bins <= 256 ? stackalloc double[bins] : new double[bins];
        Span<double> q = bins <= 256 ? stackalloc double[bins] : new double[bins];
        HistogramSorted(sortedReference, lo, hi, p);
        HistogramSorted(sortedCurrent, lo, hi, q);
        return JensenShannonDistance(p, q);
    }

    /// <summary>
    /// Counts of sorted values in <c>counts.Length</c> equal-width bins over [<paramref name="lo"/>, <paramref name="hi"/>],
    /// as numpy.histogram(values, bins, range=(lo, hi)): the edges are numpy.linspace's, edge k = k·((hi − lo)/bins) + lo
    /// with the last edge exactly <paramref name="hi"/> (so an edge is not always the double nearest to lo + k·(hi − lo)/bins:
    /// for [0, 1] in 20 bins edge 3 is 0.15000000000000002, and a value of 0.15 counts in bin 2); every bin is
    /// [edge k, edge k+1) except the last, which is closed. Values outside the range are not counted.
    /// </summary>
    public static void HistogramSorted(ReadOnlySpan<double> sorted, double lo, double hi, Span<double> counts)
    {
        int bins = counts.Length;
        if (bins == 0) return;
        double delta = hi - lo, step = delta / bins;
        int prev = LowerBound(sorted, lo);
        for (int b = 0; b < bins; b++)
        {
            int k = b + 1;
            // numpy.linspace: k·step + lo; for a subnormal step (0) it scales first, as numpy does.
            double edge = step == 0 ? (k / (double)bins * delta) + lo : (k * step) + lo;
            int end = b == bins - 1 ? UpperBound(sorted, hi) : Math.Max(prev, LowerBound(sorted, edge));
            counts[b] = end - prev;
            prev = end;
        }
    }

    /// <summary>Jensen–Shannon distance (base 2) of category counts over the union of categories.</summary>
    public static double JensenShannonCategorical(IReadOnlyDictionary<string, long> reference, IReadOnlyDictionary<string, long> current)
    {
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(current);
        var keys = UnionKeys(reference, current);
        var p = new double[keys.Length];
        var q = new double[keys.Length];
        for (int i = 0; i < keys.Length; i++)
        {
            p[i] = reference.GetValueOrDefault(keys[i]);
            q[i] = current.GetValueOrDefault(keys[i]);
        }
        return JensenShannonDistance(p, q);
    }

    internal static string[] UnionKeys(IReadOnlyDictionary<string, long> a, IReadOnlyDictionary<string, long> b)
    {
        var set = new HashSet<string>(StringComparer.Ordinal);
        foreach (var kv in a) if (kv.Value > 0) set.Add(kv.Key);
        foreach (var kv in b) if (kv.Value > 0) set.Add(kv.Key);
        var keys = set.ToArray();
        Array.Sort(keys, StringComparer.Ordinal);
        return keys;
    }

    // ---------------------------------------------------------------- chi-square and z-test

    /// <summary>Pearson chi-square of observed against expected frequencies (scipy.stats.chisquare), dof = k − 1.</summary>
    public static ChiSquareResult ChiSquare(ReadOnlySpan<double> observed, ReadOnlySpan<double> expected)
    {
        if (observed.Length != expected.Length) throw new ArgumentException("observed and expected must have the same length.", nameof(expected));
        double stat = 0;
        for (int i = 0; i < observed.Length; i++)
        {
            double o = observed[i], e = expected[i];
            if (e == 0)
            {
                if (o != 0) stat = double.PositiveInfinity;
                continue;
            }
            double d = o - e;
            stat += d * d / e;
        }
        int dof = observed.Length - 1;
        if (dof <= 0) return new ChiSquareResult(stat, 1.0, 0);
        double p = double.IsPositiveInfinity(stat) ? 0.0 : ChiSquareSurvival(stat, dof);
        return new ChiSquareResult(stat, p, dof);
    }

    /// <summary>Chi-square of current counts against the reference's proportions × the current total.</summary>
    public static ChiSquareResult ChiSquareCategorical(IReadOnlyDictionary<string, long> reference, IReadOnlyDictionary<string, long> current)
    {
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(current);
        var keys = UnionKeys(reference, current);
        double refTotal = 0, curTotal = 0;
        foreach (var k in keys)
        {
            refTotal += reference.GetValueOrDefault(k);
            curTotal += current.GetValueOrDefault(k);
        }
        if (refTotal <= 0 || curTotal <= 0) return new ChiSquareResult(double.NaN, double.NaN, 0);
        var observed = new double[keys.Length];
        var expected = new double[keys.Length];
        for (int i = 0; i < keys.Length; i++)
        {
            observed[i] = current.GetValueOrDefault(keys[i]);
            expected[i] = reference.GetValueOrDefault(keys[i]) / refTotal * curTotal;
        }
        return ChiSquare(observed, expected);
    }

    /// <summary>Pooled two-proportion z statistic (reference minus current); 0 when both samples are constant and equal.</summary>
    public static double TwoProportionZ(long successesReference, long rowsReference, long successesCurrent, long rowsCurrent)
    {
        if (rowsReference <= 0 || rowsCurrent <= 0) return double.NaN;
        double n1 = rowsReference, n2 = rowsCurrent;
        double p1 = successesReference / n1, p2 = successesCurrent / n2;
        double pooled = (successesReference + (double)successesCurrent) / (n1 + n2);
        double variance = pooled * (1 - pooled) * (1.0 / n1 + 1.0 / n2);
        if (variance <= 0) return 0.0;
        return (p1 - p2) / Math.Sqrt(variance);
    }

    /// <summary>Two-sided p-value of the two-proportion z-test on a binary feature's counts
    /// ("success" = the first category of the union in ordinal order; the p-value does not depend on it).</summary>
    public static double TwoProportionZTestCategorical(IReadOnlyDictionary<string, long> reference, IReadOnlyDictionary<string, long> current)
    {
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(current);
        var keys = UnionKeys(reference, current);
        if (keys.Length == 0) return double.NaN;
        long refTotal = 0, curTotal = 0;
        foreach (var k in keys)
        {
            refTotal += reference.GetValueOrDefault(k);
            curTotal += current.GetValueOrDefault(k);
        }
        double z = TwoProportionZ(reference.GetValueOrDefault(keys[0]), refTotal, current.GetValueOrDefault(keys[0]), curTotal);
        return NormalTwoSidedPValue(z);
    }

    internal static string Format(double value) => value.ToString("0.00##", CultureInfo.InvariantCulture);
}
