using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using MLOps.Core.Data;
using MLOps.Core.Samples;
using MLOps.Core.Workflows;

namespace MLOps.Core.Tests.Data;

public class DatasetValidatorTests
{
    private const string Header = "id,age,income,region,flag,ts";

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

    private static Task<DatasetValidationReport> Validate(string text, DataContract? contract = null, ValidationOptions? options = null) =>
        Validate(Encoding.UTF8.GetBytes(text), contract, options);

    private static async Task<DatasetValidationReport> Validate(byte[] bytes, DataContract? contract = null, ValidationOptions? options = null)
    {
        using var stream = new MemoryStream(bytes);
        return await DatasetValidator.ValidateAsync(stream, "t.csv", contract ?? Contract, options);
    }

    private static DataContract CreditRiskContract()
    {
        var yaml = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "workflows", "credit-risk.yaml"));
        return WorkflowParser.Parse(yaml, "credit-risk.yaml").Data;
    }

    private static byte[] Generated(int rows, int seed)
    {
        using var writer = new StringWriter(CultureInfo.InvariantCulture);
        CreditRiskData.WriteCsv(writer, rows, seed);
        return Encoding.UTF8.GetBytes(writer.ToString());
    }

    [Fact]
    public async Task ValidateAsync_GeneratedCreditRiskData_IsValidWithSummaries()
    {
        var bytes = Generated(5000, 42);

        var report = await Validate(bytes, CreditRiskContract());

        Assert.True(report.IsValid, string.Join("\n", report.Issues.Select(i => i.Message)));
        Assert.Equal(5000, report.Rows);
        Assert.Equal(0, report.IssueCount);
        Assert.Equal(bytes.Length, report.Bytes);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), report.Sha256);
        Assert.Equal(CreditRiskData.Columns, report.Header);
        var income = report.Columns.Single(c => c.Name == "income");
        Assert.InRange(income.NullRate, 0.005, 0.04);
        Assert.True(income.Min >= 0 && income.Mean > 30_000 && income.Max > income.Mean);
        Assert.Equal(3, report.Columns.Single(c => c.Name == "region").DistinctValues);
        Assert.Equal(2, report.Columns.Single(c => c.Name == "default").DistinctValues);
        Assert.StartsWith("t.csv: valid; 5000 rows, 11 columns", report.Summary, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("A1,abc,1,EU,true,", 1, "age", "type", "t.csv row 1, column 'age': value 'abc' is not an integer")]
    [InlineData("A1,30,NaN,EU,true,", 1, "income", "type", "t.csv row 1, column 'income': value 'NaN' is not a finite number")]
    [InlineData("A1,30,-Infinity,EU,true,", 1, "income", "type", "t.csv row 1, column 'income': value '-Infinity' is not a finite number")]
    [InlineData("A1,30,12x,EU,true,", 1, "income", "type", "t.csv row 1, column 'income': value '12x' is not a number")]
    [InlineData("A1,30,-5,EU,true,", 1, "income", "range", "t.csv row 1, column 'income': value -5 is below the minimum 0")]
    [InlineData("A1,95,1,EU,true,", 1, "age", "range", "t.csv row 1, column 'age': value 95 is above the maximum 90")]
    [InlineData("A1,30.5,1,EU,true,", 1, "age", "type", "t.csv row 1, column 'age': value '30.5' is not an integer")]
    [InlineData("A1,30,1,APAC,true,", 1, "region", "category", "t.csv row 1, column 'region': value 'APAC' is not one of: EU, US")]
    [InlineData("A1,30,1,EU,maybe,", 1, "flag", "type", "t.csv row 1, column 'flag': value 'maybe' is not a boolean (true/false, 1/0, yes/no)")]
    [InlineData("A1,30,1,EU,,", 1, "flag", "null", "t.csv row 1, column 'flag': the label is empty")]
    [InlineData("A1,,1,EU,true,", 1, "age", "null", "t.csv row 1, column 'age': value is empty but the column is not nullable")]
    [InlineData("A1,30,1,EU,true,2024/01/01", 1, "ts", "type", "t.csv row 1, column 'ts': value '2024/01/01' is not an ISO-8601 timestamp")]
    [InlineData("A1,30,1,EU,true", 1, null, "malformed", "t.csv: row 1 (line 2) has 5 fields; the header has 6")]
    [InlineData("A1,30,1,EU,true,,extra", 1, null, "malformed", "t.csv: row 1 (line 2) has 7 fields; the header has 6")]
    public async Task ValidateAsync_InvalidCell_ReportsRowColumnRuleAndMessage(string row, long expectedRow, string? column, string rule, string message)
    {
        var report = await Validate($"{Header}\n{row}\nA9,40,100,US,false,2024-01-01T10:00:00Z\n");

        var issue = Assert.Single(report.Issues);
        Assert.False(report.IsValid);
        Assert.Equal(1, report.IssueCount);
        Assert.Equal(expectedRow, issue.Row);
        Assert.Equal(column, issue.Column);
        Assert.Equal(rule, issue.Rule);
        Assert.Equal(message, issue.Message);
    }

    [Fact]
    public async Task ValidateAsync_DuplicateId_ReportsUniqueWithFirstRow()
    {
        var report = await Validate($"{Header}\nA1,30,1,EU,true,\nA2,30,1,EU,true,\nA1,31,2,US,false,\n");

        var issue = Assert.Single(report.Issues);
        Assert.Equal((3L, "id", "unique", "A1"), (issue.Row, issue.Column, issue.Rule, issue.Value));
        Assert.Equal("t.csv row 3, column 'id': value 'A1' also appears in row 1", issue.Message);
    }

    [Fact]
    public async Task ValidateAsync_AcceptedSpellings_AreValid()
    {
        var csv = $"{Header}\nA1, 30 ,1.5e3,EU,TRUE,2024-01-01\nA2,18,0,US,no,2024-01-01T10:00:00+02:00\nA3,90,,US,1,\nA4,40,7,EU,Yes,2024-02-29 08:00:00\n";

        var report = await Validate(csv);

        Assert.True(report.IsValid, string.Join("\n", report.Issues.Select(i => i.Message)));
        var age = report.Columns.Single(c => c.Name == "age");
        Assert.Equal((18.0, 90.0, 44.5), (age.Min!.Value, age.Max!.Value, age.Mean!.Value));
        Assert.Equal(0.25, report.Columns.Single(c => c.Name == "income").NullRate);
    }

    [Fact]
    public async Task ValidateAsync_HeaderProblems_ReportMissingExtraAndDuplicateColumns()
    {
        var report = await Validate("id,age,age,income,region,flag,note\nA1,30,31,1,EU,true,x\n");

        Assert.Contains(report.Issues, i => i is { Rule: "duplicate_column", Column: "age", Row: 0 }
            && i.Message == "t.csv: column 'age' appears more than once in the header (positions 2 and 3); only the first is checked");
        Assert.Contains(report.Issues, i => i is { Rule: "extra_column", Column: "note", Row: 0 }
            && i.Message == "t.csv: column 'note' is not in the data contract (set allow_extra_columns to accept extra columns)");
        Assert.Contains(report.Issues, i => i is { Rule: "missing_column", Column: "ts", Row: 0 }
            && i.Message == "t.csv: column 'ts' is missing from the header");
        Assert.Equal(3, report.IssueCount);
    }

    [Fact]
    public async Task ValidateAsync_ExtraColumnAllowed_IsValid()
    {
        var report = await Validate($"{Header},note\nA1,30,1,EU,true,,x\n", Contract with { AllowExtraColumns = true });

        Assert.True(report.IsValid);
    }

    [Fact]
    public async Task ValidateAsync_QuotedNewlineBomAndCrlf_AreHandled()
    {
        // The quoted field holds a CRLF, doubled quotes and a comma; unescaped it must be exactly this value.
        const string Unescaped = "Line one\r\nline \"two\", with comma";
        var contract = Contract with
        {
            Columns = [.. Contract.Columns.Select(c => c.Name == "region" ? c with { Values = [Unescaped, "EU"] } : c)],
        };
        var text = $"{Header}\r\nA1,30,1,\"Line one\r\nline \"\"two\"\", with comma\",true,\r\nA2,31,2,EU,false,\r\n";
        var bytes = Encoding.UTF8.GetPreamble().Concat(Encoding.UTF8.GetBytes(text)).ToArray();

        var report = await Validate(bytes, contract);

        Assert.True(report.IsValid, string.Join("\n", report.Issues.Select(i => i.Message)));
        Assert.Equal(2, report.Rows);
        Assert.Equal("id", report.Header[0]);
        Assert.Equal(bytes.Length, report.Bytes);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), report.Sha256);
        Assert.Equal(2, report.Columns.Single(c => c.Name == "region").DistinctValues);

        // With the exact string as the only allowed value, row 1 passes and row 2 (EU) is the one issue; any other
        // reading of the quoted field (quotes kept, CRLF turned to LF, cut at the comma) would fail row 1 too.
        var only = contract with
        {
            Columns = [.. contract.Columns.Select(c => c.Name == "region" ? c with { Values = [Unescaped] } : c)],
        };
        var strict = await Validate(bytes, only);
        var issue = Assert.Single(strict.Issues);
        Assert.Equal((2L, "region", "category", "EU"), (issue.Row, issue.Column, issue.Rule, issue.Value));
        foreach (var near in (string[])["Line one\nline \"two\", with comma", "Line one\r\nline \"\"two\"\", with comma", "Line one\r\nline \"two\""])
        {
            var wrong = await Validate(bytes, contract with
            {
                Columns = [.. contract.Columns.Select(c => c.Name == "region" ? c with { Values = [near, "EU"] } : c)],
            });
            Assert.Equal((1L, "region", "category"), (wrong.Issues.Single().Row, wrong.Issues.Single().Column, wrong.Issues.Single().Rule));
            Assert.Equal(Unescaped, wrong.Issues.Single().Value);
        }
    }

    [Fact]
    public async Task ValidateAsync_RowAfterQuotedNewline_ReportsDataRowNumber()
    {
        var report = await Validate($"{Header}\nA1,30,1,\"E\nU\",true,\nA2,abc,1,EU,true,\n");

        Assert.Equal(2, report.Issues.Count);
        Assert.Equal((1L, "region", "category"), (report.Issues[0].Row, report.Issues[0].Column, report.Issues[0].Rule));
        Assert.Equal((2L, "age", "type"), (report.Issues[1].Row, report.Issues[1].Column, report.Issues[1].Rule));
    }

    [Fact]
    public async Task ValidateAsync_EmptyFile_ReportsMalformed()
    {
        var report = await Validate([]);

        var issue = Assert.Single(report.Issues);
        Assert.Equal("malformed", issue.Rule);
        Assert.Equal("t.csv: the file is empty; expected a header and data rows", issue.Message);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData([])), report.Sha256);
    }

    [Fact]
    public async Task ValidateAsync_HeaderOnly_ReportsRowCount()
    {
        var report = await Validate($"{Header}\n");

        var issue = Assert.Single(report.Issues);
        Assert.Equal(("row_count", "t.csv: the file has a header but no data rows"), (issue.Rule, issue.Message));
    }

    [Fact]
    public async Task ValidateAsync_BinaryFile_ReportsMalformedWithoutThrowing()
    {
        var bytes = new byte[4096];
        new Random(1).NextBytes(bytes);
        bytes[10] = 0;

        var report = await Validate(bytes);

        Assert.False(report.IsValid);
        Assert.Contains(report.Issues, i => i.Rule == "malformed");
        Assert.Equal(4096, report.Bytes);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), report.Sha256);
    }

    [Fact]
    public async Task ValidateAsync_UnterminatedQuote_StopsWithMalformedAndStillHashesAllBytes()
    {
        var text = $"{Header}\nA1,30,1,EU,true,\nA2,30,1,\"EU,true,\n" + string.Concat(Enumerable.Repeat("A3,30,1,EU,true,\n", 20_000));
        var bytes = Encoding.UTF8.GetBytes(text);

        var report = await Validate(bytes, options: new ValidationOptions { MaxRowBytes = 64 * 1024 });

        var issue = Assert.Single(report.Issues, i => i.Rule == "malformed");
        Assert.Equal(2, issue.Row);
        Assert.Contains("longer than 65536 bytes", issue.Message, StringComparison.Ordinal);
        Assert.Equal(bytes.Length, report.Bytes);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), report.Sha256);
    }

    [Fact]
    public async Task ValidateAsync_RowCountAndNullRateBounds_AreChecked()
    {
        var contract = Contract with
        {
            MinRows = 5,
            Columns = [.. Contract.Columns.Select(c => c.Name == "income" ? c with { MaxNullRate = 0.25 } : c)],
        };

        var report = await Validate($"{Header}\nA1,30,,EU,true,\nA2,30,,EU,true,\nA3,30,1,EU,true,\n", contract);

        Assert.Contains(report.Issues, i => i is { Rule: "row_count", Row: 0 } && i.Message == "t.csv: 3 rows is fewer than min_rows 5");
        Assert.Contains(report.Issues, i => i is { Rule: "null_rate", Column: "income" }
            && i.Message == "t.csv, column 'income': null rate 0.6667 (2 of 3 rows) exceeds max_null_rate 0.25");
    }

    [Fact]
    public async Task ValidateAsync_ManyIssues_KeepsFirstMaxIssuesAndCountsAll()
    {
        var rows = string.Concat(Enumerable.Range(1, 50).Select(i => $"A{i},x,1,EU,true,\n"));

        var report = await Validate($"{Header}\n{rows}", options: new ValidationOptions { MaxIssues = 10 });

        Assert.Equal(10, report.Issues.Count);
        Assert.Equal(50, report.IssueCount);
        Assert.Equal(Enumerable.Range(1, 10).Select(i => (long)i), report.Issues.Select(i => i.Row));
        Assert.Equal(50, report.Columns.Single(c => c.Name == "age").TypeErrors);
        Assert.Equal(1.0, report.Columns.Single(c => c.Name == "age").TypeErrorRate);
        Assert.Equal("t.csv: invalid; 50 issue(s) (type 50) in 50 rows, " + report.Bytes + " bytes", report.Summary);
    }
}

public class DatasetValidatorStreamTests
{
    /// <summary>A stream that cannot seek, like a blob download.</summary>
    private sealed class ForwardOnlyStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;
        public override long Length => throw new NotSupportedException();
    }

    [Fact]
    public async Task ValidateAsync_ForwardOnlyStream_HashesAndFindsDuplicateIds()
    {
        var rows = string.Concat(Enumerable.Range(1, 3000).Select(i => $"A{i % 2999},{i}\n"));
        var bytes = Encoding.UTF8.GetBytes("id,n\n" + rows);
        var contract = new DataContract
        {
            Columns =
            [
                new ColumnSpec { Name = "id", Type = ColumnType.String, Unique = true },
                new ColumnSpec { Name = "n", Type = ColumnType.Integer },
            ],
        };
        using var stream = new ForwardOnlyStream(bytes);

        var report = await DatasetValidator.ValidateAsync(stream, "f.csv", contract);

        var issue = Assert.Single(report.Issues);
        Assert.Equal((3000L, "unique", "A1"), (issue.Row, issue.Rule, issue.Value));
        Assert.Equal("f.csv row 3000, column 'id': value 'A1' also appears in row 1", issue.Message);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), report.Sha256);
    }
}
