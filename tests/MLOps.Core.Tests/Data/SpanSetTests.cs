using MLOps.Core.Data;

namespace MLOps.Core.Tests.Data;

public class SpanSetTests
{
    [Fact]
    public void TryAdd_ManyValues_FindsEveryDuplicateWithItsFirstRow()
    {
        var set = new SpanSet();
        for (var i = 0; i < 50_000; i++)
        {
            Assert.True(set.TryAdd($"id-{i}", i + 1, out _));
        }

        Assert.False(set.TryAdd("id-123", 99_999, out var first));
        Assert.Equal(124, first);
        Assert.True(set.Contains("id-49999"));
        Assert.False(set.Contains("id-50000"));
        Assert.Equal(50_000, set.Count);
    }

    [Fact]
    public void EnsureCapacity_AfterValues_KeepsThem()
    {
        var set = new SpanSet();
        set.TryAdd("a", 1, out _);
        set.TryAdd("", 2, out _);

        set.EnsureCapacity(10_000, 4);

        Assert.True(set.Contains("a"));
        Assert.True(set.Contains(""));
        Assert.False(set.TryAdd("a", 3, out var first));
        Assert.Equal(1, first);
    }
}
