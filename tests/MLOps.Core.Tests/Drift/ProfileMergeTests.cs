using System.Globalization;
using MLOps.Core.Drift;
using MLOps.Core.Workflows;

namespace MLOps.Core.Tests.Drift;

public sealed class ProfileMergeTests
{
    private static readonly WorkflowDefinition Workflow = WorkflowParser.Parse(
        File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "workflows", "credit-risk.yaml")), "credit-risk.yaml");

    private static List<IReadOnlyDictionary<string, string?>> Rows(int n, int seed) =>
        [.. Core.Samples.CreditRiskData.FeatureRows(n, seed).Select(r => (IReadOnlyDictionary<string, string?>)r)];

    [Fact]
    public void Merge_of_chunks_equals_whole_when_everything_fits()
    {
        var rows = Rows(3000, 5);
        var whole = ProfileBuilder.FromRows(rows, Workflow);
        var parts = rows.Chunk(700).Select(c => ProfileBuilder.FromRows(c, Workflow)).ToList();

        var merged = ProfileBuilder.Merge(parts);

        Assert.Equal(whole.Rows, merged.Rows);
        foreach (var (w, m) in whole.Features.Zip(merged.Features))
        {
            Assert.Equal(w.Name, m.Name);
            Assert.Equal(w.Nulls, m.Nulls);
            Assert.Equal(w.Values, m.Values);
            Assert.Equal(w.Counts.OrderBy(k => k.Key), m.Counts.OrderBy(k => k.Key));
        }
        var spec = new MonitoringSpec();
        Assert.Equal(DriftAnalyzer.Compare(whole, whole, spec).Features.Select(f => f.Value), DriftAnalyzer.Compare(merged, whole, spec).Features.Select(f => f.Value));
    }

    [Fact]
    public void Merge_caps_samples_proportionally_and_deterministically()
    {
        FeatureProfile Part(int n, double offset) => new()
        {
            Name = "x", Kind = FeatureKind.Numeric, Rows = n, Values = [.. Enumerable.Range(0, n).Select(i => offset + i)],
        };
        var parts = new[] { new DatasetProfile { Rows = 3000, Features = [Part(3000, 0)] }, new DatasetProfile { Rows = 1000, Features = [Part(1000, 1e6)] } };

        var a = ProfileBuilder.Merge(parts, maxValuesPerFeature: 400);
        var b = ProfileBuilder.Merge(parts, maxValuesPerFeature: 400);

        var values = a.Features[0].Values;
        Assert.Equal(400, values.Length);
        Assert.Equal(300, values.Count(v => v < 1e6));
        Assert.Equal(100, values.Count(v => v >= 1e6));
        Assert.Equal(values.Length, values.Distinct().Count());
        Assert.Equal(values, b.Features[0].Values);
        Assert.Equal(4000, a.Rows);
        Assert.Equal("400", values.Length.ToString(CultureInfo.InvariantCulture));
    }
}
