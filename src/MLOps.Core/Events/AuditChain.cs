using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace MLOps.Core.Events;

/// <summary>The hash chain of the audit trail: each entry's hash covers the previous hash and the event.</summary>
public static class AuditChain
{
    public static string ComputeHash(string previousHash, long sequence, LifecycleEvent lifecycleEvent)
    {
        ArgumentNullException.ThrowIfNull(previousHash);
        ArgumentNullException.ThrowIfNull(lifecycleEvent);
        var canonical = string.Join('\n',
            previousHash,
            sequence.ToString(System.Globalization.CultureInfo.InvariantCulture),
            lifecycleEvent.Id,
            lifecycleEvent.Type,
            lifecycleEvent.Subject,
            lifecycleEvent.Model,
            lifecycleEvent.Time.UtcDateTime.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
            lifecycleEvent.Actor,
            lifecycleEvent.Data.ValueKind == JsonValueKind.Undefined ? "" : lifecycleEvent.Data.GetRawText());
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)));
    }

    /// <summary>Checks a model's entries in sequence order.</summary>
    public static AuditVerification Verify(string model, IReadOnlyList<AuditEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var previous = "";
        for (var i = 0; i < entries.Count; i++)
        {
            var entry = entries[i];
            if (entry.Sequence != i + 1)
            {
                return new AuditVerification(model, entries.Count, false, entry.Sequence, $"entry {i + 1} has sequence {entry.Sequence}: an entry is missing or out of order");
            }

            if (entry.PreviousHash != previous || entry.Hash != ComputeHash(previous, entry.Sequence, entry.Event))
            {
                return new AuditVerification(model, entries.Count, false, entry.Sequence, $"entry {entry.Sequence} ({entry.Event.Type}) does not match its hash: it was altered");
            }

            previous = entry.Hash;
        }

        return new AuditVerification(model, entries.Count, true, null, $"{entries.Count} entries, chain intact");
    }
}
