using System.Globalization;
using MLOps.Core.Rollout;

namespace MLOps.Core.Tests.Rollout;

public class TrafficRouterTests
{
    private static TrafficSplit Canary(int percent) => new()
    {
        Model = "m", StableVersion = 1, CandidateVersion = 2, Mode = TrafficMode.Canary, Percent = percent, RunId = "r",
    };

    [Fact]
    public void Route_SameKey_AlwaysSameArm()
    {
        var split = Canary(30);
        for (var i = 0; i < 200; i++)
        {
            var key = "customer-" + i.ToString(CultureInfo.InvariantCulture);
            var first = TrafficRouter.Route(split, key);
            Assert.All(Enumerable.Range(0, 5), _ => Assert.Equal(first, TrafficRouter.Route(split, key)));
        }
    }

    [Theory]
    [InlineData(10)]
    [InlineData(20)]
    [InlineData(50)]
    public void Route_ThousandKeys_SplitsNearThePercentage(int percent)
    {
        var split = Canary(percent);
        var candidate = Enumerable.Range(0, 1000).Count(i => TrafficRouter.Route(split, "k" + i.ToString(CultureInfo.InvariantCulture)) == Arms.Candidate);

        // Binomial(1000, p): four standard deviations either side.
        var sd = Math.Sqrt(1000 * percent / 100.0 * (1 - percent / 100.0));
        Assert.InRange(candidate, 10 * percent - 4 * sd, 10 * percent + 4 * sd);
    }

    [Fact]
    public void Route_RaisingThePercentage_KeepsEarlierCandidateKeys()
    {
        var keys = Enumerable.Range(0, 500).Select(i => "k" + i.ToString(CultureInfo.InvariantCulture)).ToList();
        var at10 = keys.Where(k => TrafficRouter.Route(Canary(10), k) == Arms.Candidate).ToList();

        Assert.All(at10, k => Assert.Equal(Arms.Candidate, TrafficRouter.Route(Canary(50), k)));
    }

    [Fact]
    public void Route_ZeroAndHundred_AreAllStableAndAllCandidate()
    {
        Assert.All(Enumerable.Range(0, 100), i => Assert.Equal(Arms.Stable, TrafficRouter.Route(Canary(0), i.ToString(CultureInfo.InvariantCulture))));
        Assert.All(Enumerable.Range(0, 100), i => Assert.Equal(Arms.Candidate, TrafficRouter.Route(Canary(100), i.ToString(CultureInfo.InvariantCulture))));
    }

    [Fact]
    public void Bucket_IsStableAcrossProcesses()
    {
        // SHA-256 based: these values never change (string.GetHashCode would, per process).
        Assert.Equal(TrafficRouter.Bucket("alice"), TrafficRouter.Bucket("alice"));
        Assert.InRange(TrafficRouter.Bucket("alice"), 0, 99);
        Assert.True(Enumerable.Range(0, 20).Select(i => TrafficRouter.Bucket("a" + i.ToString(CultureInfo.InvariantCulture))).Distinct().Count() > 1);
    }

    [Fact]
    public void Mirrors_ShadowSampling_MirrorsItsShareAndNeverRoutesToTheCandidate()
    {
        var split = Canary(0) with { Mode = TrafficMode.Shadow, Sampling = 0.2 };
        var keys = Enumerable.Range(0, 2000).Select(i => "k" + i.ToString(CultureInfo.InvariantCulture)).ToList();

        Assert.All(keys, k => Assert.Equal(Arms.Stable, TrafficRouter.Route(split, k)));
        Assert.InRange(keys.Count(k => TrafficRouter.Mirrors(split, k)), 400 - 72, 400 + 72);
        Assert.DoesNotContain(keys, k => TrafficRouter.Mirrors(Canary(50), k));
    }

    [Fact]
    public void Key_PrefersCallerKeyThenRowIdThenRequestId()
    {
        IReadOnlyList<IReadOnlyDictionary<string, string?>> rows = [new Dictionary<string, string?> { ["id"] = "row-1" }];

        Assert.Equal("caller", TrafficRouter.Key("caller", rows, "id", "req"));
        Assert.Equal("row-1", TrafficRouter.Key(null, rows, "id", "req"));
        Assert.Equal("req", TrafficRouter.Key(" ", rows, null, "req"));
        Assert.Equal("req", TrafficRouter.Key(null, [new Dictionary<string, string?> { ["id"] = null }], "id", "req"));
    }
}
