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
/// <para>Method <c>auto</c> follows Evidently, per feature on its non-null values (Evidently drops nulls before it
/// chooses): a reference of ≤ 1000 non-null values — numeric with more than 5 distinct values: KS (p &lt; 0.05);
/// categorical, or numeric with ≤ 5 distinct values (counted over both samples): chi-square, or the two-proportion
/// z-test when there are at most 2 (p &lt; 0.05). More than 1000 — numeric with more than 5 distinct values:
/// normalized Wasserstein ≥ 0.1; otherwise Jensen–Shannon ≥ 0.1. A <see cref="DriftSpec.Threshold"/> replaces the
/// default of whichever test <c>auto</c> picks, as Evidently's <c>stattest_threshold</c> does: it is the alpha of
/// a p-value test and the limit of a distance.
/// Explicit methods use <see cref="DriftSpec.Threshold"/> or their default: psi 0.25 (the "significant" band),
/// ks and chi_square alpha 0.05 (drift when p &lt; alpha), wasserstein (normalized) 0.1, jensen_shannon 0.1;
/// a method that does not apply to a feature's kind falls back to its counterpart (ks ↔ chi_square,
/// wasserstein → jensen_shannon for categories). Distances drift when value ≥ threshold.</para>
/// <para>The model's output (<see cref="PredictionFeature"/>, matched by <see cref="FeatureProfile.IsPrediction"/>) is
/// judged by the same rules when both profiles have it, and reported last with <see cref="FeatureDrift.IsPrediction"/>.
/// Under <c>prediction: monitor</c> (the default) it is left out of the drifted count, the dataset share and the
/// Benjamini–Hochberg family, and reported in <see cref="DriftReport.PredictionDrift"/> and the summary; under
/// <c>count</c> it counts like an input feature; under <c>off</c> it is ignored. When only one side has it (a reference
/// stored before prediction drift was profiled), it is skipped with a note.</para>
/// <para><c>threshold_mode: calibrated</c> replaces the threshold with mean + 3σ of the deciding metric over reference
/// chunks; p-value tests are calibrated on their statistic (KS D, chi-square), so there the threshold is no alpha and
/// the floor is <see cref="DefaultCalibrationFloor"/>; for distances <see cref="DriftSpec.Threshold"/> is the floor. A reference
/// too short for 3 chunks keeps the fixed rule above (threshold included).
/// Benjamini–Hochberg adjusts p-values, so it needs <c>threshold_mode: fixed</c> and a method that can decide on a
/// p-value (auto, ks, chi_square); other combinations are rejected (the parser rejects them with file, line, column).</para>
/// </summary>
public static class DriftAnalyzer
{
    public const double DefaultAlpha = 0.05;
    public const double DefaultDistanceThreshold = 0.1;
    public const double DefaultPsiThreshold = 0.25;
    /// <summary>Evidently's switch from statistical tests to distances, on the reference's non-null values of a feature.</summary>
    public const long AutoLargeReferenceRows = 1000;
    /// <summary>Numeric features with at most this many distinct values are treated as categorical by <c>auto</c>.</summary>
    public const int AutoMaxDistinctForCategorical = 5;

    public static DriftReport Compare(DatasetProfile reference, DatasetProfile current, MonitoringSpec monitoring)
    {
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(monitoring);
        var comparison = new DriftComparison(monitoring, reference.Rows, current.Rows);
        var currentByName = new Dictionary<string, FeatureProfile>(StringComparer.Ordinal);
        foreach (var f in current.Features) currentByName[f.Name] = f;
        reference = PredictionFeature.JudgedReference(reference, current.Features.Any(f => f.IsPrediction), monitoring, out var note);
        comparison.AddNote(note);
        foreach (var refFeature in reference.Features)
        {
            comparison.Add(refFeature, currentByName.GetValueOrDefault(refFeature.Name));
        }
        return comparison.Finish();
    }

    /// <summary>The validated drift settings of a monitoring spec (lower-cased method, mode and FDR control).</summary>
    internal readonly record struct Settings(string Method, bool Calibrated, bool BenjaminiHochberg, bool PredictionCounts);

