using System.Globalization;
using System.Text;
using MLOps.Core.Data;
using static MLOps.Core.Reports.Html;

namespace MLOps.Core.Reports;

/// <summary>The human report of a dataset validation: verdict, per-column signals (null, type-error and
/// out-of-bounds rates with an inline SVG bar chart each) and the first issues. Self-contained HTML.</summary>
public static class ValidationReportHtml
{
    private const int ChartWidth = 160;

    public static string Render(DatasetValidationReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var sb = new StringBuilder(16 * 1024);
        Open(sb, $"Dataset validation — {report.File}");
        sb.Append("<p class=\"").Append(report.IsValid ? "ok" : "bad").Append("\">").Append(report.IsValid ? "VALID" : "INVALID")
          .Append("</p><p>").Append(E(report.Summary)).Append("</p>\n<p class=\"muted\">")
          .Append(CultureInfo.InvariantCulture, $"{report.Rows} rows, {report.Bytes} bytes, sha256 ").Append(E(report.Sha256))
          .Append(CultureInfo.InvariantCulture, $", {report.IssueCount} issue(s)</p>\n");

        sb.Append("<h2>Columns</h2>\n<p class=\"legend muted\">rates:<span style=\"background:#8250df\"></span>null")
          .Append("<span style=\"background:#cf222e\"></span>type error<span style=\"background:#bf8700\"></span>out of bounds</p>\n")
          .Append("<table><tr><th>column</th><th>type</th><th>null rate</th><th>type error rate</th><th>out-of-bounds rate</th><th>rates</th>")
          .Append("<th>min</th><th>max</th><th>mean</th><th>distinct</th></tr>\n");
        foreach (var c in report.Columns)
        {
            sb.Append("<tr><td>").Append(E(c.Name)).Append("</td><td>").Append(E(c.Type.ToString().ToLowerInvariant())).Append("</td>")
              .Append("<td class=\"num\">").Append(P(c.NullRate)).Append(CultureInfo.InvariantCulture, $" ({c.Nulls})</td>")
              .Append("<td class=\"num\">").Append(P(c.TypeErrorRate)).Append(CultureInfo.InvariantCulture, $" ({c.TypeErrors})</td>")
              .Append("<td class=\"num\">").Append(P(c.OutOfBoundsRate)).Append(CultureInfo.InvariantCulture, $" ({c.OutOfBounds})</td><td>");
            RateChart(sb, c.NullRate, c.TypeErrorRate, c.OutOfBoundsRate);
            sb.Append("</td><td class=\"num\">").Append(c.Min is { } min ? N(min) : "–")
              .Append("</td><td class=\"num\">").Append(c.Max is { } max ? N(max) : "–")
              .Append("</td><td class=\"num\">").Append(c.Mean is { } mean ? N(mean) : "–")
              .Append("</td><td class=\"num\">").Append(c.DistinctValues is { } d ? d.ToString(CultureInfo.InvariantCulture) : "–")
              .Append("</td></tr>\n");
        }
        sb.Append("</table>\n");

        ReferenceSection(sb, report);
        Duplicates(sb, report);

        sb.Append("<h2>First issues</h2>\n");
        if (report.Issues.Count == 0)
        {
            sb.Append("<p class=\"muted\">none</p>\n");
        }
        else
        {
            sb.Append("<table><tr><th>row</th><th>column</th><th>rule</th><th>value</th><th>message</th></tr>\n");
            foreach (var i in report.Issues)
            {
                sb.Append("<tr><td class=\"num\">").Append(i.Row.ToString(CultureInfo.InvariantCulture)).Append("</td><td>").Append(E(i.Column))
                  .Append("</td><td>").Append(E(i.Rule)).Append("</td><td>").Append(E(Truncate(i.Value))).Append("</td><td>").Append(E(i.Message))
                  .Append("</td></tr>\n");
            }
            sb.Append("</table>\n");
            if (report.IssueCount > report.Issues.Count)
            {
                sb.Append(CultureInfo.InvariantCulture, $"<p class=\"muted\">… {report.IssueCount - report.Issues.Count} more issue(s) in the JSON report's count</p>\n");
            }
        }
        Close(sb);
        return sb.ToString();
    }

    /// <summary>The duplicate-row signal: count, rate against the contract's limit, compared columns, first pairs;
    /// then any warnings.</summary>
    private static void Duplicates(StringBuilder sb, DatasetValidationReport report)
    {
        if (report.Duplicates is { } d)
        {
            sb.Append("<h2>Duplicate rows</h2>\n<p>")
              .Append(CultureInfo.InvariantCulture, $"{d.Count}{(d.Complete ? "" : " or more")} duplicate row(s), rate ").Append(P(d.Rate))
              .Append(d.MaxRate is { } max ? $" (max_duplicate_rate {N(max)})" : " (no max_duplicate_rate: a warning)").Append("; ");
            RateChart(sb, 0, 0, d.Rate);
            sb.Append("</p>\n<p class=\"muted\">compared: ").Append(E(string.Join(", ", d.Columns))).Append(" (unique columns are not compared)</p>\n");
            if (d.Examples.Count > 0)
            {
                sb.Append("<table><tr><th>row</th><th>duplicates row</th></tr>\n");
                foreach (var pair in d.Examples)
                {
                    sb.Append(CultureInfo.InvariantCulture, $"<tr><td class=\"num\">{pair.Row}</td><td class=\"num\">{pair.FirstRow}</td></tr>\n");
                }
                sb.Append("</table>\n");
            }
        }
        if (report.Warnings.Count > 0)
        {
            sb.Append("<h2>Warnings</h2>\n<ul>\n");
            foreach (var warning in report.Warnings)
            {
                sb.Append("<li>").Append(E(warning)).Append("</li>\n");
            }
            sb.Append("</ul>\n");
        }
    }

