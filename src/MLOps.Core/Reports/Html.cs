using System.Globalization;
using System.Net;
using System.Text;

namespace MLOps.Core.Reports;

/// <summary>Small helpers shared by the self-contained HTML reports: every value is HTML-encoded, numbers use the
/// invariant culture, charts are inline SVG (no scripts, nothing loaded from the network).</summary>
internal static class Html
{
    public const string Style = """
        body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:24px;color:#1b1f24}
        h1{font-size:20px}h2{font-size:16px;margin-top:28px}
        table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top}
        th{background:#f6f8fa}.num{text-align:right;font-variant-numeric:tabular-nums}
        .bad{color:#b42318;font-weight:600}.ok{color:#067647}.muted{color:#57606a}
        .legend span{display:inline-block;width:10px;height:10px;margin:0 4px 0 12px}
        """;

    public static string E(string? value) => WebUtility.HtmlEncode(value ?? "");

    public static string N(double value, string format = "G4") =>
        double.IsNaN(value) ? "–" : value.ToString(format, CultureInfo.InvariantCulture);

    public static string P(double value) => double.IsNaN(value) ? "–" : (value * 100).ToString("0.##", CultureInfo.InvariantCulture) + " %";

    /// <summary>Coordinates for SVG attributes.</summary>
    public static string C(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);

    public static void Open(StringBuilder sb, string title)
    {
        sb.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
          .Append("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">")
          .Append("<title>").Append(E(title)).Append("</title><style>").Append(Style).Append("</style></head><body>\n")
          .Append("<h1>").Append(E(title)).Append("</h1>\n");
    }

    public static void Close(StringBuilder sb) => sb.Append("</body></html>\n");
}
