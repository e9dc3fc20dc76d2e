using System.Diagnostics;
using MLOps.Core.Drift;
using Xunit.Abstractions;

namespace MLOps.Core.Tests.Drift;

/// <summary>A measurement, not an assertion on speed: prints the time of the numeric drift suite on
/// 1M vs 1M values (single thread). Meaningful in a Release build.</summary>
public sealed class DriftTimingTests(ITestOutputHelper output)
{
    [Fact]
    public void Time_numeric_suite_on_one_million_values()
    {
        const int n = 1_000_000;
        var rng = new Random(5);
        var reference = new double[n];
        var current = new double[n];
        for (int i = 0; i < n; i++)
        {
            reference[i] = rng.NextDouble() * 100 + rng.NextDouble() * 50;
            current[i] = rng.NextDouble() * 100 + rng.NextDouble() * 52;
        }
        var profileRef = new DatasetProfile { Rows = n, Features = [new FeatureProfile { Name = "x", Kind = FeatureKind.Numeric, Values = reference, Rows = n }] };
        var profileCur = new DatasetProfile { Rows = n, Features = [new FeatureProfile { Name = "x", Kind = FeatureKind.Numeric, Values = current, Rows = n }] };
        var spec = new MLOps.Core.Workflows.MonitoringSpec();
        DriftAnalyzer.Compare(profileRef, profileCur, spec); // warm-up (JIT)

        var sw = Stopwatch.StartNew();
        var r = DriftStatistics.SortedCopy(reference);
        var c = DriftStatistics.SortedCopy(current);
        double tSort = sw.Elapsed.TotalMilliseconds;
        double psi = DriftStatistics.PsiSorted(r, c);
        double tPsi = sw.Elapsed.TotalMilliseconds;
        var ks = DriftStatistics.KolmogorovSmirnovSorted(r, c);
        double tKs = sw.Elapsed.TotalMilliseconds;
        double w = DriftStatistics.NormalizedWassersteinSorted(r, c);
        double tW = sw.Elapsed.TotalMilliseconds;
        double js = DriftStatistics.JensenShannonBinnedSorted(r, c);
        double tJs = sw.Elapsed.TotalMilliseconds;
        output.WriteLine($"sort 2×1M {tSort:F1} ms; psi {tPsi - tSort:F1} ms; ks+p {tKs - tPsi:F1} ms; wasserstein_norm {tW - tKs:F1} ms; js {tJs - tW:F1} ms; total {tJs:F1} ms");
        output.WriteLine($"psi {psi:F5} ks {ks.Statistic:F5} p {ks.PValue:E3} ({ks.Method}) w_norm {w:F5} js {js:F5}");

        var times = new List<double>();
        for (int rep = 0; rep < 5; rep++)
        {
            sw.Restart();
            var report = DriftAnalyzer.Compare(profileRef, profileCur, spec);
            times.Add(sw.Elapsed.TotalMilliseconds);
            Assert.Single(report.Features);
        }
        var sortTimes = new List<double>();
        for (int rep = 0; rep < 3; rep++)
        {
            var copy = (double[])reference.Clone();
            sw.Restart();
            Array.Sort(copy);
            sortTimes.Add(sw.Elapsed.TotalMilliseconds);
        }
        output.WriteLine($"DriftAnalyzer.Compare, one numeric feature, 1M vs 1M, all metrics: {string.Join(", ", times.Select(t => t.ToString("F1", System.Globalization.CultureInfo.InvariantCulture)))} ms");
        output.WriteLine($"(for comparison Array.Sort of 1M doubles: {string.Join(", ", sortTimes.Select(t => t.ToString("F1", System.Globalization.CultureInfo.InvariantCulture)))} ms)");
    }
}
