using System.Buffers.Binary;
using System.Security.Cryptography;
using MLOps.Core.Workflows;
using Parquet;
using Parquet.Schema;

namespace MLOps.Core.Data;

// Parquet input for the same rule engine the CSV reader feeds: the file is checked around its footer before any
// library reads it, then read one row group at a time into reused buffers, and every cell goes through the same
// per-cell checks (nulls, types, ranges, categories, uniqueness) with the same report.
public static partial class DatasetValidator
{
    /// <summary>Validates a dataset of either format: Parquet when the name ends in <c>.parquet</c>/<c>.pq</c> or the
    /// bytes start with <c>PAR1</c>, CSV otherwise. The stream is read to its end and left open.</summary>
    public static async Task<DatasetValidationReport> ValidateDatasetAsync(
        Stream content, string fileName, DataContract contract, ValidationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        ArgumentNullException.ThrowIfNull(fileName);
        var head = new byte[4];
        var start = content.CanSeek ? content.Position : -1;
        var read = await content.ReadAtLeastAsync(head, head.Length, throwOnEndOfStream: false, cancellationToken);
        var format = DatasetFormats.Detect(fileName, head.AsSpan(0, read));
        if (start >= 0)
        {
            // A seekable stream (a local file) is read in place; a forward-only one replays the bytes peeked at.
            content.Position = start;
            return format == DatasetFormat.Parquet
                ? await ValidateParquetAsync(content, fileName, contract, options, cancellationToken)
                : await ValidateAsync(content, fileName, contract, options, cancellationToken);
        }

        await using var replay = new PrefixedStream(head.AsMemory(0, read), content);
        return format == DatasetFormat.Parquet
            ? await ValidateParquetAsync(replay, fileName, contract, options, cancellationToken)
            : await ValidateAsync(replay, fileName, contract, options, cancellationToken);
    }

    /// <summary>Validates a Parquet file against <paramref name="contract"/>, one row group at a time. A forward-only
    /// stream is first copied to a temporary file (the footer is at the end). Poison files (truncated, wrong magic,
    /// corrupt or lying footer, another format) give a <c>malformed</c> issue naming the file; nothing is thrown.
    /// The stream is read to its end and left open.</summary>
    public static async Task<DatasetValidationReport> ValidateParquetAsync(
        Stream parquet, string fileName, DataContract contract, ValidationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(parquet);
        ArgumentNullException.ThrowIfNull(contract);
        options ??= new ValidationOptions();
        FileStream? spool = null;
        try
        {
            Stream source;
            long bytes;
            string sha256;
            if (parquet.CanSeek && parquet.Position == 0)
            {
                (sha256, bytes) = await HashAsync(parquet, Stream.Null, cancellationToken);
                source = parquet;
            }
            else
            {
                // The magic comes first: an upload that is not Parquet is only hashed, never copied to disk (a 10 GB
                // stream of anything named .parquet costs no disk and no memory).
                var head = new byte[4];
                var read = await parquet.ReadAtLeastAsync(head, head.Length, throwOnEndOfStream: false, cancellationToken);
                await using var replay = new PrefixedStream(head.AsMemory(0, read), parquet);
                if (read < head.Length || !head.AsSpan().SequenceEqual(DatasetFormats.ParquetMagic))
                {
                    (sha256, bytes) = await HashAsync(replay, Stream.Null, cancellationToken);
                    var foreign = new ValidationRun(fileName, contract, options, bytes);
                    if (bytes > 0)
                    {
                        foreign.RefuseForeign(head.AsSpan(0, read), bytes);
                    }

                    return foreign.Finish(sha256, bytes) with { Format = DatasetFormat.Parquet };
                }

                spool = new FileStream(Path.Combine(Path.GetTempPath(), $"mlops-parquet-{Guid.NewGuid():N}.tmp"), FileMode.CreateNew, FileAccess.ReadWrite,
                    FileShare.None, 1 << 16, FileOptions.DeleteOnClose | FileOptions.Asynchronous);
                (sha256, bytes) = await HashAsync(replay, spool, cancellationToken);
                source = spool;
            }

            var run = new ValidationRun(fileName, contract, options, bytes);
            await run.ReadParquetAsync(source, bytes, cancellationToken);
            if (parquet.CanSeek)
            {
                parquet.Seek(0, SeekOrigin.End);
            }

            return run.Finish(sha256, bytes) with { Format = DatasetFormat.Parquet };
        }
        finally
        {
            if (spool is not null)
            {
                await spool.DisposeAsync();
            }
        }
    }

