using System.Globalization;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Azure.Storage.Blobs;
using Microsoft.Extensions.DependencyInjection;
using MLOps.Cli;
using MLOps.Core.Drift;
using MLOps.Core.Ports;
using MLOps.Core.Registry;
using MLOps.Core.Samples;
using MLOps.Integration.Tests.Fixtures;
using MLOps.Integration.Tests.Support;
using MLOps.Lifecycle.Handlers;
using MLOps.Local;

namespace MLOps.Integration.Tests.EndToEnd;

/// <summary>Uploads through the real upload path on Azurite: signals against the production version's reference, and
/// poison CSV files that are quarantined while the trigger goes on working.</summary>
[Collection("Azurite")]
public sealed class UploadSignalsTests(AzuriteFixture azurite)
{
    private const string Model = "credit-risk";

    private static string GeneratedCsv(int rows, int seed)
    {
        using var writer = new StringWriter(CultureInfo.InvariantCulture);
        CreditRiskData.WriteCsv(writer, rows, seed);
        return writer.ToString();
    }

    /// <summary>Values of one column of a CSV without quoted fields (the generator writes none).</summary>
    private static Dictionary<string, long> Counts(string csv, string column)
    {
        var lines = csv.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var index = Array.IndexOf(lines[0].Split(','), column);
        return lines.Skip(1).Select(l => l.Split(',')[index]).Where(v => v.Length > 0)
            .GroupBy(v => v, StringComparer.Ordinal).ToDictionary(g => g.Key, g => (long)g.Count(), StringComparer.Ordinal);
    }

