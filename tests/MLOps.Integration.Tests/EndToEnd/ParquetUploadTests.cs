using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Azure.Storage.Blobs;
using Microsoft.Extensions.DependencyInjection;
using MLOps.Cli;
using MLOps.Core.Data;
using MLOps.Core.Ports;
using MLOps.Core.Samples;
using MLOps.Core.Workflows;
using MLOps.Integration.Tests.Fixtures;
using MLOps.Integration.Tests.Support;
using MLOps.Local;
using Parquet;
using Parquet.Schema;

namespace MLOps.Integration.Tests.EndToEnd;

/// <summary>Parquet uploads through the real local host (upload listener, handler, durable engine) on Azurite.</summary>
[Collection("Azurite")]
public sealed class ParquetUploadTests(AzuriteFixture azurite)
{
    private const string Model = "credit-risk";

    private static readonly DataContract Types = new()
    {
        Columns = [.. CreditRiskData.Columns.Select(n => new ColumnSpec { Name = n, Type = CreditRiskData.ColumnTypes[n] })],
    };

    private static async Task<byte[]> GeneratedParquet(int rows, int seed)
    {
        using var csv = new StringWriter(CultureInfo.InvariantCulture);
        CreditRiskData.WriteCsv(csv, rows, seed);
        using var parquet = new MemoryStream();
        await ParquetConversion.CsvToParquetAsync(new StringReader(csv.ToString()), parquet, Types, rowGroupRows: 2000);
        return parquet.ToArray();
    }

    [Fact]
    public async Task ValidParquetUpload_IsSnapshottedAsParquet_TrainsAndAwaitsApproval()
    {
        var options = TestHosts.Options(azurite.ConnectionString);
        await using var host = await LocalHost.StartAsync(options);
        using var api = ApiClient.For(host.Url);
        var bytes = await GeneratedParquet(6000, 7);

        await host.Services.GetRequiredService<IDatasetStore>().UploadAsync($"{Model}/applications.parquet", new MemoryStream(bytes), "alice");

        var runId = await TestHosts.WaitForRunIdAsync(api, Model);
        var waiting = await TestHosts.WaitForStageAsync(api, runId, "awaiting-approval");
        var status = waiting.GetProperty("status");
        Assert.Equal("awaiting-approval", status.GetProperty("stage").GetString());
        Assert.InRange(status.GetProperty("metrics").GetProperty("auc").GetDouble(), 0.7, 1.0);

        // The snapshot is the uploaded Parquet, byte for byte, addressed by its SHA-256; the report sits beside it.
        var sha = Convert.ToHexStringLower(SHA256.HashData(bytes));
        Assert.StartsWith($"{Model}-{sha[..12]}", runId, StringComparison.Ordinal);
        var service = new BlobServiceClient(azurite.ConnectionString, new BlobClientOptions(BlobClientOptions.ServiceVersion.V2026_06_06));
        var lineage = service.GetBlobContainerClient($"{options.StoragePrefix}lineage");
        Assert.Equal(bytes, (await lineage.GetBlobClient($"{Model}/{sha}.parquet").DownloadContentAsync()).Value.Content.ToArray());
        var report = JsonDocument.Parse((await lineage.GetBlobClient($"{Model}/{sha}.report.json").DownloadContentAsync()).Value.Content.ToString()).RootElement;
        Assert.True(report.GetProperty("IsValid").GetBoolean());
        Assert.Equal(6000, report.GetProperty("Rows").GetInt64());
        Assert.Equal("Parquet", report.GetProperty("Format").GetString());
    }

