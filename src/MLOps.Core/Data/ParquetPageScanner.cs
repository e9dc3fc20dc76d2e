using System.Buffers.Binary;

namespace MLOps.Core.Data;

/// <summary>What the page scanner needs to know about one column chunk, from the footer.</summary>
/// <param name="Start">Offset of the chunk's first page (the smallest non-zero of dictionary, data and index page offsets, as the reader seeks).</param>
/// <param name="Length">The chunk's declared compressed size: its pages, headers included, must fill exactly this.</param>
/// <param name="Codec">Parquet compression codec number (0 none, 1 Snappy, 6 zstd …).</param>
/// <param name="Rows">Rows of the row group.</param>
/// <param name="NumValues">Values the chunk declares (for a flat column, one per row).</param>
/// <param name="ValueWidth">Bytes of one plain-encoded value for fixed-width types; 0 for byte arrays.</param>
/// <param name="Flat">The column is neither repeated nor nested: one value per row.</param>
internal readonly record struct ParquetChunk(long Start, long Length, int Codec, long Rows, long NumValues, int ValueWidth, bool Flat);

/// <summary>Walks the page headers of a Parquet column chunk before any library decodes it, so a page that declares
/// sizes it cannot have (negative, past the chunk, beyond the limit, a decompression bomb, more values than rows) is
/// refused before anything is allocated from them. Only header bytes are read (a small window at each page start);
/// page data is seeked over. Page headers are Thrift compact-protocol structs, decoded here by a small reader that
/// picks the few fields it checks and skips the others.</summary>
internal sealed class ParquetPageScanner(Stream stream, long maxPageBytes, int maxCompressionRatio)
{
    /// <summary>Largest page header read (headers hold a few sizes and optional statistics; real ones are tiny).</summary>
    public const int MaxHeaderBytes = 1 << 20;

    private const int Window = 4096;
    private const int DataPage = 0, IndexPage = 1, DictionaryPage = 2, DataPageV2 = 3;
    private const int Snappy = 1, Zstd = 6;

    private byte[] _buffer = new byte[Window];
    private long _bufferStart = -1;
    private int _bufferLength;

    /// <summary>Checks every page of <paramref name="chunk"/>; returns null when they are sound, or the first page
    /// (1-based; 0 for the chunk as a whole) that is not, with what is wrong ("declares … bytes …") to put after it.</summary>
    public async ValueTask<(int Page, string Problem)?> ScanAsync(ParquetChunk chunk, CancellationToken cancellationToken)
    {
        var end = chunk.Start + chunk.Length;
        if (chunk.Flat && chunk.NumValues != chunk.Rows)
        {
            return (0, $"the column chunk declares {chunk.NumValues} values for {chunk.Rows} rows");
        }

        var position = chunk.Start;
        var page = 0;
        long values = 0;
        var sawData = false;
        var sawDictionary = false;
        while (position < end)
        {
            page++;
            var remaining = end - position;
            var want = (int)Math.Min(remaining, Window);
            PageHeader header;
            while (true)
            {
                var bytes = await WindowAsync(position, want, remaining, cancellationToken);
                header = Parse(bytes, out var incomplete, out var problem);
                if (problem is not null)
                {
                    return (page, $"has a corrupt header ({problem})");
                }

                if (!incomplete)
                {
                    break;
                }

                if (want >= remaining)
                {
                    return (page, $"has a header that runs past the end of the column chunk ({remaining} bytes left); the chunk is truncated or corrupt");
                }

                if (want >= MaxHeaderBytes)
                {
                    return (page, $"has a header larger than the limit of {MaxHeaderBytes} bytes; the header is corrupt");
                }

                want = (int)Math.Min(Math.Min(remaining, MaxHeaderBytes), (long)want * 4);
            }

            if (Check(header, page, remaining, chunk) is { } wrong)
            {
                return wrong;
            }

            switch (header.Type)
            {
                case DictionaryPage:
                    if (sawDictionary || sawData)
                    {
                        return (page, $"is a dictionary page after {(sawDictionary ? "another dictionary page" : "data pages")}; a chunk has at most one, first");
                    }

                    sawDictionary = true;
                    break;
                case DataPage or DataPageV2:
                    sawData = true;
                    values += header.NumValues;
                    if (values > chunk.NumValues)
                    {
                        return (page, $"brings the values to {values}, more than the {chunk.NumValues} the column chunk declares");
                    }

                    break;
            }

            if (await CheckCompressedPreambleAsync(header, position, chunk.Codec, cancellationToken) is { } bomb)
            {
                return (page, bomb);
            }

            position += header.Length + header.Compressed;
        }

        if (values != chunk.NumValues)
        {
            return (0, $"its {page} pages hold {values} values but the column chunk declares {chunk.NumValues}; pages are missing or corrupt");
        }

        return null;
    }

