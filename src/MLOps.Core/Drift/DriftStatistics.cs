using System.Buffers;
using System.Globalization;

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
/// <see cref="DefaultJensenShannonBins"/> equal-width bins over the union's [min, max] (last bin closed, as
/// numpy.histogram); categorical counts are compared over the union of categories.</item>
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

    /// <summary>An ascending copy without NaN values.</summary>
    public static double[] SortedCopy(ReadOnlySpan<double> values)
    {
        int count = 0;
        foreach (double v in values) if (!double.IsNaN(v)) count++;
        var copy = new double[count];
        int i = 0;
        foreach (double v in values) if (!double.IsNaN(v)) copy[i++] = v;
        SortInPlace(copy);
        return copy;
    }

    /// <summary>Sorts NaN-free values ascending: LSD radix sort (6 passes of 11 bits, passes whose digit is
    /// constant skipped) above 2,048 values, introsort below.</summary>
    public static void SortInPlace(Span<double> values)
    {
        if (values.Length < 2048)
        {
            values.Sort();
            return;
        }
        int n = values.Length;
        const int bits = 11, buckets = 1 << bits, passes = 6;
        ulong[] a = ArrayPool<ulong>.Shared.Rent(n), b = ArrayPool<ulong>.Shared.Rent(n);
        int[] counts = ArrayPool<int>.Shared.Rent(buckets * passes);
        try
        {
            Array.Clear(counts, 0, buckets * passes);
            for (int i = 0; i < n; i++)
            {
                ulong u = (ulong)BitConverter.DoubleToInt64Bits(values[i]);
                // Order-preserving map: negative → flip all bits, positive → flip the sign bit.
                u ^= (ulong)((long)u >> 63) | 0x8000_0000_0000_0000UL;
                a[i] = u;
                for (int p = 0; p < passes; p++) counts[p * buckets + (int)((u >> (p * bits)) & (buckets - 1))]++;
            }
            for (int p = 0; p < passes; p++)
            {
                int off = p * buckets, shift = p * bits;
                if (counts[off + (int)((a[0] >> shift) & (buckets - 1))] == n) continue; // one digit value: skip
                int sum = 0;
                for (int d = 0; d < buckets; d++)
                {
                    int c = counts[off + d];
                    counts[off + d] = sum;
                    sum += c;
                }
                for (int i = 0; i < n; i++)
                {
                    ulong u = a[i];
                    b[counts[off + (int)((u >> shift) & (buckets - 1))]++] = u;
                }
                (a, b) = (b, a);
            }
            for (int i = 0; i < n; i++)
            {
                ulong u = a[i];
                u ^= (u & 0x8000_0000_0000_0000UL) != 0 ? 0x8000_0000_0000_0000UL : ulong.MaxValue;
                values[i] = BitConverter.Int64BitsToDouble((long)u);
            }
        }
        finally
        {
            ArrayPool<ulong>.Shared.Return(a);
            ArrayPool<ulong>.Shared.Return(b);
            ArrayPool<int>.Shared.Return(counts);
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
        double frac = pos - lo;
        return sorted[lo] + (sorted[lo + 1] - sorted[lo]) * frac;
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
    {
        if (sorted1.IsEmpty || sorted2.IsEmpty) return double.NaN;
        double n1 = sorted1.Length, n2 = sorted2.Length, max = 0;
        int i = 0, j = 0;
        while (i < sorted1.Length || j < sorted2.Length)
        {
            double v = j >= sorted2.Length || (i < sorted1.Length && sorted1[i] <= sorted2[j]) ? sorted1[i] : sorted2[j];
            while (i < sorted1.Length && sorted1[i] <= v) i++;
            while (j < sorted2.Length && sorted2[j] <= v) j++;
            double diff = Math.Abs(i / n1 - j / n2);
            if (diff > max) max = diff;
        }
        return max;
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
    {
        if (sorted1.IsEmpty || sorted2.IsEmpty) return double.NaN;
        double n1 = sorted1.Length, n2 = sorted2.Length, sum = 0;
        int i = 0, j = 0;
        double prev = 0, prevDiff = 0;
        bool first = true;
        while (i < sorted1.Length || j < sorted2.Length)
        {
            double v = j >= sorted2.Length || (i < sorted1.Length && sorted1[i] <= sorted2[j]) ? sorted1[i] : sorted2[j];
            if (!first) sum += prevDiff * (v - prev);
            while (i < sorted1.Length && sorted1[i] <= v) i++;
            while (j < sorted2.Length && sorted2[j] <= v) j++;
            prevDiff = Math.Abs(i / n1 - j / n2);
            prev = v;
            first = false;
        }
        return sum;
    }

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

    /// <summary>Jensen–Shannon distance (base 2) of sorted numeric samples binned into equal-width bins over the union's range.</summary>
    public static double JensenShannonBinnedSorted(ReadOnlySpan<double> sortedReference, ReadOnlySpan<double> sortedCurrent, int bins = DefaultJensenShannonBins)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bins, 1);
        if (sortedReference.IsEmpty || sortedCurrent.IsEmpty) return double.NaN;
        double lo = Math.Min(sortedReference[0], sortedCurrent[0]);
        double hi = Math.Max(sortedReference[^1], sortedCurrent[^1]);
        if (!(hi > lo)) return 0.0; // one value in both samples
        Span<double> p = bins <= 256 ? stackalloc double[bins] : new double[bins];
        Span<double> q = bins <= 256 ? stackalloc double[bins] : new double[bins];
        FillHistogram(sortedReference, lo, hi, p);
        FillHistogram(sortedCurrent, lo, hi, q);
        return JensenShannonDistance(p, q);
    }

    private static void FillHistogram(ReadOnlySpan<double> sorted, double lo, double hi, Span<double> counts)
    {
        int bins = counts.Length, prev = 0;
        for (int b = 0; b < bins; b++)
        {
            int end = b == bins - 1 ? sorted.Length : LowerBound(sorted, lo + (hi - lo) * (b + 1) / bins);
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
