namespace MLOps.Infrastructure.Options;

/// <summary>The Event Grid topic lifecycle events are sent to. Bound from <see cref="Section"/>.</summary>
/// <remarks>When <see cref="TopicEndpoint"/> is empty, events go to the audit trail only. When it is set and
/// <see cref="Key"/> is empty, the publisher authenticates with the default Azure credential (managed identity).</remarks>
public sealed class EventGridOptions
{
    /// <summary>Configuration section: <c>MLOps:EventGrid</c>.</summary>
    public const string Section = "MLOps:EventGrid";

    /// <summary>Topic endpoint, e.g. <c>https://topic.region-1.eventgrid.azure.net/api/events</c>.</summary>
    public Uri? TopicEndpoint { get; set; }

    /// <summary>Topic access key; empty means managed identity.</summary>
    public string? Key { get; set; }

    /// <summary>Retries of one send before the failure is logged and given up (the audit entry is kept).</summary>
    [System.ComponentModel.DataAnnotations.Range(0, 10)]
    public int MaxRetries { get; set; } = 3;

    /// <summary>True when a topic endpoint is configured.</summary>
    public bool IsConfigured => TopicEndpoint is not null;
}