    /// <summary>The sizes and counts of one header against the chunk and the limits.</summary>
    private (int Page, string Problem)? Check(PageHeader header, int page, long remaining, ParquetChunk chunk)
    {
        if (header.Type < 0 || !header.HasSizes)
        {
            return (page, "has a header without its type or sizes; the header is corrupt");
        }

        if (header.Type > DataPageV2)
        {
            return (page, $"has the unknown page type {header.Type}; the header is corrupt");
        }

        if (header.Compressed < 0 || header.Uncompressed < 0)
        {
            return (page, $"declares a negative size ({header.Compressed} bytes compressed, {header.Uncompressed} uncompressed); the header is corrupt");
        }

        if (header.Compressed > remaining - header.Length)
        {
            return (page, $"declares {header.Compressed} compressed bytes but only {remaining - header.Length} bytes of the column chunk follow its header; the page overruns the chunk");
        }

        var limit = maxPageBytes;
        if (header.Uncompressed > limit)
        {
            return (page, $"declares {header.Uncompressed} uncompressed bytes, more than the limit of {limit}");
        }

        if (header.Type == IndexPage)
        {
            return null;
        }

        if (header.NumValues < 0)
        {
            return header.Type switch
            {
                DataPage => (page, "is a data page without its data page header; the header is corrupt"),
                DataPageV2 => (page, "is a data page (v2) without its data page header; the header is corrupt"),
                _ => (page, "is a dictionary page without its dictionary page header; the header is corrupt"),
            };
        }

        var most = chunk.Flat ? chunk.Rows : chunk.NumValues;
        if (header.NumValues > most)
        {
            return (page, $"declares {header.NumValues} values, more than the {most} {(chunk.Flat ? "rows of the row group" : "values of the column chunk")}");
        }

        if (header.Type == DictionaryPage && header.NumValues > header.Uncompressed)
        {
            return (page, $"declares a dictionary of {header.NumValues} values in {header.Uncompressed} bytes; the header is corrupt");
        }

        if (header.Type == DataPageV2)
        {
            if (header.NumNulls < 0 || header.NumNulls > header.NumValues || header.NumRows < 0 || header.NumRows > chunk.Rows)
            {
                return (page, $"declares {header.NumNulls} nulls and {header.NumRows} rows for {header.NumValues} values; the header is corrupt");
            }

            var levels = (long)header.DefinitionLevels + header.RepetitionLevels;
            if (header.DefinitionLevels < 0 || header.RepetitionLevels < 0 || levels > header.Compressed || levels > header.Uncompressed)
            {
                return (page, $"declares {header.DefinitionLevels} + {header.RepetitionLevels} bytes of levels in a page of {header.Compressed} bytes; the header is corrupt");
            }
        }

        // A decompression bomb: far more bytes out than in. Fixed-width values (a constant column compresses very well)
        // may legitimately go beyond the ratio up to what their values and levels can fill.
        var plausible = chunk.ValueWidth > 0 ? (header.NumValues * (chunk.ValueWidth + 2L)) + 1024 : 0;
        if (header.Uncompressed > (long)maxCompressionRatio * Math.Max(1, header.Compressed) && header.Uncompressed > plausible)
        {
            return (page, $"declares {header.Uncompressed} uncompressed bytes from {header.Compressed} compressed, more than {maxCompressionRatio} times as many (a decompression bomb?)");
        }

        return null;
    }

