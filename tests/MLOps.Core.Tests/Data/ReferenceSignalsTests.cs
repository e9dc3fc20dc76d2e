using System.Globalization;
using System.Text;
using MLOps.Core.Data;
using MLOps.Core.Drift;
using MLOps.Core.Reports;
using MLOps.Core.Workflows;

namespace MLOps.Core.Tests.Data;

public class ReferenceSignalsTests
{
    private const string Yaml = """
        model:
          name: m
          label: y
          id: id
        data:
          columns:
            - { name: id, type: string, unique: true }
            - { name: region, type: category }
            - { name: plan, type: category, values: [basic, plus, pro] }
            - { name: member, type: boolean }
            - { name: income, type: number }
            - { name: y, type: boolean }
        """;

    private static readonly WorkflowDefinition Workflow = WorkflowParser.Parse(Yaml, "t.yaml");

    /// <summary>Reference: region EU/US half and half, plan basic/plus, member spelled 1/0, income 0–100.</summary>
    private static string ReferenceCsv()
    {
        var sb = new StringBuilder("id,region,plan,member,income,y\n");
        for (int i = 0; i < 100; i++)
        {
            sb.Append(CultureInfo.InvariantCulture, $"R{i},{(i % 2 == 0 ? "EU" : "US")},{(i % 4 == 0 ? "plus" : "basic")},{i % 2},{i + 0.5},{(i % 3 == 0 ? "true" : "false")}\n");
        }
        return sb.ToString();
    }

    /// <summary>Current: 40 EU, 40 US, 20 APAC (unseen); plan gains 'pro' (allowed by the contract, never in the
    /// reference) on 10 rows; member spelled yes/no; income 90–189 (90 of 100 above the reference max 99.5).</summary>
    private static string CurrentCsv()
    {
        var sb = new StringBuilder("id,region,plan,member,income,y\n");
        for (int i = 0; i < 100; i++)
        {
            var region = i < 40 ? "EU" : i < 80 ? "US" : "APAC";
            var plan = i < 10 ? "pro" : i % 4 == 0 ? "plus" : "basic";
            sb.Append(CultureInfo.InvariantCulture, $"C{i},{region},{plan},{(i % 2 == 0 ? "yes" : "no")},{90 + i},{(i % 3 == 0 ? "true" : "false")}\n");
        }
        return sb.ToString();
    }

    private static DatasetProfile Reference() => ProfileBuilder.FromCsv(new MemoryStream(Encoding.UTF8.GetBytes(ReferenceCsv())), Workflow);

    private static async Task<DatasetValidationReport> ValidateWithReference(string csv, DataContract contract)
    {
        var bytes = Encoding.UTF8.GetBytes(csv);
        using var stream = new MemoryStream(bytes);
        var report = await DatasetValidator.ValidateDatasetAsync(stream, "current.csv", contract);
        stream.Position = 0;
        return await ReferenceSignals.ApplyAsync(report, stream, contract, Reference(), "m v1 (production)");
    }

    /// <summary>Jensen–Shannon distance, base 2, written out from its definition (independent of DriftStatistics).</summary>
    private static double JensenShannon(double[] p, double[] q)
    {
        double sp = p.Sum(), sq = q.Sum(), d = 0;
        for (int i = 0; i < p.Length; i++)
        {
            double a = p[i] / sp, b = q[i] / sq, m = (a + b) / 2;
            if (a > 0) d += 0.5 * a * Math.Log2(a / m);
            if (b > 0) d += 0.5 * b * Math.Log2(b / m);
        }
        return Math.Sqrt(d);
    }

