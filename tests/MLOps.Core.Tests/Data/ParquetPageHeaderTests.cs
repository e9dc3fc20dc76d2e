using MLOps.Core.Data;
using MLOps.Core.Workflows;
using Parquet;
using Parquet.Schema;

namespace MLOps.Core.Tests.Data;

/// <summary>Page headers inside a column chunk the footer accepts: a page that declares sizes or counts it cannot have
/// is refused before Parquet.Net allocates or decompresses anything from them. The headers are rewritten here with a
/// small Thrift compact-protocol writer over a real file written by Parquet.Net.</summary>
[Collection(AllocationSensitive.Name)]
public sealed class ParquetPageHeaderTests
{
    private const int GroupRows = 500;
    private const int DataPage = 0, DictionaryPage = 2;

    private static readonly DataContract Contract = new()
    {
        Columns =
        [
            new ColumnSpec { Name = "id", Type = ColumnType.String, Unique = true, Feature = false },
            new ColumnSpec { Name = "income", Type = ColumnType.Number, Min = 0, Nullable = true },
            new ColumnSpec { Name = "region", Type = ColumnType.Category, Values = ["EU", "US"] },
        ],
    };

    /// <summary>Two row groups of 500 rows, Snappy (the Parquet.Net and pandas default) unless told.</summary>
    private static async Task<byte[]> WriteAsync(CompressionMethod codec = CompressionMethod.Snappy)
    {
        var id = new DataField<string>("id", true);
        var income = new DataField<double?>("income");
        var region = new DataField<string>("region", true);
        using var output = new MemoryStream();
        await using (var writer = await ParquetWriter.CreateAsync(new ParquetSchema(id, income, region), output, new ParquetOptions { CompressionMethod = codec }))
        {
            for (var g = 0; g < 2; g++)
            {
                var rows = Enumerable.Range((g * GroupRows) + 1, GroupRows).ToArray();
                using var group = writer.CreateRowGroup();
                await group.WriteAsync(id, rows.Select(i => $"A{i}").ToArray(), null);
                await group.WriteAsync<double>(income, rows.Select(i => (double?)(1000.5 * (i % 7))).ToArray());
                await group.WriteAsync(region, rows.Select(i => i % 2 == 0 ? "EU" : "US").ToArray(), null);
            }
        }

        return output.ToArray();
    }

    /// <summary>Where the reader starts the chunk of <paramref name="column"/> in row group <paramref name="group"/>, and its length.</summary>
    private static async Task<(long Start, int Length)> ChunkAsync(byte[] bytes, string column, int group)
    {
        await using var reader = await ParquetReader.CreateAsync(new MemoryStream(bytes));
        var data = reader.Metadata!.RowGroups[group].Columns.Single(c => c.MetaData!.PathInSchema[0] == column).MetaData!;
        var start = new[] { data.DictionaryPageOffset ?? 0, data.DataPageOffset, data.IndexPageOffset ?? 0 }.Where(o => o != 0).Min();
        return (start, (int)data.TotalCompressedSize);
    }

    /// <summary>A PageHeader in the Thrift compact protocol (type, sizes, the nested data or dictionary page header with
    /// its value count), padded to exactly <paramref name="size"/> bytes with an unknown binary field (id 15) that
    /// readers skip.</summary>
    private static byte[] Header(int type, int uncompressed, int compressed, int values, int size)
    {
        var bytes = new List<byte>();
        void Varint(ulong v)
        {
            while (v >= 0x80)
            {
                bytes.Add((byte)(v | 0x80));
                v >>= 7;
            }

            bytes.Add((byte)v);
        }

        void I32(int delta, int value)
        {
            bytes.Add((byte)((delta << 4) | 5));
            Varint((uint)((value << 1) ^ (value >> 31)));
        }

        I32(1, type);
        I32(1, uncompressed);
        I32(1, compressed);
        var nested = type == DictionaryPage ? 7 : 5;
        bytes.Add((byte)(((nested - 3) << 4) | 12));
        I32(1, values);
        I32(1, 0); // encoding PLAIN
        bytes.Add(0);
        var filler = size - bytes.Count - 3; // field header, one-byte length, stop
        Assert.InRange(filler, 0, 127);
        bytes.Add((byte)(((15 - nested) << 4) | 8));
        Varint((ulong)filler);
        bytes.AddRange(new byte[filler]);
        bytes.Add(0);
        Assert.Equal(size, bytes.Count);
        return [.. bytes];
    }

    private const int HeaderSize = 40;

