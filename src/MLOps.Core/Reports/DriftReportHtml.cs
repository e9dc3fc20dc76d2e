using System.Globalization;
using System.Text;
using MLOps.Core.Drift;
using MLOps.Core.Monitoring;
using static MLOps.Core.Reports.Html;

namespace MLOps.Core.Reports;

/// <summary>
/// The human report of a drift audit: the verdict, then per feature an inline SVG histogram of reference vs
/// current (numeric: 20 equal-width bins over both samples' range; categorical: the 20 most frequent categories),
/// every metric value, and a sparkline of the deciding metric's history with its threshold. The model's output
/// (the prediction feature) is marked "model output"; notes say what was not judged. Self-contained HTML.
/// </summary>
public static class DriftReportHtml
{
    private const int Bins = 20;
    private const int Width = 420, Height = 120;
    private const string RefColor = "#0969da", CurColor = "#fb8500";

    /// <summary>Renders an audit; <paramref name="history"/> maps a feature to its deciding metric's past values, oldest first.</summary>
    public static string Render(DriftAuditRecord audit, DatasetProfile? reference, DatasetProfile? current,
        IReadOnlyDictionary<string, IReadOnlyList<double>>? history = null)
    {
        ArgumentNullException.ThrowIfNull(audit);
        string title = string.Create(CultureInfo.InvariantCulture,
            $"Drift audit {audit.AuditId} — {audit.Model} v{audit.Version}, window {audit.WindowStart:u} to {audit.WindowEnd:u}");
        return Render(audit.Report, reference, current, history, title);
    }

    public static string Render(DriftReport report, DatasetProfile? reference, DatasetProfile? current,
        IReadOnlyDictionary<string, IReadOnlyList<double>>? history = null, string title = "Drift report")
    {
        ArgumentNullException.ThrowIfNull(report);
        var refByName = reference?.Features.ToDictionary(f => f.Name, StringComparer.Ordinal) ?? [];
        var curByName = current?.Features.ToDictionary(f => f.Name, StringComparer.Ordinal) ?? [];
        var histograms = report.Features.Select(f => HistogramSvg(refByName.GetValueOrDefault(f.Feature), curByName.GetValueOrDefault(f.Feature), f.Kind)).ToList();
        return RenderWithHistograms(report, histograms, history, title);
    }

    /// <summary>Renders an audit with histograms drawn beforehand by <see cref="HistogramSvg"/>, one per report
    /// feature in report order (so the profiles need not be held while rendering).</summary>
    public static string RenderWithHistograms(DriftAuditRecord audit, IReadOnlyList<string> histograms,
        IReadOnlyDictionary<string, IReadOnlyList<double>>? history = null)
    {
        ArgumentNullException.ThrowIfNull(audit);
        string title = string.Create(CultureInfo.InvariantCulture,
            $"Drift audit {audit.AuditId} — {audit.Model} v{audit.Version}, window {audit.WindowStart:u} to {audit.WindowEnd:u}");
        return RenderWithHistograms(audit.Report, histograms, history, title);
    }

    /// <summary>Renders a report with histograms drawn beforehand, one per report feature in report order.</summary>
    public static string RenderWithHistograms(DriftReport report, IReadOnlyList<string> histograms,
        IReadOnlyDictionary<string, IReadOnlyList<double>>? history = null, string title = "Drift report")
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(histograms);
        if (histograms.Count != report.Features.Count)
            throw new ArgumentException($"{histograms.Count} histograms for {report.Features.Count} features", nameof(histograms));
        var sb = new StringBuilder(32 * 1024);
        Open(sb, title);
        sb.Append("<p class=\"").Append(report.Alert || report.DriftedFeatures > 0 ? "bad" : "ok").Append("\">").Append(E(report.Summary)).Append("</p>\n")
          .Append(CultureInfo.InvariantCulture, $"<p class=\"muted\">reference rows {report.ReferenceRows}, current rows {report.CurrentRows}, judged {(report.Judged ? "yes" : "no")}, ")
          .Append(CultureInfo.InvariantCulture, $"drifted features {report.DriftedFeatures} of {report.Features.Count}, dataset drift {(report.DatasetDrift ? "yes" : "no")}, ")
          .Append(CultureInfo.InvariantCulture, $"drifted windows {report.WindowsDrifted}, alert {(report.Alert ? "yes" : "no")}, ")
          .Append(CultureInfo.InvariantCulture, $"prediction drift {(report.PredictionDrift is { } pd ? pd ? "yes" : "no" : "not judged")}</p>\n")
          .Append("<p class=\"legend muted\"><span style=\"background:").Append(RefColor).Append("\"></span>reference<span style=\"background:")
          .Append(CurColor).Append("\"></span>current</p>\n");