    /// <summary>Snappy and zstd data carry their own decompressed length, which decoders allocate from (the page
    /// header's is ignored): that length must not exceed the page's.</summary>
    private async ValueTask<string?> CheckCompressedPreambleAsync(PageHeader header, long position, int codec, CancellationToken cancellationToken)
    {
        if (codec is not (Snappy or Zstd) || header.Type == IndexPage || (header.Type == DataPageV2 && !header.IsCompressed))
        {
            return null;
        }

        var levels = header.Type == DataPageV2 ? header.DefinitionLevels + header.RepetitionLevels : 0;
        var length = header.Compressed - levels;
        if (length <= 0)
        {
            return null;
        }

        var expected = header.Uncompressed - levels;
        var start = position + header.Length + levels;
        var bytes = await WindowAsync(start, Math.Min(length, 18), length, cancellationToken);
        if (codec == Snappy)
        {
            var declared = SnappyLength(bytes);
            return declared > expected
                ? $"holds Snappy data that declares {declared} bytes, more than the {expected} the page declares"
                : null;
        }

        var content = ZstdContentSize(bytes.Span);
        return content > expected
            ? $"holds a zstd frame that declares {content} bytes, more than the {expected} the page declares"
            : null;
    }

    /// <summary>The length a Snappy block starts with (a varint), or -1 when unreadable.</summary>
    private static long SnappyLength(ReadOnlyMemory<byte> bytes)
    {
        var reader = new CompactReader(bytes);
        var declared = reader.ReadVarint(5);
        return reader.Short || reader.Problem is not null ? -1 : (long)declared;
    }

    /// <summary>A page header from the start of <paramref name="bytes"/>; <paramref name="incomplete"/> when the
    /// bytes end inside it, <paramref name="problem"/> when it cannot be a header.</summary>
    private static PageHeader Parse(ReadOnlyMemory<byte> bytes, out bool incomplete, out string? problem)
    {
        var reader = new CompactReader(bytes);
        var header = ReadPageHeader(ref reader);
        incomplete = reader.Short;
        problem = reader.Problem;
        header.Length = reader.Position;
        return header;
    }

    /// <summary>The content size a zstd frame header declares (RFC 8878 §3.1.1.1), or -1 when absent or not a frame.</summary>
    private static long ZstdContentSize(ReadOnlySpan<byte> frame)
    {
        if (frame.Length < 5 || BinaryPrimitives.ReadUInt32LittleEndian(frame) != 0xFD2FB528)
        {
            return -1;
        }

        var descriptor = frame[4];
        var single = (descriptor & 0x20) != 0;
        var sizeBytes = (descriptor >> 6) switch { 0 => single ? 1 : 0, 1 => 2, 2 => 4, _ => 8 };
        var at = 5 + (single ? 0 : 1) + (descriptor & 3) switch { 0 => 0, 1 => 1, 2 => 2, _ => 4 };
        if (sizeBytes == 0 || frame.Length < at + sizeBytes)
        {
            return -1;
        }

        var field = frame.Slice(at, sizeBytes);
        return sizeBytes switch
        {
            1 => field[0],
            2 => BinaryPrimitives.ReadUInt16LittleEndian(field) + 256L,
            4 => BinaryPrimitives.ReadUInt32LittleEndian(field),
            _ => (long)Math.Min(BinaryPrimitives.ReadUInt64LittleEndian(field), long.MaxValue),
        };
    }

    /// <summary>At least <paramref name="count"/> bytes at <paramref name="position"/>, at most <paramref name="limit"/>
    /// (the end of the chunk or page), from the buffered window when it holds them.</summary>
    private async ValueTask<ReadOnlyMemory<byte>> WindowAsync(long position, int count, long limit, CancellationToken cancellationToken)
    {
        if (_bufferStart >= 0 && position >= _bufferStart && position + count <= _bufferStart + _bufferLength)
        {
            var offset = (int)(position - _bufferStart);
            return _buffer.AsMemory(offset, (int)Math.Min(_bufferLength - offset, limit));
        }

        // Read a whole window when the chunk has it: small pages' headers then come from one read.
        var size = (int)Math.Min(limit, Math.Max(count, Window));
        if (_buffer.Length < size)
        {
            _buffer = new byte[size];
        }

        stream.Position = position;
        _bufferLength = await stream.ReadAtLeastAsync(_buffer.AsMemory(0, size), count, throwOnEndOfStream: false, cancellationToken);
        _bufferStart = position;
        return _buffer.AsMemory(0, (int)Math.Min(_bufferLength, limit));
    }