    [Fact]
    public async Task InvalidAndPoisonParquetUploads_AreQuarantinedWithReports_AndStartNoRun()
    {
        var options = TestHosts.Options(azurite.ConnectionString);
        await using var host = await LocalHost.StartAsync(options);
        using var api = ApiClient.For(host.Url);
        var datasets = host.Services.GetRequiredService<IDatasetStore>();

        // Bad cells written with Parquet.Net: row 4 age 150, row 7 region MARS, in the second row group.
        var invalid = await WriteApplications(10, groupRows: 5, (row, age, region) => row switch { 4 => (150, region), 7 => (age, "MARS"), _ => (age, region) });
        var truncated = (await GeneratedParquet(3000, 3))[..20_000];
        await datasets.UploadAsync($"{Model}/bad-cells.parquet", new MemoryStream(invalid), "alice");
        await datasets.UploadAsync($"{Model}/interrupted.parquet", new MemoryStream(truncated), "alice");

        var service = new BlobServiceClient(azurite.ConnectionString, new BlobClientOptions(BlobClientOptions.ServiceVersion.V2026_06_06));
        var quarantine = service.GetBlobContainerClient($"{options.StoragePrefix}quarantine");
        async Task<JsonElement> ReportOf(string name) => await TestHosts.WaitAsync(
            async () => await quarantine.GetBlobClient($"{Model}/{name}.report.json").ExistsAsync()
                ? JsonDocument.Parse((await quarantine.GetBlobClient($"{Model}/{name}.report.json").DownloadContentAsync()).Value.Content.ToString()).RootElement
                : default,
            r => r.ValueKind == JsonValueKind.Object, TimeSpan.FromSeconds(60), $"the quarantine report of {name}");

        var cells = await ReportOf("bad-cells.parquet");
        var issues = cells.GetProperty("Issues").EnumerateArray().Select(i => (Row: i.GetProperty("Row").GetInt64(), Column: i.GetProperty("Column").GetString(), Rule: i.GetProperty("Rule").GetString(), Message: i.GetProperty("Message").GetString()!)).ToList();
        Assert.Contains(issues, i => i is { Row: 4, Column: "age", Rule: "range" } && i.Message.StartsWith($"{Model}/bad-cells.parquet row 4, column 'age'", StringComparison.Ordinal));
        Assert.Contains(issues, i => i is { Row: 7, Column: "region", Rule: "category" });

        var poison = await ReportOf("interrupted.parquet");
        var malformed = Assert.Single(poison.GetProperty("Issues").EnumerateArray());
        Assert.Equal("malformed", malformed.GetProperty("Rule").GetString());
        Assert.Contains("truncated", malformed.GetProperty("Message").GetString(), StringComparison.Ordinal);

        // Originals kept unchanged, uploads gone, no run started.
        Assert.Equal(invalid, (await quarantine.GetBlobClient($"{Model}/bad-cells.parquet").DownloadContentAsync()).Value.Content.ToArray());
        Assert.Equal(truncated, (await quarantine.GetBlobClient($"{Model}/interrupted.parquet").DownloadContentAsync()).Value.Content.ToArray());
        var uploads = service.GetBlobContainerClient($"{options.StoragePrefix}datasets");
        Assert.False(await uploads.GetBlobClient($"{Model}/bad-cells.parquet").ExistsAsync());
        Assert.False(await uploads.GetBlobClient($"{Model}/interrupted.parquet").ExistsAsync());
        Assert.Equal(0, (await api.GetAsync($"runs?model={Model}")).Body.GetArrayLength());
    }

    /// <summary>A small credit-risk Parquet written column by column with Parquet.Net; <paramref name="edit"/> may change age and region per row.</summary>
    private static async Task<byte[]> WriteApplications(int rows, int groupRows, Func<int, long, string, (long Age, string Region)> edit)
    {
        var fields = new DataField[]
        {
            new DataField<string>("application_id", true), new DataField<long?>("age"), new DataField<double?>("income"),
            new DataField<double?>("loan_amount"), new DataField<double?>("debt_to_income"), new DataField<long?>("credit_score"),
            new DataField<long?>("employment_years"), new DataField<long?>("num_credit_lines"), new DataField<string>("region", true),
            new DataField<string>("home_ownership", true), new DataField<bool?>("default"),
        };
        var data = Enumerable.Range(1, rows).Select(r =>
        {
            var (age, region) = edit(r, 30 + r, r % 2 == 0 ? "EU" : "US");
            return (Id: $"P{r}", Age: age, Region: region);
        }).ToList();
        using var output = new MemoryStream();
        await using (var writer = await ParquetWriter.CreateAsync(new ParquetSchema(fields), output))
        {
            foreach (var chunk in data.Chunk(groupRows))
            {
                using var group = writer.CreateRowGroup();
                await group.WriteAsync(fields[0], chunk.Select(c => c.Id).ToArray(), null);
                await group.WriteAsync<long>(fields[1], chunk.Select(c => (long?)c.Age).ToArray());
                await group.WriteAsync<double>(fields[2], chunk.Select(_ => (double?)52_000).ToArray());
                await group.WriteAsync<double>(fields[3], chunk.Select(_ => (double?)12_000).ToArray());
                await group.WriteAsync<double>(fields[4], chunk.Select(_ => (double?)0.3).ToArray());
                await group.WriteAsync<long>(fields[5], chunk.Select(_ => (long?)700).ToArray());
                await group.WriteAsync<long>(fields[6], chunk.Select(_ => (long?)5).ToArray());
                await group.WriteAsync<long>(fields[7], chunk.Select(_ => (long?)4).ToArray());
                await group.WriteAsync(fields[8], chunk.Select(c => c.Region).ToArray(), null);
                await group.WriteAsync(fields[9], chunk.Select(_ => "RENT").ToArray(), null);
                await group.WriteAsync<bool>(fields[10], chunk.Select((_, i) => (bool?)(i % 2 == 0)).ToArray());
            }
        }

        return output.ToArray();
    }
}