    /// <summary>Lays pages over the chunk from its start: each a 40-byte header then its declared compressed bytes (left
    /// as they were but for a Snappy length matching the header's); a null compressed size means "the rest of the chunk".</summary>
    private static void Lay(byte[] file, long start, int length, params (int Type, int Uncompressed, int? Compressed, int Values)[] pages)
    {
        var at = (int)start;
        foreach (var (type, uncompressed, compressed, values) in pages)
        {
            var size = compressed ?? (length - (at - (int)start) - HeaderSize);
            Header(type, uncompressed, size, values, HeaderSize).CopyTo(file, at);
            if (size >= 5 && uncompressed >= 0)
            {
                for (var (v, i) = ((uint)uncompressed, at + HeaderSize); ; v >>= 7, i++)
                {
                    file[i] = (byte)(v >= 0x80 ? v | 0x80 : v);
                    if (v < 0x80)
                    {
                        break;
                    }
                }
            }

            at += HeaderSize + Math.Max(0, size);
        }
    }

    private static async Task<(DatasetValidationReport Report, string Message, long Allocated)> ValidateAsync(byte[] bytes)
    {
        await DatasetValidator.ValidateParquetAsync(new MemoryStream(bytes), "poison.parquet", Contract); // warm-up
        GC.Collect();
        var before = GC.GetTotalAllocatedBytes(precise: true);
        var report = await DatasetValidator.ValidateParquetAsync(new MemoryStream(bytes), "poison.parquet", Contract);
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        Assert.False(report.IsValid);
        var issue = Assert.Single(report.Issues, i => i.Rule == "malformed");
        return (report, issue.Message, allocated);
    }

    [Fact]
    public async Task The_written_file_is_valid_and_its_pages_pass()
    {
        var report = await DatasetValidator.ValidateParquetAsync(new MemoryStream(await WriteAsync()), "t.parquet", Contract);

        Assert.True(report.IsValid, report.Summary);
        Assert.Equal(2 * GroupRows, report.Rows);
    }

    [Theory]
    [InlineData("huge uncompressed", "income", 0, "poison.parquet: page 3 of column 'income' in row group 1 (rows 1–500) declares 2147483000 uncompressed bytes, more than the limit of 268435456; reading stopped")]
    [InlineData("huge compressed", "income", 0, "poison.parquet: page 1 of column 'income' in row group 1 (rows 1–500) declares 2000000000 compressed bytes but only ")]
    [InlineData("negative", "id", 0, "poison.parquet: page 1 of column 'id' in row group 1 (rows 1–500) declares a negative size (")]
    [InlineData("overrun", "region", 1, "poison.parquet: page 2 of column 'region' in row group 2 (rows 501–1000) declares ")]
    [InlineData("truncated header", "income", 0, "poison.parquet: page 2 of column 'income' in row group 1 (rows 1–500) has a header that runs past the end of the column chunk (3 bytes left)")]
    [InlineData("bomb", "region", 0, "poison.parquet: page 1 of column 'region' in row group 1 (rows 1–500) declares 200000000 uncompressed bytes from ")]
    [InlineData("values", "income", 0, "poison.parquet: page 1 of column 'income' in row group 1 (rows 1–500) declares 1000000000 values, more than the 500 rows of the row group")]
    [InlineData("dictionary", "id", 0, "poison.parquet: page 1 of column 'id' in row group 1 (rows 1–500) declares 1073741824 values, more than the 500 rows of the row group")]
    [InlineData("snappy", "income", 0, "poison.parquet: page 1 of column 'income' in row group 1 (rows 1–500) holds Snappy data that declares 2147483647 bytes, more than the 100 the page declares")]
    [InlineData("zstd", "income", 0, "poison.parquet: page 1 of column 'income' in row group 1 (rows 1–500) holds a zstd frame that declares 2147483648 bytes, more than the 100 the page declares")]
    [InlineData("missing values", "income", 1, "poison.parquet: column 'income' in row group 2 (rows 501–1000): its 1 pages hold 10 values but the column chunk declares 500")]
    [InlineData("garbage", "region", 0, "poison.parquet: page 1 of column 'region' in row group 1 (rows 1–500) has a corrupt header (")]
    public async Task Page_header_declaring_what_it_cannot_have_is_refused_before_allocating(string poison, string column, int group, string expected)
    {
        // Uncompressed and gzip pages are decompressed into a buffer of the size the header declares; Snappy data
        // declares its own (checked too).
        var codec = poison switch { "huge uncompressed" => CompressionMethod.None, "bomb" => CompressionMethod.Gzip, "zstd" => CompressionMethod.Zstd, _ => CompressionMethod.Snappy };
        var bytes = await WriteAsync(codec);
        var (start, length) = await ChunkAsync(bytes, column, group);
        var at = (int)start;
        switch (poison)
        {
            case "huge uncompressed":
                Lay(bytes, start, length, (DataPage, 16, 16, 100), (DataPage, 16, 16, 100), (DataPage, 2147483000, null, 300));
                break;
            case "huge compressed":
                Lay(bytes, start, length, (DataPage, 100, 2_000_000_000, GroupRows));
                break;
            case "negative":
                Lay(bytes, start, length, (DataPage, -1, null, GroupRows));
                break;
            case "overrun":
                Lay(bytes, start, length, (DataPage, 16, 16, 100), (DataPage, 100, length - (2 * HeaderSize) - 16 + 1, 400));
                break;
            case "truncated header":
                Lay(bytes, start, length, (DataPage, 100, length - HeaderSize - 3, GroupRows));
                bytes[at + length - 3] = 0x15; // field 1 (i32) …
                bytes[at + length - 2] = 0x00; // … = 0 (data page)
                bytes[at + length - 1] = 0x15; // field 2 (i32), its value cut off
                break;
            case "bomb":
                Lay(bytes, start, length, (DataPage, 200_000_000, null, GroupRows));
                break;
            case "values":
                Lay(bytes, start, length, (DataPage, 100, null, 1_000_000_000));
                break;
            case "dictionary":
                Lay(bytes, start, length, (DictionaryPage, 100, null, 1 << 30));
                break;
            case "snappy":
                Lay(bytes, start, length, (DataPage, 100, null, GroupRows));
                ((byte[])[0xFF, 0xFF, 0xFF, 0xFF, 0x07]).CopyTo(bytes, at + HeaderSize); // Snappy length varint: 2^31 - 1
                break;
            case "zstd":
                Lay(bytes, start, length, (DataPage, 100, null, GroupRows));
                // Zstd frame: magic, descriptor (4-byte content size, window byte follows), window, content size 2^31.
                ((byte[])[0x28, 0xB5, 0x2F, 0xFD, 0x80, 0x00, 0x00, 0x00, 0x00, 0x80]).CopyTo(bytes, at + HeaderSize);
                break;
            case "missing values":
                Lay(bytes, start, length, (DataPage, 100, null, 10));
                break;
            case "garbage":
                bytes.AsSpan(at, 8).Fill(0xFF);
                break;
        }

        var (report, message, allocated) = await ValidateAsync(bytes);

        Assert.StartsWith(expected, message, StringComparison.Ordinal);
        Assert.EndsWith("; reading stopped", message, StringComparison.Ordinal);
        Assert.Equal(group * GroupRows, report.Rows);
        // Honouring any of these sizes would allocate hundreds of megabytes; validating the whole 1,000-row file costs
        // well under one.
        Assert.True(allocated < 2L * 1024 * 1024, $"allocated {allocated / 1024} KB");
    }

