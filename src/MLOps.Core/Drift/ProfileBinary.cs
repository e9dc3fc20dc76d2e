using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace MLOps.Core.Drift;

/// <summary>Opens a byte range of a stored profile: <paramref name="length"/> bytes from <paramref name="offset"/>
/// (a blob range read, a file seek, a slice of an array). The stream may hold more; readers stop at the length.</summary>
public delegate Task<Stream> ProfileRangeSource(long offset, long length, CancellationToken cancellationToken);

/// <summary>Where one feature of a binary profile lies, and what the merge needs to know without reading it.</summary>
/// <param name="Name">Feature (column) name.</param>
/// <param name="Kind">Numeric (a section of doubles) or categorical (a section of category counts).</param>
/// <param name="Rows">Rows of the profile.</param>
/// <param name="Nulls">Null cells of the feature.</param>
/// <param name="Count">Sample values (numeric) or categories (categorical) in the section.</param>
/// <param name="Offset">Byte offset of the section from the start of the profile.</param>
/// <param name="Length">Byte length of the section.</param>
/// <param name="Min">Smallest numeric value seen (all values, not only the sample); null when unknown.</param>
/// <param name="Max">Largest numeric value seen; null when unknown.</param>
/// <param name="IsPrediction">True for the model's output (<see cref="PredictionFeature"/>): flagged in format 3;
/// in older files, which marked it by its reserved name only, true for the feature named <see cref="PredictionFeature.Name"/>.</param>
public sealed record ProfileSection(string Name, FeatureKind Kind, long Rows, long Nulls, int Count, long Offset, long Length, double? Min = null, double? Max = null,
    bool IsPrediction = false);

/// <summary>The header of a binary profile: its rows and the index of its feature sections, in profile order.</summary>
public sealed record ProfileIndex(long Rows, IReadOnlyList<ProfileSection> Features)
{
    /// <summary>Position of the first section named <paramref name="name"/>, or −1.</summary>
    public int IndexOf(string name)
    {
        for (int i = 0; i < Features.Count; i++)
        {
            if (string.Equals(Features[i].Name, name, StringComparison.Ordinal)) return i;
        }
        return -1;
    }
}

/// <summary>
/// The compact binary format of a <see cref="DatasetProfile"/> (partition profiles of a drift audit, and a version's
/// reference profile beside its JSON), made to be read one feature at a time. Layout, all integers and doubles
/// little-endian:
/// <code>
/// "MLPF" | int32 format version (3; 1 and 2 are still read) | int32 header length
/// header:  int64 rows | int32 features | per feature: string name | byte kind (0 numeric, 1 categorical)
///          | int64 rows | int64 nulls | int32 count | int64 section offset | int64 section length
///          | float64 min | float64 max (version ≥ 2; NaN when unknown)
///          | byte flags (version ≥ 3; bit 0: the prediction feature, other bits 0)
/// sections, in feature order:
///          numeric: count × float64 (the sample, in profile order)
///          categorical: count × (string category | int64 count), in the profile's enumeration order
/// </code>
/// Strings are UTF-8 with a 7-bit encoded length prefix (<see cref="BinaryWriter.Write(string)"/>). Offsets count from
/// the start of the profile, so a reader fetches the header, then any feature's section by its range. Reading a
/// profile back gives the same values, counts (in the same order), nulls, rows, bounds and prediction flags.
/// </summary>
public static class ProfileBinary
{
    /// <summary>Current format version.</summary>
    public const int FormatVersion = 3;

    /// <summary>Flag bit of a feature section (format 3): the feature is the model's output.</summary>
    private const byte PredictionFlag = 1;

    /// <summary>Bytes before the header: magic, version, header length.</summary>
    public const int PrefixLength = 12;

    /// <summary>Largest header accepted (names of many thousands of features fit).</summary>
    public const int MaxHeaderLength = 64 * 1024 * 1024;

    private const int CopyBufferBytes = 64 * 1024;

    /// <summary>The four bytes a binary profile starts with.</summary>
    public static ReadOnlySpan<byte> Magic => "MLPF"u8;