    private static PageHeader ReadPageHeader(ref CompactReader reader)
    {
        var header = new PageHeader { Type = -1, NumValues = -1, IsCompressed = true };
        var sizes = 0;
        short last = 0;
        while (reader.NextField(ref last, out var id, out var type))
        {
            switch (id, type)
            {
                case (1, CompactReader.I32):
                    header.Type = reader.ReadI32();
                    break;
                case (2, CompactReader.I32):
                    header.Uncompressed = reader.ReadI32();
                    sizes |= 1;
                    break;
                case (3, CompactReader.I32):
                    header.Compressed = reader.ReadI32();
                    sizes |= 2;
                    break;
                case (5 or 7 or 8, CompactReader.Struct):
                    ReadNestedHeader(ref reader, id, ref header);
                    break;
                default:
                    reader.Skip(type, 0);
                    break;
            }
        }

        header.HasSizes = sizes == 3;
        return header;
    }

    /// <summary>DataPageHeader (5), DictionaryPageHeader (7), DataPageHeaderV2 (8): num_values is field 1 of each;
    /// v2 adds num_nulls (2), num_rows (3), level lengths (5, 6) and is_compressed (7).</summary>
    private static void ReadNestedHeader(ref CompactReader reader, short kind, ref PageHeader header)
    {
        short last = 0;
        while (reader.NextField(ref last, out var id, out var type))
        {
            switch (id, type)
            {
                case (1, CompactReader.I32):
                    header.NumValues = reader.ReadI32();
                    break;
                case (2, CompactReader.I32) when kind == 8:
                    header.NumNulls = reader.ReadI32();
                    break;
                case (3, CompactReader.I32) when kind == 8:
                    header.NumRows = reader.ReadI32();
                    break;
                case (5, CompactReader.I32) when kind == 8:
                    header.DefinitionLevels = reader.ReadI32();
                    break;
                case (6, CompactReader.I32) when kind == 8:
                    header.RepetitionLevels = reader.ReadI32();
                    break;
                case (7, CompactReader.True or CompactReader.False) when kind == 8:
                    header.IsCompressed = type == CompactReader.True;
                    break;
                default:
                    reader.Skip(type, 1);
                    break;
            }
        }

        // A nested header of the wrong kind for the page type counts as missing.
        if (header.Type >= 0 && kind != header.Type switch { DataPage => 5, DictionaryPage => 7, DataPageV2 => 8, _ => kind })
        {
            header.NumValues = -1;
        }
    }

    private struct PageHeader
    {
        public int Type;
        public int Uncompressed;
        public int Compressed;
        public bool HasSizes;
        public int NumValues;
        public int NumNulls;
        public int NumRows;
        public int DefinitionLevels;
        public int RepetitionLevels;
        public bool IsCompressed;
        public int Length;
    }

