using System.Text;
using System.Text.Json;
using MLOps.Core.Data;
using MLOps.Core.Reports;
using MLOps.Core.Workflows;
using Parquet;
using Parquet.Schema;

namespace MLOps.Core.Tests.Data;

/// <summary>Exact duplicate rows, CSV and Parquet: counted, named with the row they repeat, a warning by default and
/// an issue when the contract's max_duplicate_rate is exceeded. The unique id column is not compared.</summary>
public sealed class DuplicateRowTests
{
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    private static readonly DataContract Contract = new()
    {
        Columns =
        [
            new ColumnSpec { Name = "id", Type = ColumnType.String, Unique = true, Feature = false },
            new ColumnSpec { Name = "age", Type = ColumnType.Integer, Min = 18, Max = 90 },
            new ColumnSpec { Name = "income", Type = ColumnType.Number, Nullable = true },
            new ColumnSpec { Name = "region", Type = ColumnType.String },
        ],
    };

    // Row 4 repeats row 2 with a new id; row 6 repeats row 2 again (one cell padded with spaces, trimmed as every
    // cell is); row 5 differs from row 3 by one character; row 8 repeats row 7, empty income included.
    private const string Csv = """
        id,age,income,region
        A1,30,100.5,EU
        A2,41,200,US
        A3,52,300,EU
        A4,41,200,US
        A5,52,300,EUx
        A6, 41 ,200,US
        A7,60,,EU
        A8,60,,EU
        """;

