using System.Globalization;
using System.Text.RegularExpressions;
using Azure.Core;
using Azure.Core.Pipeline;

namespace MLOps.Local.Durable;

/// <summary>Adds one second to the <c>visibilitytimeout</c> of every delayed queue message that is sent.</summary>
/// <remarks>The Azure Storage backend schedules a durable timer as a queue message that stays invisible for
/// <c>fireAt - now</c>; the queue REST API takes whole seconds and the SDK truncates, so timers fired up to one
/// second early (measured). Rounding up at the source makes them fire at or after their due time, never before.
/// Only message sends (POST …/messages) with a positive delay are changed; receive and update calls keep theirs.
/// </remarks>
internal sealed partial class RoundUpVisibilityTimeoutPolicy : HttpPipelineSynchronousPolicy
{
    public override void OnSendingRequest(HttpMessage message)
    {
        var request = message.Request;
        if (request.Method != RequestMethod.Post || !request.Uri.Path.EndsWith("/messages", StringComparison.Ordinal))
        {
            return;
        }

        var query = request.Uri.Query;
        var match = VisibilityTimeout().Match(query);
        if (!match.Success
            || !int.TryParse(match.Groups["seconds"].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            || seconds <= 0)
        {
            return;
        }

        var rounded = (seconds + 1).ToString(CultureInfo.InvariantCulture);
        request.Uri.Query = string.Concat(query.AsSpan(0, match.Groups["seconds"].Index), rounded, query.AsSpan(match.Groups["seconds"].Index + match.Groups["seconds"].Length));
    }

    [GeneratedRegex("(?<=[?&])visibilitytimeout=(?<seconds>[0-9]+)", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex VisibilityTimeout();
}