    internal static Settings Validate(MonitoringSpec monitoring)
    {
        string method = (monitoring.Drift.Method ?? "auto").Trim().ToLowerInvariant();
        if (method is not ("auto" or "psi" or "ks" or "wasserstein" or "wasserstein_norm" or "jensen_shannon" or "chi_square"))
            throw new ArgumentException($"Unknown drift method '{monitoring.Drift.Method}'.", nameof(monitoring));
        string mode = (monitoring.Drift.ThresholdMode ?? "fixed").Trim().ToLowerInvariant();
        if (mode is not ("fixed" or "calibrated"))
            throw new ArgumentException($"Unknown threshold mode '{monitoring.Drift.ThresholdMode}'.", nameof(monitoring));
        string fdr = (monitoring.Drift.Fdr ?? "none").Trim().ToLowerInvariant();
        if (fdr is not ("none" or "benjamini_hochberg"))
            throw new ArgumentException($"Unknown FDR control '{monitoring.Drift.Fdr}'.", nameof(monitoring));
        if (fdr == "benjamini_hochberg" && FdrConflict(method, mode) is { } conflict)
            throw new ArgumentException(conflict, nameof(monitoring));
        string prediction = (monitoring.Drift.Prediction ?? "monitor").Trim().ToLowerInvariant();
        if (prediction is not ("monitor" or "count" or "off"))
            throw new ArgumentException($"Unknown prediction drift mode '{monitoring.Drift.Prediction}'.", nameof(monitoring));
        return new Settings(method, mode == "calibrated", fdr == "benjamini_hochberg", prediction == "count");
    }

    /// <summary>Compares one feature (a missing current feature counts as all nulls over the window's rows).</summary>
    internal static FeatureDrift CompareOne(Settings settings, MonitoringSpec monitoring, FeatureProfile reference, FeatureProfile? current, long currentRows)
    {
        var curFeature = current ?? new FeatureProfile { Name = reference.Name, Kind = reference.Kind, Rows = currentRows, Nulls = currentRows };
        if (reference.IsPrediction && current is not null && current.Kind != reference.Kind)
            throw new InvalidDataException($"The prediction feature is {reference.Kind} in the reference but {current.Kind} in the current data.");
        return CompareFeature(reference, curFeature, settings.Method, monitoring.Drift.Threshold, settings.Calibrated) with { IsPrediction = reference.IsPrediction };
    }

    /// <summary>The report from every feature's result: FDR control, the minimum-rows rule, the dataset verdict.</summary>
    internal static DriftReport Finish(Settings settings, MonitoringSpec monitoring, List<FeatureDrift> results, long referenceRows, long currentRows, IReadOnlyList<string> notes)
    {
        bool judged = currentRows >= monitoring.MinRows;
        bool Counts(FeatureDrift r) => !r.IsPrediction || settings.PredictionCounts;
        if (settings.BenjaminiHochberg) ApplyBenjaminiHochberg(results, Counts);
        if (!judged)
        {
            for (int i = 0; i < results.Count; i++) results[i] = results[i] with { Drifted = false };
        }

        int counted = results.Count(Counts);
        int drifted = results.Count(r => r.Drifted && Counts(r));
        double share = counted == 0 ? 0 : (double)drifted / counted;
        bool datasetDrift = judged && counted > 0 && share >= monitoring.Drift.DatasetShare;
        var predictionResult = results.FirstOrDefault(r => r.IsPrediction);
        string summary = judged
            ? Summarize(results, Counts, drifted, counted, share, datasetDrift, monitoring.Drift.DatasetShare)
            : string.Create(CultureInfo.InvariantCulture,
                $"not judged: the window has {currentRows} rows, fewer than the minimum of {monitoring.MinRows}");
        return new DriftReport
        {
            Features = results,
            DriftedFeatures = drifted,
            DatasetDrift = datasetDrift,
            ReferenceRows = referenceRows,
            CurrentRows = currentRows,
            Judged = judged,
            WindowsDrifted = judged && drifted > 0 ? 1 : 0,
            Alert = judged && drifted > 0 && monitoring.Drift.AlertAfter.K <= 1,
            PredictionDrift = judged && predictionResult is not null ? predictionResult.Drifted : null,
            Notes = notes,
            Summary = notes.Count == 0 ? summary : summary + "; " + string.Join("; ", notes),
        };
    }

