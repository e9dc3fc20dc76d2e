using System.Globalization;
using System.Text;
using System.Text.Json;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using MLOps.Core.Monitoring;
using MLOps.Core.Ports;

namespace MLOps.Infrastructure.Storage;

/// <summary>Drift audits on table <c>monitoring</c>, partition = model, newest first.</summary>
/// <remarks>
/// Row <c>audit|{inverted ticks}|{auditId}</c> holds the whole <see cref="DriftAuditRecord"/> as JSON (split over
/// several properties when over the 64 KiB property limit; kept in blob <c>artifacts/{model}/audits/{auditId}.json</c>
/// when it would not fit in one entity). Row <c>feature|{name}|{inverted ticks}</c> per feature holds the metric
/// values as typed doubles (<c>m_{metric}</c>) so the history of one feature is one range query. Row
/// <c>claim|{window end}</c> is the claim on one audit window (see <see cref="DriftAuditClaim"/>).
/// Writes are upserts keyed by the audit's own time, so saving the same audit again is harmless.
/// </remarks>
public sealed partial class TableMonitoringStore : IMonitoringStore, IMetricHistory
{
    /// <summary>Largest JSON kept in the entity itself (well under the 1 MiB entity limit, which counts UTF-16).</summary>
    private const int MaxInlineChars = 8 * StorageJson.MaxPropertyChars;
    private const int MaxMetricProperties = 200;
    private readonly TableClient _table;
    private readonly BlobContainerClient _artifacts;
    private readonly TimeProvider _time;

    public TableMonitoringStore(StorageContext storage, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(storage);
        ArgumentNullException.ThrowIfNull(time);
        _table = storage.Table(StorageNames.MonitoringTable);
        _artifacts = storage.Container(StorageNames.Artifacts);
        _time = time;
    }

    public async Task SaveAuditAsync(DriftAuditRecord audit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(audit);
        if (audit.AuditedAt == default)
        {
            audit = audit with { AuditedAt = _time.GetUtcNow() };
        }

        var pk = TableKeys.Escape(audit.Model);
        var inverted = TableKeys.InvertedTicks(audit.AuditedAt);
        var json = JsonSerializer.Serialize(audit, StorageJson.Options);
        var row = new TableEntity(pk, $"audit|{inverted}|{TableKeys.Escape(audit.AuditId)}")
        {
            ["AuditId"] = audit.AuditId,
            ["Version"] = audit.Version,
            ["AuditedAt"] = audit.AuditedAt,
            ["DatasetDrift"] = audit.Report.DatasetDrift,
            ["DriftedFeatures"] = audit.Report.DriftedFeatures,
            ["Judged"] = audit.Report.Judged,
            ["Decision"] = audit.Decision,
        };
        if (json.Length <= MaxInlineChars)
        {
            StorageJson.WriteChunked(row, "Json", json);
        }
        else
        {
            var blob = _artifacts.GetBlobClient($"{audit.Model}/audits/{audit.AuditId}.json");
            await BlobDatasetStore.UploadTextAsync(blob, json, "application/json", cancellationToken);
            row["JsonUri"] = blob.Uri.AbsoluteUri;
        }

        // Feature rows first: an audit row is only visible once its per-feature history is complete.
        var featureRows = audit.Report.Features.Select(f => FeatureRow(pk, inverted, audit, f)).ToList();
        foreach (var chunk in featureRows.Chunk(100))
        {
            await _table.SubmitTransactionAsync(chunk.Select(e => new TableTransactionAction(TableTransactionActionType.UpsertReplace, e)), cancellationToken);
        }

        await _table.UpsertEntityAsync(row, TableUpdateMode.Replace, cancellationToken);
    }

    public async Task<IReadOnlyList<DriftAuditRecord>> ListAuditsAsync(string model, int take = 20, CancellationToken cancellationToken = default)
    {
        var rows = await _table.QueryPrefixAsync(TableKeys.Escape(model), "audit|", Math.Max(1, take), cancellationToken);
        var result = new List<DriftAuditRecord>(rows.Count);
        foreach (var row in rows)
        {
            var json = StorageJson.ReadChunked(row, "Json");
            if (json is null && row.GetString("JsonUri") is { } uri)
            {
                var name = new BlobUriBuilder(new Uri(uri)).BlobName;
                json = await BlobDatasetStore.DownloadTextAsync(_artifacts.GetBlobClient(name), cancellationToken);
            }

            if (json is not null && JsonSerializer.Deserialize<DriftAuditRecord>(json, StorageJson.Options) is { } audit)
            {
                result.Add(audit);
            }
        }

        return result;
    }