        foreach (var note in report.Notes)
        {
            sb.Append("<p class=\"muted note\">").Append(E(note)).Append("</p>\n");
        }

        sb.Append("<table><tr><th>feature</th><th>kind</th><th>method</th><th>value</th><th>threshold</th><th>drifted</th></tr>\n");
        foreach (var f in report.Features)
        {
            sb.Append("<tr><td><a href=\"#f-").Append(E(Anchor(f.Feature))).Append("\">").Append(E(f.Feature)).Append("</a></td><td>")
              .Append(E(f.Kind.ToString().ToLowerInvariant())).Append(f.IsPrediction ? " · model output" : "").Append("</td><td>").Append(E(f.Method)).Append("</td><td class=\"num\">").Append(N(f.Value))
              .Append("</td><td class=\"num\">").Append(N(f.Threshold)).Append("</td><td class=\"").Append(f.Drifted ? "bad\">yes" : "ok\">no").Append("</td></tr>\n");
        }
        sb.Append("</table>\n");

        for (int i = 0; i < report.Features.Count; i++)
        {
            var f = report.Features[i];
            sb.Append("<h2 id=\"f-").Append(E(Anchor(f.Feature))).Append('"').Append(f.IsPrediction ? " class=\"prediction\"" : "").Append('>')
              .Append(E(f.Feature)).Append(f.IsPrediction ? " (model output)" : "").Append(" <span class=\"")
              .Append(f.Drifted ? "bad\">drifted" : "ok\">stable").Append("</span></h2>\n");
            sb.Append(histograms[i]);
            sb.Append("<table><tr><th>metric</th><th>value</th></tr>\n");
            foreach (var (name, value) in f.Metrics.OrderBy(m => m.Key, StringComparer.Ordinal))
            {
                sb.Append("<tr><td>").Append(E(name)).Append("</td><td class=\"num\">").Append(N(value, "G6")).Append("</td></tr>\n");
            }
            sb.Append("</table>\n");
            if (history?.GetValueOrDefault(f.Feature) is { Count: > 0 } points)
            {
                sb.Append("<p class=\"muted\">").Append(E(f.Method)).Append(" over the last ").Append(points.Count.ToString(CultureInfo.InvariantCulture))
                  .Append(" audits (dashed: threshold)</p>");
                Sparkline(sb, points, f.Threshold);
            }
        }
        Close(sb);
        return sb.ToString();
    }

    private static string Anchor(string name) => string.Concat(name.Select(c => char.IsAsciiLetterOrDigit(c) ? c : '_'));

    /// <summary>The histogram of one feature (an SVG element): paired bars, each side normalized to shares so windows
    /// of any size compare. A null profile draws as empty.</summary>
    public static string HistogramSvg(FeatureProfile? reference, FeatureProfile? current, FeatureKind kind)
    {
        var sb = new StringBuilder(4096);
        Histogram(sb, reference, current, kind);
        return sb.ToString();
    }

    private static void Histogram(StringBuilder sb, FeatureProfile? reference, FeatureProfile? current, FeatureKind kind)
    {
        string[] labels;
        double[] r, c;
        if (kind == FeatureKind.Numeric)
        {
            var rv = reference?.Values ?? [];
            var cv = current?.Values ?? [];
            double lo = double.PositiveInfinity, hi = double.NegativeInfinity;
            foreach (var v in rv) { if (v < lo) lo = v; if (v > hi) hi = v; }
            foreach (var v in cv) { if (v < lo) lo = v; if (v > hi) hi = v; }
            if (!double.IsFinite(lo))
            {
                (lo, hi) = (0, 1);
            }
            if (hi <= lo) hi = lo + 1;
            r = Bin(rv, lo, hi);
            c = Bin(cv, lo, hi);
            labels = [N(lo), N(hi)];
        }
        else
        {
            var rc = reference?.Counts ?? new Dictionary<string, long>();
            var cc = current?.Counts ?? new Dictionary<string, long>();
            var keys = rc.Keys.Union(cc.Keys, StringComparer.Ordinal)
                .OrderByDescending(k => rc.GetValueOrDefault(k) + cc.GetValueOrDefault(k)).ThenBy(k => k, StringComparer.Ordinal).Take(Bins).ToArray();
            r = Shares(keys.Select(k => (double)rc.GetValueOrDefault(k)).ToArray(), rc.Values.Sum());
            c = Shares(keys.Select(k => (double)cc.GetValueOrDefault(k)).ToArray(), cc.Values.Sum());
            labels = keys;
        }

        int n = Math.Max(r.Length, 1);
        double max = Math.Max(r.DefaultIfEmpty(0).Max(), c.DefaultIfEmpty(0).Max());
        if (max <= 0) max = 1;
        const int plotH = Height - 24;
        double slot = (double)Width / n, bar = slot * 0.42;
        sb.Append(CultureInfo.InvariantCulture, $"<svg class=\"hist\" width=\"{Width}\" height=\"{Height}\" viewBox=\"0 0 {Width} {Height}\" role=\"img\">")
          .Append(CultureInfo.InvariantCulture, $"<line x1=\"0\" y1=\"{plotH}\" x2=\"{Width}\" y2=\"{plotH}\" stroke=\"#d0d7de\"/>");
        for (int i = 0; i < r.Length; i++)
        {
            double rh = r[i] / max * (plotH - 4), ch = c[i] / max * (plotH - 4);
            double x = i * slot + slot * 0.08;
            sb.Append("<rect x=\"").Append(C(x)).Append("\" y=\"").Append(C(plotH - rh)).Append("\" width=\"").Append(C(bar)).Append("\" height=\"").Append(C(rh))
              .Append("\" fill=\"").Append(RefColor).Append("\"><title>reference ").Append(P(r[i])).Append("</title></rect>");
            sb.Append("<rect x=\"").Append(C(x + bar)).Append("\" y=\"").Append(C(plotH - ch)).Append("\" width=\"").Append(C(bar)).Append("\" height=\"").Append(C(ch))
              .Append("\" fill=\"").Append(CurColor).Append("\"><title>current ").Append(P(c[i])).Append("</title></rect>");
        }
        if (kind == FeatureKind.Numeric)
        {
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"0\" y=\"{Height - 6}\" font-size=\"11\">").Append(E(labels[0])).Append("</text>")
              .Append(CultureInfo.InvariantCulture, $"<text x=\"{Width}\" y=\"{Height - 6}\" font-size=\"11\" text-anchor=\"end\">").Append(E(labels[1])).Append("</text>");
        }
        else
        {
            for (int i = 0; i < labels.Length; i++)
            {
                string label = labels[i].Length > 10 ? labels[i][..10] + "…" : labels[i];
                sb.Append("<text x=\"").Append(C(i * slot + slot / 2)).Append(CultureInfo.InvariantCulture, $"\" y=\"{Height - 6}\" font-size=\"10\" text-anchor=\"middle\">")
                  .Append(E(label)).Append("<title>").Append(E(labels[i])).Append("</title></text>");
            }
        }
        sb.Append("</svg>\n");
    }

    private static double[] Bin(double[] values, double lo, double hi)
    {
        var counts = new double[Bins];
        double scale = Bins / (hi - lo);
        foreach (var v in values)
        {
            int b = (int)((v - lo) * scale);
            counts[Math.Clamp(b, 0, Bins - 1)]++;
        }
        return Shares(counts, values.Length);
    }

    private static double[] Shares(double[] counts, double total)
    {
        if (total > 0)
        {
            for (int i = 0; i < counts.Length; i++) counts[i] /= total;
        }
        return counts;
    }

    private static void Sparkline(StringBuilder sb, IReadOnlyList<double> points, double threshold)
    {
        const int w = 220, h = 40;
        var finite = points.Where(double.IsFinite).Append(double.IsFinite(threshold) ? threshold : 0).ToArray();
        double lo = Math.Min(0, finite.Min()), hi = finite.Max();
        if (hi <= lo) hi = lo + 1;
        double Y(double v) => h - 3 - ((v - lo) / (hi - lo) * (h - 6));
        double step = points.Count > 1 ? (double)(w - 6) / (points.Count - 1) : 0;
        sb.Append(CultureInfo.InvariantCulture, $"<svg class=\"spark\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" role=\"img\">");
        if (double.IsFinite(threshold))
        {
            sb.Append(CultureInfo.InvariantCulture, $"<line x1=\"0\" x2=\"{w}\" y1=\"{C(Y(threshold))}\" y2=\"{C(Y(threshold))}\" stroke=\"#cf222e\" stroke-dasharray=\"3 3\"/>");
        }
        sb.Append("<polyline fill=\"none\" stroke=\"").Append(RefColor).Append("\" stroke-width=\"1.5\" points=\"");
        for (int i = 0; i < points.Count; i++)
        {
            double v = double.IsFinite(points[i]) ? points[i] : lo;
            sb.Append(C(3 + i * step)).Append(',').Append(C(Y(v))).Append(' ');
        }
        sb.Append("\"/>");
        double last = double.IsFinite(points[^1]) ? points[^1] : lo;
        sb.Append("<circle cx=\"").Append(C(3 + (points.Count - 1) * step)).Append("\" cy=\"").Append(C(Y(last))).Append("\" r=\"2.5\" fill=\"").Append(CurColor).Append("\"/>");
        sb.Append("</svg>\n");
    }
}
