using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
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
/// the merged samples of both ways are checked to be identical. The reference (50 × 100k values) is then read both
/// ways the audit can: its JSON parsed whole (versions registered before the binary form) against its binary form
/// read one feature at a time (<see cref="StoredProfile"/>), alone and inside the analysis; the reports are checked
/// to be identical.
/// </summary>
internal static class MergeBenchmark
{
    private const int Partitions = 16;
    private const int Features = 50;
    private const int Sample = 100_000;
    private const long RowsPerPartition = 400_000;

    /// <summary>The artifacts store's JSON settings (enums as strings, NaN and infinities allowed).</summary>
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.General)
    {
        Converters = { new JsonStringEnumConverter() },
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

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
            var files = paths.Select(FileSource).ToArray();
            double oneFeatureMb = Partitions * (double)Sample * sizeof(double) / (1024 * 1024);

            // Old: every partition profile in memory, then the whole merge.
            var oldSums = new long[Features];
            double oldTime = 0;
            void Old(ProfileRangeSource[] sources)
            {
                var clock = Stopwatch.StartNew();
                var parts = sources.Select((s, i) => ProfileBinary.ReadAsync(s, names[i]!).GetAwaiter().GetResult()).ToList();
                var merged = ProfileBuilder.Merge(parts);
                for (int f = 0; f < Features; f++) oldSums[f] = Checksum(merged.Features[f]);
                oldTime = clock.Elapsed.TotalSeconds;
            }

            // New: one feature of every partition at a time.
            var newSums = new long[Features];
            double newTime = 0;
            void New(ProfileRangeSource[] sources)
            {
                var clock = Stopwatch.StartNew();
                var merge = PartitionProfileMerge.OpenAsync(sources, names!).GetAwaiter().GetResult();
                for (int f = 0; f < Features; f++)
                {
                    newSums[f] = Checksum(merge.MergeFeatureAsync($"n{f}").GetAwaiter().GetResult()!);
                }
                newTime = clock.Elapsed.TotalSeconds;
            }

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
            void Analyze(ProfileRangeSource[] sources)
            {
                var clock = Stopwatch.StartNew();
                var merge = PartitionProfileMerge.OpenAsync(sources, names!).GetAwaiter().GetResult();
                var comparison = new DriftComparison(spec, reference.Rows, merge.Rows);
                foreach (var feature in reference.Features)
                {
                    var current = merge.MergeFeatureAsync(feature.Name).GetAwaiter().GetResult();
                    histogramChars = DriftReportHtml.HistogramSvg(feature, current, comparison.Add(feature, current).Kind).Length;
                }
                report = comparison.Finish();
                analyzeTime = clock.Elapsed.TotalSeconds;
            }

            // Time and the heap left after the collector's own collections (dead large arrays linger there until a
            // gen-2 collection, so this overstates what the streamed run keeps) ...
            long oldPeak = Machine.PeakHeapAfterCollections(() => Old(files));
            long newPeak = Machine.PeakHeapAfterCollections(() => New(files));
            bool identical = oldSums.SequenceEqual(newSums);
            long analyzePeak = Machine.PeakHeapAfterCollections(() => Analyze(files));
            (double oldSeconds, double newSeconds, double analyzeSeconds) = (oldTime, newTime, analyzeTime);
            // ... and what each run really holds: the live heap measured by a forced full collection whenever a section is
            // requested (for the old way only the last partition's: by then the other partitions are all in memory).
            long oldLive = PeakLiveHeap(files, Old, all: false);
            long newLive = PeakLiveHeap(files, New, all: true);
            long analyzeLive = PeakLiveHeap(files, Analyze, all: true);
            (oldTime, newTime, analyzeTime) = (oldSeconds, newSeconds, analyzeSeconds);

            static long Mb(long b) => b / (1024 * 1024);
            Machine.Out($"merge: {Partitions} partitions × {Features} features × {Sample:N0} values ({Mb(bytes)} MB of binary profiles; one feature across partitions = {Timing.F(oneFeatureMb)} MB); load {Machine.LoadAverage()}");
            Machine.Out($"merge: all in memory {Timing.S(oldTime)}, live peak {Mb(oldLive)} MB, heap after GCs {Mb(oldPeak)} MB; streamed {Timing.S(newTime)}, live peak {Mb(newLive)} MB, heap after GCs {Mb(newPeak)} MB; identical samples: {(identical ? "yes" : "NO")}");
            Machine.Out($"merge: streamed merge + per-feature compare + histograms {Timing.S(analyzeTime)}, live peak {Mb(analyzeLive)} MB, heap after GCs {Mb(analyzePeak)} MB (reference held before), {histogramChars / 1024} KB of SVG for the last feature; {report!.DriftedFeatures} of {report.Features.Count} drifted");
            long goal = (long)(3 * oneFeatureMb * 1024 * 1024);
            ReferenceBothWays(results, dir, ref reference, files, names!, spec);
            results.Add(new("merge 16 × 50 × 100k, all in memory: live peak", $"{Mb(oldLive)} MB", "baseline", null));
            results.Add(new("  streamed per feature: live peak", $"{Mb(newLive)} MB", $"≤ {Mb(goal)} MB (3 features)", identical && newLive <= goal));
            results.Add(new("  heap after GCs: all in memory / streamed", $"{Mb(oldPeak)} / {Mb(newPeak)} MB", "", null));
            results.Add(new("  time: all in memory / streamed", $"{Timing.S(oldTime)} / {Timing.S(newTime)}", "streamed ≤ 1.5 ×", newTime <= 1.5 * oldTime));
            results.Add(new("  streamed merge + compare + histograms", $"{Mb(analyzeLive)} MB live", $"≤ {Mb(goal)} MB", analyzeLive <= goal));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>The reference read as the audit reads it: the JSON parsed whole (a version registered before the binary
    /// form) or the binary form one feature at a time; alone (time, live heap over the start) and inside the analysis
    /// (streamed merge + comparison + histogram per feature: time and live peak at each section read). The in-memory
    /// reference is let go first, so only what each way reads is measured.</summary>
    private static void ReferenceBothWays(List<Result> results, string dir, ref DatasetProfile reference, ProfileRangeSource[] files, string[] names, MonitoringSpec spec)
    {
        var jsonPath = Path.Combine(dir, "reference-profile.json");
        var binaryPath = Path.Combine(dir, "reference-profile.profile");
        File.WriteAllBytes(jsonPath, JsonSerializer.SerializeToUtf8Bytes(reference, Json));
        using (var file = File.Create(binaryPath))
        {
            ProfileBinary.Write(file, reference);
        }
        long referenceValues = reference.Features.Sum(f => (long)f.Values.Length);
        reference = null!;
        double oneFeatureMb = (double)Sample * sizeof(double) / (1024 * 1024);
        var binarySource = FileSource(binaryPath);

        // Alone: every feature read once; the JSON holds them all at the end, the binary one at a time.
        long jsonReadLive = 0, binaryReadLive = 0;
        double jsonReadTime = MedianOf(() =>
        {
            long start = GC.GetTotalMemory(forceFullCollection: true);
            var clock = Stopwatch.StartNew();
            var parsed = ReadJson(jsonPath);
            double t = clock.Elapsed.TotalSeconds;
            jsonReadLive = GC.GetTotalMemory(forceFullCollection: true) - start;
            GC.KeepAlive(parsed);
            return t;
        }, 1, 3);
        double binaryReadTime = MedianOf(() =>
        {
            long start = GC.GetTotalMemory(forceFullCollection: true), peak = 0;
            double t = 0;
            var clock = Stopwatch.StartNew();
            var stored = StoredProfile.OpenAsync(binarySource, "reference-profile.profile").GetAwaiter().GetResult();
            foreach (var outline in stored.Outline.Features)
            {
                clock.Restart();
                var feature = stored.ReadFeatureAsync(outline).GetAwaiter().GetResult();
                t += clock.Elapsed.TotalSeconds;
                peak = Math.Max(peak, GC.GetTotalMemory(forceFullCollection: true) - start);
                GC.KeepAlive(feature);
            }
            binaryReadLive = peak;
            return t;
        }, 1, 3);

        // Inside the analysis: the reference opened in the run, then per feature merge, compare, draw.
        var reports = new DriftReport?[2];
        var times = new double[2];
        void Analyze(bool binary, ProfileRangeSource reference, ProfileRangeSource[] sources)
        {
            var clock = Stopwatch.StartNew();
            var stored = binary
                ? StoredProfile.OpenAsync(reference, "reference-profile.profile").GetAwaiter().GetResult()
                : StoredProfile.InMemory(ReadJson(jsonPath));
            var merge = PartitionProfileMerge.OpenAsync(sources, names).GetAwaiter().GetResult();
            long svg = 0;
            reports[binary ? 1 : 0] = DriftComparison.CompareAsync(stored, merge.MergeFeatureAsync, merge.Rows, false, spec,
                (r, c, d) => svg += DriftReportHtml.HistogramSvg(r, c, d.Kind).Length).GetAwaiter().GetResult();
            times[binary ? 1 : 0] = clock.Elapsed.TotalSeconds;
        }
        long jsonLive = PeakLiveHeap([.. files, binarySource], s => Analyze(false, s[^1], s[..^1]), all: true);
        long binaryLive = PeakLiveHeap([.. files, binarySource], s => Analyze(true, s[^1], s[..^1]), all: true);
        bool identical = JsonSerializer.Serialize(reports[0], Json) == JsonSerializer.Serialize(reports[1], Json);

        static long Mb(long b) => b / (1024 * 1024);
        static string MbF(long b) => Timing.F(b / (1024.0 * 1024), "0.0");
        Machine.Out($"merge: reference {Features} × {Sample:N0} values ({referenceValues:N0}; JSON {Mb(new FileInfo(jsonPath).Length)} MB, binary {Mb(new FileInfo(binaryPath).Length)} MB; one feature = {Timing.F(oneFeatureMb)} MB); load {Machine.LoadAverage()}");
        Machine.Out($"merge: reference alone: JSON parsed whole (live after the parse: the profile, the text let go) {Timing.S(jsonReadTime)}, live {Mb(jsonReadLive)} MB; binary by feature {Timing.S(binaryReadTime)}, live peak {MbF(binaryReadLive)} MB");
        Machine.Out($"merge: analysis with the reference read in the run: JSON {Timing.S(times[0])}, live peak {Mb(jsonLive)} MB; binary {Timing.S(times[1])}, live peak {Mb(binaryLive)} MB; identical reports: {(identical ? "yes" : "NO")}");
        results.Add(new("reference 50 × 100k, JSON parsed whole: time / live", $"{Timing.S(jsonReadTime)} / {Mb(jsonReadLive)} MB", "baseline", null));
        results.Add(new("  binary by feature: time / live peak", $"{Timing.S(binaryReadTime)} / {MbF(binaryReadLive)} MB", "≤ 2 features live", binaryReadLive <= 2 * Sample * sizeof(double) + (1 << 20)));
        long goal = (long)(3 * Partitions * oneFeatureMb * 1024 * 1024);
        results.Add(new("  analysis, JSON reference: time / live peak", $"{Timing.S(times[0])} / {Mb(jsonLive)} MB", "baseline", null));
        results.Add(new("  analysis, binary reference: time / live peak", $"{Timing.S(times[1])} / {Mb(binaryLive)} MB", $"≤ {Mb(goal)} MB, same report", identical && binaryLive <= goal));
    }

    /// <summary>The JSON reference read and parsed whole, as the service's JSON fallback does; the text is let go on
    /// return (a method of its own, so no temporary keeps it alive in the caller).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static DatasetProfile ReadJson(string path) => JsonSerializer.Deserialize<DatasetProfile>(File.ReadAllBytes(path), Json)!;

    /// <summary>The median of what <paramref name="run"/> returns (seconds it measured itself) over
    /// <paramref name="iterations"/> runs after <paramref name="warmups"/>.</summary>
    private static double MedianOf(Func<double> run, int warmups, int iterations)
    {
        for (int i = 0; i < warmups; i++) run();
        var times = new double[iterations];
        for (int i = 0; i < iterations; i++) times[i] = run();
        Array.Sort(times);
        return times[iterations / 2];
    }

    /// <summary>The largest live managed heap while <paramref name="run"/> runs, over the live heap before it: the
    /// live bytes after a forced full collection (<see cref="GC.GetTotalMemory"/>) each time a probed partition's
    /// source is opened (every partition's with <paramref name="all"/>, else the last one's).</summary>
    private static long PeakLiveHeap(ProfileRangeSource[] files, Action<ProfileRangeSource[]> run, bool all)
    {
        long start = GC.GetTotalMemory(forceFullCollection: true), peak = start;
        var probed = files.Select((file, i) => all || i == files.Length - 1
            ? (offset, length, ct) =>
            {
                peak = Math.Max(peak, GC.GetTotalMemory(forceFullCollection: true));
                return file(offset, length, ct);
            }
            : file).ToArray();
        run(probed);
        return peak - start;
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