    /// <summary>A Thrift compact-protocol reader over a span: field headers, zigzag varints, and a generic skipper.
    /// Running out of bytes sets <see cref="Short"/> (the caller reads more and starts over); impossible input sets
    /// <see cref="Problem"/>. Both stop all further reading.</summary>
    private ref struct CompactReader(ReadOnlyMemory<byte> memory)
    {
        public const int True = 1, False = 2, Byte = 3, I16 = 4, I32 = 5, I64 = 6, Double = 7, Binary = 8, List = 9, Set = 10, Map = 11, Struct = 12;
        private const int MaxDepth = 32;

        private readonly ReadOnlySpan<byte> _bytes = memory.Span;

        public int Position { get; private set; }
        public bool Short { get; private set; }
        public string? Problem { get; private set; }

        private readonly bool Stopped => Short || Problem is not null;

        /// <summary>The next field header of a struct; false at its stop byte or when reading stopped.</summary>
        public bool NextField(ref short last, out short id, out int type)
        {
            id = 0;
            type = 0;
            var head = ReadByte();
            if (Stopped || head == 0)
            {
                return false;
            }

            type = head & 0x0F;
            var delta = head >> 4;
            if (delta != 0)
            {
                id = (short)(last + delta);
            }
            else
            {
                var raw = ReadVarint(3);
                var value = (long)(raw >> 1) ^ -(long)(raw & 1);
                if (value is < short.MinValue or > short.MaxValue)
                {
                    Fail($"field id {value}");
                    return false;
                }

                id = (short)value;
            }

            if (type is 0 or > Struct)
            {
                Fail($"field {id} has the unknown type {type}");
                return false;
            }

            last = id;
            return !Stopped;
        }

        public int ReadI32()
        {
            var raw = ReadVarint(5);
            if (raw > uint.MaxValue)
            {
                Fail("an integer wider than 32 bits");
                return 0;
            }

            return (int)((uint)raw >> 1) ^ -(int)((uint)raw & 1);
        }

        public ulong ReadVarint(int maxBytes)
        {
            ulong value = 0;
            for (var i = 0; i < maxBytes; i++)
            {
                var b = ReadByte();
                if (Stopped)
                {
                    return 0;
                }

                value |= (ulong)(b & 0x7F) << (7 * i);
                if ((b & 0x80) == 0)
                {
                    return value;
                }
            }

            Fail($"a varint longer than {maxBytes} bytes");
            return 0;
        }

        /// <summary>Skips a value of compact type <paramref name="type"/> (booleans as struct fields carry no byte).</summary>
        public void Skip(int type, int depth, bool inContainer = false)
        {
            if (depth > MaxDepth)
            {
                Fail($"nesting deeper than {MaxDepth}");
                return;
            }

            switch (type)
            {
                case True or False:
                    if (inContainer)
                    {
                        Advance(1);
                    }

                    return;
                case Byte:
                    Advance(1);
                    return;
                case I16 or I32 or I64:
                    ReadVarint(10);
                    return;
                case Double:
                    Advance(8);
                    return;
                case Binary:
                    var length = ReadVarint(5);
                    if (!Stopped)
                    {
                        if (length > MaxHeaderBytes)
                        {
                            Fail($"a field of {length} bytes");
                            return;
                        }

                        Advance((int)length);
                    }

                    return;
                case List or Set:
                    {
                        var head = ReadByte();
                        long count = head >> 4;
                        if (count == 15)
                        {
                            count = (long)Math.Min(ReadVarint(5), int.MaxValue);
                        }

                        SkipElements(count, head & 0x0F, -1, depth);
                        return;
                    }

                case Map:
                    {
                        var count = (long)Math.Min(ReadVarint(5), int.MaxValue);
                        if (count > 0 && !Stopped)
                        {
                            var types = ReadByte();
                            SkipElements(count, types >> 4, types & 0x0F, depth);
                        }

                        return;
                    }

                case Struct:
                    short last = 0;
                    while (NextField(ref last, out _, out var field))
                    {
                        Skip(field, depth + 1);
                    }

                    return;
                default:
                    Fail($"the unknown type {type}");
                    return;
            }
        }

        private void SkipElements(long count, int type, int valueType, int depth)
        {
            // Every element takes at least one byte, so a count beyond what is left is a lie (or needs more bytes).
            if (Stopped || count > MaxHeaderBytes)
            {
                if (!Stopped)
                {
                    Fail($"a collection of {count} elements");
                }

                return;
            }

            for (long i = 0; i < count && !Stopped; i++)
            {
                Skip(type, depth + 1, inContainer: true);
                if (valueType >= 0)
                {
                    Skip(valueType, depth + 1, inContainer: true);
                }
            }
        }

        private byte ReadByte()
        {
            if (Stopped)
            {
                return 0;
            }

            if (Position >= _bytes.Length)
            {
                Short = true;
                return 0;
            }

            return _bytes[Position++];
        }

        private void Advance(int count)
        {
            if (Stopped)
            {
                return;
            }

            if (count > _bytes.Length - Position)
            {
                Short = true;
                return;
            }

            Position += count;
        }

        private void Fail(string problem)
        {
            if (!Stopped)
            {
                Problem = problem;
            }
        }
    }
}