    [Fact]
    public async Task ApplyAsync_NewCategory_ReportsUnseenRateShiftAndPsi_AsWarningsWithoutBounds()
    {
        var report = await ValidateWithReference(CurrentCsv(), Workflow.Data);

        Assert.True(report.IsValid, report.Summary);
        Assert.Equal("m v1 (production)", report.Reference);
        Assert.Equal(100, report.ReferenceRows);
        var region = report.Columns.Single(c => c.Name == "region");
        Assert.Equal(20, region.UnseenCategoryValues);
        Assert.Equal(0.2, region.UnseenCategoryRate);
        Assert.Equal(["APAC"], region.UnseenCategories!);
        // Union in key order APAC, EU, US: reference (0, 50, 50), current (20, 40, 40).
        Assert.Equal(JensenShannon([0, 50, 50], [20, 40, 40]), region.CategoryShift!.Value, 12);
        double psi = ((0.2 - 1e-4) * Math.Log(0.2 / 1e-4)) + (2 * (0.4 - 0.5) * Math.Log(0.4 / 0.5));
        Assert.Equal(psi, region.CategoryPsi!.Value, 12);

        // 'pro' is allowed by the contract but the reference never saw it.
        var plan = report.Columns.Single(c => c.Name == "plan");
        Assert.Equal(0.1, plan.UnseenCategoryRate);
        Assert.Equal(["pro"], plan.UnseenCategories!);

        // Booleans compare by value: 1/0 in the reference, yes/no now.
        var member = report.Columns.Single(c => c.Name == "member");
        Assert.Equal(0, member.UnseenCategoryValues);
        Assert.Equal(0, member.CategoryShift!.Value, 12);

        // Unbounded: an unseen category and a shift of 0.1 or more are warnings naming file, column and value.
        Assert.Contains(report.Warnings, w => w.StartsWith("current.csv, column 'region': 0.2 of 100 non-null values (20) have a category the reference never saw ('APAC')", StringComparison.Ordinal));
        Assert.Contains(report.Warnings, w => w.StartsWith("current.csv, column 'region': category shift", StringComparison.Ordinal));
        Assert.DoesNotContain(report.Warnings, w => w.Contains("'member'", StringComparison.Ordinal));
        // The label and the id are not features: not compared.
        Assert.Null(report.Columns.Single(c => c.Name == "y").CategoryShift);
        Assert.Null(report.Columns.Single(c => c.Name == "id").UnseenCategoryRate);
    }

