using System.Globalization;
using System.Text;
using MLOps.Core.Workflows;

namespace MLOps.Core.Drift;

/// <summary>
/// Compares a production window with its reference. Every applicable metric is kept per feature
/// (psi, ks, ks_p_value, wasserstein, wasserstein_norm, jensen_shannon, chi_square, chi_square_p_value,
/// z_test_p_value, mean_ref, mean_cur, null_rate_ref, null_rate_cur); values that are not finite (an
/// infinite chi-square for a category never seen in the reference, a mean of no values) are left out so the
/// report serializes to JSON.
/// <para>Method <c>auto</c> follows Evidently: reference ≤ 1000 rows — numeric with more than 5 distinct values:
/// KS (p &lt; 0.05); categorical, or numeric with ≤ 5 distinct values (counted over both samples): chi-square,
/// or the two-proportion z-test when there are at most 2 categories (p &lt; 0.05). Reference &gt; 1000 rows —
/// numeric with more than 5 distinct values: normalized Wasserstein ≥ 0.1; otherwise Jensen–Shannon ≥ 0.1.
/// Explicit methods use <see cref="DriftSpec.Threshold"/> or their default: psi 0.25 (the "significant" band),
/// ks and chi_square alpha 0.05 (drift when p &lt; alpha), wasserstein (normalized) 0.1, jensen_shannon 0.1;
/// a method that does not apply to a feature's kind falls back to its counterpart (ks ↔ chi_square,
/// wasserstein → jensen_shannon for categories). Distances drift when value ≥ threshold.</para>
/// </summary>
public static class DriftAnalyzer
{
    public const double DefaultAlpha = 0.05;
    public const double DefaultDistanceThreshold = 0.1;
    public const double DefaultPsiThreshold = 0.25;
    /// <summary>Evidently's switch from statistical tests to distances, on reference rows.</summary>
    public const long AutoLargeReferenceRows = 1000;
    /// <summary>Numeric features with at most this many distinct values are treated as categorical by <c>auto</c>.</summary>
    public const int AutoMaxDistinctForCategorical = 5;

    public static DriftReport Compare(DatasetProfile reference, DatasetProfile current, MonitoringSpec monitoring)
    {
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(monitoring);
        string method = (monitoring.Drift.Method ?? "auto").Trim().ToLowerInvariant();
        if (method is not ("auto" or "psi" or "ks" or "wasserstein" or "wasserstein_norm" or "jensen_shannon" or "chi_square"))
            throw new ArgumentException($"Unknown drift method '{monitoring.Drift.Method}'.", nameof(monitoring));
        bool judged = current.Rows >= monitoring.MinRows;

        var currentByName = new Dictionary<string, FeatureProfile>(StringComparer.Ordinal);
        foreach (var f in current.Features) currentByName[f.Name] = f;

        var results = new List<FeatureDrift>(reference.Features.Count);
        foreach (var refFeature in reference.Features)
        {
            var curFeature = currentByName.GetValueOrDefault(refFeature.Name)
                ?? new FeatureProfile { Name = refFeature.Name, Kind = refFeature.Kind, Rows = current.Rows, Nulls = current.Rows };
            var drift = CompareFeature(refFeature, curFeature, method, monitoring.Drift.Threshold);
            results.Add(judged ? drift : drift with { Drifted = false });
        }

        int drifted = results.Count(r => r.Drifted);
        double share = results.Count == 0 ? 0 : (double)drifted / results.Count;
        bool datasetDrift = judged && results.Count > 0 && share >= monitoring.Drift.DatasetShare;
        return new DriftReport
        {
            Features = results,
            DriftedFeatures = drifted,
            DatasetDrift = datasetDrift,
            ReferenceRows = reference.Rows,
            CurrentRows = current.Rows,
            Judged = judged,
            Summary = judged
                ? Summarize(results, drifted, share, datasetDrift, monitoring.Drift.DatasetShare)
                : string.Create(CultureInfo.InvariantCulture,
                    $"not judged: the window has {current.Rows} rows, fewer than the minimum of {monitoring.MinRows}"),
        };
    }

