using MLOps.Core.Drift;
using MLOps.Core.Monitoring;
using MLOps.Core.Ports;
using MLOps.Integration.Tests.Fixtures;

namespace MLOps.Integration.Tests.Infrastructure;

public sealed class TableMonitoringStoreTests(AzuriteFixture azurite) : StorageTestBase(azurite)
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);

    private static DriftAuditRecord Audit(string id, DateTimeOffset at, int features, double psi) => new()
    {
        AuditId = id,
        Model = "credit-risk",
        Version = 2,
        WindowStart = at.AddDays(-1),
        WindowEnd = at,
        AuditedAt = at,
        Decision = psi > 0.25 ? "retrain" : "none",
        Report = new DriftReport
        {
            Features = [.. Enumerable.Range(0, features).Select(i => new FeatureDrift
            {
                Feature = i == 0 ? "income" : $"feature_{i:D4}_with_a_rather_long_name_to_make_the_report_bigger",
                Kind = FeatureKind.Numeric,
                Method = "psi",
                Value = psi,
                Threshold = 0.25,
                Drifted = psi > 0.25,
                Metrics = new Dictionary<string, double>
                {
                    ["psi"] = psi,
                    ["ks"] = psi / 2,
                    ["ks_p_value"] = 0.01,
                    ["wasserstein_norm"] = double.PositiveInfinity,
                },
                ReferenceRows = 1000,
                CurrentRows = 500,
            })],
            DriftedFeatures = psi > 0.25 ? features : 0,
            DatasetDrift = psi > 0.25,
            Summary = "summary",
        },
    };

    [Fact]
    public async Task ListAuditsAsync_NewestFirst_WithEveryMetric()
    {
        var store = Get<IMonitoringStore>();
        await store.SaveAuditAsync(Audit("a1", T0, 3, 0.05));
        await store.SaveAuditAsync(Audit("a2", T0.AddHours(6), 3, 0.3));
        await store.SaveAuditAsync(Audit("a3", T0.AddHours(12), 3, 0.1));
        await store.SaveAuditAsync(Audit("a3", T0.AddHours(12), 3, 0.1));

        var audits = await store.ListAuditsAsync("credit-risk", take: 2);

        Assert.Equal(["a3", "a2"], audits.Select(a => a.AuditId));
        Assert.Equal(3, audits[1].Report.Features.Count);
        Assert.True(double.IsPositiveInfinity(audits[1].Report.Features[0].Metrics["wasserstein_norm"]));
        Assert.Equal(3, (await store.ListAuditsAsync("credit-risk")).Count);
    }

    [Fact]
    public async Task GetFeatureHistoryAsync_TypedValuesNewestFirst()
    {
        var store = Get<IMonitoringStore>();
        var history = Get<IMetricHistory>();
        await store.SaveAuditAsync(Audit("a1", T0, 2, 0.05));
        await store.SaveAuditAsync(Audit("a2", T0.AddHours(6), 2, 0.3));

        var points = await history.GetFeatureHistoryAsync("credit-risk", "income");

        Assert.Equal(["a2", "a1"], points.Select(p => p.AuditId));
        Assert.Equal(0.3, points[0].Value);
        Assert.True(points[0].Drifted);
        Assert.Equal(0.15, points[0].Metrics["ks"]);
        Assert.True(double.IsPositiveInfinity(points[0].Metrics["wasserstein_norm"]));
        Assert.Equal(500, points[0].CurrentRows);
        Assert.Single(await history.GetFeatureHistoryAsync("credit-risk", "income", take: 1));
    }

    [Fact]
    public async Task SaveAuditAsync_LargeReport_KeepsEveryFeature()
    {
        var store = Get<IMonitoringStore>();
        var big = Audit("big", T0, 1500, 0.4);

        await store.SaveAuditAsync(big);
        var read = Assert.Single(await store.ListAuditsAsync("credit-risk"));

        Assert.Equal(1500, read.Report.Features.Count);
        Assert.Equal(big.Report.Features[^1].Feature, read.Report.Features[^1].Feature);
    }
}