    private static string Summarize(List<FeatureDrift> results, Func<FeatureDrift, bool> counts, int drifted, int counted, double share, bool datasetDrift, double datasetShare)
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"{drifted} of {counted} features drifted");
        if (drifted > 0)
        {
            sb.Append(" (");
            bool first = true;
            foreach (var r in results.Where(r => r.Drifted && counts(r)))
            {
                if (!first) sb.Append("; ");
                first = false;
                sb.Append(r.Feature).Append(": ").Append(Describe(r));
            }
            sb.Append(')');
        }
        sb.Append(CultureInfo.InvariantCulture,
            $"; dataset drift {(datasetDrift ? "yes" : "no")} (share {DriftStatistics.Format(share)} {(datasetDrift ? "≥" : "<")} {DriftStatistics.Format(datasetShare)})");
        // A monitored (uncounted) prediction feature is reported on its own.
        if (results.FirstOrDefault(r => r.IsPrediction && !counts(r)) is { } p)
        {
            sb.Append("; prediction drift ").Append(p.Drifted ? "yes" : "no").Append(" (").Append(p.Drifted ? Describe(p) : DescribeStable(p)).Append(", monitored, not counted)");
        }
        return sb.ToString();
    }

    private static string DescribeStable(FeatureDrift r) => IsPValueMethod(r.Method)
        ? $"{r.Method} p {FormatP(r.Value)} ≥ {DriftStatistics.Format(r.Threshold)}"
        : $"{r.Method} {DriftStatistics.Format(r.Value)} < {DriftStatistics.Format(r.Threshold)}";

    private static string Describe(FeatureDrift r) => IsPValueMethod(r.Method)
        ? $"{r.Method} p {FormatP(r.Value)} < {DriftStatistics.Format(r.Threshold)}"
        : $"{r.Method} {DriftStatistics.Format(r.Value)} ≥ {DriftStatistics.Format(r.Threshold)}";

    private static string FormatP(double p) => p < 0.001 ? p.ToString("0.0e+0", CultureInfo.InvariantCulture) : p.ToString("0.000", CultureInfo.InvariantCulture);

    private static bool IsPValueMethod(string method) => method is "ks" or "chi_square" or "z_test";

    /// <summary>
    /// Applies <c>alert_after</c>: a judged window counts as drifted when at least one feature drifted; the alert
    /// fires when at least <see cref="AlertAfterSpec.K"/> of the last <see cref="AlertAfterSpec.N"/> judged windows
    /// (<paramref name="report"/> plus <paramref name="previousNewestFirst"/>, unjudged ones skipped) drifted.
    /// An unjudged window never alerts.
    /// </summary>
    public static DriftReport ApplyAlertAfter(DriftReport report, IEnumerable<DriftReport> previousNewestFirst, AlertAfterSpec alertAfter)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(previousNewestFirst);
        ArgumentNullException.ThrowIfNull(alertAfter);
        if (!report.Judged) return report with { WindowsDrifted = 0, Alert = false };
        int windows = (report.DriftedFeatures > 0 ? 1 : 0)
            + previousNewestFirst.Where(r => r.Judged).Take(Math.Max(0, alertAfter.N - 1)).Count(r => r.DriftedFeatures > 0);
        return report with { WindowsDrifted = windows, Alert = report.DriftedFeatures > 0 && windows >= alertAfter.K };
    }

    /// <summary>Benjamini–Hochberg adjusted p-values, in the input's order: sorted ascending,
    /// p̃₍ᵢ₎ = min over j ≥ i of min(1, m·p₍ⱼ₎ / j). NaN inputs stay NaN and do not count in m.</summary>
    public static double[] BenjaminiHochberg(IReadOnlyList<double> pValues)
    {
        ArgumentNullException.ThrowIfNull(pValues);
        var order = Enumerable.Range(0, pValues.Count).Where(i => !double.IsNaN(pValues[i])).OrderBy(i => pValues[i]).ToArray();
        var adjusted = new double[pValues.Count];
        Array.Fill(adjusted, double.NaN);
        int m = order.Length;
        double running = 1.0;
        for (int rank = m; rank >= 1; rank--)
        {
            int i = order[rank - 1];
            running = Math.Min(running, Math.Min(1.0, m * pValues[i] / rank));
            adjusted[i] = running;
        }
        return adjusted;
    }

    /// <summary>Adjusts the p-values of the counted features a p-value test decides (as one family) and decides on the
    /// adjusted values; the raw value stays in <c>p_value</c>, the adjusted one in <c>p_value_bh</c>. A monitored,
    /// uncounted prediction feature is its own question and keeps its raw p-value.</summary>
    private static void ApplyBenjaminiHochberg(List<FeatureDrift> results, Func<FeatureDrift, bool> counts)
    {
        var family = Enumerable.Range(0, results.Count).Where(i => IsPValueMethod(results[i].Method) && counts(results[i])).ToList();
        if (family.Count == 0) return;
        var adjusted = BenjaminiHochberg(family.Select(i => results[i].Value).ToArray());
        for (int k = 0; k < family.Count; k++)
        {
            var r = results[family[k]];
            var metrics = new Dictionary<string, double>(r.Metrics, StringComparer.Ordinal);
            Put(metrics, "p_value", r.Value);
            Put(metrics, "p_value_bh", adjusted[k]);
            results[family[k]] = r with { Value = adjusted[k], Drifted = adjusted[k] < r.Threshold, Metrics = metrics };
        }
    }

    /// <summary>Why <c>fdr: benjamini_hochberg</c> cannot apply with this method and threshold mode (null when it can):
    /// it adjusts p-values, and calibrated thresholds or a distance method leave none to adjust.</summary>
    public static string? FdrConflict(string? method, string? thresholdMode)
    {
        string m = (method ?? "auto").Trim().ToLowerInvariant();
        if (string.Equals((thresholdMode ?? "fixed").Trim(), "calibrated", StringComparison.OrdinalIgnoreCase))
            return "fdr: benjamini_hochberg adjusts p-values, but threshold_mode: calibrated judges test statistics against thresholds "
                + "calibrated on the reference, so no p-value decides; use threshold_mode: fixed, or fdr: none";
        if (m is not ("auto" or "ks" or "chi_square"))
            return $"fdr: benjamini_hochberg adjusts p-values, but method: {m} decides on a distance, never a p-value; "
                + "use method: auto, ks or chi_square, or fdr: none";
        return null;
    }

    /// <summary>Non-null values of a feature: what Evidently's automatic choice counts (it drops nulls first).</summary>
    public static long NonNullCount(FeatureProfile feature)
    {
        ArgumentNullException.ThrowIfNull(feature);
        long observed = feature.Kind == FeatureKind.Numeric ? feature.Values.Length : feature.Counts.Values.Sum();
        return Math.Max(feature.Rows - feature.Nulls, observed);
    }

    /// <summary>Number of chunks the reference is split into by <c>threshold_mode: calibrated</c>.</summary>
    public const int CalibrationChunks = 10;
    /// <summary>The calibrated threshold is mean + this many standard deviations of the chunk values.</summary>
    public const double CalibrationSigmas = 3.0;
    /// <summary>Lowest calibrated threshold when the spec gives none.</summary>
    public const double DefaultCalibrationFloor = 0.01;

    private static FeatureDrift CompareFeature(FeatureProfile reference, FeatureProfile current, string method, double? threshold, bool calibrated)
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
                // One merge of the sorted samples gives KS and Wasserstein-1 together.
                var (ks, wasserstein) = DriftStatistics.EmpiricalDistanceSorted(r, c);
                Put(metrics, "ks", ks);
                Put(metrics, "ks_p_value", DriftStatistics.KolmogorovSmirnovPValue(ks, r.Length, c.Length));
                Put(metrics, "wasserstein", wasserstein);
                Put(metrics, "wasserstein_norm", wasserstein / Math.Max(DriftStatistics.PopulationStandardDeviation(r), DriftStatistics.MinNormalizationStd));
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
        // Evidently drops nulls before it chooses: the sample-size rule counts the reference's non-null values.
        bool smallReference = NonNullCount(reference) <= AutoLargeReferenceRows;
        (string name, double value, double limit, bool isP) = method switch
        {
            "auto" when smallReference && numericLike => ("ks", Get(metrics, "ks_p_value"), threshold ?? DefaultAlpha, true),
            "auto" when smallReference && distinct <= 2 => ("z_test", Get(metrics, "z_test_p_value"), threshold ?? DefaultAlpha, true),
            "auto" when smallReference => ("chi_square", Get(metrics, "chi_square_p_value"), threshold ?? DefaultAlpha, true),
            "auto" when numericLike => ("wasserstein_norm", Get(metrics, "wasserstein_norm"), threshold ?? DefaultDistanceThreshold, false),
            "auto" => ("jensen_shannon", Get(metrics, "jensen_shannon"), threshold ?? DefaultDistanceThreshold, false),
            "psi" => ("psi", Get(metrics, "psi"), threshold ?? DefaultPsiThreshold, false),
            "ks" or "chi_square" when numeric => ("ks", Get(metrics, "ks_p_value"), threshold ?? DefaultAlpha, true),
            "ks" or "chi_square" => ("chi_square", Get(metrics, "chi_square_p_value"), threshold ?? DefaultAlpha, true),
            "wasserstein" or "wasserstein_norm" when numeric => ("wasserstein_norm", Get(metrics, "wasserstein_norm"), threshold ?? DefaultDistanceThreshold, false),
            _ => ("jensen_shannon", Get(metrics, "jensen_shannon"), threshold ?? DefaultDistanceThreshold, false),
        };
        // Distinct-valued numeric features under auto with chi-square/z: the numeric value counts serve.
        if (numeric && !numericLike && method == "auto" && !smallReference)
        {
            (name, value) = ("jensen_shannon", Get(metrics, "jensen_shannon_counts", Get(metrics, "jensen_shannon")));
        }
        metrics.Remove("jensen_shannon_counts");
        if (calibrated)
        {
            // p-values are not comparable across chunk sizes: calibrate their test statistic instead.
            (string calName, double calValue) = name switch
            {
                "ks" => ("ks_statistic", Get(metrics, "ks")),
                "chi_square" or "z_test" => ("chi_square_statistic", Get(metrics, "chi_square")),
                _ => (name, value),
            };
            double floor = !isP && threshold is { } t ? t : DefaultCalibrationFloor;
            // Too little reference to chunk (fewer than 3 chunks): the fixed rule stays.
            if (Calibrate(reference, current, calName, countsBased: numeric && !numericLike) is { } c)
            {
                Put(metrics, "calibration_mean", c.Mean);
                Put(metrics, "calibration_sd", c.Sd);
                Put(metrics, "calibration_chunks", c.Chunks);
                (name, value, limit, isP) = (calName, calValue, Math.Max(floor, c.Mean + (CalibrationSigmas * c.Sd)), false);
            }
        }
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

    private readonly record struct Calibration(double Mean, double Sd, int Chunks);

    /// <summary>
    /// Splits the reference into up to <see cref="CalibrationChunks"/> chunks the size of the current window
    /// (at most a tenth of the reference), computes <paramref name="metric"/> of each chunk against the rest of
    /// the reference, and returns the mean and sample standard deviation. Numeric values are chunked in profile
    /// order (contiguous, evenly spaced); category counts have no order, so each chunk is a seeded multinomial
    /// draw from the reference shares, compared with the reference minus that draw. Null when under 3 chunks fit.
    /// </summary>
    private static Calibration? Calibrate(FeatureProfile reference, FeatureProfile current, string metric, bool countsBased)
    {
        var values = new List<double>(CalibrationChunks);
        if (reference.Kind == FeatureKind.Numeric)
        {
            double[] all = reference.Values;
            int n = all.Length;
            int chunkSize = (int)Math.Min(n / CalibrationChunks, Math.Max(current.Values.Length, 2));
            if (chunkSize < 2) return null;
            int chunks = Math.Min(CalibrationChunks, n / chunkSize);
            if (chunks < 3) return null;
            double[] sortedAll = DriftStatistics.SortedCopy(all);
            int stride = n / chunks;
            for (int c = 0; c < chunks; c++)
            {
                double[] chunk = DriftStatistics.SortedCopy(all.AsSpan(c * stride, chunkSize));
                var rest = RemoveSorted(sortedAll, chunk);
                double v = countsBased
                    ? CountsMetric(metric, ValueCounts(rest), ValueCounts(chunk))
                    : metric switch
                    {
                        "psi" => DriftStatistics.PsiSorted(rest, chunk),
                        "ks_statistic" => DriftStatistics.KolmogorovSmirnovStatisticSorted(rest, chunk),
                        "wasserstein_norm" => DriftStatistics.NormalizedWassersteinSorted(rest, chunk),
                        "jensen_shannon" => DriftStatistics.JensenShannonBinnedSorted(rest, chunk),
                        _ => CountsMetric(metric, ValueCounts(rest), ValueCounts(chunk)),
                    };
                if (double.IsFinite(v)) values.Add(v);
            }
        }
        else
        {
            var keys = reference.Counts.Where(kv => kv.Value > 0).Select(kv => kv.Key).Order(StringComparer.Ordinal).ToArray();
            long total = keys.Sum(k => reference.Counts[k]);
            long currentTotal = current.Counts.Values.Sum();
            long chunkSize = Math.Min(total / CalibrationChunks, Math.Max(currentTotal, 2));
            if (keys.Length == 0 || chunkSize < 2) return null;
            var cumulative = new long[keys.Length];
            long acc = 0;
            for (int i = 0; i < keys.Length; i++) cumulative[i] = acc += reference.Counts[keys[i]];
            var random = new Random(ProfileBuilder.ReservoirSeed);
            for (int c = 0; c < CalibrationChunks; c++)
            {
                var drawn = new long[keys.Length];
                for (long d = 0; d < chunkSize; d++)
                {
                    long u = random.NextInt64(total);
                    int idx = Array.BinarySearch(cumulative, u + 1);
                    drawn[idx < 0 ? ~idx : idx]++;
                }
                var chunk = new Dictionary<string, long>(StringComparer.Ordinal);
                var rest = new Dictionary<string, long>(StringComparer.Ordinal);
                for (int i = 0; i < keys.Length; i++)
                {
                    if (drawn[i] > 0) chunk[keys[i]] = drawn[i];
                    rest[keys[i]] = Math.Max(0, reference.Counts[keys[i]] - drawn[i]);
                }
                double v = CountsMetric(metric, rest, chunk);
                if (double.IsFinite(v)) values.Add(v);
            }
        }
        if (values.Count < 3) return null;
        double mean = values.Average();
        double sd = Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1));
        return new Calibration(mean, sd, values.Count);
    }

    private static double CountsMetric(string metric, IReadOnlyDictionary<string, long> reference, IReadOnlyDictionary<string, long> current) => metric switch
    {
        "psi" => CategoricalPsi(reference, current),
        "chi_square_statistic" => DriftStatistics.ChiSquareCategorical(reference, current).Statistic,
        _ => DriftStatistics.JensenShannonCategorical(reference, current),
    };

    /// <summary>The multiset <paramref name="sorted"/> minus <paramref name="remove"/> (both ascending).</summary>
    private static double[] RemoveSorted(double[] sorted, double[] remove)
    {
        var destination = new double[Math.Max(0, sorted.Length - remove.Length)];
        int j = 0, k = 0;
        foreach (double v in sorted)
        {
            while (j < remove.Length && remove[j] < v) j++;
            if (j < remove.Length && remove[j] == v)
            {
                j++;
                continue;
            }
            if (k < destination.Length) destination[k++] = v;
        }
        return k == destination.Length ? destination : destination[..k];
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
