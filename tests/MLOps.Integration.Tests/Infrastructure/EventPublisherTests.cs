using MLOps.Core.Events;
using MLOps.Core.Ports;
using MLOps.Infrastructure.Events;
using MLOps.Integration.Tests.Fixtures;

namespace MLOps.Integration.Tests.Infrastructure;

public sealed class EventPublisherTests(AzuriteFixture azurite) : StorageTestBase(azurite)
{
    // A topic nobody listens on: every send fails fast.
    protected override IDictionary<string, string?>? Settings => new Dictionary<string, string?>
    {
        ["MLOps:EventGrid:TopicEndpoint"] = "https://127.0.0.1:1/api/events",
        ["MLOps:EventGrid:Key"] = "not-a-key",
        ["MLOps:EventGrid:MaxRetries"] = "0",
    };

    [Fact]
    public async Task PublishAsync_EventGridUnreachable_KeepsAuditEntry()
    {
        var e = LifecycleEvent.Create("ev-1", LifecycleEventTypes.Deployed, "m", "models/m/versions/1", DateTimeOffset.UtcNow, new { version = 1 });

        await Get<IEventPublisher>().PublishAsync(e);

        var entry = Assert.Single(await Get<IAuditTrail>().ReadAsync("m"));
        Assert.Equal("ev-1", entry.Event.Id);
    }

    [Fact]
    public void ToCloudEvent_CarriesSourceTypeSubjectIdTimeAndData()
    {
        var time = new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);
        var e = LifecycleEvent.Create("id-9", LifecycleEventTypes.RolledBack, "credit-risk", "models/credit-risk/versions/2", time, new { to = 2 });

        var cloud = EventPublisher.ToCloudEvent(e);

        Assert.Equal("/mlops/credit-risk", cloud.Source);
        Assert.Equal(LifecycleEventTypes.RolledBack, cloud.Type);
        Assert.Equal("models/credit-risk/versions/2", cloud.Subject);
        Assert.Equal("id-9", cloud.Id);
        Assert.Equal(time, cloud.Time);
        Assert.Equal("""{"to":2}""", cloud.Data!.ToString());
    }
}