    private static string Summarize(List<FeatureDrift> results, int drifted, double share, bool datasetDrift, double datasetShare)
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"{drifted} of {results.Count} features drifted");
        if (drifted > 0)
        {
            sb.Append(" (");
            bool first = true;
            foreach (var r in results.Where(r => r.Drifted))
            {
                if (!first) sb.Append("; ");
                first = false;
                sb.Append(r.Feature).Append(": ").Append(Describe(r));
            }
            sb.Append(')');
        }
        sb.Append(CultureInfo.InvariantCulture,
            $"; dataset drift {(datasetDrift ? "yes" : "no")} (share {DriftStatistics.Format(share)} {(datasetDrift ? "≥" : "<")} {DriftStatistics.Format(datasetShare)})");
        return sb.ToString();
    }

    private static string Describe(FeatureDrift r) => IsPValueMethod(r.Method)
        ? $"{r.Method} p {FormatP(r.Value)} < {DriftStatistics.Format(r.Threshold)}"
        : $"{r.Method} {DriftStatistics.Format(r.Value)} ≥ {DriftStatistics.Format(r.Threshold)}";

    private static string FormatP(double p) => p < 0.001 ? p.ToString("0.0e+0", CultureInfo.InvariantCulture) : p.ToString("0.000", CultureInfo.InvariantCulture);

    private static bool IsPValueMethod(string method) => method is "ks" or "chi_square" or "z_test";

    private static FeatureDrift CompareFeature(FeatureProfile reference, FeatureProfile current, string method, double? threshold)
    {
        var metrics = new Dictionary<string, double>(StringComparer.Ordinal);
        Put(metrics, "null_rate_ref", reference.Rows > 0 ? (double)reference.Nulls / reference.Rows : double.NaN);
        Put(metrics, "null_rate_cur", current.Rows > 0 ? (double)current.Nulls / current.Rows : double.NaN);

        int distinct;
        IReadOnlyDictionary<string, long> refCounts, curCounts;
        if (reference.Kind == FeatureKind.Numeric)
        {
            double[] r = DriftStatistics.SortedCopy(reference.Values);
            double[] c = DriftStatistics.SortedCopy(current.Values);
            Put(metrics, "mean_ref", DriftStatistics.Mean(r));
            Put(metrics, "mean_cur", DriftStatistics.Mean(c));
            distinct = CountDistinctUnion(r, c, AutoMaxDistinctForCategorical + 1);
            if (r.Length > 0 && c.Length > 0)
            {
                Put(metrics, "psi", DriftStatistics.PsiSorted(r, c));
                var ks = DriftStatistics.KolmogorovSmirnovSorted(r, c);
                Put(metrics, "ks", ks.Statistic);
                Put(metrics, "ks_p_value", ks.PValue);
                Put(metrics, "wasserstein", DriftStatistics.WassersteinSorted(r, c));
                Put(metrics, "wasserstein_norm", DriftStatistics.NormalizedWassersteinSorted(r, c));
                Put(metrics, "jensen_shannon", DriftStatistics.JensenShannonBinnedSorted(r, c));
            }
            if (distinct <= AutoMaxDistinctForCategorical)
            {
                refCounts = ValueCounts(r);
                curCounts = ValueCounts(c);
                AddCategoricalTests(metrics, refCounts, curCounts, includeDistances: false);
            }
        }
        else
        {
            refCounts = reference.Counts;
            curCounts = current.Counts;
            distinct = DriftStatistics.UnionKeys(refCounts, curCounts).Length;
            AddCategoricalTests(metrics, refCounts, curCounts, includeDistances: true);
        }

        bool numericLike = reference.Kind == FeatureKind.Numeric && distinct > AutoMaxDistinctForCategorical;
        bool numeric = reference.Kind == FeatureKind.Numeric;
        (string name, double value, double limit, bool isP) = method switch
        {
            "auto" when reference.Rows <= AutoLargeReferenceRows && numericLike => ("ks", Get(metrics, "ks_p_value"), DefaultAlpha, true),
            "auto" when reference.Rows <= AutoLargeReferenceRows && distinct <= 2 => ("z_test", Get(metrics, "z_test_p_value"), DefaultAlpha, true),
            "auto" when reference.Rows <= AutoLargeReferenceRows => ("chi_square", Get(metrics, "chi_square_p_value"), DefaultAlpha, true),
            "auto" when numericLike => ("wasserstein_norm", Get(metrics, "wasserstein_norm"), DefaultDistanceThreshold, false),
            "auto" => ("jensen_shannon", Get(metrics, "jensen_shannon"), DefaultDistanceThreshold, false),
            "psi" => ("psi", Get(metrics, "psi"), threshold ?? DefaultPsiThreshold, false),
            "ks" or "chi_square" when numeric => ("ks", Get(metrics, "ks_p_value"), threshold ?? DefaultAlpha, true),
            "ks" or "chi_square" => ("chi_square", Get(metrics, "chi_square_p_value"), threshold ?? DefaultAlpha, true),
            "wasserstein" or "wasserstein_norm" when numeric => ("wasserstein_norm", Get(metrics, "wasserstein_norm"), threshold ?? DefaultDistanceThreshold, false),
            _ => ("jensen_shannon", Get(metrics, "jensen_shannon"), threshold ?? DefaultDistanceThreshold, false),
        };
        // Distinct-valued numeric features under auto with chi-square/z: the numeric value counts serve.
        if (numeric && !numericLike && method == "auto" && reference.Rows > AutoLargeReferenceRows)
        {
            (name, value) = ("jensen_shannon", Get(metrics, "jensen_shannon_counts", Get(metrics, "jensen_shannon")));
        }
        metrics.Remove("jensen_shannon_counts");
        bool drifted = !double.IsNaN(value) && (isP ? value < limit : value >= limit);
        return new FeatureDrift
        {
            Feature = reference.Name,
            Kind = reference.Kind,
            Method = name,
            Value = double.IsNaN(value) ? (isP ? 1.0 : 0.0) : value,
            Threshold = limit,
            Drifted = drifted,
            Metrics = metrics,
            ReferenceRows = reference.Rows,
            CurrentRows = current.Rows,
        };
    }

    private static void AddCategoricalTests(Dictionary<string, double> metrics, IReadOnlyDictionary<string, long> refCounts,
        IReadOnlyDictionary<string, long> curCounts, bool includeDistances)
    {
        if (!HasAny(refCounts) || !HasAny(curCounts)) return;
        var chi = DriftStatistics.ChiSquareCategorical(refCounts, curCounts);
        Put(metrics, "chi_square", chi.Statistic);
        Put(metrics, "chi_square_p_value", chi.PValue);
        if (DriftStatistics.UnionKeys(refCounts, curCounts).Length <= 2)
            Put(metrics, "z_test_p_value", DriftStatistics.TwoProportionZTestCategorical(refCounts, curCounts));
        double js = DriftStatistics.JensenShannonCategorical(refCounts, curCounts);
        if (includeDistances)
        {
            Put(metrics, "jensen_shannon", js);
            Put(metrics, "psi", CategoricalPsi(refCounts, curCounts));
        }
        else
        {
            Put(metrics, "jensen_shannon_counts", js);
        }
    }

    private static bool HasAny(IReadOnlyDictionary<string, long> counts)
    {
        foreach (var kv in counts) if (kv.Value > 0) return true;
        return false;
    }

    /// <summary>PSI over the union of categories, empty categories at <see cref="DriftStatistics.PsiEpsilon"/>.</summary>
    public static double CategoricalPsi(IReadOnlyDictionary<string, long> reference, IReadOnlyDictionary<string, long> current)
    {
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(current);
        var keys = DriftStatistics.UnionKeys(reference, current);
        double rt = 0, ct = 0;
        foreach (var k in keys)
        {
            rt += reference.GetValueOrDefault(k);
            ct += current.GetValueOrDefault(k);
        }
        if (rt <= 0 || ct <= 0) return double.NaN;
        double psi = 0;
        foreach (var k in keys)
        {
            double r = reference.GetValueOrDefault(k) / rt, c = current.GetValueOrDefault(k) / ct;
            if (r == 0) r = DriftStatistics.PsiEpsilon;
            if (c == 0) c = DriftStatistics.PsiEpsilon;
            psi += (c - r) * Math.Log(c / r);
        }
        return psi;
    }

    private static int CountDistinctUnion(double[] a, double[] b, int stopAt)
    {
        int i = 0, j = 0, count = 0;
        while ((i < a.Length || j < b.Length) && count < stopAt)
        {
            double v = j >= b.Length || (i < a.Length && a[i] <= b[j]) ? a[i] : b[j];
            while (i < a.Length && a[i] <= v) i++;
            while (j < b.Length && b[j] <= v) j++;
            count++;
        }
        return count;
    }

    private static Dictionary<string, long> ValueCounts(double[] sorted)
    {
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        int i = 0;
        while (i < sorted.Length)
        {
            int start = i;
            double v = sorted[i];
            while (i < sorted.Length && sorted[i] == v) i++;
            string key = v.ToString("R", CultureInfo.InvariantCulture);
            counts[key] = counts.GetValueOrDefault(key) + (i - start);
        }
        return counts;
    }

    private static void Put(Dictionary<string, double> metrics, string name, double value)
    {
        if (double.IsFinite(value)) metrics[name] = value;
    }

    private static double Get(Dictionary<string, double> metrics, string name, double fallback = double.NaN)
        => metrics.TryGetValue(name, out double v) ? v : fallback;
}
