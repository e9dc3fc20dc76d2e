using System.Globalization;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using MLOps.Core.Data;
using MLOps.Core.Samples;
using MLOps.Core.Workflows;
using Parquet;
using Parquet.Schema;

namespace MLOps.Core.Tests.Data;

/// <summary>Parquet datasets go through the same rules as CSV: the files are written here with Parquet.Net.</summary>
[Collection(AllocationSensitive.Name)]
public sealed class ParquetValidationTests
{
    private static readonly DataContract Contract = new()
    {
        Columns =
        [
            new ColumnSpec { Name = "id", Type = ColumnType.String, Unique = true, Feature = false },
            new ColumnSpec { Name = "age", Type = ColumnType.Integer, Min = 18, Max = 90 },
            new ColumnSpec { Name = "income", Type = ColumnType.Number, Min = 0, Nullable = true },
            new ColumnSpec { Name = "region", Type = ColumnType.Category, Values = ["EU", "US"] },
            new ColumnSpec { Name = "flag", Type = ColumnType.Boolean },
            new ColumnSpec { Name = "ts", Type = ColumnType.Timestamp, Nullable = true },
        ],
        Label = "flag",
    };

    private sealed record Row(string? Id, long? Age, double? Income, string? Region, bool? Flag, DateTime? Ts);

    private static Row Good(int i) => new($"A{i}", 30 + (i % 40), 1000.5 * (i % 7), i % 2 == 0 ? "EU" : "US", i % 3 == 0, new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddHours(i));

    /// <summary>Writes rows in row groups of <paramref name="groupRows"/>, all columns optional.</summary>
    private static async Task<byte[]> Write(IReadOnlyList<Row> rows, int groupRows, DataField? incomeField = null)
    {
        var id = new DataField<string>("id", true);
        var age = new DataField<long?>("age");
        var income = incomeField ?? new DataField<double?>("income");
        var region = new DataField<string>("region", true);
        var flag = new DataField<bool?>("flag");
        var ts = new DataField<DateTime?>("ts");
        using var output = new MemoryStream();
        await using (var writer = await ParquetWriter.CreateAsync(new ParquetSchema(id, age, income, region, flag, ts), output))
        {
            foreach (var chunk in rows.Chunk(groupRows))
            {
                using var group = writer.CreateRowGroup();
                await group.WriteAsync(id, chunk.Select(r => r.Id).ToArray()!, null);
                await group.WriteAsync<long>(age, chunk.Select(r => r.Age).ToArray());
                if (incomeField is not null)
                {
                    await group.WriteAsync(income, chunk.Select(r => r.Income?.ToString(CultureInfo.InvariantCulture)).ToArray()!, null);
                }
                else
                {
                    await group.WriteAsync<double>(income, chunk.Select(r => r.Income).ToArray());
                }

                await group.WriteAsync(region, chunk.Select(r => r.Region).ToArray()!, null);
                await group.WriteAsync<bool>(flag, chunk.Select(r => r.Flag).ToArray());
                await group.WriteAsync<DateTime>(ts, chunk.Select(r => r.Ts).ToArray());
            }
        }

        return output.ToArray();
    }

    private static async Task<DatasetValidationReport> Validate(byte[] bytes, DataContract? contract = null, string name = "t.parquet", bool seekable = true)
    {
        using Stream stream = seekable ? new MemoryStream(bytes) : new ForwardOnly(bytes);
        return await DatasetValidator.ValidateDatasetAsync(stream, name, contract ?? Contract);
    }

