using System.Globalization;
using System.Text;
using MLOps.Core.Data;
using MLOps.Core.Workflows;

namespace MLOps.Core.Tests.Data;

/// <summary>Number columns checked on a second thread give the same report as everything on one thread.</summary>
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

    /// <summary>Several batches of rows, with bad cells in Number columns (checked on the second thread) and in the
    /// others (checked on the reading thread) in the same rows, long 17-digit values, values just past the bounds,
    /// a malformed row, a duplicate id, and rows 6001 and 8500 repeating the row before them under a new id.</summary>
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
    [InlineData(3)]
    [InlineData(20)]
    [InlineData(1000)]
    public async Task ValidateAsync_second_thread_for_numbers_gives_the_same_report(int maxIssues)
    {
        var bytes = File();
        var one = await Validate(bytes, parallel: false, maxIssues);
        var two = await Validate(bytes, parallel: true, maxIssues);

        Assert.False(one.IsValid);
        Assert.Equal(one.IssueCount, two.IssueCount);
        Assert.Equal(one.Summary, two.Summary);
        Assert.Equal(one.Sha256, two.Sha256);
        Assert.Equal(one.Rows, two.Rows);
        Assert.Equal(one.Columns, two.Columns);
        Assert.Equal(one.Issues, two.Issues);
        Assert.Equal(one.Warnings, two.Warnings);
        Assert.Equal(2, one.Duplicates!.Count);
        Assert.Equal([new DuplicateRowPair(6001, 6000), new DuplicateRowPair(8500, 8499)], one.Duplicates.Examples);
        Assert.Equal(one.Duplicates.Count, two.Duplicates!.Count);
        Assert.Equal(one.Duplicates.Examples, two.Duplicates.Examples);
        Assert.Equal(Math.Min(maxIssues, one.IssueCount), one.Issues.Count);
        // File order: by row, then by column.
        Assert.Equal(one.Issues.OrderBy(i => i.Row).Select(i => i.Row), one.Issues.Select(i => i.Row));
    }

    [Fact]
    public async Task ValidateAsync_finds_every_planted_problem_with_exact_bounds_and_extremes()
    {
        var report = await Validate(File(), parallel: true, 1000);
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
}