    [Fact]
    public async Task Randomly_corrupted_page_headers_never_throw_and_stay_bounded()
    {
        // Flips one to three bytes in the first page header of a random column chunk (sizes, counts, field headers).
        var original = await WriteAsync();
        var chunks = new List<(long Start, int Length)>();
        foreach (var column in new[] { "id", "income", "region" })
        {
            for (var g = 0; g < 2; g++)
            {
                chunks.Add(await ChunkAsync(original, column, g));
            }
        }

        var rng = new Random(17);
        var noticed = 0;
        var byScanner = 0;
        for (var attempt = 0; attempt < 150; attempt++)
        {
            var bytes = (byte[])original.Clone();
            var (start, length) = chunks[rng.Next(chunks.Count)];
            for (var k = rng.Next(1, 4); k > 0; k--)
            {
                bytes[start + rng.Next(Math.Min(24, length))] = (byte)rng.Next(256);
            }

            GC.Collect();
            var before = GC.GetTotalAllocatedBytes(precise: true);
            var report = await DatasetValidator.ValidateParquetAsync(new MemoryStream(bytes), "t.parquet", Contract);
            var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
            Assert.True(allocated < 16L * 1024 * 1024, $"attempt {attempt}: allocated {allocated / (1024 * 1024)} MB");
            var malformed = report.Issues.Where(i => i.Rule == "malformed").ToList();
            Assert.True(malformed.Count <= 1, string.Join("\n", malformed.Select(i => i.Message)));
            if (malformed.Count == 1)
            {
                Assert.StartsWith("t.parquet: ", malformed[0].Message, StringComparison.Ordinal);
                Assert.Contains("row group ", malformed[0].Message, StringComparison.Ordinal);
                noticed++;
                byScanner += malformed[0].Message.Contains("could not be read", StringComparison.Ordinal) ? 0 : 1;
            }
        }

        Assert.True(noticed > 75, $"only {noticed} of 150 corruptions were noticed");
        Assert.True(byScanner > noticed / 2, $"the page scanner refused {byScanner} of the {noticed} noticed; the library met the rest");
    }
}
