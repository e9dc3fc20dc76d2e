using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using MLOps.Core.Drift;
using MLOps.Core.Reports;
using MLOps.Core.Tests.Data;
using MLOps.Core.Workflows;

namespace MLOps.Core.Tests.Drift;

/// <summary>A reference profile read feature by feature from its binary form (<see cref="StoredProfile"/>,
/// <see cref="DriftComparison.CompareAsync"/>) gives, bit for bit, the report the whole JSON reference gives, and holds
/// one reference feature at a time. The prediction feature is flagged in format 3 and recognised by name in older files.</summary>
[Collection(AllocationSensitive.Name)]
public sealed class StoredProfileTests
{
    private static readonly WorkflowDefinition Workflow = WorkflowParser.Parse(
        File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "workflows", "credit-risk.yaml")), "credit-risk.yaml");

    /// <summary>The JSON settings of the artifacts store (enums as strings, NaN and infinities allowed).</summary>
    private static readonly JsonSerializerOptions StorageJson = new(JsonSerializerDefaults.General)
    {
        Converters = { new JsonStringEnumConverter() },
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    private static List<IReadOnlyDictionary<string, string?>> Rows(int count, int seed, Core.Samples.DataShift? shift = null) =>
        [.. Core.Samples.CreditRiskData.FeatureRows(count, seed, shift).Select(r => (IReadOnlyDictionary<string, string?>)r)];

    /// <summary>A reference as training stores it: the contract's features and, last, the holdout predictions.</summary>
    private static DatasetProfile Reference(int rows, int seed)
    {
        var predictions = PredictionFeature.Create(Workflow);
        var rng = new Random(seed);
        for (int i = 0; i < rows; i++) predictions.AddNumber(i % 97 == 0 ? null : rng.NextDouble());
        return PredictionFeature.Append(ProfileBuilder.FromRows(Rows(rows, seed), Workflow), predictions.ToProfile());
    }

    /// <summary>Partition profiles as an audit stores them, with captured predictions (shifted).</summary>
    private static async Task<PartitionProfileMerge> CurrentAsync(int rows, int parts, bool predictions = true)
    {
        var all = Rows(rows, 8, new Core.Samples.DataShift { IncomeFactor = 0.75, AgeOffset = 4 });
        var rng = new Random(9);
        var sources = new List<ProfileRangeSource>();
        foreach (var chunk in all.Chunk((rows + parts - 1) / parts))
        {
            var accumulator = new ProfileAccumulator(Workflow, 500);
            var collector = predictions ? PredictionFeature.Create(Workflow, 500) : null;
            foreach (var row in chunk)
            {
                accumulator.Add(row);
                collector?.AddNumber(0.2 + (0.8 * rng.NextDouble()));
            }
            using var bytes = new MemoryStream();
            accumulator.WriteBinary(bytes, collector);
            sources.Add(ProfileBinary.FromBytes(bytes.ToArray()));
        }
        return await PartitionProfileMerge.OpenAsync(sources, [.. sources.Select((_, i) => $"partition-{i}")], 500);
    }

    private static bool CurrentHasPrediction(PartitionProfileMerge merge) => merge.Parts[0].Features.Any(f => f.IsPrediction);

    /// <summary>The reference as stored and read back as JSON (what versions registered before the binary form read).</summary>
    private static DatasetProfile ThroughJson(DatasetProfile profile) =>
        JsonSerializer.Deserialize<DatasetProfile>(JsonSerializer.SerializeToUtf8Bytes(profile, StorageJson), StorageJson)!;

    private static async Task<(DriftReport Report, List<string> Histograms)> AnalyzeAsync(StoredProfile reference, PartitionProfileMerge merge, MonitoringSpec spec)
    {
        var histograms = new List<string>();
        var report = await DriftComparison.CompareAsync(reference, merge.MergeFeatureAsync, merge.Rows, CurrentHasPrediction(merge), spec,
            (r, c, d) => histograms.Add(DriftReportHtml.HistogramSvg(r, c, d.Kind)));
        return (report, histograms);
    }

    /// <summary>Every double of the report by its bits, with names, verdicts and notes.</summary>
    private static string Bits(DriftReport report)
    {
        var text = new StringBuilder();
        text.Append(report.Summary).Append('|').Append(report.DriftedFeatures).Append('|').Append(report.PredictionDrift).Append('|')
            .Append(string.Join(';', report.Notes)).Append('\n');
        foreach (var f in report.Features)
        {
            text.Append(f.Feature).Append(' ').Append(f.Method).Append(' ').Append(f.Drifted).Append(' ').Append(f.IsPrediction).Append(' ')
                .Append(BitConverter.DoubleToInt64Bits(f.Value)).Append(' ').Append(BitConverter.DoubleToInt64Bits(f.Threshold));
            foreach (var (name, value) in f.Metrics.OrderBy(m => m.Key, StringComparer.Ordinal)) text.Append(' ').Append(name).Append('=').Append(BitConverter.DoubleToInt64Bits(value));
            text.Append('\n');
        }
        return text.ToString();
    }

    [Theory]
    [InlineData("fixed", "none", "auto", "monitor", true)]
    [InlineData("calibrated", "none", "auto", "count", true)]
    [InlineData("fixed", "benjamini_hochberg", "ks", "monitor", true)]
    [InlineData("fixed", "none", "auto", "off", true)]
    [InlineData("fixed", "none", "auto", "monitor", false)] // the window has no predictions: a note, prediction not judged
    public async Task Binary_reference_gives_the_json_reference_report_bit_for_bit(string mode, string fdr, string method, string prediction, bool captured)
    {
        var reference = Reference(4000, 1);
        var spec = new MonitoringSpec { MinRows = 100, Drift = new DriftSpec { ThresholdMode = mode, Fdr = fdr, Method = method, Prediction = prediction } };
        var json = ThroughJson(reference);
        var binary = await StoredProfile.OpenAsync(ProfileBinary.FromBytes(ProfileBinary.ToBytes(reference)), "reference-profile.profile");

        var (fromJson, jsonHistograms) = await AnalyzeAsync(StoredProfile.InMemory(json), await CurrentAsync(2500, 4, captured), spec);
        var (fromBinary, binaryHistograms) = await AnalyzeAsync(binary, await CurrentAsync(2500, 4, captured), spec);
        var whole = DriftAnalyzer.Compare(json, await (await CurrentAsync(2500, 4, captured)).MergeAllAsync(), spec);

        Assert.True(binary.IsStreamed);
        Assert.True(fromJson.DriftedFeatures > 0, fromJson.Summary);
        Assert.Equal(prediction != "off" && captured, fromJson.Features.Any(f => f.IsPrediction));
        IReadOnlyList<string> notes = captured ? [] : ["prediction drift not judged: the current data has no predictions"];
        Assert.Equal(notes, fromJson.Notes);
        Assert.Equal(Bits(whole), Bits(fromJson));
        Assert.Equal(Bits(fromJson), Bits(fromBinary));
        Assert.Equal(JsonSerializer.Serialize(fromJson, StorageJson), JsonSerializer.Serialize(fromBinary, StorageJson));
        Assert.Equal(jsonHistograms, binaryHistograms);
    }

    [Fact]
    public async Task Outline_has_no_values_and_features_read_back_bit_for_bit_with_the_prediction_flag()
    {
        var reference = Reference(3000, 2);
        var stored = await StoredProfile.OpenAsync(ProfileBinary.FromBytes(ProfileBinary.ToBytes(reference)), "r");

        Assert.Equal(reference.Rows, stored.Rows);
        Assert.Equal(reference.Features.Select(f => (f.Name, f.Kind, f.Rows, f.Nulls, f.IsPrediction, f.Min, f.Max)),
            stored.Outline.Features.Select(f => (f.Name, f.Kind, f.Rows, f.Nulls, f.IsPrediction, f.Min, f.Max)));
        Assert.All(stored.Outline.Features, f => Assert.Empty(f.Values));
        Assert.All(stored.Outline.Features, f => Assert.Empty(f.Counts));
        Assert.True(stored.Outline.Features[^1].IsPrediction);
        Assert.Single(stored.Outline.Features, f => f.IsPrediction);
        foreach (var (expected, outline) in reference.Features.Zip(stored.Outline.Features))
        {
            var read = await stored.ReadFeatureAsync(outline);
            Assert.Equal(expected.Values.Select(BitConverter.DoubleToInt64Bits), read.Values.Select(BitConverter.DoubleToInt64Bits));
            Assert.Equal(expected.Counts.ToList(), read.Counts.ToList());
            Assert.Equal((expected.Name, expected.Rows, expected.Nulls, expected.IsPrediction, expected.Min, expected.Max), (read.Name, read.Rows, read.Nulls, read.IsPrediction, read.Min, read.Max));
        }
        var other = new FeatureProfile { Name = "age", Kind = FeatureKind.Numeric };
        var error = await Assert.ThrowsAsync<ArgumentException>(() => stored.ReadFeatureAsync(other));
        Assert.Contains("feature 'age' is not a feature of r", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Format_2_files_are_still_read_and_mark_the_prediction_by_its_reserved_name()
    {
        var reference = Reference(1500, 3);
        var bytes = WriteVersion2(reference);

        var index = await ProfileBinary.ReadIndexAsync(ProfileBinary.FromBytes(bytes), "old.profile");
        var read = await ProfileBinary.ReadAsync(ProfileBinary.FromBytes(bytes), "old.profile");

        Assert.Equal(reference.Features.Select(f => f.Name == PredictionFeature.Name), index.Features.Select(s => s.IsPrediction));
        Assert.Equal(reference.Features.Select(f => f.IsPrediction), read.Features.Select(f => f.IsPrediction));
        foreach (var (e, a) in reference.Features.Zip(read.Features))
        {
            Assert.Equal(e.Values.Select(BitConverter.DoubleToInt64Bits), a.Values.Select(BitConverter.DoubleToInt64Bits));
            Assert.Equal(e.Counts.ToList(), a.Counts.ToList());
            Assert.Equal((e.Min, e.Max, e.Nulls, e.Rows), (a.Min, a.Max, a.Nulls, a.Rows));
        }
        // Format 3 keeps the flag itself: a feature named otherwise can be the prediction, and "prediction" an input.
        var renamed = new DatasetProfile
        {
            Rows = 2,
            Features =
            [
                new FeatureProfile { Name = PredictionFeature.Name, Kind = FeatureKind.Numeric, Values = [1, 2], Rows = 2 },
                new FeatureProfile { Name = "score", Kind = FeatureKind.Numeric, Values = [0.5, 0.25], Rows = 2, IsPrediction = true },
            ],
        };
        var flagged = await ProfileBinary.ReadAsync(ProfileBinary.FromBytes(ProfileBinary.ToBytes(renamed)), "new.profile");
        Assert.Equal([false, true], flagged.Features.Select(f => f.IsPrediction));
    }

    [Fact]
    public async Task Streamed_analysis_holds_one_reference_feature_at_a_time_and_reads_by_feature()
    {
        // 24 numeric features × 100k values: 19 MB of reference samples (the JSON reference is about twice that as text).
        const int features = 24, values = 100_000;
        var rng = new Random(11);
        var reference = new DatasetProfile
        {
            Rows = 1_000_000,
            Features = [.. Enumerable.Range(0, features).Select(f => new FeatureProfile
            {
                Name = $"n{f}", Kind = FeatureKind.Numeric, Rows = 1_000_000, Nulls = f,
                Values = [.. Enumerable.Range(0, values).Select(_ => f + rng.NextDouble())],
            })],
        };
        var current = new DatasetProfile
        {
            Rows = 1000,
            Features = [.. Enumerable.Range(0, features).Select(f => new FeatureProfile
            {
                Name = $"n{f}", Kind = FeatureKind.Numeric, Rows = 1000, Values = [.. Enumerable.Range(0, 1000).Select(_ => f + 0.1 + rng.NextDouble())],
            })],
        };
        var spec = new MonitoringSpec { MinRows = 100 };
        var bytes = ProfileBinary.ToBytes(reference);
        long sectionBytes = (long)values * sizeof(double), referenceBytes = features * sectionBytes;
        var expected = Bits(DriftAnalyzer.Compare(reference, current, spec));
        var currentByName = current.Features.ToDictionary(f => f.Name);

        // At each feature's turn: how many reference features handed out before are still reachable, and the live heap.
        async Task<(string Report, int MostAlive, long PeakLive, List<long> Reads)> Run(Func<ProfileRangeSource, Task<StoredProfile>> open)
        {
            var handed = new List<WeakReference>();
            var reads = new List<long>();
            int mostAlive = 0;
            long start = GC.GetTotalMemory(forceFullCollection: true), peak = start;
            ProfileRangeSource source = (offset, length, ct) =>
            {
                reads.Add(length);
                return ProfileBinary.FromBytes(bytes)(offset, length, ct);
            };
            var stored = await open(source);
            var report = await DriftComparison.CompareAsync(stored, (name, _) =>
            {
                peak = Math.Max(peak, GC.GetTotalMemory(forceFullCollection: true));
                mostAlive = Math.Max(mostAlive, handed.Count(w => w.IsAlive));
                return Task.FromResult<FeatureProfile?>(currentByName[name]);
            }, current.Rows, false, spec, (r, _, _) => handed.Add(new WeakReference(r.Values)));
            GC.KeepAlive(stored);
            return (Bits(report), mostAlive, peak - start, reads);
        }

        // The binary form, read by ranges: one feature at a time.
        var streamed = await Run(source => StoredProfile.OpenAsync(source, "reference-profile.profile"));
        // The JSON way (the whole profile parsed, then served from memory): every feature is held to the end.
        var whole = await Run(_ => Task.FromResult(StoredProfile.InMemory(ThroughJson(reference))));

        Assert.Equal(expected, streamed.Report);
        Assert.Equal(expected, whole.Report);
        Assert.InRange(streamed.MostAlive, 0, 1);
        Assert.Equal(features - 1, whole.MostAlive);
        // Reads: the prefix, the header, then one section per feature; never more than one feature's bytes at once.
        Assert.Equal(2 + features, streamed.Reads.Count);
        Assert.All(streamed.Reads, length => Assert.InRange(length, 0, sectionBytes));
        Assert.Equal(referenceBytes, streamed.Reads.Skip(2).Sum());
        // Live heap over the start (a forced full collection at each feature): a few features, not the profile.
        Assert.InRange(streamed.PeakLive, 0, 4 * sectionBytes);
        Assert.InRange(whole.PeakLive, referenceBytes, long.MaxValue);
    }

    /// <summary>The binary profile as format 2 wrote it (no flags byte), kept as the yardstick of "older files".</summary>
    private static byte[] WriteVersion2(DatasetProfile profile)
    {
        var sections = profile.Features.Select(f =>
        {
            using var section = new MemoryStream();
            using (var w = new BinaryWriter(section, Encoding.UTF8, leaveOpen: true))
            {
                if (f.Kind == FeatureKind.Numeric)
                {
                    foreach (var v in f.Values) w.Write(v);
                }
                else
                {
                    foreach (var (key, count) in f.Counts)
                    {
                        w.Write(key);
                        w.Write(count);
                    }
                }
            }
            return section.ToArray();
        }).ToList();
        byte[] Header(long first)
        {
            using var header = new MemoryStream();
            using (var w = new BinaryWriter(header, Encoding.UTF8, leaveOpen: true))
            {
                w.Write(profile.Rows);
                w.Write(profile.Features.Count);
                long offset = first;
                for (int i = 0; i < sections.Count; i++)
                {
                    var f = profile.Features[i];
                    w.Write(f.Name);
                    w.Write((byte)(f.Kind == FeatureKind.Numeric ? 0 : 1));
                    w.Write(f.Rows);
                    w.Write(f.Nulls);
                    w.Write(f.Kind == FeatureKind.Numeric ? f.Values.Length : f.Counts.Count);
                    w.Write(offset);
                    w.Write((long)sections[i].Length);
                    w.Write(f.Min ?? double.NaN);
                    w.Write(f.Max ?? double.NaN);
                    offset += sections[i].Length;
                }
            }
            return header.ToArray();
        }
        var headerBytes = Header(ProfileBinary.PrefixLength + Header(0).Length);
        using var file = new MemoryStream();
        using (var w = new BinaryWriter(file, Encoding.UTF8, leaveOpen: true))
        {
            w.Write("MLPF"u8);
            w.Write(2);
            w.Write(headerBytes.Length);
            w.Write(headerBytes);
            foreach (var s in sections) w.Write(s);
        }
        return file.ToArray();
    }
}
