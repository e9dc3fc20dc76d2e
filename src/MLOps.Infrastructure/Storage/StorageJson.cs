using System.Text.Json;
using System.Text.Json.Serialization;
using Azure.Data.Tables;

namespace MLOps.Infrastructure.Storage;

/// <summary>The one JSON setting used for everything this project stores: enums as strings, NaN and
/// infinities allowed (drift metrics can be infinite).</summary>
public static class StorageJson
{
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.General)
    {
        Converters = { new JsonStringEnumConverter() },
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>Longest string written to one table property (the service allows 64 KiB = 32K UTF-16 chars).</summary>
    internal const int MaxPropertyChars = 30_000;

    /// <summary>Writes <paramref name="value"/> into <paramref name="name"/>, <c>{name}_1</c>, <c>{name}_2</c>… of at
    /// most <see cref="MaxPropertyChars"/> characters each, so that text over the per-property limit still fits.</summary>
    internal static void WriteChunked(TableEntity entity, string name, string? value)
    {
        if (value is null)
        {
            return;
        }

        var parts = Math.Max(1, (value.Length + MaxPropertyChars - 1) / MaxPropertyChars);
        for (var i = 0; i < parts; i++)
        {
            var start = i * MaxPropertyChars;
            var chunk = value.Substring(start, Math.Min(MaxPropertyChars, value.Length - start));
            entity[i == 0 ? name : $"{name}_{i}"] = chunk;
        }

        entity[name + "_parts"] = parts;
    }

    internal static string? ReadChunked(TableEntity entity, string name)
    {
        var first = entity.GetString(name);
        if (first is null)
        {
            return null;
        }

        var parts = entity.GetInt32(name + "_parts") ?? 1;
        if (parts <= 1)
        {
            return first;
        }

        var sb = new System.Text.StringBuilder(first);
        for (var i = 1; i < parts; i++)
        {
            sb.Append(entity.GetString($"{name}_{i}"));
        }

        return sb.ToString();
    }
}