    private static DataContract CreditRiskContract() =>
        WorkflowParser.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "workflows", "credit-risk.yaml")), "credit-risk.yaml").Data;

    [Fact]
    public async Task Parquet_of_generated_credit_risk_data_gives_the_same_report_as_its_csv()
    {
        var contract = CreditRiskContract();
        using var text = new StringWriter(CultureInfo.InvariantCulture);
        CreditRiskData.WriteCsv(text, 5000, 42);
        var csvBytes = Encoding.UTF8.GetBytes(text.ToString());
        using var parquet = new MemoryStream();
        await ParquetConversion.CsvToParquetAsync(new StringReader(text.ToString()), parquet, contract, rowGroupRows: 1500);
        var bytes = parquet.ToArray();

        var fromCsv = await DatasetValidator.ValidateAsync(new MemoryStream(csvBytes), "t.csv", contract);
        var report = await Validate(bytes, contract, seekable: false);

        Assert.True(report.IsValid, string.Join("\n", report.Issues.Select(i => i.Message)));
        Assert.Equal(5000, report.Rows);
        Assert.Equal(bytes.Length, report.Bytes);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), report.Sha256);
        Assert.Equal(CreditRiskData.Columns, report.Header);
        Assert.StartsWith("t.parquet: valid; 5000 rows, 11 columns", report.Summary, StringComparison.Ordinal);
        foreach (var (p, c) in report.Columns.Zip(fromCsv.Columns))
        {
            Assert.Equal(c.Name, p.Name);
            Assert.Equal(c.Nulls, p.Nulls);
            Assert.Equal(c.NullRate, p.NullRate);
            Assert.Equal(c.DistinctValues, p.DistinctValues);
            Assert.Equal(c.Min, p.Min);
            Assert.Equal(c.Max, p.Max);
            Assert.Equal(c.Mean.HasValue, p.Mean.HasValue);
            Assert.Equal(c.Mean ?? 0, p.Mean ?? 0, 1e-9);
        }
    }

    [Fact]
    public async Task Bad_cells_are_reported_with_row_column_rule_and_value_across_row_groups()
    {
        var rows = Enumerable.Range(1, 30).Select(Good).ToList();
        rows[4] = rows[4] with { Age = 95 };                                  // row 5: range
        rows[11] = rows[11] with { Income = double.NaN };                     // row 12: NaN (second row group)
        rows[12] = rows[12] with { Income = double.NegativeInfinity };        // row 13
        rows[13] = rows[13] with { Income = -5 };                             // row 14: range
        rows[20] = rows[20] with { Region = "APAC" };                         // row 21: category
        rows[21] = rows[21] with { Id = "A3" };                               // row 22: unique (first in row 3)
        rows[22] = rows[22] with { Flag = null };                             // row 23: label null
        rows[23] = rows[23] with { Age = null };                              // row 24: not nullable
        rows[24] = rows[24] with { Income = null };                           // row 25: nullable, fine

        var report = await Validate(await Write(rows, groupRows: 10));

        Assert.False(report.IsValid);
        Assert.Equal(30, report.Rows);
        var issues = report.Issues.Select(i => (i.Row, i.Column, i.Rule, i.Value)).ToList();
        Assert.Equal(
        [
            (5, "age", "range", "95"),
            (12, "income", "type", "NaN"),
            (13, "income", "type", "-Infinity"),
            (14, "income", "range", "-5"),
            (21, "region", "category", "APAC"),
            (22, "id", "unique", "A3"),
            (23, "flag", "null", ""),
            (24, "age", "null", ""),
        ], issues);
        Assert.Equal("t.parquet row 22, column 'id': value 'A3' also appears in row 3", report.Issues[5].Message);
        Assert.Equal("t.parquet row 5, column 'age': value 95 is above the maximum 90", report.Issues[0].Message);
        var income = report.Columns.Single(c => c.Name == "income");
        Assert.Equal(1, income.Nulls);
        Assert.Equal(2, income.TypeErrors);
        Assert.Equal(2.0 / 30, income.TypeErrorRate, 12);
        Assert.Equal(1.0 / 30, income.OutOfBoundsRate, 12);
        Assert.Equal(2, report.Columns.Single(c => c.Name == "region").DistinctValues);
    }

    [Fact]
    public async Task Column_of_the_wrong_Parquet_type_is_a_schema_error_naming_file_and_column()
    {
        var rows = Enumerable.Range(1, 20).Select(Good).ToList();

        var report = await Validate(await Write(rows, 10, incomeField: new DataField<string>("income", true)));

        Assert.False(report.IsValid);
        var issue = Assert.Single(report.Issues);
        Assert.Equal(("income", "type", 0L), (issue.Column, issue.Rule, issue.Row));
        Assert.Equal("t.parquet, column 'income': Parquet type BYTE_ARRAY (string) cannot hold the contract type number; the column was not checked", issue.Message);
        Assert.Equal(1.0, report.Columns.Single(c => c.Name == "income").TypeErrorRate);
    }

    [Fact]
    public async Task Missing_and_extra_columns_and_row_bounds_are_checked()
    {
        var contract = Contract with
        {
            Columns = [.. Contract.Columns, new ColumnSpec { Name = "score", Type = ColumnType.Number }],
            MinRows = 100,
        };
        var rows = Enumerable.Range(1, 20).Select(Good).ToList();

        var report = await Validate(await Write(rows, 10), contract);

        Assert.Contains(report.Issues, i => i is { Rule: "missing_column", Column: "score" } && i.Message == "t.parquet: column 'score' is missing from the header");
        Assert.Contains(report.Issues, i => i is { Rule: "row_count" } && i.Message == "t.parquet: 20 rows is fewer than min_rows 100");

        var strict = Contract with { Columns = Contract.Columns.Where(c => c.Name != "ts").ToList() };
        var extra = await Validate(await Write(rows, 10), strict);
        Assert.Contains(extra.Issues, i => i is { Rule: "extra_column", Column: "ts" });
    }

    [Fact]
    public async Task Integers_stored_as_doubles_are_checked_per_value()
    {
        var contract = Contract with { Columns = [.. Contract.Columns.Select(c => c.Name == "income" ? c with { Type = ColumnType.Integer } : c)] };
        var rows = Enumerable.Range(1, 10).Select(i => Good(i) with { Income = i }).ToList();
        rows[6] = rows[6] with { Income = 2.5 };

        var report = await Validate(await Write(rows, 10), contract);

        var issue = Assert.Single(report.Issues);
        Assert.Equal("t.parquet row 7, column 'income': value '2.5' is not an integer", issue.Message);
    }

    [Fact]
    public async Task Parquet_converted_back_to_csv_validates_the_same()
    {
        var contract = CreditRiskContract();
        using var text = new StringWriter(CultureInfo.InvariantCulture);
        CreditRiskData.WriteCsv(text, 2000, 5);
        using var parquet = new MemoryStream();
        await ParquetConversion.CsvToParquetAsync(new StringReader(text.ToString()), parquet, contract, rowGroupRows: 700);
        parquet.Position = 0;
        using var back = new StringWriter(CultureInfo.InvariantCulture);

        await ParquetConversion.ParquetToCsvAsync(parquet, back);

        var report = await DatasetValidator.ValidateAsync(new MemoryStream(Encoding.UTF8.GetBytes(back.ToString())), "back.csv", contract);
        Assert.True(report.IsValid, report.Summary);
        Assert.Equal(2000, report.Rows);
        Assert.Equal(text.ToString().Split('\n')[1].Split(',')[0], back.ToString().Split('\n')[1].Split(',')[0]);
    }

    // Poison files: each is one clear 'malformed' issue naming the file, with bounded allocation, never a throw.

    private static async Task<(DatasetValidationReport Report, long Allocated)> Poison(byte[] bytes, string name = "poison.parquet", bool seekable = true)
    {
        GC.Collect();
        var before = GC.GetTotalAllocatedBytes(precise: true);
        var report = await Validate(bytes, name: name, seekable: seekable);
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        Assert.False(report.IsValid);
        var issue = Assert.Single(report.Issues, i => i.Rule == "malformed");
        Assert.StartsWith(name + ":", issue.Message, StringComparison.Ordinal);
        Assert.True(allocated < 32L * 1024 * 1024, $"allocated {allocated / (1024 * 1024)} MB");
        return (report, allocated);
    }

    private static async Task<byte[]> Valid(int rows = 2000) => await Write(Enumerable.Range(1, rows).Select(Good).ToList(), 500);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Truncated_file_is_malformed(bool seekable)
    {
        var bytes = await Valid();

        var (report, _) = await Poison(bytes[..(bytes.Length / 2)], seekable: seekable);

        Assert.Contains("truncated", report.Issues[0].Message, StringComparison.Ordinal);
        Assert.Equal(bytes.Length / 2, report.Bytes);
    }

    [Fact]
    public async Task Bad_magic_is_malformed()
    {
        var bytes = await Valid();
        bytes[0] = (byte)'X';

        var (report, _) = await Poison(bytes);

        Assert.Equal("poison.parquet: it does not start with the Parquet magic 'PAR1'; not a Parquet file", report.Issues[0].Message);
    }

    [Fact]
    public async Task Footer_claiming_absurd_size_is_malformed()
    {
        var bytes = await Valid();
        BitConverter.TryWriteBytes(bytes.AsSpan(bytes.Length - 8, 4), int.MaxValue - 7);

        var (report, _) = await Poison(bytes);

        Assert.Contains($"the footer claims {int.MaxValue - 7} bytes but the file has only {bytes.Length} bytes", report.Issues[0].Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Corrupt_footer_is_malformed()
    {
        var bytes = await Valid();
        var footer = BitConverter.ToInt32(bytes.AsSpan(bytes.Length - 8, 4));
        bytes.AsSpan(bytes.Length - 8 - footer, footer).Fill(0xFF);

        var (report, _) = await Poison(bytes);

        Assert.Contains("footer", report.Issues[0].Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Zip_renamed_parquet_is_malformed()
    {
        using var zip = new MemoryStream();
        using (var archive = new ZipArchive(zip, ZipArchiveMode.Create, leaveOpen: true))
        {
            var entry = archive.CreateEntry("data.parquet", CompressionLevel.SmallestSize);
            await using var s = await entry.OpenAsync();
            await s.WriteAsync(await Valid());
        }

        var (report, _) = await Poison(zip.ToArray(), seekable: false);

        Assert.Equal("poison.parquet: it is a ZIP archive (starts with 'PK'), not Parquet", report.Issues[0].Message);
    }

    [Fact]
    public async Task Randomly_corrupted_footers_never_throw_and_stay_bounded()
    {
        var original = await Valid(300);
        var footer = BitConverter.ToInt32(original.AsSpan(original.Length - 8, 4));
        var rng = new Random(7);
        var malformed = 0;
        for (var attempt = 0; attempt < 150; attempt++)
        {
            var bytes = (byte[])original.Clone();
            for (var k = 0; k < 4; k++)
            {
                bytes[bytes.Length - 8 - footer + rng.Next(footer)] = (byte)rng.Next(256);
            }

            GC.Collect();
            var before = GC.GetTotalAllocatedBytes(precise: true);
            var report = await Validate(bytes);
            var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
            Assert.True(allocated < 64L * 1024 * 1024, $"attempt {attempt}: allocated {allocated / (1024 * 1024)} MB");
            if (report.Issues.Any(i => i.Rule == "malformed"))
            {
                malformed++;
                Assert.All(report.Issues.Where(i => i.Rule == "malformed"), i => Assert.StartsWith("t.parquet", i.Message, StringComparison.Ordinal));
            }
        }

        Assert.True(malformed > 10, $"only {malformed} of 150 corruptions were noticed");
    }

    [Theory]
    [InlineData(1000, 0, 0, "poison.parquet: row group 1 claims 500 rows; at 130 bytes per row that is beyond the limit of 1000 bytes")]
    [InlineData(0, 100, 0, "poison.parquet: row group 1, column 'id' claims ")]
    [InlineData(0, 0, 64, "poison.parquet: the footer claims ")]
    public async Task Sizes_declared_beyond_the_limits_are_refused_before_reading(long rowGroupBytes, long chunkBytes, int footerBytes, string expected)
    {
        var options = new ValidationOptions
        {
            MaxParquetRowGroupBytes = rowGroupBytes > 0 ? rowGroupBytes : new ValidationOptions().MaxParquetRowGroupBytes,
            MaxParquetColumnChunkBytes = chunkBytes > 0 ? chunkBytes : new ValidationOptions().MaxParquetColumnChunkBytes,
            MaxParquetFooterBytes = footerBytes > 0 ? footerBytes : new ValidationOptions().MaxParquetFooterBytes,
        };

        var report = await DatasetValidator.ValidateParquetAsync(new MemoryStream(await Valid()), "poison.parquet", Contract, options);

        var issue = Assert.Single(report.Issues, i => i.Rule == "malformed");
        Assert.StartsWith(expected, issue.Message, StringComparison.Ordinal);
        Assert.Equal(0, report.Rows);
    }

    [Fact]
    public async Task Randomly_corrupted_data_pages_never_throw_and_stay_bounded()
    {
        // Flips bytes between the leading magic and the footer: page headers (with their size fields), levels,
        // compressed values. Each run ends with a report; corruption the reader notices is one 'malformed' issue.
        var original = await Valid(3000);
        var footer = BitConverter.ToInt32(original.AsSpan(original.Length - 8, 4));
        var dataEnd = original.Length - 8 - footer;
        var rng = new Random(11);
        var noticed = 0;
        for (var attempt = 0; attempt < 150; attempt++)
        {
            var bytes = (byte[])original.Clone();
            for (var k = 0; k < 6; k++)
            {
                bytes[4 + rng.Next(dataEnd - 4)] = (byte)rng.Next(256);
            }

            GC.Collect();
            var before = GC.GetTotalAllocatedBytes(precise: true);
            var report = await Validate(bytes);
            var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
            Assert.True(allocated < 64L * 1024 * 1024, $"attempt {attempt}: allocated {allocated / (1024 * 1024)} MB");
            var malformed = report.Issues.Where(i => i.Rule == "malformed").ToList();
            Assert.True(malformed.Count <= 1, string.Join("\n", malformed.Select(i => i.Message)));
            noticed += malformed.Count;
        }

        Assert.True(noticed > 10, $"only {noticed} of 150 corruptions were noticed");
    }

    [Fact]
    public async Task Memory_follows_the_row_group_not_the_file()
    {
        // Numeric columns only (strings allocate per value by nature). The column buffers are sized once and reused
        // row group after row group, so each further row group of 50,000 rows (800 KB of values) costs only the
        // reader's transient page buffers, the same for the 2nd group as for the 16th: nothing accumulates.
        // The duplicate-row check remembers one 64-bit hash per distinct row (up to its limit), so it is measured
        // apart: off for the column buffers, then on, costing at most 32 bytes a row more.
        var contract = new DataContract { Columns = [new ColumnSpec { Name = "x", Type = ColumnType.Number, Min = 0 }, new ColumnSpec { Name = "n", Type = ColumnType.Integer }] };
        const int groupRows = 50_000;

        async Task<long> AllocatedFor(int groups, ValidationOptions options)
        {
            var x = new DataField<double>("x");
            var n = new DataField<long>("n");
            using var output = new MemoryStream();
            await using (var writer = await ParquetWriter.CreateAsync(new ParquetSchema(x, n), output))
            {
                for (var g = 0; g < groups; g++)
                {
                    using var group = writer.CreateRowGroup();
                    await group.WriteAsync<double>(x, Enumerable.Range(g * groupRows, groupRows).Select(i => i * 0.5).ToArray());
                    await group.WriteAsync<long>(n, Enumerable.Range(g * groupRows, groupRows).Select(i => (long)i).ToArray());
                }
            }

            var bytes = output.ToArray();
            await DatasetValidator.ValidateDatasetAsync(new MemoryStream(bytes), "t.parquet", contract, options); // warm-up
            GC.Collect();
            var before = GC.GetTotalAllocatedBytes(precise: true);
            var report = await DatasetValidator.ValidateDatasetAsync(new MemoryStream(bytes), "t.parquet", contract, options);
            var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
            Assert.True(report.IsValid, report.Summary);
            Assert.Equal(groups * groupRows, report.Rows);
            return allocated;
        }

        var noDuplicateCheck = new ValidationOptions { MaxDuplicateTrackedRows = 0 };
        var two = await AllocatedFor(2, noDuplicateCheck);
        var sixteen = await AllocatedFor(16, noDuplicateCheck);

        var perExtraGroup = (sixteen - two) / 14.0;
        const double groupValueBytes = groupRows * 16.0;
        Assert.True(perExtraGroup < 2 * groupValueBytes, $"each further row group allocated {perExtraGroup / 1024:F0} KB (values: {groupValueBytes / 1024:F0} KB); 2 groups {two / 1024} KB, 16 groups {sixteen / 1024} KB");
        // The fixed part (buffers for one row group, footer, hash) does not grow with the file.
        Assert.True(two - 2 * perExtraGroup < 4 * groupValueBytes, $"fixed part {(two - 2 * perExtraGroup) / 1024:F0} KB");

        var sixteenChecked = await AllocatedFor(16, new ValidationOptions());
        // At most 32 bytes a row (the table is rented from the array pool, so a warm run mostly reuses it).
        var duplicateBytesPerRow = (sixteenChecked - sixteen) / (16.0 * groupRows);
        Assert.True(duplicateBytesPerRow <= 32, $"the duplicate check allocated {duplicateBytesPerRow:F1} bytes a row");
    }

    private sealed class ForwardOnly(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;
    }
}