    /// <summary>The drift values of one feature over past audits, newest first.</summary>
    public async Task<IReadOnlyList<FeatureMetricPoint>> GetFeatureHistoryAsync(string model, string feature, int take = 50, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(feature);
        var rows = await _table.QueryPrefixAsync(TableKeys.Escape(model), $"feature|{TableKeys.Escape(feature)}|", Math.Max(1, take), cancellationToken);
        return [.. rows.Select(r => new FeatureMetricPoint
        {
            Model = model,
            Feature = feature,
            AuditId = r.GetString("AuditId"),
            Version = r.GetInt32("Version") ?? 0,
            AuditedAt = r.GetDateTimeOffset("AuditedAt") ?? default,
            WindowStart = r.GetDateTimeOffset("WindowStart") ?? default,
            WindowEnd = r.GetDateTimeOffset("WindowEnd") ?? default,
            Method = r.GetString("Method") ?? "",
            Value = ReadDouble(r, "Value"),
            Threshold = ReadDouble(r, "Threshold"),
            Drifted = r.GetBoolean("Drifted") ?? false,
            Kind = r.GetString("Kind"),
            IsPrediction = r.GetBoolean("IsPrediction") ?? false,
            ReferenceRows = r.GetInt64("ReferenceRows") ?? 0,
            CurrentRows = r.GetInt64("CurrentRows") ?? 0,
            Metrics = ReadMetrics(r),
        })];
    }

    private static TableEntity FeatureRow(string pk, string inverted, DriftAuditRecord audit, Core.Drift.FeatureDrift f)
    {
        var row = new TableEntity(pk, $"feature|{TableKeys.Escape(f.Feature)}|{inverted}")
        {
            ["AuditId"] = audit.AuditId,
            ["Version"] = audit.Version,
            ["AuditedAt"] = audit.AuditedAt,
            ["WindowStart"] = audit.WindowStart,
            ["WindowEnd"] = audit.WindowEnd,
            ["Feature"] = f.Feature,
            ["Kind"] = f.Kind.ToString(),
            ["Method"] = f.Method,
            ["Drifted"] = f.Drifted,
            ["IsPrediction"] = f.IsPrediction,
            ["ReferenceRows"] = f.ReferenceRows,
            ["CurrentRows"] = f.CurrentRows,
        };
        WriteDouble(row, "Value", f.Value);
        WriteDouble(row, "Threshold", f.Threshold);
        foreach (var (name, value) in f.Metrics.Take(MaxMetricProperties))
        {
            WriteDouble(row, "m_" + PropertyName(name), value);
        }

        // Names exactly as given, in case sanitising a property name lost something.
        row["MetricNames"] = JsonSerializer.Serialize(f.Metrics.Keys.Take(MaxMetricProperties), StorageJson.Options);
        return row;
    }

    /// <summary>Table doubles cannot be NaN or infinite on every service; those are kept as text beside a null.</summary>
    private static void WriteDouble(TableEntity row, string name, double value)
    {
        if (double.IsFinite(value))
        {
            row[name] = value;
        }
        else
        {
            row[name + "_text"] = value.ToString(CultureInfo.InvariantCulture);
        }
    }

    private static double ReadDouble(TableEntity row, string name) =>
        row.GetDouble(name)
        ?? (row.GetString(name + "_text") is { } text ? double.Parse(text, CultureInfo.InvariantCulture) : double.NaN);

    private static Dictionary<string, double> ReadMetrics(TableEntity row)
    {
        var names = JsonSerializer.Deserialize<List<string>>(row.GetString("MetricNames") ?? "[]", StorageJson.Options) ?? [];
        return names.ToDictionary(n => n, n => ReadDouble(row, "m_" + PropertyName(n)), StringComparer.Ordinal);
    }

    private static string PropertyName(string metric)
    {
        var sb = new StringBuilder(metric.Length);
        foreach (var c in metric)
        {
            sb.Append(char.IsAsciiLetterOrDigit(c) || c == '_' ? c : '_');
        }

        return sb.ToString();
    }
}