    private static async Task<DatasetValidationReport> ValidateCsv(string text, DataContract? contract = null, ValidationOptions? options = null)
    {
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(text.ReplaceLineEndings("\n")));
        return await DatasetValidator.ValidateAsync(stream, "t.csv", contract ?? Contract, options);
    }

    [Fact]
    public async Task Csv_duplicates_are_counted_named_with_the_row_they_repeat_and_only_warned_about_by_default()
    {
        var report = await ValidateCsv(Csv);

        Assert.True(report.IsValid, string.Join("\n", report.Issues.Select(i => i.Message)));
        var d = Assert.IsType<DuplicateRowsSummary>(report.Duplicates);
        Assert.Equal(3, d.Count);
        Assert.Equal(3.0 / 8, d.Rate);
        Assert.True(d.Complete);
        Assert.Null(d.MaxRate);
        Assert.Equal(["age", "income", "region"], d.Columns);
        Assert.Equal([new DuplicateRowPair(4, 2), new DuplicateRowPair(6, 2), new DuplicateRowPair(8, 7)], d.Examples);
        var warning = Assert.Single(report.Warnings);
        Assert.Contains("3 duplicate row(s), rate 0.375 of 8 rows; row 4 duplicates row 2, row 6 duplicates row 2, row 8 duplicates row 7", warning, StringComparison.Ordinal);
        Assert.Contains("max_duplicate_rate", warning, StringComparison.Ordinal);
        Assert.EndsWith(", 3 duplicate row(s)", report.Summary, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_duplicate_rate_above_the_contract_limit_fails_with_an_issue_naming_both_rows()
    {
        var report = await ValidateCsv(Csv, Contract with { MaxDuplicateRate = 0.25 });

        Assert.False(report.IsValid);
        var issue = Assert.Single(report.Issues);
        Assert.Equal("duplicate_rows", issue.Rule);
        Assert.Equal(4, issue.Row);
        Assert.Equal("3", issue.Value);
        Assert.Equal("t.csv: 3 duplicate row(s), rate 0.375 of 8 rows exceeds max_duplicate_rate 0.25; row 4 duplicates row 2, row 6 duplicates row 2, row 8 duplicates row 7", issue.Message);
        Assert.Empty(report.Warnings);
        Assert.Equal(0.25, report.Duplicates!.MaxRate);

        var within = await ValidateCsv(Csv, Contract with { MaxDuplicateRate = 0.375 });
        Assert.True(within.IsValid);
        Assert.Empty(within.Warnings);
        Assert.Equal(3, within.Duplicates!.Count);
    }

    [Fact]
    public async Task A_repeated_id_is_a_unique_issue_values_are_compared_decoded_and_rows_differing_in_one_cell_are_not_duplicates()
    {
        // Row 3 repeats row 1 (text trimmed), row 5 too (numbers compared by value: 1.0 is 1); rows 2 and 4 differ.
        var report = await ValidateCsv("id,age,income,region\nA1,30,1,EU\nA1,31,1,EU\nA3,30,1,EU \nA4,30,1,E\nA5,30,1.0,EU\n", Contract with { MaxDuplicateRate = 0 });

        Assert.Equal(2, report.Duplicates!.Count);
        Assert.Equal([new DuplicateRowPair(3, 1), new DuplicateRowPair(5, 1)], report.Duplicates.Examples);
        Assert.Equal(["unique", "duplicate_rows"], report.Issues.Select(i => i.Rule));
    }

    [Fact]
    public async Task No_duplicate_check_when_every_present_column_is_unique()
    {
        var contract = new DataContract { Columns = [new ColumnSpec { Name = "id", Type = ColumnType.String, Unique = true }] };
        var report = await ValidateCsv("id\nA\nB\n", contract);

        Assert.True(report.IsValid);
        Assert.Null(report.Duplicates);
    }

    [Fact]
    public async Task Memory_is_bounded_by_the_tracked_rows_and_the_count_then_says_it_is_a_lower_bound()
    {
        var rows = string.Concat(Enumerable.Range(1, 20).Select(i => $"A{i},{20 + (i % 5)},1,EU\n"));
        var report = await ValidateCsv("id,age,income,region\n" + rows, options: new ValidationOptions { MaxDuplicateTrackedRows = 3, MaxDuplicateExamples = 2 });

        var d = report.Duplicates!;
        Assert.False(d.Complete);
        // Ages 21, 22, 23 are remembered; 24 and 20 never are, so only repeats of the first three count: rows 6–8, 11–13, 16–18.
        Assert.Equal(9, d.Count);
        Assert.Equal([new DuplicateRowPair(6, 1), new DuplicateRowPair(7, 2)], d.Examples);
        Assert.Contains("at least", Assert.Single(report.Warnings), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Parquet_duplicates_are_found_across_row_groups_with_nulls_equal_and_ids_ignored()
    {
        var id = new DataField<string>("id", true);
        var age = new DataField<long?>("age");
        var income = new DataField<double?>("income");
        var region = new DataField<string>("region", true);
        using var output = new MemoryStream();
        await using (var writer = await ParquetWriter.CreateAsync(new ParquetSchema(id, age, income, region), output))
        {
            // Rows 1–3 then 4–6: row 4 repeats row 2, row 5 repeats row 3 (null income), row 6 differs from row 1 by -0 vs 0 only.
            string[][] ids = [["A1", "A2", "A3"], ["A4", "A5", "A6"]];
            long?[][] ages = [[30, 41, 52], [41, 52, 30]];
            double?[][] incomes = [[0.0, 200, null], [200, null, -0.0]];
            string[][] regions = [["EU", "US", "EU"], ["US", "EU", "EU"]];
            for (var g = 0; g < 2; g++)
            {
                using var group = writer.CreateRowGroup();
                await group.WriteAsync(id, ids[g], null);
                await group.WriteAsync<long>(age, ages[g]);
                await group.WriteAsync<double>(income, incomes[g]);
                await group.WriteAsync(region, regions[g], null);
            }
        }

        using var input = new MemoryStream(output.ToArray());
        var report = await DatasetValidator.ValidateDatasetAsync(input, "t.parquet", Contract with { MaxDuplicateRate = 0.4 });

        Assert.Equal(DatasetFormat.Parquet, report.Format);
        Assert.Equal(6, report.Rows);
        var d = report.Duplicates!;
        Assert.Equal([new DuplicateRowPair(4, 2), new DuplicateRowPair(5, 3), new DuplicateRowPair(6, 1)], d.Examples);
        Assert.Equal(["age", "income", "region"], d.Columns);
        Assert.False(report.IsValid);
        var issue = Assert.Single(report.Issues);
        Assert.Equal("duplicate_rows", issue.Rule);
        Assert.Contains("row 4 duplicates row 2, row 5 duplicates row 3, row 6 duplicates row 1", issue.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Json_and_html_reports_carry_the_duplicates()
    {
        var report = await ValidateCsv(Csv);

        using var json = JsonDocument.Parse(JsonSerializer.Serialize(report, Web));
        var duplicates = json.RootElement.GetProperty("duplicates");
        Assert.Equal(3, duplicates.GetProperty("count").GetInt64());
        Assert.Equal(4, duplicates.GetProperty("examples")[0].GetProperty("row").GetInt64());
        Assert.Equal(2, duplicates.GetProperty("examples")[0].GetProperty("firstRow").GetInt64());
        Assert.Equal(1, json.RootElement.GetProperty("warnings").GetArrayLength());

        var html = ValidationReportHtml.Render(report);
        Assert.Contains("<h2>Duplicate rows</h2>", html, StringComparison.Ordinal);
        Assert.Contains("<tr><td class=\"num\">6</td><td class=\"num\">2</td></tr>", html, StringComparison.Ordinal);
        Assert.Contains("<h2>Warnings</h2>", html, StringComparison.Ordinal);
    }

    [Fact]
    public void The_workflow_key_is_parsed_and_checked()
    {
        const string Yaml = """
            model:
              name: m
              label: y
            data:
              max_duplicate_rate: {0}
              columns:
                - { name: x }
                - { name: y, type: boolean }
            """;

        Assert.Equal(0.01, WorkflowParser.Parse(Yaml.Replace("{0}", "0.01", StringComparison.Ordinal), "t.yaml").Data.MaxDuplicateRate);
        Assert.Null(WorkflowParser.Parse(Yaml.Replace("  max_duplicate_rate: {0}\n", "", StringComparison.Ordinal), "t.yaml").Data.MaxDuplicateRate);
        var error = Assert.ThrowsAny<Exception>(() => WorkflowParser.Parse(Yaml.Replace("{0}", "2", StringComparison.Ordinal), "t.yaml"));
        Assert.Contains("'data.max_duplicate_rate' must be between 0 and 1; got 2", error.Message, StringComparison.Ordinal);
    }

    /// <summary>A large table released by one tracker is reused by the next of that size: it must come back empty, or
    /// the second file's rows would be found in the first's.</summary>
    [Fact]
    public void A_reused_table_is_empty_for_the_next_tracker()
    {
        const int rows = 100_000;
        for (int round = 0; round < 3; round++)
        {
            var tracker = new DuplicateRowTracker(maxTracked: 1_000_000, maxExamples: 5);
            tracker.EnsureCapacity(rows);
            for (int r = 1; r <= rows; r++)
            {
                // The same rows every round; within a round, row 50,001 repeats row 7.
                tracker.EndRow(DuplicateRowTracker.Mix(DuplicateRowTracker.Start, (ulong)(r == 50_001 ? 7 : r)), r);
            }
            tracker.Flush();
            Assert.Equal(1, tracker.Duplicates);
            Assert.Equal([new DuplicateRowPair(50_001, 7)], tracker.Examples);
            tracker.Release();
        }
    }
}
