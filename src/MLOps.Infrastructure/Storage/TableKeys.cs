using System.Globalization;
using System.Text;

namespace MLOps.Infrastructure.Storage;

/// <summary>Table keys: escaping of user-supplied parts and prefix ranges.</summary>
internal static class TableKeys
{
    /// <summary>Escapes the characters a key may not contain (<c>/ \ # ?</c>, control characters) and the
    /// separators this code uses (<c>|</c>, <c>~</c>) as <c>~XX</c>. Reversible with <see cref="Unescape"/>.</summary>
    public static string Escape(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.Length == 0)
        {
            throw new ArgumentException("A key part must not be empty.", nameof(value));
        }

        StringBuilder? sb = null;
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            var bad = c is '/' or '\\' or '#' or '?' or '|' or '~' || char.IsControl(c);
            if (bad)
            {
                sb ??= new StringBuilder(value, 0, i, value.Length + 8);
                sb.Append('~').Append(((int)c).ToString("X2", CultureInfo.InvariantCulture));
            }
            else
            {
                sb?.Append(c);
            }
        }

        return sb?.ToString() ?? value;
    }

    public static string Unescape(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (!value.Contains('~', StringComparison.Ordinal))
        {
            return value;
        }

        var sb = new StringBuilder(value.Length);
        for (var i = 0; i < value.Length; i++)
        {
            if (value[i] == '~' && i + 2 < value.Length && int.TryParse(value.AsSpan(i + 1, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var code))
            {
                sb.Append((char)code);
                i += 2;
            }
            else
            {
                sb.Append(value[i]);
            }
        }

        return sb.ToString();
    }

    /// <summary>An OData filter for the rows of <paramref name="partitionKey"/> whose row key starts with <paramref name="prefix"/>.</summary>
    public static string PrefixFilter(string partitionKey, string prefix) =>
        Azure.Data.Tables.TableClient.CreateQueryFilter($"PartitionKey eq {partitionKey} and RowKey ge {prefix} and RowKey lt {UpperBound(prefix)}");

    /// <summary>The smallest string greater than every string starting with <paramref name="prefix"/>.</summary>
    public static string UpperBound(string prefix) => prefix[..^1] + (char)(prefix[^1] + 1);

    /// <summary>Ticks counted down from the maximum so that newer rows sort first.</summary>
    public static string InvertedTicks(DateTimeOffset time) =>
        (DateTimeOffset.MaxValue.UtcTicks - time.UtcTicks).ToString("D19", CultureInfo.InvariantCulture);
}