    [Fact]
    public async Task SecondUpload_WithACategoryTheProductionReferenceNeverSaw_StoredReportHasUnseenRateAndShift()
    {
        var options = TestHosts.Options(azurite.ConnectionString) with { RunBackgroundServices = false };
        await using var host = await LocalHost.StartAsync(options);
        var services = host.Services;
        var workflow = host.Workflows.Single(w => w.Model == Model);

        // The production version was trained on data without APAC applicants: its reference profile (as training stores
        // it) has no APAC category.
        var all = GeneratedCsv(3000, 5).Split('\n');
        var region = Array.IndexOf(all[0].Split(','), "region");
        var training = string.Join('\n', all.Where((line, i) => i == 0 || (line.Length > 0 && line.Split(',')[region] != "APAC"))) + "\n";
        var profile = ProfileBuilder.FromCsv(new MemoryStream(Encoding.UTF8.GetBytes(training)), workflow.Definition);
        Assert.DoesNotContain("APAC", profile.Features.Single(f => f.Name == "region").Counts.Keys);
        var artifacts = services.GetRequiredService<IArtifactStore>();
        var reference = await artifacts.SaveJsonAsync($"{Model}/runs/signals-test/reference-profile.json", profile);
        var registry = services.GetRequiredService<IModelRegistry>();
        var version = await registry.RegisterVersionAsync(new NewModelVersion
        {
            Model = Model, RunId = "signals-test", ArtifactUri = reference.Uri, ArtifactSha256 = reference.Sha256, DatasetSha256 = new string('0', 64),
            WorkflowHash = workflow.Hash, Trainer = "fasttree", ReferenceProfileUri = reference.Uri, CreatedBy = "alice", CreatedAt = DateTimeOffset.UtcNow,
        });
        await registry.SetAliasAsync(Model, Aliases.Production, version.Version, "bob", "signals test", expectedETag: null, force: true);

        // The new upload has APAC applicants.
        var upload = GeneratedCsv(2000, 9);
        var name = $"{Model}/with-apac.csv";
        await services.GetRequiredService<IDatasetStore>().UploadAsync(name, new MemoryStream(Encoding.UTF8.GetBytes(upload)), "alice");
        UploadOutcome outcome;
        await using (var scope = services.CreateAsyncScope())
        {
            outcome = await scope.ServiceProvider.GetRequiredService<DatasetUploadHandler>().HandleAsync(name, host.Client);
        }

        // Unbounded by the contract, the signals are warnings: the upload is accepted and its stored report holds them.
        Assert.Equal(UploadStatus.Validated, outcome.Status);
        var service = new BlobServiceClient(azurite.ConnectionString, new BlobClientOptions(BlobClientOptions.ServiceVersion.V2026_06_06));
        var stored = (await service.GetBlobContainerClient($"{options.StoragePrefix}lineage").GetBlobClient($"{Model}/{outcome.Sha256}.report.json").DownloadContentAsync()).Value.Content.ToString();
        var report = JsonDocument.Parse(stored).RootElement;
        Assert.Equal($"{Model} v{version.Version} (production)", report.GetProperty("Reference").GetString());
        var columns = report.GetProperty("Columns").EnumerateArray().ToDictionary(c => c.GetProperty("Name").GetString()!);

        var current = Counts(upload, "region");
        Assert.True(current["APAC"] > 0);
        var regionColumn = columns["region"];
        Assert.Equal(current["APAC"], regionColumn.GetProperty("UnseenCategoryValues").GetInt64());
        Assert.Equal((double)current["APAC"] / current.Values.Sum(), regionColumn.GetProperty("UnseenCategoryRate").GetDouble(), 12);
        Assert.Equal(["APAC"], regionColumn.GetProperty("UnseenCategories").EnumerateArray().Select(v => v.GetString()!).ToArray());
        var referenceCounts = profile.Features.Single(f => f.Name == "region").Counts;
        Assert.Equal(DriftStatistics.JensenShannonCategorical(referenceCounts, current), regionColumn.GetProperty("CategoryShift").GetDouble(), 12);
        Assert.Equal(DriftAnalyzer.CategoricalPsi(referenceCounts, current), regionColumn.GetProperty("CategoryPsi").GetDouble(), 12);
        Assert.True(regionColumn.GetProperty("CategoryShift").GetDouble() > 0.1);
        Assert.Equal(0, columns["home_ownership"].GetProperty("UnseenCategoryValues").GetInt64());
        Assert.Equal(JsonValueKind.Number, columns["income"].GetProperty("OutOfReferenceBoundsRate").ValueKind);
        Assert.Contains(report.GetProperty("Warnings").EnumerateArray(), w => w.GetString()!.StartsWith($"{name}, column 'region':", StringComparison.Ordinal) && w.GetString()!.Contains("'APAC'", StringComparison.Ordinal));
        var html = (await service.GetBlobContainerClient($"{options.StoragePrefix}lineage").GetBlobClient($"{Model}/{outcome.Sha256}.report.html").DownloadContentAsync()).Value.Content.ToString();
        Assert.Contains("Against the reference", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PoisonCsvUploads_AreQuarantinedWithOriginalBytes_AndTheTriggerStillStartsARunForAValidUpload()
    {
        var options = TestHosts.Options(azurite.ConnectionString);
        await using var host = await LocalHost.StartAsync(options);
        using var api = ApiClient.For(host.Url);
        var datasets = host.Services.GetRequiredService<IDatasetStore>();

        // A gzip bomb (64 MB of zeros compressed to ~64 KB) named .csv, and 50 MB on one line, no newline at all.
        var compressed = new MemoryStream();
        await using (var gzip = new GZipStream(compressed, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            var zeros = new byte[1 << 20];
            for (int i = 0; i < 64; i++)
            {
                await gzip.WriteAsync(zeros);
            }
        }
        var bomb = compressed.ToArray();
        var line = new byte[50 * 1024 * 1024];
        Array.Fill(line, (byte)'a');
        await datasets.UploadAsync($"{Model}/a-bomb.csv", new MemoryStream(bomb), "alice");
        await datasets.UploadAsync($"{Model}/b-one-line.csv", new MemoryStream(line), "alice");
        await TestHosts.UploadCsvAsync(host.Services, $"{Model}/c-valid.csv", rows: 3000, seed: 7, author: "alice");

        // The listener (the local blob trigger) gets past both poison files and starts a run for the valid one.
        var runId = await TestHosts.WaitForRunIdAsync(api, Model);
        var valid = Encoding.UTF8.GetBytes(GeneratedCsv(3000, 7));
        Assert.StartsWith($"{Model}-{Convert.ToHexStringLower(SHA256.HashData(valid))[..12]}", runId, StringComparison.Ordinal);

        var service = new BlobServiceClient(azurite.ConnectionString, new BlobClientOptions(BlobClientOptions.ServiceVersion.V2026_06_06));
        var quarantine = service.GetBlobContainerClient($"{options.StoragePrefix}quarantine");
        async Task<JsonElement> ReportOf(string file) => await TestHosts.WaitAsync(
            async () => await quarantine.GetBlobClient($"{Model}/{file}.report.json").ExistsAsync()
                ? JsonDocument.Parse((await quarantine.GetBlobClient($"{Model}/{file}.report.json").DownloadContentAsync()).Value.Content.ToString()).RootElement
                : default,
            r => r.ValueKind == JsonValueKind.Object, TimeSpan.FromSeconds(60), $"the quarantine report of {file}");

        foreach (var (file, bytes, says) in new[] { ("a-bomb.csv", bomb, "does not look like CSV text"), ("b-one-line.csv", line, "longer than 1048576 bytes") })
        {
            var report = await ReportOf(file);
            Assert.Equal($"{Model}/{file}", report.GetProperty("File").GetString());
            Assert.False(report.GetProperty("IsValid").GetBoolean());
            Assert.Equal(bytes.Length, report.GetProperty("Bytes").GetInt64());
            var issue = report.GetProperty("Issues").EnumerateArray().First(i => i.GetProperty("Rule").GetString() == "malformed");
            var message = issue.GetProperty("Message").GetString()!;
            Assert.StartsWith($"{Model}/{file}", message, StringComparison.Ordinal);
            Assert.True(message.Contains(says, StringComparison.Ordinal), message);
            var kept = (await quarantine.GetBlobClient($"{Model}/{file}").DownloadContentAsync()).Value.Content.ToArray();
            Assert.Equal(SHA256.HashData(bytes), SHA256.HashData(kept));
            Assert.Equal(bytes.Length, kept.Length);
            Assert.False(await service.GetBlobContainerClient($"{options.StoragePrefix}datasets").GetBlobClient($"{Model}/{file}").ExistsAsync());
        }

        var runs = (await api.GetAsync($"runs?model={Model}")).Body;
        Assert.Equal(1, runs.GetArrayLength());
    }
}