    /// <summary>Copies <paramref name="source"/> to <paramref name="target"/> while hashing; rewinds the stream read from.</summary>
    private static async Task<(string Sha256, long Bytes)> HashAsync(Stream source, Stream target, CancellationToken cancellationToken)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[1 << 16];
        long total = 0;
        int read;
        while ((read = await source.ReadAsync(buffer, cancellationToken)) > 0)
        {
            hash.AppendData(buffer, 0, read);
            await target.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            total += read;
        }

        if (target != Stream.Null)
        {
            await target.FlushAsync(cancellationToken);
            target.Position = 0;
        }
        else if (source.CanSeek)
        {
            source.Position = 0;
        }

        return (Convert.ToHexStringLower(hash.GetCurrentHash()), total);
    }

    private sealed partial class ValidationRun
    {
        /// <summary>Reads a seekable Parquet stream of <paramref name="length"/> bytes into the checks.</summary>
        public async Task ReadParquetAsync(Stream stream, long length, CancellationToken cancellationToken)
        {
            var footer = await CheckEnvelopeAsync(stream, length, cancellationToken);
            if (footer < 0)
            {
                return;
            }

            ParquetReader reader;
            ParquetSchema schema;
            try
            {
                stream.Position = 0;
                reader = await ParquetReader.CreateAsync(stream, ParquetColumnBuffer.ReaderOptions, leaveStreamOpen: true, cancellationToken);
                try
                {
                    schema = reader.Schema;
                }
                catch
                {
                    await reader.DisposeAsync();
                    throw;
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Malformed(0, $"the Parquet footer (file metadata, {footer} bytes) could not be read ({Short(ex)}); the file is corrupt");
                return;
            }

            await using (reader)
            {
                var columns = MapParquetSchema(schema);
                if (!CheckRowGroups(reader, columns, length - 8 - footer))
                {
                    return;
                }

                // The footer knows the row count: size the unique sets once (as the CSV path estimates it), to at most
                // 1M entries since a footer may lie; real data beyond that grows the sets as it comes.
                var totalRows = reader.Metadata!.RowGroups.Sum(g => g.NumRows);
                foreach (var (_, column) in columns)
                {
                    column.Seen?.EnsureCapacity((int)Math.Min(totalRows + (totalRows / 8), 1 << 20), 12);
                }
                _duplicates?.EnsureCapacity(Math.Min(totalRows + (totalRows / 8), 1 << 20));
                var duplicates = _duplicates;
                var scanner = _options.SkipParquetPageScan ? null
                    : new ParquetPageScanner(stream, Math.Min(_options.MaxParquetPageBytes, _options.MaxParquetColumnChunkBytes), _options.MaxParquetPageCompressionRatio);

                for (var group = 0; group < reader.RowGroupCount; group++)
                {
                    var rowGroup = reader.OpenRowGroupReader(group);
                    var rows = (int)rowGroup.RowCount;
                    try
                    {
                        foreach (var (buffer, _) in columns)
                        {
                            // Each chunk's pages are checked just before the library reads them (their header bytes
                            // are then still in the stream's buffer).
                            if (scanner is not null && !await CheckPagesAsync(scanner, reader.Metadata.RowGroups[group], group, rows, buffer, cancellationToken))
                            {
                                return;
                            }

                            await buffer.ReadAsync(rowGroup, rows, cancellationToken);
                        }
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        Malformed(Rows + 1, $"row group {group + 1} (rows {Rows + 1}–{Rows + rows}) could not be read ({Short(ex)}); reading stopped");
                        return;
                    }

                    for (var i = 0; i < rows; i++)
                    {
                        var row = ++Rows;
                        var hash = DuplicateRowTracker.Start;
                        foreach (var (buffer, column) in columns)
                        {
                            CheckParquetCell(buffer, column, i, row);
                            if (duplicates is not null && column.ComparedForDuplicates)
                            {
                                hash = DuplicateRowTracker.Mix(hash, column.Key);
                            }
                        }
                        duplicates?.EndRow(hash, row);
                    }
                }

                foreach (var column in _mismatched)
                {
                    column.TypeErrors = Rows;
                }
            }
        }

        private readonly List<ColumnState> _mismatched = [];

        /// <summary>Checks what can be checked without a Parquet library: size, magic at both ends, footer length.
        /// Returns the footer length, or -1 after reporting the file as malformed.</summary>
        private async Task<int> CheckEnvelopeAsync(Stream stream, long length, CancellationToken cancellationToken)
        {
            if (length == 0)
            {
                return -1; // Finish reports the empty file.
            }

            var head = new byte[Math.Min(4, (int)Math.Min(length, 4))];
            stream.Position = 0;
            await stream.ReadExactlyAsync(head, cancellationToken);
            if (RefuseForeign(head, length))
            {
                return -1;
            }

            if (length < 12)
            {
                _sawHeader = true;
                Malformed(0, $"the file is {length} bytes, too short to be Parquet (magic, footer, footer length, magic); it is truncated");
                return -1;
            }

            var tail = new byte[8];
            stream.Position = length - 8;
            await stream.ReadExactlyAsync(tail, cancellationToken);
            _sawHeader = true;
            if (!tail.AsSpan(4).SequenceEqual(DatasetFormats.ParquetMagic))
            {
                Malformed(0, "it does not end with the Parquet magic 'PAR1': the file is truncated (an interrupted upload?) or not Parquet");
                return -1;
            }

            var footer = BinaryPrimitives.ReadInt32LittleEndian(tail);
            if (footer <= 0 || footer > length - 12)
            {
                Malformed(0, $"the footer claims {footer} bytes but the file has only {length} bytes; the footer is corrupt");
                return -1;
            }

            if (footer > _options.MaxParquetFooterBytes)
            {
                Malformed(0, $"the footer claims {footer} bytes, more than the limit of {_options.MaxParquetFooterBytes}; not read");
                return -1;
            }

            return footer;
        }

        /// <summary>Reports the file as malformed, saying what it is when the first bytes tell, unless they are the
        /// Parquet magic. True when refused.</summary>
        public bool RefuseForeign(ReadOnlySpan<byte> head, long length)
        {
            if (head.StartsWith(DatasetFormats.ParquetMagic))
            {
                return false;
            }

            _sawHeader = true;
            var what = head.StartsWith("PK"u8) ? "it is a ZIP archive (starts with 'PK'), not Parquet"
                : head.StartsWith((ReadOnlySpan<byte>)[0x1f, 0x8b]) ? "it is gzip-compressed, not Parquet"
                : length < 4 ? $"the file is {length} bytes, too short to be Parquet; it is truncated or not Parquet"
                : "it does not start with the Parquet magic 'PAR1'; not a Parquet file";
            Malformed(0, what);
            return true;
        }

        /// <summary>Takes the top-level Parquet fields as the header and pairs each contract column present with a
        /// buffer; a field of a type the contract column cannot hold is one schema issue naming file and column.</summary>
        private List<(ParquetColumnBuffer Buffer, ColumnState Column)> MapParquetSchema(ParquetSchema schema)
        {
            _sawHeader = true;
            var fields = schema.Fields;
            MapHeader(fields.Select(f => f.Name).ToList());
            var columns = new List<(ParquetColumnBuffer, ColumnState)>();
            for (var i = 0; i < fields.Count; i++)
            {
                if (_byPosition[i] is not { } column)
                {
                    continue;
                }

                var buffer = ParquetColumnBuffer.Create(fields[i], out var problem);
                if (buffer is not null && Compatible(column.Spec.Type, buffer.Kind))
                {
                    columns.Add((buffer, column));
                    continue;
                }

                _mismatched.Add(column);
                column.ComparedForDuplicates = false;
                Issue(0, column.Spec.Name, "type", ParquetColumnBuffer.Describe(fields[i]),
                    $"{_file}, column '{column.Spec.Name}': {problem ?? $"Parquet type {ParquetColumnBuffer.Describe(fields[i])}"} cannot hold the contract type {column.Spec.Type.ToString().ToLowerInvariant()}; the column was not checked");
            }

            if (!_columns.Any(c => c.ComparedForDuplicates))
            {
                _duplicates = null;
            }

            return columns;
        }

        /// <summary>Which Parquet values a contract type accepts. Numbers stored as text are a schema error (Parquet
        /// is typed); integers accept whole doubles (pandas stores nullable integers as float64), checked per value.</summary>
        private static bool Compatible(ColumnType type, ParquetValueKind kind) => type switch
        {
            ColumnType.Number => kind is ParquetValueKind.Floating or ParquetValueKind.Integral,
            ColumnType.Integer => kind is ParquetValueKind.Floating or ParquetValueKind.Integral,
            ColumnType.Boolean => kind is ParquetValueKind.Boolean or ParquetValueKind.Integral,
            ColumnType.Category => kind is ParquetValueKind.String or ParquetValueKind.Integral or ParquetValueKind.Boolean,
            ColumnType.Timestamp => kind is ParquetValueKind.Timestamp or ParquetValueKind.String,
            _ => true,
        };

        /// <summary>Row-group metadata sanity: counts and sizes a lying footer could claim are refused before any
        /// buffer is sized from them.</summary>
        private bool CheckRowGroups(ParquetReader reader, List<(ParquetColumnBuffer Buffer, ColumnState Column)> columns, long dataEnd)
        {
            long bytesPerRow = Math.Max(1, columns.Sum(c => (long)c.Buffer.BytesPerRow));
            long first = 1;
            for (var group = 0; group < reader.RowGroupCount; group++)
            {
                var meta = reader.Metadata!.RowGroups[group];
                var rows = meta.NumRows;
                if (rows < 0 || rows > int.MaxValue || rows * bytesPerRow > _options.MaxParquetRowGroupBytes)
                {
                    Malformed(first, $"row group {group + 1} claims {rows} rows; at {bytesPerRow} bytes per row that is beyond the limit of {_options.MaxParquetRowGroupBytes} bytes (corrupt footer, or write smaller row groups)");
                    return false;
                }

                foreach (var chunk in meta.Columns)
                {
                    var name = chunk.MetaData?.PathInSchema is { Count: > 0 } path ? string.Join('.', path) : "?";
                    if (chunk.MetaData is not { } data)
                    {
                        Malformed(first, $"row group {group + 1}, column '{name}' has no metadata; the footer is corrupt");
                        return false;
                    }

                    var start = ChunkStart(data);
                    if (start < 4 || data.TotalCompressedSize < 0 || start + data.TotalCompressedSize > dataEnd || data.TotalUncompressedSize < 0)
                    {
                        Malformed(first, $"row group {group + 1}, column '{name}' claims {data.TotalCompressedSize} bytes at offset {start}, outside the data ({dataEnd} bytes); the footer is corrupt");
                        return false;
                    }

                    if (data.TotalUncompressedSize > _options.MaxParquetColumnChunkBytes)
                    {
                        Malformed(first, $"row group {group + 1}, column '{name}' claims {data.TotalUncompressedSize} bytes uncompressed, more than the limit of {_options.MaxParquetColumnChunkBytes}; not read");
                        return false;
                    }
                }

                first += rows;
            }

            return true;
        }

        /// <summary>Walks the page headers of the column chunk the reader is about to decode (see
        /// <see cref="ParquetPageScanner"/>): a page declaring sizes or counts it cannot have is one malformed issue
        /// naming the file, row group, column and page, reported before any buffer is sized from it.</summary>
        private async Task<bool> CheckPagesAsync(ParquetPageScanner scanner, Parquet.Meta.RowGroup meta, int group, int rows,
            ParquetColumnBuffer buffer, CancellationToken cancellationToken)
        {
            var name = buffer.Field.Name;
            var data = meta.Columns.Find(c => c.MetaData?.PathInSchema is [var only] && only == name)?.MetaData;
            if (data is null)
            {
                Malformed(Rows + 1, $"row group {group + 1} (rows {Rows + 1}–{Rows + rows}) has no column chunk for column '{name}'; the footer is corrupt");
                return false;
            }

            var width = data.Type switch
            {
                Parquet.Meta.Type.BOOLEAN => 1,
                Parquet.Meta.Type.INT32 or Parquet.Meta.Type.FLOAT => 4,
                Parquet.Meta.Type.INT64 or Parquet.Meta.Type.DOUBLE => 8,
                Parquet.Meta.Type.INT96 => 12,
                _ => 0,
            };
            var chunk = new ParquetChunk(ChunkStart(data), data.TotalCompressedSize, (int)data.Codec, rows, data.NumValues, width, buffer.Field.MaxRepetitionLevel == 0);
            if (await scanner.ScanAsync(chunk, cancellationToken) is not { } problem)
            {
                return true;
            }

            var where = $"row group {group + 1} (rows {Rows + 1}–{Rows + rows})";
            Malformed(Rows + 1, problem.Page > 0
                ? $"page {problem.Page} of column '{name}' in {where} {problem.Problem}; reading stopped"
                : $"column '{name}' in {where}: {problem.Problem}; reading stopped");
            return false;
        }

        /// <summary>Where the reader starts a column chunk: the smallest non-zero of its dictionary, data and index
        /// page offsets.</summary>
        private static long ChunkStart(Parquet.Meta.ColumnMetaData data)
        {
            var start = data.DataPageOffset;
            foreach (var offset in (ReadOnlySpan<long>)[data.DictionaryPageOffset ?? 0, data.IndexPageOffset ?? 0])
            {
                if (offset != 0 && (start == 0 || offset < start))
                {
                    start = offset;
                }
            }

            return start;
        }

        /// <summary>One cell, typed: the same rules as a CSV cell with the same text for issues.</summary>
        private void CheckParquetCell(ParquetColumnBuffer buffer, ColumnState column, int index, long row)
        {
            if (buffer.IsNull(index))
            {
                CheckCell(column, default, row);
                return;
            }

            var type = column.Spec.Type;
            switch (buffer.Kind)
            {
                case ParquetValueKind.Floating or ParquetValueKind.Integral when type is ColumnType.Number or ColumnType.Integer:
                    var value = buffer.GetDouble(index);
                    if (!double.IsFinite(value))
                    {
                        TypeError(column, row, Text(buffer, index, stackalloc char[64]), "is not a finite number");
                        return;
                    }

                    if (type == ColumnType.Integer && buffer.Kind == ParquetValueKind.Floating && value != Math.Floor(value))
                    {
                        TypeError(column, row, Text(buffer, index, stackalloc char[64]), "is not an integer");
                        return;
                    }

                    // Text only when an issue or the unique set needs it.
                    var needsText = column.Seen is not null || value < (column.Spec.Min ?? double.NegativeInfinity) || value > (column.Spec.Max ?? double.PositiveInfinity);
                    Numeric(column, row, needsText ? Text(buffer, index, stackalloc char[64]) : default, value);
                    return;

                case ParquetValueKind.Boolean when type == ColumnType.Boolean:
                    if (buffer.GetBoolean(index))
                    {
                        column.Key = 1;
                        column.SawTrue = true;
                    }
                    else
                    {
                        column.Key = 0;
                        column.SawFalse = true;
                    }

                    return;

                case ParquetValueKind.Integral when type == ColumnType.Boolean:
                    switch (buffer.GetDouble(index))
                    {
                        case 1:
                            column.Key = 1;
                            column.SawTrue = true;
                            return;
                        case 0:
                            column.Key = 0;
                            column.SawFalse = true;
                            return;
                        default:
                            TypeError(column, row, Text(buffer, index, stackalloc char[64]), "is not a boolean (true/false, 1/0)");
                            return;
                    }

                case ParquetValueKind.Timestamp when type == ColumnType.Timestamp:
                    column.Key = (ulong)buffer.GetTimestamp(index).Ticks;
                    if (column.Seen is not null)
                    {
                        CheckUnique(column, row, Text(buffer, index, stackalloc char[64]));
                    }

                    return;

                case ParquetValueKind.String:
                    CheckCell(column, buffer.GetString(index).AsSpan().Trim(), row);
                    return;

                default:
                    CheckCell(column, Text(buffer, index, stackalloc char[64]), row);
                    return;
            }
        }

        private static ReadOnlySpan<char> Text(ParquetColumnBuffer buffer, int index, Span<char> scratch) =>
            buffer.TryFormat(index, scratch, out var written) ? scratch[..written] : "…";

        private static string Short(Exception ex) => ex is OutOfMemoryException
            ? "it declares sizes too large to read"
            : $"{ex.GetType().Name}: {(ex.Message.Length <= 200 ? ex.Message : string.Concat(ex.Message.AsSpan(0, 200), "…"))}";
    }

    /// <summary>Replays a few bytes already read, then the rest of the inner stream (left open).</summary>
    private sealed class PrefixedStream(ReadOnlyMemory<byte> prefix, Stream inner) : Stream
    {
        private ReadOnlyMemory<byte> _prefix = prefix;
        private long _position;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _position; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (!_prefix.IsEmpty)
            {
                var n = Math.Min(buffer.Length, _prefix.Length);
                _prefix.Span[..n].CopyTo(buffer);
                _prefix = _prefix[n..];
                _position += n;
                return n;
            }

            var read = inner.Read(buffer);
            _position += read;
            return read;
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (!_prefix.IsEmpty)
            {
                return Read(buffer.Span);
            }

            var read = await inner.ReadAsync(buffer, cancellationToken);
            _position += read;
            return read;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    }
}