    [Fact]
    public async Task ApplyAsync_NumericColumn_ReportsRateOutsideTheReferenceRange_ErrorOnlyWhenBounded()
    {
        var report = await ValidateWithReference(CurrentCsv(), Workflow.Data);
        var income = report.Columns.Single(c => c.Name == "income");
        Assert.Equal((0.5, 99.5), (income.ReferenceMin, income.ReferenceMax));
        Assert.Equal(90, income.OutOfReferenceBounds); // 90 … 189 against [0.5, 99.5]: 100 … 189 lie above.
        Assert.Equal(0.9, income.OutOfReferenceBoundsRate);
        Assert.True(report.IsValid);

        var bounded = Workflow.Data with { MaxOutOfReferenceRate = 0.5 };
        var failed = await ValidateWithReference(CurrentCsv(), bounded);
        Assert.False(failed.IsValid);
        var issue = Assert.Single(failed.Issues);
        Assert.Equal(("income", "reference_bounds"), (issue.Column, issue.Rule));
        Assert.Equal("current.csv, column 'income': 0.9 of 100 non-null values (90) are outside the reference range [0.5, 99.5], above max_out_of_reference_rate 0.5", issue.Message);
        Assert.Equal(1, failed.IssueCount);
        Assert.Contains("reference_bounds 1", failed.Summary, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ApplyAsync_BoundsFromTheContract_FailTheDataset_ColumnOverridesData()
    {
        var yaml = Yaml.Replace("  columns:", "  max_unseen_category_rate: 0.15\n  columns:", StringComparison.Ordinal)
            .Replace("{ name: plan, type: category, values: [basic, plus, pro] }", "{ name: plan, type: category, values: [basic, plus, pro], max_unseen_category_rate: 0.5 }", StringComparison.Ordinal)
            .Replace("{ name: member, type: boolean }", "{ name: member, type: boolean, max_category_shift: 0.01 }", StringComparison.Ordinal)
            .Replace("{ name: region, type: category }", "{ name: region, type: category, max_category_shift: 0.05 }", StringComparison.Ordinal);
        var contract = WorkflowParser.Parse(yaml, "t.yaml").Data;
        Assert.Equal(0.15, contract.MaxUnseenCategoryRate);
        Assert.Equal(0.05, contract.Columns.Single(c => c.Name == "region").MaxCategoryShift);

        var report = await ValidateWithReference(CurrentCsv(), contract);

        Assert.False(report.IsValid);
        var issues = report.Issues.Select(i => (i.Column, i.Rule)).ToList();
        Assert.Equal([("region", "unseen_category"), ("region", "category_shift")], issues);
        Assert.Contains("above max_unseen_category_rate 0.15", report.Issues[0].Message, StringComparison.Ordinal);
        Assert.Contains("above max_category_shift 0.05", report.Issues[1].Message, StringComparison.Ordinal);
        // plan (0.1 unseen) is under its own 0.5 and member does not shift at all: no issue; bounded signals raise no
        // warning (plan's shift, unbounded, still does).
        Assert.DoesNotContain(report.Warnings, w => w.Contains("'region'", StringComparison.Ordinal));
        Assert.DoesNotContain(report.Warnings, w => w.Contains("'plan'", StringComparison.Ordinal) && w.Contains("never saw", StringComparison.Ordinal));
        Assert.Contains(report.Warnings, w => w.StartsWith("current.csv, column 'plan': category shift", StringComparison.Ordinal));
        Assert.StartsWith("current.csv: invalid; 2 issue(s) against the reference m v1 (production)", report.Summary, StringComparison.Ordinal);

        var html = ValidationReportHtml.Render(report);
        Assert.Contains("Against the reference", html, StringComparison.Ordinal);
        Assert.Contains("APAC", html, StringComparison.Ordinal);
        Assert.Contains("unseen_category", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ApplyAsync_Parquet_GivesTheSameSignalsAsCsv()
    {
        var csvReport = await ValidateWithReference(CurrentCsv(), Workflow.Data);
        using var parquet = new MemoryStream();
        await ParquetConversion.CsvToParquetAsync(new StringReader(CurrentCsv()), parquet, Workflow.Data, rowGroupRows: 30);
        // A forward-only stream, as a blob download is.
        using var forward = new ForwardOnlyStream(parquet.ToArray());
        using var seekable = new MemoryStream(parquet.ToArray());
        var report = await DatasetValidator.ValidateDatasetAsync(seekable, "current.parquet", Workflow.Data);
        Assert.Equal(DatasetFormat.Parquet, report.Format);

        var withReference = await ReferenceSignals.ApplyAsync(report, forward, Workflow.Data, Reference(), "ref");

        foreach (var name in (string[])["region", "plan", "member", "income"])
        {
            var a = csvReport.Columns.Single(c => c.Name == name);
            var b = withReference.Columns.Single(c => c.Name == name);
            Assert.Equal((a.UnseenCategoryValues, a.CategoryShift, a.CategoryPsi, a.OutOfReferenceBounds), (b.UnseenCategoryValues, b.CategoryShift, b.CategoryPsi, b.OutOfReferenceBounds));
        }
        Assert.Equal(20, withReference.Columns.Single(c => c.Name == "region").UnseenCategoryValues);
    }

    [Fact]
    public async Task ApplyAsync_MalformedFile_IsLeftAsItIs()
    {
        // One good row, then a line longer than the validator's row limit: reading stops with a malformed issue.
        var csv = "id,region,plan,member,income,y\nC1,APAC,basic,yes,1,true\nC2," + new string('a', 2 * 1024 * 1024);
        var report = await ValidateWithReference(csv, Workflow.Data);
        Assert.Equal(1, report.Rows);
        Assert.Contains(report.Issues, i => i.Rule == "malformed");
        Assert.All(report.Columns, c => Assert.Null(c.CategoryShift));
        Assert.Equal("m v1 (production)", report.Reference);
    }

    [Fact]
    public void ProfileBuilder_KeepsExactMinAndMax_WhenValuesAreSampled()
    {
        var sb = new StringBuilder("id,region,plan,member,income,y\n");
        for (int i = 0; i < 1000; i++)
        {
            sb.Append(CultureInfo.InvariantCulture, $"R{i},EU,basic,1,{(i * 7919) % 1000},true\n");
        }
        var profile = ProfileBuilder.FromCsv(new MemoryStream(Encoding.UTF8.GetBytes(sb.ToString())), Workflow, maxValuesPerFeature: 10);
        var income = profile.Features.Single(f => f.Name == "income");
        Assert.Equal(10, income.Values.Length);
        Assert.Equal((0d, 999d), (income.Min, income.Max));

        var merged = ProfileBuilder.Merge([profile, profile with { Features = [income with { Min = -5, Max = 3, Values = [1, 2] }] }], maxValuesPerFeature: 10);
        Assert.Equal((-5d, 999d), (merged.Features.Single(f => f.Name == "income").Min, merged.Features.Single(f => f.Name == "income").Max));
    }

    private sealed class ForwardOnlyStream(byte[] bytes) : Stream
    {
        private readonly MemoryStream _inner = new(bytes);
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, count);
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