    /// <summary>Signals against the reference (the production version's training data): per category column the
    /// unseen-category rate and the category shift (Jensen–Shannon distance, PSI) with a bar each; per numeric column
    /// the reference range and the share of values outside it.</summary>
    private static void ReferenceSection(StringBuilder sb, DatasetValidationReport report)
    {
        if (report.Reference is null)
        {
            return;
        }
        sb.Append("<h2>Against the reference</h2>\n<p class=\"muted\">reference: ").Append(E(report.Reference))
          .Append(report.ReferenceRows is { } rows ? string.Create(CultureInfo.InvariantCulture, $", {rows} rows") : "").Append("</p>\n");
        var categorical = report.Columns.Where(c => c.CategoryShift is not null || c.UnseenCategoryRate is not null).ToList();
        var numeric = report.Columns.Where(c => c.OutOfReferenceBoundsRate is not null).ToList();
        if (categorical.Count == 0 && numeric.Count == 0)
        {
            sb.Append("<p class=\"muted\">no column compared</p>\n");
            return;
        }
        if (categorical.Count > 0)
        {
            sb.Append("<p class=\"legend muted\"><span style=\"background:#cf222e\"></span>unseen-category rate")
              .Append("<span style=\"background:#bf8700\"></span>category shift (Jensen–Shannon, 0–1)</p>\n")
              .Append("<table><tr><th>column</th><th>unseen-category rate</th><th>unseen categories</th><th>category shift (JS)</th><th>PSI</th><th>chart</th></tr>\n");
            foreach (var c in categorical)
            {
                sb.Append("<tr><td>").Append(E(c.Name)).Append("</td><td class=\"num\">").Append(c.UnseenCategoryRate is { } u ? P(u) : "–")
                  .Append(CultureInfo.InvariantCulture, $" ({c.UnseenCategoryValues ?? 0})</td><td>").Append(E(string.Join(", ", c.UnseenCategories ?? [])))
                  .Append("</td><td class=\"num\">").Append(c.CategoryShift is { } js ? N(js) : "–")
                  .Append("</td><td class=\"num\">").Append(c.CategoryPsi is { } psi ? N(psi) : "–").Append("</td><td>");
                RateChart(sb, 0, c.UnseenCategoryRate ?? 0, c.CategoryShift ?? 0);
                sb.Append("</td></tr>\n");
            }
            sb.Append("</table>\n");
        }
        if (numeric.Count > 0)
        {
            sb.Append("<table><tr><th>column</th><th>reference min</th><th>reference max</th><th>outside the reference range</th><th>chart</th></tr>\n");
            foreach (var c in numeric)
            {
                sb.Append("<tr><td>").Append(E(c.Name)).Append("</td><td class=\"num\">").Append(c.ReferenceMin is { } min ? N(min) : "–")
                  .Append("</td><td class=\"num\">").Append(c.ReferenceMax is { } max ? N(max) : "–")
                  .Append("</td><td class=\"num\">").Append(P(c.OutOfReferenceBoundsRate ?? 0)).Append(CultureInfo.InvariantCulture, $" ({c.OutOfReferenceBounds ?? 0})</td><td>");
                RateChart(sb, 0, 0, c.OutOfReferenceBoundsRate ?? 0);
                sb.Append("</td></tr>\n");
            }
            sb.Append("</table>\n");
        }
    }

    private static string? Truncate(string? value) => value is { Length: > 200 } ? value[..200] + "…" : value;

    /// <summary>Three horizontal bars (null, type error, out of bounds), each scaled to 0–100 %.</summary>
    private static void RateChart(StringBuilder sb, double nullRate, double typeRate, double boundsRate)
    {
        sb.Append(CultureInfo.InvariantCulture, $"<svg class=\"rates\" width=\"{ChartWidth}\" height=\"30\" viewBox=\"0 0 {ChartWidth} 30\" role=\"img\">")
          .Append(CultureInfo.InvariantCulture, $"<rect x=\"0\" y=\"0\" width=\"{ChartWidth}\" height=\"30\" fill=\"#f6f8fa\"/>");
        Bar(sb, 1, nullRate, "#8250df");
        Bar(sb, 11, typeRate, "#cf222e");
        Bar(sb, 21, boundsRate, "#bf8700");
        sb.Append("</svg>");
    }

    private static void Bar(StringBuilder sb, int y, double rate, string color)
    {
        double w = double.IsFinite(rate) ? Math.Clamp(rate, 0, 1) * ChartWidth : 0;
        if (w > 0 && w < 1) w = 1;
        sb.Append("<rect x=\"0\" y=\"").Append(y).Append("\" width=\"").Append(C(w)).Append("\" height=\"8\" fill=\"").Append(color).Append("\"/>");
    }
}
