using MLOps.Core.Drift;
using MLOps.Core.Reports;
using MLOps.Core.Workflows;

namespace MLOps.Core.Tests.Drift;

/// <summary>Binary partition profiles and the per-feature merge over them give exactly what the in-memory
/// <see cref="ProfileBuilder.Merge"/> gives (and what the merge gave before it was split per feature).</summary>
public sealed class PartitionProfileMergeTests
{
    private static readonly WorkflowDefinition Workflow = WorkflowParser.Parse(
        File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "workflows", "credit-risk.yaml")), "credit-risk.yaml");

    /// <summary>Random parts: numeric features with random sizes and nulls (one missing from some parts, one absent
    /// from the first part), categorical features with random categories, duplicated values, −0.0 and extremes.</summary>
    private static List<DatasetProfile> RandomParts(int seed, int parts, int maxValues)
    {
        var rng = new Random(seed);
        var result = new List<DatasetProfile>();
        for (int p = 0; p < parts; p++)
        {
            long rows = rng.Next(0, maxValues * 2);
            var features = new List<FeatureProfile>();
            for (int f = 0; f < 5; f++)
            {
                if (f == 3 && p % 3 == 1) continue; // missing from some parts
                int count = rows == 0 ? 0 : rng.Next(0, (int)Math.Min(rows, maxValues) + 1);
                var values = new double[count];
                for (int i = 0; i < count; i++)
                {
                    values[i] = rng.Next(10) switch
                    {
                        0 => -0.0,
                        1 => double.MaxValue,
                        2 => Math.Round(rng.NextDouble() * 3),
                        _ => (rng.NextDouble() - 0.5) * 1e6,
                    };
                }
                features.Add(new FeatureProfile { Name = $"n{f}", Kind = FeatureKind.Numeric, Values = values, Rows = rows, Nulls = rows - count });
            }
            var counts = new Dictionary<string, long>(StringComparer.Ordinal);
            for (int c = rng.Next(0, 12); c > 0; c--) counts[$"c{rng.Next(30)}-é"] = rng.Next(1, 1000);
            features.Add(new FeatureProfile { Name = "cat", Kind = FeatureKind.Categorical, Counts = counts, Rows = rows, Nulls = rng.Next(0, 5) });
            if (p > 0) features.Add(new FeatureProfile { Name = "late", Kind = FeatureKind.Numeric, Values = [1, 2], Rows = rows });
            if (p % 2 == 1) features.Reverse(); // other parts may list features in another order
            result.Add(new DatasetProfile { Rows = rows, Features = features });
        }
        return result;
    }

    private static void AssertSame(DatasetProfile expected, DatasetProfile actual, bool bounds = true)
    {
        Assert.Equal(expected.Rows, actual.Rows);
        Assert.Equal(expected.Features.Select(f => f.Name), actual.Features.Select(f => f.Name));
        foreach (var (e, a) in expected.Features.Zip(actual.Features))
            AssertSame(e, a, bounds);
    }

    /// <summary>Same feature, rows, nulls, values (bit for bit) and counts.</summary>
    /// <param name="e">Expected.</param>
    /// <param name="a">Actual.</param>
    /// <param name="bounds">Also the exact min and max (the merge before the split did not keep them).</param>
    private static void AssertSame(FeatureProfile e, FeatureProfile a, bool bounds = true)
    {
        Assert.Equal(e.Name, a.Name);
        Assert.Equal(e.Kind, a.Kind);
        Assert.Equal(e.Rows, a.Rows);
        Assert.Equal(e.Nulls, a.Nulls);
        // Bit for bit, in order (−0.0 is not +0.0 here).
        Assert.Equal(e.Values.Select(BitConverter.DoubleToInt64Bits), a.Values.Select(BitConverter.DoubleToInt64Bits));
        Assert.Equal(e.Counts.ToList(), a.Counts.ToList());
        if (bounds)
        {
            Assert.Equal(e.Min, a.Min);
            Assert.Equal(e.Max, a.Max);
        }
    }

    private static async Task<PartitionProfileMerge> StoredAsync(List<DatasetProfile> parts, int maxValues) =>
        await PartitionProfileMerge.OpenAsync([.. parts.Select(p => ProfileBinary.FromBytes(ProfileBinary.ToBytes(p)))],
            [.. parts.Select((_, i) => $"part-{i}")], maxValues);

    [Theory]
    [InlineData(1, 3, 1000, 100_000)] // everything fits: every value, in part order
    [InlineData(2, 16, 1000, 500)]    // sampled: quotas and seeded shuffles
    [InlineData(3, 7, 300, 1)]        // one value per feature
    [InlineData(4, 1, 2000, 700)]
    [InlineData(5, 16, 50, 400)]
    public async Task Streamed_merge_equals_in_memory_merge_and_the_merge_before_the_split(int seed, int parts, int partValues, int maxValues)
    {
        var profiles = RandomParts(seed, parts, partValues);

        var expected = ProfileBuilder.Merge(profiles, maxValues);
        var before = MergeAsBefore(profiles, maxValues);
        var merge = await StoredAsync(profiles, maxValues);
        var streamed = await merge.MergeAllAsync();

        AssertSame(before, expected, bounds: false);
        AssertSame(expected, streamed);
        Assert.Equal(profiles.Sum(p => p.Rows), merge.Rows);
        // By name, in any order; a feature the first part lacks is not in the merge.
        foreach (var name in expected.Features.Select(f => f.Name).Reverse())
            AssertSame(expected.Features.Single(f => f.Name == name), (await merge.MergeFeatureAsync(name))!);
        Assert.Null(await merge.MergeFeatureAsync("late"));
        Assert.Null(await merge.MergeFeatureAsync("nope"));
    }

    [Fact]
    public async Task Sampled_merge_really_samples()
    {
        var profiles = RandomParts(2, 16, 1000);
        var streamed = await (await StoredAsync(profiles, 500)).MergeAllAsync();
        Assert.All(streamed.Features.Where(f => f.Kind == FeatureKind.Numeric), f => Assert.Equal(500, f.Values.Length));
    }

    [Fact]
    public async Task Binary_profile_round_trips_and_is_compact()
    {
        var rows = Core.Samples.CreditRiskData.FeatureRows(3000, 9).Select(r => (IReadOnlyDictionary<string, string?>)r).ToList();
        var accumulator = new ProfileAccumulator(Workflow);
        foreach (var row in rows) accumulator.Add(row);
        var profile = ProfileBuilder.FromRows(rows, Workflow);

        using var written = new MemoryStream();
        accumulator.WriteBinary(written);
        var bytes = written.ToArray();

        Assert.True(ProfileBinary.IsBinary(bytes));
        Assert.Equal(ProfileBinary.ToBytes(profile), bytes);
        AssertSame(profile, accumulator.ToProfile());
        AssertSame(profile, await ProfileBinary.ReadAsync(ProfileBinary.FromBytes(bytes), "p"));
        Assert.All(profile.Features.Where(f => f.Kind == FeatureKind.Numeric), f => Assert.True(f.Min < f.Max, f.Name));
        // Doubles take 8 bytes each; the header and the category counts take little.
        long doubles = profile.Features.Sum(f => (long)f.Values.Length) * 8;
        Assert.InRange(bytes.Length, doubles, doubles + 4096);
    }

    [Fact]
    public async Task Damaged_profiles_fail_with_the_profile_and_feature_named()
    {
        var bytes = ProfileBinary.ToBytes(RandomParts(6, 1, 200)[0]);

        var notBinary = await Assert.ThrowsAsync<InvalidDataException>(() => ProfileBinary.ReadIndexAsync(ProfileBinary.FromBytes("{\"features\":[]}"u8.ToArray()), "audits/x/partition-0001.profile"));
        Assert.Contains("audits/x/partition-0001.profile is not a binary profile", notBinary.Message, StringComparison.Ordinal);

        var index = await ProfileBinary.ReadIndexAsync(ProfileBinary.FromBytes(bytes), "p");
        var last = index.Features.Last(f => f.Kind == FeatureKind.Numeric && f.Length > 16);
        var cut = bytes[..(int)(last.Offset + (last.Length / 2))];
        Source truncated = new(cut);
        var error = await Assert.ThrowsAsync<InvalidDataException>(() => ProfileBinary.ReadFeatureAsync(truncated.Open, last, "p"));
        Assert.Contains($"feature '{last.Name}'", error.Message, StringComparison.Ordinal);

        var version = (byte[])bytes.Clone();
        version[4] = 9;
        var unsupported = await Assert.ThrowsAsync<InvalidDataException>(() => ProfileBinary.ReadIndexAsync(ProfileBinary.FromBytes(version), "p"));
        Assert.Contains("version 9", unsupported.Message, StringComparison.Ordinal);
    }

    /// <summary>A source that, like a short blob, returns fewer bytes than asked.</summary>
    private sealed class Source(byte[] bytes)
    {
        public Task<Stream> Open(long offset, long length, CancellationToken cancellationToken) =>
            Task.FromResult<Stream>(new MemoryStream(bytes, (int)Math.Min(offset, bytes.Length), (int)Math.Max(0, Math.Min(length, bytes.Length - offset))));
    }

    [Theory]
    [InlineData("calibrated", "none", "auto")]
    [InlineData("fixed", "benjamini_hochberg", "ks")]
    public async Task Per_feature_comparison_and_report_equal_the_whole_profile_ones(string mode, string fdr, string method)
    {
        var reference = ProfileBuilder.FromRows(Core.Samples.CreditRiskData.FeatureRows(4000, 1).Select(r => (IReadOnlyDictionary<string, string?>)r), Workflow);
        var parts = Core.Samples.CreditRiskData.FeatureRows(2500, 2, new Core.Samples.DataShift { IncomeFactor = 0.7, AgeOffset = 4 })
            .Select(r => (IReadOnlyDictionary<string, string?>)r).Chunk(600).Select(c => ProfileBuilder.FromRows(c, Workflow, 500)).ToList();
        var spec = new MonitoringSpec { Drift = new DriftSpec { ThresholdMode = mode, Fdr = fdr, Method = method } };

        var whole = DriftAnalyzer.Compare(reference, ProfileBuilder.Merge(parts, 500), spec);
        var merge = await StoredAsync(parts, 500);
        var comparison = new DriftComparison(spec, reference.Rows, merge.Rows);
        var histograms = new List<string>();
        foreach (var feature in reference.Features)
        {
            var current = await merge.MergeFeatureAsync(feature.Name);
            histograms.Add(DriftReportHtml.HistogramSvg(feature, current, comparison.Add(feature, current).Kind));
        }
        var streamed = comparison.Finish();

        Assert.True(whole.DriftedFeatures > 0, whole.Summary);
        Assert.Equal(System.Text.Json.JsonSerializer.Serialize(whole), System.Text.Json.JsonSerializer.Serialize(streamed));
        Assert.Equal(DriftReportHtml.Render(whole, reference, ProfileBuilder.Merge(parts, 500)), DriftReportHtml.RenderWithHistograms(streamed, histograms));
    }

    /// <summary>ProfileBuilder.Merge as it was before it was split into per-feature merges (kept verbatim as the
    /// yardstick of "the same merged profile").</summary>
    private static DatasetProfile MergeAsBefore(List<DatasetProfile> parts, int maxValuesPerFeature)
    {
        if (parts.Count == 0) return new DatasetProfile { Features = [], Rows = 0 };
        long rows = parts.Sum(p => p.Rows);
        var features = new List<FeatureProfile>(parts[0].Features.Count);
        for (int f = 0; f < parts[0].Features.Count; f++)
        {
            var first = parts[0].Features[f];
            var same = parts.Select(p => p.Features.FirstOrDefault(x => x.Name == first.Name)).ToArray();
            long nulls = 0;
            for (int i = 0; i < parts.Count; i++) nulls += same[i]?.Nulls ?? parts[i].Rows;
            if (first.Kind == FeatureKind.Categorical)
            {
                var counts = new Dictionary<string, long>(StringComparer.Ordinal);
                foreach (var part in same)
                {
                    if (part is null) continue;
                    foreach (var (key, count) in part.Counts) counts[key] = counts.GetValueOrDefault(key) + count;
                }
                features.Add(first with { Counts = counts, Values = [], Nulls = nulls, Rows = rows });
                continue;
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
                var quota = new int[same.Length];
                var remainders = new double[same.Length];
                int assigned = 0;
                for (int i = 0; i < same.Length; i++)
                {
                    double exact = totalSeen == 0 ? 0 : (double)maxValuesPerFeature * seen[i] / totalSeen;
                    quota[i] = Math.Min((int)exact, same[i]?.Values.Length ?? 0);
                    remainders[i] = exact - Math.Floor(exact);
                    assigned += quota[i];
                }
                foreach (int i in Enumerable.Range(0, same.Length).OrderByDescending(i => remainders[i]).ThenBy(i => i))
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
                for (int i = 0; i < same.Length; i++)
                {
                    if (quota[i] == 0) continue;
                    double[] copy = [.. same[i]!.Values];
                    var random = new Random(ProfileBuilder.ReservoirSeed + f + (i * 7919));
                    for (int k = 0; k < quota[i]; k++)
                    {
                        int j = k + random.Next(copy.Length - k);
                        (copy[k], copy[j]) = (copy[j], copy[k]);
                    }
                    Array.Copy(copy, 0, values, at, quota[i]);
                    at += quota[i];
                }
            }
            features.Add(first with { Values = values, Counts = new Dictionary<string, long>(), Nulls = nulls, Rows = rows });
        }
        return new DatasetProfile { Features = features, Rows = rows };
    }
}
