using System.Text.RegularExpressions;
using MLOps.Core.Data;
using MLOps.Core.Drift;
using MLOps.Core.Monitoring;
using MLOps.Core.Reports;
using MLOps.Core.Workflows;

namespace MLOps.Core.Tests.Reports;

public sealed class HtmlReportTests
{
    private const string Evil = "<script>alert('x')</script>";

    private static DatasetProfile Profiles(bool shifted)
    {
        var rng = new Random(shifted ? 2 : 1);
        return new DatasetProfile
        {
            Rows = 2000,
            Features =
            [
                new FeatureProfile { Name = "income", Kind = FeatureKind.Numeric, Rows = 2000, Values = [.. Enumerable.Range(0, 2000).Select(_ => rng.NextDouble() + (shifted ? 0.5 : 0))] },
                new FeatureProfile { Name = "region", Kind = FeatureKind.Categorical, Rows = 2000, Counts = new Dictionary<string, long> { ["EU"] = 900, ["US"] = 800, [Evil] = shifted ? 300 : 5 } },
                new FeatureProfile { Name = "a\"b&c", Kind = FeatureKind.Numeric, Rows = 2000, Values = [1, 2, 3, 4, 5, 6, 7, 8] },
            ],
        };
    }

    [Fact]
    public void DriftReport_has_one_histogram_per_feature_and_escapes_values()
    {
        var reference = Profiles(false);
        var current = Profiles(true);
        var report = DriftAnalyzer.Compare(reference, current, new MonitoringSpec { MinRows = 10 });
        var audit = new DriftAuditRecord
        {
            AuditId = "a1", Model = "credit-risk", Version = 3, Report = report,
            WindowStart = DateTimeOffset.UnixEpoch, WindowEnd = DateTimeOffset.UnixEpoch.AddDays(1),
        };
        var history = new Dictionary<string, IReadOnlyList<double>> { ["income"] = [0.01, 0.02, 0.5], ["region"] = [0.03] };

        var html = DriftReportHtml.Render(audit, reference, current, history);

        Assert.StartsWith("<!DOCTYPE html>", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("&lt;script&gt;", html, StringComparison.Ordinal);
        Assert.Contains("a&quot;b&amp;c", html, StringComparison.Ordinal);
        Assert.Equal(report.Features.Count, Regex.Count(html, "<svg class=\"hist\""));
        Assert.Equal(2, Regex.Count(html, "<svg class=\"spark\""));
        Assert.DoesNotContain("http://", html.Replace("http-equiv", "", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.DoesNotContain("https://", html, StringComparison.Ordinal);
        foreach (var f in report.Features)
        {
            foreach (var metric in f.Metrics.Keys) Assert.Contains($"<td>{metric}</td>", html, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void ValidationReport_lists_columns_with_charts_and_escapes_issue_values()
    {
        var report = new DatasetValidationReport
        {
            File = "up<load>.csv",
            IsValid = false,
            Rows = 10,
            Sha256 = "ab",
            Columns =
            [
                new ColumnSummary { Name = "age", Type = ColumnType.Integer, Nulls = 1, NullRate = 0.1, OutOfBounds = 2, OutOfBoundsRate = 0.2, Min = 1, Max = 99, Mean = 40 },
                new ColumnSummary { Name = "region", Type = ColumnType.Category, TypeErrors = 1, TypeErrorRate = 0.1, DistinctValues = 4 },
            ],
            Issues = [new ValidationIssue(3, "region", "allowed_values", Evil, $"value '{Evil}' is not allowed")],
            IssueCount = 5,
            Summary = "3 issue kinds",
        };

        var html = ValidationReportHtml.Render(report);

        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("up&lt;load&gt;.csv", html, StringComparison.Ordinal);
        Assert.Equal(2, Regex.Count(html, "<svg class=\"rates\""));
        Assert.Contains("20 %", html, StringComparison.Ordinal);
        Assert.Contains("allowed_values", html, StringComparison.Ordinal);
        Assert.Contains("4 more issue(s)", html, StringComparison.Ordinal);
    }
}
