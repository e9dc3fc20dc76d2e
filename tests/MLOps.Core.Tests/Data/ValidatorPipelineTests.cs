using System.Globalization;
using System.Text;
using MLOps.Core.Data;
using MLOps.Core.Workflows;

namespace MLOps.Core.Tests.Data;

/// <summary>Rows checked in batches on checking threads and merged in file order give the same report as rows checked
/// one by one on the reading thread, whatever the batch size (small batches cross many batch boundaries).</summary>
public class ValidatorPipelineTests
{
    private static readonly DataContract Contract = new()
    {
        Columns =
        [
            new ColumnSpec { Name = "id", Type = ColumnType.Number, Unique = true },
            new ColumnSpec { Name = "x", Type = ColumnType.Number, Min = -100, Max = 100, Nullable = true },
            new ColumnSpec { Name = "region", Type = ColumnType.Category, Values = ["EU", "US"] },
            new ColumnSpec { Name = "y", Type = ColumnType.Number, Min = 0 },
            new ColumnSpec { Name = "flag", Type = ColumnType.Boolean },
        ],
        Label = "flag",
    };

    /// <summary>Many batches of rows, with bad cells in Number columns and in the others in the same rows, long
    /// 17-digit values, values just past the bounds, a malformed row, a duplicate id (the unique column is checked
    /// when batches are merged), and rows 6001 and 8500 repeating the row before them under a new id.</summary>
    private static byte[] File()
    {
        var rng = new Random(3);
        var sb = new StringBuilder("id,x,region,y,flag\n");
        var previous = "";
        for (int r = 1; r <= 9000; r++)
        {
            string id = r == 7777 ? "42" : r.ToString(CultureInfo.InvariantCulture);
            string x = (r % 997) switch
            {
                0 => "abc",
                1 => "",
                2 => "100.00000000000001",
                3 => "-100.0000000000001",
                4 => "1e3",
                5 => "NaN",
                _ => ((rng.NextDouble() - 0.5) * 199.99).ToString("R", CultureInfo.InvariantCulture),
            };
            string region = r % 1499 == 0 ? "APAC" : (r % 2 == 0 ? "EU" : "US");
            string y = r % 2003 == 0 ? "-0.5" : (rng.NextDouble() * 1e6).ToString("R", CultureInfo.InvariantCulture);
            string flag = r % 3001 == 0 ? "maybe" : (r % 2 == 0 ? "true" : "false");
            if (r == 5000)
            {
                sb.Append("1,2,3\n");
                continue;
            }
            var cells = r is 6001 or 8500 ? previous : $"{x},{region},{y},{flag}";
            previous = cells;
            sb.Append(id).Append(',').Append(cells).Append('\n');
        }
        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    private static async Task<DatasetValidationReport> Validate(byte[] bytes, bool parallel, int maxIssues, int rowsPerBatch = 1024)
    {
        using var stream = new MemoryStream(bytes);
        return await DatasetValidator.ValidateAsync(stream, "p.csv", Contract,
            new ValidationOptions { CheckThreads = parallel ? 3 : 0, MaxIssues = maxIssues, RowsPerBatch = rowsPerBatch });
    }

    [Theory]
    [InlineData(3, 1)]
    [InlineData(3, 7)]
    [InlineData(20, 64)]
    [InlineData(1000, 7)]
    [InlineData(1000, 1024)]
    public async Task ValidateAsync_checking_threads_give_the_same_report(int maxIssues, int rowsPerBatch)
    {
        var bytes = File();
        var one = await Validate(bytes, parallel: false, maxIssues, rowsPerBatch);
        var two = await Validate(bytes, parallel: true, maxIssues, rowsPerBatch);
        var reference = await Validate(bytes, parallel: false, maxIssues, rowsPerBatch: 100_000);

        foreach (var other in new[] { two, reference })
        {
            Assert.Equal(one.IssueCount, other.IssueCount);
            Assert.Equal(one.Summary, other.Summary);
            Assert.Equal(one.Sha256, other.Sha256);
            Assert.Equal(one.Rows, other.Rows);
            // Means included: the numbers are summed in row order, whatever thread parsed them.
            Assert.Equal(one.Columns, other.Columns);
            Assert.Equal(one.Issues, other.Issues);
            Assert.Equal(one.Warnings, other.Warnings);
            Assert.Equal(one.Duplicates!.Count, other.Duplicates!.Count);
            Assert.Equal(one.Duplicates.Examples, other.Duplicates.Examples);
        }
        Assert.False(one.IsValid);
        Assert.Equal(2, one.Duplicates!.Count);
        // A later row repeats an earlier one: merged out of order, the pair would be reported the other way round.
        Assert.Equal([new DuplicateRowPair(6001, 6000), new DuplicateRowPair(8500, 8499)], one.Duplicates.Examples);
        Assert.Equal(Math.Min(maxIssues, one.IssueCount), one.Issues.Count);
        // File order: by row, then by column.
        Assert.Equal(one.Issues.OrderBy(i => i.Row).Select(i => i.Row), one.Issues.Select(i => i.Row));
    }

    /// <summary>Rows without quotes are copied into a batch whole (their cells are slices of the row's text), rows
    /// with quotes cell by cell: the same cells, whether the columns come in the contract's order or not, with an
    /// extra column in front, quoted or not, give the same report.</summary>
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(3)]
    public async Task ValidateAsync_rows_copied_whole_or_cell_by_cell_give_the_same_report(int quoteEvery)
    {
        // Columns reordered and an extra one in front, so cells sit at other places in the row than in the batch.
        string Rewrite(string text, bool quoted)
        {
            var sb = new StringBuilder();
            var lines = text.Split('\n');
            for (int i = 0; i < lines.Length; i++)
            {
                if (lines[i].Length == 0)
                {
                    continue;
                }
                var cells = lines[i].Split(',');
                string[] order = cells.Length == 5 ? [i == 0 ? "pad" : $"p{i}", cells[4], cells[2], cells[0], cells[3], cells[1]] : cells;
                bool quote = quoted && i > 0 && (quoteEvery == 0 || i % quoteEvery == 0);
                sb.AppendJoin(',', quote ? order.Select(c => $"\"{c.Replace("\"", "\"\"", StringComparison.Ordinal)}\"") : order).Append('\n');
            }
            return sb.ToString();
        }
        var original = Encoding.UTF8.GetString(File());
        var plain = Encoding.UTF8.GetBytes(Rewrite(original, quoted: false));
        var quoted = Encoding.UTF8.GetBytes(Rewrite(original, quoted: true));
        var contract = Contract with { AllowExtraColumns = true };
        async Task<DatasetValidationReport> Run(byte[] bytes)
        {
            using var stream = new MemoryStream(bytes);
            return await DatasetValidator.ValidateAsync(stream, "q.csv", contract, new ValidationOptions { CheckThreads = 2, MaxIssues = 50, RowsPerBatch = 100 });
        }
        var one = await Run(plain);
        var other = await Run(quoted);

        Assert.Equal(one.IssueCount, other.IssueCount);
        Assert.Equal(one.Rows, other.Rows);
        Assert.Equal(one.Columns, other.Columns);
        Assert.Equal(one.Issues, other.Issues);
        Assert.Equal(one.Warnings, other.Warnings);
        Assert.Equal(one.Duplicates!.Examples, other.Duplicates!.Examples);
        // Only the bytes differ (the quotes), and with them the hash and the summary's byte count.
        Assert.NotEqual(one.Sha256, other.Sha256);
        // The checks did run on the moved cells: the planted issues and duplicates are found.
        Assert.Equal(9000, one.Rows);
        Assert.Equal([new DuplicateRowPair(6001, 6000), new DuplicateRowPair(8500, 8499)], one.Duplicates.Examples);
        Assert.Contains(one.Issues, i => i is { Row: 2, Column: "x", Rule: "range" });
        Assert.Contains(one.Issues, i => i is { Column: "flag", Rule: "type" });
    }

    /// <summary>A row copied whole has its cells found on the checking thread, by its commas: every cell lands in its
    /// column whatever the lengths of the cells around it (commas on and across 16-character boundaries), with empty
    /// cells, unmapped columns between, before and after the mapped ones, and CRLF line ends.</summary>
    [Theory]
    [InlineData(false, false)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public async Task ValidateAsync_cells_of_rows_copied_whole_are_found_by_their_commas(bool trailingColumn, bool crlf)
    {
        const int rows = 3000;
        var contract = new DataContract
        {
            Columns =
            [
                new ColumnSpec { Name = "a", Type = ColumnType.Integer, Min = 1, Max = rows },
                new ColumnSpec { Name = "b", Type = ColumnType.Integer, Min = 2, Max = 2 * rows, Nullable = true },
                new ColumnSpec { Name = "c", Type = ColumnType.Number, Min = 3, Max = 3 * rows },
                new ColumnSpec { Name = "d", Type = ColumnType.Number, Min = -rows, Max = -1 },
            ],
            AllowExtraColumns = true,
        };
        var newline = crlf ? "\r\n" : "\n";
        var sb = new StringBuilder("a,pad,b,c,d").Append(trailingColumn ? ",tail" : "").Append(newline);
        long nullB = 0;
        for (int r = 1; r <= rows; r++)
        {
            // The padding moves every later comma by 0–40 characters; b is empty every fifth row.
            var b = r % 5 == 0 ? "" : (2 * r).ToString(CultureInfo.InvariantCulture);
            nullB += r % 5 == 0 ? 1 : 0;
            sb.Append(r).Append(',').Append(new string('x', r % 41)).Append(',').Append(b).Append(',')
                .Append(3 * r).Append(',').Append(-r);
            if (trailingColumn)
            {
                sb.Append(',').Append(new string('y', r % 17));
            }
            sb.Append(newline);
        }
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(sb.ToString()));

        var report = await DatasetValidator.ValidateAsync(stream, "w.csv", contract, new ValidationOptions { CheckThreads = 2, RowsPerBatch = 64 });

        Assert.True(report.IsValid, report.Summary);
        Assert.Equal(rows, report.Rows);
        var byName = report.Columns.ToDictionary(c => c.Name);
        double mean = (rows + 1) / 2.0;
        Assert.Equal(mean, byName["a"].Mean);
        Assert.Equal(nullB, byName["b"].Nulls);
        Assert.Equal(2.0 * Enumerable.Range(1, rows).Where(r => r % 5 != 0).Average(), byName["b"].Mean!.Value, 9);
        Assert.Equal(3 * mean, byName["c"].Mean);
        Assert.Equal(-mean, byName["d"].Mean);
        Assert.Equal((-rows, -1), (byName["d"].Min, byName["d"].Max));
    }

    [Fact]
    public async Task ValidateAsync_reports_the_first_issues_in_file_order_across_batches()
    {
        var report = await Validate(File(), parallel: true, maxIssues: 4, rowsPerBatch: 3);

        // Rows 2–4 are in range issues (100.00000000000001, -100.0000000000001, 1e3), row 5 is a type error (NaN):
        // two batches of three rows; every later batch has issues of its own that must not displace them.
        Assert.Equal(
            [(2L, "x", "range"), (3L, "x", "range"), (4L, "x", "range"), (5L, "x", "type")],
            report.Issues.Select(i => (i.Row, i.Column, i.Rule)));
        Assert.True(report.IssueCount > 50);
    }

    [Fact]
    public async Task ValidateAsync_unique_and_distinct_columns_see_every_row_in_order_across_batches()
    {
        var contract = new DataContract
        {
            Columns =
            [
                new ColumnSpec { Name = "key", Type = ColumnType.String, Unique = true },
                new ColumnSpec { Name = "shop", Type = ColumnType.Category },
                new ColumnSpec { Name = "n", Type = ColumnType.Integer, Min = 0, Max = 1000 },
                new ColumnSpec { Name = "note", Type = ColumnType.String, Nullable = true },
            ],
        };
        var sb = new StringBuilder("key,shop,n,note\n");
        for (int r = 1; r <= 500; r++)
        {
            // Keys repeat every 200 rows from row 201 on; shops cycle through 37 names; row 450 is out of range.
            var key = r <= 200 ? $"k{r}" : r % 50 == 0 ? $"k{r - 200}" : $"k{r}";
            sb.Append(CultureInfo.InvariantCulture, $"{key},shop{r % 37},{(r == 450 ? 5000 : r)},{(r % 3 == 0 ? "" : "\"a, quoted\"\" note\"")}\n");
        }
        var bytes = Encoding.UTF8.GetBytes(sb.ToString());
        async Task<DatasetValidationReport> Run(int? threads, int rowsPerBatch)
        {
            using var stream = new MemoryStream(bytes);
            return await DatasetValidator.ValidateAsync(stream, "u.csv", contract, new ValidationOptions { CheckThreads = threads, RowsPerBatch = rowsPerBatch });
        }

        var report = await Run(3, 4);
        var unique = report.Issues.Where(i => i.Rule == "unique").ToList();
        // Rows 250–400 repeat the keys of rows 50–200; rows 450 and 500 take keys (k250, k300) not used before.
        Assert.Equal([250L, 300L, 350L, 400L], unique.Select(i => i.Row));
        Assert.Contains("also appears in row 50", unique[0].Message);
        Assert.Equal(450, Assert.Single(report.Issues, i => i.Rule == "range").Row);
        Assert.Equal(37, report.Columns.Single(c => c.Name == "shop").DistinctValues);
        Assert.Equal(1, report.Columns.Single(c => c.Name == "note").DistinctValues);
        Assert.Equal(166, report.Columns.Single(c => c.Name == "note").Nulls);
        var inline = await Run(0, 4);
        Assert.Equal(inline.Issues, report.Issues);
        Assert.Equal(inline.Columns, report.Columns);
        Assert.Equal(inline.Summary, report.Summary);
    }

    [Fact]
    public async Task ValidateAsync_finds_every_planted_problem_with_exact_bounds_and_extremes()
    {
        var report = await Validate(File(), parallel: true, 1000, rowsPerBatch: 5);
        long Count(string rule, string column) => report.Issues.Count(i => i.Rule == rule && i.Column == column);

        int Rows(Func<int, bool> planted) => Enumerable.Range(1, 9000).Count(r => r != 5000 && planted(r));
        // "abc" and "NaN" are type errors; 100.00000000000001, -100.0000000000001 and 1e3 are out of range.
        Assert.Equal(Rows(r => r % 997 is 0 or 5), Count("type", "x"));
        Assert.Equal(Rows(r => r % 997 is 2 or 3 or 4), Count("range", "x"));
        Assert.Equal(Rows(r => r % 2003 == 0), Count("range", "y"));
        Assert.Equal(Rows(r => r % 1499 == 0), Count("category", "region"));
        Assert.Equal(1, Count("unique", "id"));
        Assert.Equal(1, report.Issues.Count(i => i.Rule == "malformed"));
        var x = report.Columns.Single(c => c.Name == "x");
        Assert.Equal(Rows(r => r % 997 == 1), x.Nulls);
        // The extremes are the exact values of the text (the out-of-range ones included), never a near value.
        Assert.Equal(1000, x.Max);
        Assert.Equal(-100.0000000000001, x.Min);
        var y = report.Columns.Single(c => c.Name == "y");
        Assert.Equal(-0.5, y.Min);
    }

    /// <summary>Cancels its token once enough bytes are read: the checking threads are busy with earlier batches then.</summary>
    private sealed class CancellingStream(byte[] bytes, CancellationTokenSource cancel, long after) : MemoryStream(bytes)
    {
        public override int Read(byte[] buffer, int offset, int count)
        {
            if (Position > after)
            {
                cancel.Cancel();
            }
            return base.Read(buffer, offset, count);
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (Position > after)
            {
                cancel.Cancel();
            }
            return base.ReadAsync(buffer, cancellationToken);
        }
    }

    [Fact]
    public async Task ValidateAsync_cancelled_while_threads_check_ends_them_and_throws()
    {
        var bytes = File();
        using var cancel = new CancellationTokenSource();
        using var stream = new CancellingStream(bytes, cancel, bytes.Length / 3);

        var validation = DatasetValidator.ValidateAsync(stream, "p.csv", Contract,
            new ValidationOptions { CheckThreads = 2, RowsPerBatch = 5 }, cancel.Token);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => validation.WaitAsync(TimeSpan.FromSeconds(30)));
        // The next run is unaffected.
        var again = await Validate(bytes, parallel: true, maxIssues: 20, rowsPerBatch: 5);
        Assert.Equal(9000, again.Rows);
    }
}