    /// <summary>One feature to write: the sample (numeric) or the counts (categorical).</summary>
    internal readonly record struct FeatureData(string Name, FeatureKind Kind, long Rows, long Nulls, IReadOnlyList<double>? Values, IReadOnlyDictionary<string, long>? Counts, double? Min = null, double? Max = null, bool IsPrediction = false);

    /// <summary>True when <paramref name="prefix"/> starts like a binary profile (else it is e.g. a JSON profile).</summary>
    public static bool IsBinary(ReadOnlySpan<byte> prefix) => prefix.Length >= 4 && prefix[..4].SequenceEqual(Magic);

    /// <summary>Writes <paramref name="profile"/> to <paramref name="destination"/>.</summary>
    public static void Write(Stream destination, DatasetProfile profile)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentNullException.ThrowIfNull(profile);
        Write(destination, profile.Rows, [.. profile.Features.Select(f => new FeatureData(f.Name, f.Kind, f.Rows, f.Nulls,
            f.Kind == FeatureKind.Numeric ? f.Values : null, f.Kind == FeatureKind.Numeric ? null : f.Counts, f.Min, f.Max, f.IsPrediction))]);
    }

    /// <summary>The profile in the binary format, as bytes.</summary>
    public static byte[] ToBytes(DatasetProfile profile)
    {
        using var buffer = new MemoryStream();
        Write(buffer, profile);
        return buffer.ToArray();
    }

    /// <summary>Ranges of a profile held in memory.</summary>
    public static ProfileRangeSource FromBytes(byte[] bytes)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        return (offset, length, _) =>
        {
            if (offset < 0 || length < 0 || offset + length > bytes.Length)
                throw new InvalidDataException($"range {offset}+{length} lies outside the {bytes.Length}-byte profile");
            return Task.FromResult<Stream>(new MemoryStream(bytes, (int)offset, (int)length, writable: false));
        };
    }

    internal static void Write(Stream destination, long rows, IReadOnlyList<FeatureData> features)
    {
        var categories = new byte[]?[features.Count];
        var lengths = new long[features.Count];
        for (int i = 0; i < features.Count; i++)
        {
            var f = features[i];
            if (f.Kind == FeatureKind.Numeric)
            {
                lengths[i] = (long)(f.Values?.Count ?? 0) * sizeof(double);
            }
            else
            {
                categories[i] = EncodeCounts(f.Counts ?? new Dictionary<string, long>());
                lengths[i] = categories[i]!.Length;
            }
        }

        // Offsets are fixed-size fields: the header's length does not depend on their values.
        int headerLength = EncodeHeader(rows, features, lengths, 0).Length;
        byte[] header = EncodeHeader(rows, features, lengths, PrefixLength + headerLength);
        Span<byte> prefix = stackalloc byte[PrefixLength];
        Magic.CopyTo(prefix);
        BinaryPrimitives.WriteInt32LittleEndian(prefix[4..], FormatVersion);
        BinaryPrimitives.WriteInt32LittleEndian(prefix[8..], header.Length);
        destination.Write(prefix);
        destination.Write(header);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(CopyBufferBytes);
        try
        {
            for (int i = 0; i < features.Count; i++)
            {
                if (categories[i] is { } counts)
                {
                    destination.Write(counts);
                    continue;
                }
                WriteDoubles(destination, features[i].Values ?? [], buffer);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static void WriteDoubles(Stream destination, IReadOnlyList<double> values, byte[] buffer)
    {
        ReadOnlySpan<double> span = values switch
        {
            double[] array => array,
            List<double> list => CollectionsMarshal.AsSpan(list),
            _ => values.ToArray(),
        };
        if (BitConverter.IsLittleEndian)
        {
            destination.Write(MemoryMarshal.AsBytes(span));
            return;
        }
        int perBuffer = buffer.Length / sizeof(double);
        for (int at = 0; at < span.Length; at += perBuffer)
        {
            int n = Math.Min(perBuffer, span.Length - at);
            for (int k = 0; k < n; k++) BinaryPrimitives.WriteDoubleLittleEndian(buffer.AsSpan(k * sizeof(double)), span[at + k]);
            destination.Write(buffer, 0, n * sizeof(double));
        }
    }

    private static byte[] EncodeCounts(IReadOnlyDictionary<string, long> counts)
    {
        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer, Encoding.UTF8, leaveOpen: true))
        {
            foreach (var (key, count) in counts)
            {
                writer.Write(key);
                writer.Write(count);
            }
        }
        return buffer.ToArray();
    }

    private static byte[] EncodeHeader(long rows, IReadOnlyList<FeatureData> features, long[] lengths, long firstOffset)
    {
        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(rows);
            writer.Write(features.Count);
            long offset = firstOffset;
            for (int i = 0; i < features.Count; i++)
            {
                var f = features[i];
                writer.Write(f.Name);
                writer.Write((byte)(f.Kind == FeatureKind.Numeric ? 0 : 1));
                writer.Write(f.Rows);
                writer.Write(f.Nulls);
                writer.Write(f.Kind == FeatureKind.Numeric ? f.Values?.Count ?? 0 : f.Counts?.Count ?? 0);
                writer.Write(offset);
                writer.Write(lengths[i]);
                writer.Write(f.Min ?? double.NaN);
                writer.Write(f.Max ?? double.NaN);
                writer.Write(f.IsPrediction ? PredictionFlag : (byte)0);
                offset += lengths[i];
            }
        }
        return buffer.ToArray();
    }

    /// <summary>Reads the header of the profile behind <paramref name="source"/> (two range reads);
    /// <paramref name="name"/> names it in errors.</summary>
    public static async Task<ProfileIndex> ReadIndexAsync(ProfileRangeSource source, string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        var prefix = new byte[PrefixLength];
        await ReadRangeAsync(source, 0, prefix, name, cancellationToken).ConfigureAwait(false);
        if (!IsBinary(prefix)) throw new InvalidDataException($"{name} is not a binary profile (it does not start with 'MLPF')");
        int version = BinaryPrimitives.ReadInt32LittleEndian(prefix.AsSpan(4));
        if (version is < 1 or > FormatVersion) throw new InvalidDataException($"{name}: binary profile format version {version} is not supported (expected 1 to {FormatVersion})");
        int headerLength = BinaryPrimitives.ReadInt32LittleEndian(prefix.AsSpan(8));
        if (headerLength is < 12 or > MaxHeaderLength) throw new InvalidDataException($"{name}: header length {headerLength} is invalid");
        var header = new byte[headerLength];
        await ReadRangeAsync(source, PrefixLength, header, name, cancellationToken).ConfigureAwait(false);
        try
        {
            using var reader = new BinaryReader(new MemoryStream(header, writable: false), Encoding.UTF8);
            long rows = reader.ReadInt64();
            int count = reader.ReadInt32();
            if (count < 0 || count > headerLength) throw new InvalidDataException($"{name}: {count} features is invalid");
            var sections = new ProfileSection[count];
            for (int i = 0; i < count; i++)
            {
                string feature = reader.ReadString();
                byte kind = reader.ReadByte();
                if (kind > 1) throw new InvalidDataException($"{name}: feature '{feature}' has unknown kind {kind}");
                var section = new ProfileSection(feature, kind == 0 ? FeatureKind.Numeric : FeatureKind.Categorical,
                    reader.ReadInt64(), reader.ReadInt64(), reader.ReadInt32(), reader.ReadInt64(), reader.ReadInt64());
                if (version >= 2)
                {
                    double min = reader.ReadDouble(), max = reader.ReadDouble();
                    section = section with { Min = double.IsNaN(min) ? null : min, Max = double.IsNaN(max) ? null : max };
                }
                // Before format 3 the reserved name alone marked the model's output.
                section = section with
                {
                    IsPrediction = version >= 3
                        ? (reader.ReadByte() & PredictionFlag) != 0
                        : string.Equals(feature, PredictionFeature.Name, StringComparison.Ordinal),
                };
                if (section.Count < 0 || section.Offset < PrefixLength + headerLength || section.Length < 0
                    || (section.Kind == FeatureKind.Numeric && section.Length != (long)section.Count * sizeof(double)))
                    throw new InvalidDataException($"{name}: feature '{feature}' has an invalid section ({section.Count} entries, {section.Length} bytes at {section.Offset})");
                sections[i] = section;
            }
            return new ProfileIndex(rows, sections);
        }
        catch (EndOfStreamException ex)
        {
            throw new InvalidDataException($"{name}: the header is truncated", ex);
        }
    }

    /// <summary>Reads one feature's section (one range read) as a profile of that feature.</summary>
    public static async Task<FeatureProfile> ReadFeatureAsync(ProfileRangeSource source, ProfileSection section, string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(section);
        var stream = await source(section.Offset, section.Length, cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            try
            {
                if (section.Kind == FeatureKind.Numeric)
                {
                    var values = new double[section.Count];
                    byte[] buffer = ArrayPool<byte>.Shared.Rent(CopyBufferBytes);
                    try
                    {
                        int perBuffer = buffer.Length / sizeof(double);
                        for (int at = 0; at < values.Length; at += perBuffer)
                        {
                            int n = Math.Min(perBuffer, values.Length - at);
                            await stream.ReadExactlyAsync(buffer.AsMemory(0, n * sizeof(double)), cancellationToken).ConfigureAwait(false);
                            DecodeDoubles(buffer.AsSpan(0, n * sizeof(double)), values.AsSpan(at, n));
                        }
                    }
                    finally
                    {
                        ArrayPool<byte>.Shared.Return(buffer);
                    }
                    return new FeatureProfile { Name = section.Name, Kind = FeatureKind.Numeric, Values = values, Rows = section.Rows, Nulls = section.Nulls, Min = section.Min, Max = section.Max, IsPrediction = section.IsPrediction };
                }

                var bytes = new byte[section.Length];
                await stream.ReadExactlyAsync(bytes, cancellationToken).ConfigureAwait(false);
                var counts = new Dictionary<string, long>(section.Count, StringComparer.Ordinal);
                using var reader = new BinaryReader(new MemoryStream(bytes, writable: false), Encoding.UTF8);
                for (int i = 0; i < section.Count; i++)
                {
                    string key = reader.ReadString();
                    counts[key] = reader.ReadInt64();
                }
                return new FeatureProfile { Name = section.Name, Kind = FeatureKind.Categorical, Counts = counts, Rows = section.Rows, Nulls = section.Nulls, Min = section.Min, Max = section.Max, IsPrediction = section.IsPrediction };
            }
            catch (EndOfStreamException ex)
            {
                throw new InvalidDataException($"{name}: the section of feature '{section.Name}' is truncated", ex);
            }
        }
    }

    /// <summary>Reads a whole binary profile (every section).</summary>
    public static async Task<DatasetProfile> ReadAsync(ProfileRangeSource source, string name, CancellationToken cancellationToken = default)
    {
        var index = await ReadIndexAsync(source, name, cancellationToken).ConfigureAwait(false);
        var features = new List<FeatureProfile>(index.Features.Count);
        foreach (var section in index.Features)
        {
            features.Add(await ReadFeatureAsync(source, section, name, cancellationToken).ConfigureAwait(false));
        }
        return new DatasetProfile { Rows = index.Rows, Features = features };
    }

    private static void DecodeDoubles(ReadOnlySpan<byte> bytes, Span<double> values)
    {
        if (BitConverter.IsLittleEndian)
        {
            MemoryMarshal.Cast<byte, double>(bytes).CopyTo(values);
            return;
        }
        for (int k = 0; k < values.Length; k++) values[k] = BinaryPrimitives.ReadDoubleLittleEndian(bytes[(k * sizeof(double))..]);
    }

    private static async Task ReadRangeAsync(ProfileRangeSource source, long offset, byte[] into, string name, CancellationToken cancellationToken)
    {
        var stream = await source(offset, into.Length, cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            try
            {
                await stream.ReadExactlyAsync(into, cancellationToken).ConfigureAwait(false);
            }
            catch (EndOfStreamException ex)
            {
                throw new InvalidDataException($"{name} is truncated: {into.Length} bytes at {offset} are missing", ex);
            }
        }
    }
}
