using System.Diagnostics;
using MLOps.Core.Drift;
using MLOps.Core.Reports;
using MLOps.Core.Workflows;

namespace MLOps.Benchmarks;

/// <summary>
/// The analysis step of a fanned-out drift audit at its largest: 16 partition profiles × 50 numeric features, each
/// partition holding the full 100,000-value sample of every feature (400,000 rows each), stored in the binary format
/// (files here, blobs in the service). Measured in the same run: the old way (every partition profile loaded, then
/// <see cref="ProfileBuilder.Merge"/>) against <see cref="PartitionProfileMerge"/> (one feature's sections of all
/// partitions at a time), and the streamed merge followed per feature by the drift comparison and the histogram, as
/// the service runs it. Figures: peak managed heap left after collections (over the heap before the run) and time;
/// the merged samples of both ways are checked to be identical.
/// </summary>
internal static class MergeBenchmark
{
    private const int Partitions = 16;
    private const int Features = 50;
    private const int Sample = 100_000;
    private const long RowsPerPartition = 400_000;

    public static void Run(List<Result> results)
    {
        var dir = Directory.CreateTempSubdirectory("mlops-bench-merge-").FullName;
        try
        {
            Console.WriteLine($"merge: writing {Partitions} binary partition profiles × {Features} features × {Sample:N0} values …");
            var paths = new string[Partitions];
            for (int p = 0; p < Partitions; p++)
            {
                paths[p] = Path.Combine(dir, $"partition-{p:D4}.profile");
                var rng = new Random(100 + p);
                var profile = new DatasetProfile
                {
                    Rows = RowsPerPartition,
                    Features = [.. Enumerable.Range(0, Features).Select(f => new FeatureProfile
                    {
                        Name = $"n{f}", Kind = FeatureKind.Numeric, Rows = RowsPerPartition, Nulls = p * 100,
                        Values = [.. Enumerable.Range(0, Sample).Select(_ => f + (0.1 * p) + rng.NextDouble())],
                    })],
                };
                using var file = File.Create(paths[p]);
                ProfileBinary.Write(file, profile);
            }
            long bytes = paths.Sum(p => new FileInfo(p).Length);
            var names = paths.Select(Path.GetFileName).ToArray()!;
            var sources = paths.Select(FileSource).ToArray();
            double oneFeatureMb = Partitions * (double)Sample * sizeof(double) / (1024 * 1024);

            // Old: every partition profile in memory, then the whole merge.
            var oldSums = new long[Features];
            double oldTime = 0;
            long oldPeak = Machine.PeakHeapAfterCollections(() =>
            {
                var clock = Stopwatch.StartNew();
                var parts = sources.Select((s, i) => ProfileBinary.ReadAsync(s, names[i]!).GetAwaiter().GetResult()).ToList();
                var merged = ProfileBuilder.Merge(parts);
                for (int f = 0; f < Features; f++) oldSums[f] = Checksum(merged.Features[f]);
                oldTime = clock.Elapsed.TotalSeconds;
            });

            // New: one feature of every partition at a time.
            var newSums = new long[Features];
            double newTime = 0;
            long newPeak = Machine.PeakHeapAfterCollections(() =>
            {
                var clock = Stopwatch.StartNew();
                var merge = PartitionProfileMerge.OpenAsync(sources, names!).GetAwaiter().GetResult();
                for (int f = 0; f < Features; f++)
                {
                    newSums[f] = Checksum(merge.MergeFeatureAsync($"n{f}").GetAwaiter().GetResult()!);
                }
                newTime = clock.Elapsed.TotalSeconds;
            });
            bool identical = oldSums.SequenceEqual(newSums);

            // The service's analysis: streamed merge, then per feature the comparison and the histogram (the reference,
            // 50 × 100k values, is in memory before the measurement, as the JSON reference is in the service).
            var reference = new DatasetProfile
            {
                Rows = 1_000_000,
                Features = [.. Enumerable.Range(0, Features).Select(f =>
                {
                    var rng = new Random(7 + f);
                    return new FeatureProfile { Name = $"n{f}", Kind = FeatureKind.Numeric, Rows = 1_000_000, Values = [.. Enumerable.Range(0, Sample).Select(_ => f + rng.NextDouble())] };
                })],
            };
            var spec = new MonitoringSpec { MinRows = 100 };
            DriftReport? report = null;
            double analyzeTime = 0;
            long histogramChars = 0;
            long analyzePeak = Machine.PeakHeapAfterCollections(() =>
            {
                var clock = Stopwatch.StartNew();
                var merge = PartitionProfileMerge.OpenAsync(sources, names!).GetAwaiter().GetResult();
                var comparison = new DriftComparison(spec, reference.Rows, merge.Rows);
                foreach (var feature in reference.Features)
                {
                    var current = merge.MergeFeatureAsync(feature.Name).GetAwaiter().GetResult();
                    histogramChars += DriftReportHtml.HistogramSvg(feature, current, comparison.Add(feature, current).Kind).Length;
                }
                report = comparison.Finish();
                analyzeTime = clock.Elapsed.TotalSeconds;
            });

            Machine.Out($"merge: {Partitions} partitions × {Features} features × {Sample:N0} values ({bytes / (1024 * 1024)} MB of binary profiles; one feature across partitions = {Timing.F(oneFeatureMb)} MB): all in memory {Timing.S(oldTime)}, peak heap {oldPeak / (1024 * 1024)} MB; streamed {Timing.S(newTime)}, peak heap {newPeak / (1024 * 1024)} MB; identical samples: {(identical ? "yes" : "NO")}; load {Machine.LoadAverage()}");
            Machine.Out($"merge: streamed merge + per-feature compare + histograms {Timing.S(analyzeTime)}, peak heap {analyzePeak / (1024 * 1024)} MB (reference held before), {histogramChars / 1024} KB of SVG; {report!.Summary}");
            results.Add(new("merge 16 × 50 × 100k, all in memory: peak heap", $"{oldPeak / (1024 * 1024)} MB", "baseline", null));
            results.Add(new("  streamed per feature: peak heap", $"{newPeak / (1024 * 1024)} MB", $"≤ {Timing.F(3 * oneFeatureMb, "0")} MB (3 features)", identical && newPeak <= 3 * oneFeatureMb * 1024 * 1024));
            results.Add(new("  all in memory: time", Timing.S(oldTime), "", null));
            results.Add(new("  streamed per feature: time", Timing.S(newTime), "≤ 1.5 × all in memory", newTime <= 1.5 * oldTime));
            results.Add(new("  streamed merge + compare + histograms: peak", $"{analyzePeak / (1024 * 1024)} MB", $"≤ {Timing.F(3 * oneFeatureMb, "0")} MB", analyzePeak <= 3 * oneFeatureMb * 1024 * 1024));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static ProfileRangeSource FileSource(string path) => (offset, length, _) =>
    {
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous);
        stream.Position = offset;
        return Task.FromResult<Stream>(stream);
    };

    /// <summary>Order-sensitive checksum of a merged sample's bits.</summary>
    private static long Checksum(FeatureProfile feature)
    {
        long sum = feature.Nulls * 31;
        for (int i = 0; i < feature.Values.Length; i++) sum = (sum * 1_000_003) ^ BitConverter.DoubleToInt64Bits(feature.Values[i]);
        return sum ^ feature.Values.Length;
    }
}
