using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MLOps.Core.Drift;
using MLOps.Core.Monitoring;
using MLOps.Core.Ports;
using MLOps.Core.Registry;
using MLOps.Core.Samples;
using MLOps.Integration.Tests.Fixtures;
using MLOps.Integration.Tests.Support;
using MLOps.Lifecycle.Activities;
using MLOps.Lifecycle.Contracts;
using MLOps.Lifecycle.Orchestrations;
using MLOps.Lifecycle.Services;
using MLOps.Local;
using nietras.SeparatedValues;
using Xunit.Abstractions;

namespace MLOps.Integration.Tests.Monitoring;

/// <summary>
/// Prediction drift on the local host over Azurite: training stores the model's holdout predictions in the reference
/// profile; an audit of traffic whose inputs are unchanged but whose model outputs shift (the version's model swapped)
/// flags the <c>prediction</c> feature; the offline command and the fanned-out audit agree on it to the last bit; the
/// per-feature history is served newest first by <c>GET /api/models/{m}/features/{f}/drift-history</c> and
/// <c>mlops drift history</c>.
/// </summary>
[Collection(AzuriteTestGroup.Name)]
public sealed class PredictionDriftAuditTests(AzuriteFixture azurite, ITestOutputHelper output) : IAsyncLifetime
{
    private const string Model = "credit-risk";

    private readonly string _dir = Directory.CreateTempSubdirectory("mlops-prediction-drift-").FullName;
    private readonly PerTestLocalHost _local = new(azurite.ConnectionString);

    private LocalHost Host => _local.Host;

    private T Get<T>() where T : notnull => _local.Get<T>();

    public Task InitializeAsync() => _local.StartAsync();

    public async Task DisposeAsync()
    {
        await _local.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    /// <summary>The sample workflow (calibrated thresholds, prediction drift monitored by default), never retraining.</summary>
    private async Task<StoredWorkflow> RegisterWorkflowAsync(bool fixedThreshold = false)
    {
        var lines = File.ReadAllLines(Path.Combine(RepoPaths.Workflows, "credit-risk.yaml"))
            .Where(l => !fixedThreshold || (!l.StartsWith("    threshold_mode:", StringComparison.Ordinal) && !l.StartsWith("    threshold:", StringComparison.Ordinal)));
        var yaml = (string.Join('\n', lines) + "\n").Replace("  on_drift: true", "  on_drift: false", StringComparison.Ordinal);
        await File.WriteAllTextAsync(Path.Combine(_dir, "workflow.yaml"), yaml);
        return await Get<IWorkflowStore>().RegisterAsync(yaml, "credit-risk.yaml");
    }

    private DriftAuditService Service(int capturesPerPartition = 2) => new(Get<IWorkflowStore>(), Get<IModelRegistry>(), Get<IArtifactStore>(),
        Get<IInferenceStore>(), Get<IMonitoringStore>(), Get<IMetricHistory>(), Get<IEventPublisher>(), TimeProvider.System,
        NullLogger<DriftAuditService>.Instance, Options.Create(new DriftAuditOptions { CapturesPerPartition = capturesPerPartition, MaxPartitions = 16 }));

    private async Task<TrainOutput> TrainAsync(StoredWorkflow workflow, string runId, bool flipLabels)
    {
        var text = new StringWriter(CultureInfo.InvariantCulture);
        CreditRiskData.WriteCsv(text, 8000, 21);
        var csv = text.ToString();
        if (flipLabels)
        {
            // The same inputs with the opposite outcome: a model that answers the other way round.
            csv = csv.Replace(",true\n", ",T\n", StringComparison.Ordinal).Replace(",false\n", ",true\n", StringComparison.Ordinal).Replace(",T\n", ",false\n", StringComparison.Ordinal);
        }

        var uri = await Get<IDatasetStore>().UploadAsync($"{Model}/{runId}.csv", new MemoryStream(Encoding.UTF8.GetBytes(csv)), "test");
        return await Get<TrainModelActivity>().RunAsync(new TrainInput
        {
            RunId = runId,
            Model = Model,
            WorkflowHash = workflow.Hash,
            DatasetUri = uri,
            DatasetSha256 = new string('0', 64),
        }, CancellationToken.None);
    }

    private async Task<int> PublishAsync(StoredWorkflow workflow, string runId, TrainOutput model, string referenceProfileUri)
    {
        var registry = Get<IModelRegistry>();
        var version = await registry.RegisterVersionAsync(new NewModelVersion
        {
            Model = Model,
            RunId = runId,
            ArtifactUri = model.CandidateUri,
            ArtifactSha256 = model.CandidateSha256,
            DatasetSha256 = new string('0', 64),
            WorkflowHash = workflow.Hash,
            Trainer = model.Trainer,
            CreatedBy = "test",
            ReferenceProfileUri = referenceProfileUri,
        });
        var current = await registry.GetAliasAsync(Model, Aliases.Production);
        await registry.SetAliasAsync(Model, Aliases.Production, version.Version, "test", runId, current?.ETag, force: true);
        return version.Version;
    }

    /// <summary>Scores unshifted traffic through the API (captured for monitoring), 100 rows per request.</summary>
    private static async Task SendTrafficAsync(HttpClient http, int rows, int seed)
    {
        foreach (var chunk in CreditRiskData.FeatureRows(rows, seed).Chunk(100))
        {
            using var response = await http.PostAsJsonAsync($"/api/models/{Model}/predict", new { rows = chunk });
            Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        }
    }

    [Fact]
    public async Task Model_swap_with_unchanged_inputs_drifts_the_prediction_feature_and_history_is_served_newest_first()
    {
        var workflow = await RegisterWorkflowAsync();
        var clock = Stopwatch.StartNew();
        var good = await TrainAsync(workflow, "run-a", flipLabels: false);
        var swapped = await TrainAsync(workflow, "run-b", flipLabels: true);
        output.WriteLine($"two trainings: {clock.Elapsed.TotalSeconds:F1} s");

        // Training keeps the model's holdout probabilities as the reference of prediction drift.
        var reference = (await Get<IArtifactStore>().ReadJsonAsync<DatasetProfile>(good.ReferenceProfileUri))!;
        var predictionRef = Assert.Single(reference.Features, f => f.IsPrediction);
        Assert.Equal(PredictionFeature.Name, predictionRef.Name);
        Assert.Equal(reference.Features[^1], predictionRef);
        Assert.Equal(FeatureKind.Numeric, predictionRef.Kind);
        Assert.Equal(good.HoldoutRows, predictionRef.Rows);
        Assert.Equal(good.HoldoutRows, predictionRef.Values.Length);
        Assert.All(predictionRef.Values, p => Assert.InRange(p, 0.0, 1.0));
        Assert.Equal(8000, reference.Rows);

        using var http = new HttpClient { BaseAddress = new Uri(Host.Url) };
        var service = Service();

        // Version 1 serves the model its reference came from: nothing drifts, the prediction feature included.
        var v1 = await PublishAsync(workflow, "run-a", good, good.ReferenceProfileUri);
        await SendTrafficAsync(http, 600, seed: 77);
        var first = await service.AuditAsync(Model, Host.Client);
        Assert.NotNull(first);
        Assert.Equal(v1, first.Version);
        Assert.Equal(600, first.Report.CurrentRows);
        var stable = first.Report.Features.Single(f => f.IsPrediction);
        Assert.False(stable.Drifted, first.Report.Summary);
        Assert.False(first.Report.PredictionDrift);
        Assert.Equal(0, first.Report.DriftedFeatures);

        // Version 2 keeps that reference but its model was swapped: same kind of inputs, opposite outputs.
        var v2 = await PublishAsync(workflow, "run-b", swapped, good.ReferenceProfileUri);
        await SendTrafficAsync(http, 600, seed: 78);
        var second = await service.AuditAsync(Model, Host.Client);
        Assert.NotNull(second);
        Assert.Equal(v2, second.Version);
        var shifted = second.Report.Features.Single(f => f.IsPrediction);
        output.WriteLine(second.Report.Summary);
        Assert.True(shifted.Drifted, second.Report.Summary);
        Assert.True(second.Report.PredictionDrift);
        Assert.All(second.Report.Features.Where(f => !f.IsPrediction), f => Assert.False(f.Drifted, $"{f.Feature}: {f.Method} {f.Value} vs {f.Threshold}"));
        // Monitored, not counted: no input drifted, so no dataset drift and no alert.
        Assert.Equal(0, second.Report.DriftedFeatures);
        Assert.False(second.Report.Alert);
        Assert.Contains("prediction drift yes", second.Report.Summary, StringComparison.Ordinal);
        Assert.True(shifted.Metrics["mean_cur"] - shifted.Metrics["mean_ref"] > 0.2, $"mean {shifted.Metrics["mean_ref"]} → {shifted.Metrics["mean_cur"]}");

        // The history through the local host's HTTP route: newest first, every metric of every audit.
        using var response = await http.GetAsync($"/api/models/{Model}/features/{PredictionFeature.Name}/drift-history?take=10");
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        var history = JsonDocument.Parse(body).RootElement;
        Assert.True(history.GetProperty("isPrediction").GetBoolean());
        var points = history.GetProperty("points").EnumerateArray().ToList();
        Assert.Equal(2, points.Count);
        Assert.Equal([second.AuditId, first.AuditId], points.Select(p => p.GetProperty("auditId").GetString()));
        Assert.Equal([v2, v1], points.Select(p => p.GetProperty("version").GetInt32()));
        Assert.True(points[0].GetProperty("auditedAt").GetDateTimeOffset() > points[1].GetProperty("auditedAt").GetDateTimeOffset());
        foreach (var (point, audited) in points.Zip(new[] { shifted, stable }))
        {
            Assert.Equal(audited.Method, point.GetProperty("method").GetString());
            Assert.Equal(audited.Value, point.GetProperty("value").GetDouble());
            Assert.Equal(audited.Drifted, point.GetProperty("drifted").GetBoolean());
            var metrics = point.GetProperty("metrics").EnumerateObject().ToDictionary(m => m.Name, m => m.Value.GetDouble());
            Assert.Equal(audited.Metrics.Keys.Order(), metrics.Keys.Order());
            foreach (var (name, value) in audited.Metrics)
            {
                Assert.Equal(value, metrics[name]);
            }
        }

        // An input feature's history is there too; take limits; unknown features and bad takes are refused.
        using var income = await http.GetAsync($"/api/models/{Model}/features/income/drift-history?take=1");
        var incomeBody = JsonDocument.Parse(await income.Content.ReadAsStringAsync()).RootElement;
        Assert.False(incomeBody.GetProperty("isPrediction").GetBoolean());
        Assert.Equal(second.AuditId, Assert.Single(incomeBody.GetProperty("points").EnumerateArray()).GetProperty("auditId").GetString());
        using var unknown = await http.GetAsync($"/api/models/{Model}/features/salary/drift-history");
        Assert.Equal(404, (int)unknown.StatusCode);
        var error = JsonDocument.Parse(await unknown.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString();
        Assert.StartsWith("'salary' is not a monitored feature of 'credit-risk'; its features: age, income,", error, StringComparison.Ordinal);
        Assert.EndsWith(", prediction", error, StringComparison.Ordinal);
        using var badTake = await http.GetAsync($"/api/models/{Model}/features/income/drift-history?take=0");
        Assert.Equal(400, (int)badTake.StatusCode);

        // The CLI reads the same route.
        var (exit, stdout, stderr) = await RunCliAsync("drift", "history", Model, PredictionFeature.Name, "--take", "5", "--url", Host.Url);
        Assert.True(exit == 0, stderr);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("prediction (model output): 2 audit(s), newest first", lines[0], StringComparison.Ordinal);
        Assert.EndsWith(second.AuditId, lines[2].TrimEnd(), StringComparison.Ordinal);
        Assert.Contains(" yes ", lines[2], StringComparison.Ordinal);
        Assert.EndsWith(first.AuditId, lines[3].TrimEnd(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Audit_of_a_version_registered_before_prediction_drift_skips_it_with_a_note()
    {
        var workflow = await RegisterWorkflowAsync();
        var model = await TrainAsync(workflow, "run-old", flipLabels: false);

        // A reference as stored before this change: the input features only.
        var artifacts = Get<IArtifactStore>();
        var full = (await artifacts.ReadJsonAsync<DatasetProfile>(model.ReferenceProfileUri))!;
        var old = await artifacts.SaveJsonAsync($"{Model}/runs/run-old/old-reference-profile.json", full with { Features = [.. full.Features.Where(f => !f.IsPrediction)] });
        await PublishAsync(workflow, "run-old", model, old.Uri);
        using var http = new HttpClient { BaseAddress = new Uri(Host.Url) };
        await SendTrafficAsync(http, 300, seed: 79);

        var audit = await Service().AuditAsync(Model, Host.Client);

        Assert.NotNull(audit);
        Assert.True(audit.Report.Judged);
        Assert.DoesNotContain(audit.Report.Features, f => f.IsPrediction);
        Assert.Null(audit.Report.PredictionDrift);
        Assert.Contains("reference profile has no prediction feature", Assert.Single(audit.Report.Notes), StringComparison.Ordinal);
        Assert.Equal(full.Features.Count - 1, audit.Report.Features.Count);
    }

    [Fact]
    public async Task Trained_reference_is_stored_in_binary_too_and_audits_read_it_by_feature_with_the_numbers_of_the_json()
    {
        var workflow = await RegisterWorkflowAsync();
        var model = await TrainAsync(workflow, "run-bin", flipLabels: false);
        var artifacts = Get<IArtifactStore>();

        // Training stores the binary form beside the JSON: the same profile, bit for bit, the prediction feature flagged.
        var json = (await artifacts.ReadJsonAsync<DatasetProfile>(model.ReferenceProfileUri))!;
        var binaryUri = ReferenceProfiles.BinaryLocation(model.ReferenceProfileUri);
        Assert.EndsWith("/runs/run-bin/reference-profile.json", model.ReferenceProfileUri, StringComparison.Ordinal);
        Assert.EndsWith("/runs/run-bin/reference-profile.profile", binaryUri, StringComparison.Ordinal);
        var binary = await ProfileBinary.ReadAsync((offset, length, ct) => artifacts.OpenReadRangeAsync(binaryUri, offset, length, ct), binaryUri);
        Assert.Equal(json.Rows, binary.Rows);
        Assert.Equal(json.Features.Count, binary.Features.Count);
        foreach (var (j, b) in json.Features.Zip(binary.Features))
        {
            Assert.Equal((j.Name, j.Kind, j.Rows, j.Nulls, j.IsPrediction, j.Min, j.Max), (b.Name, b.Kind, b.Rows, b.Nulls, b.IsPrediction, b.Min, b.Max));
            Assert.Equal(j.Values.Select(BitConverter.DoubleToInt64Bits), b.Values.Select(BitConverter.DoubleToInt64Bits));
            Assert.Equal(j.Counts.ToList(), b.Counts.ToList());
        }

        Assert.True(binary.Features[^1].IsPrediction);

        // The same reference as a version registered before the binary form was written: the JSON alone.
        var jsonOnly = await artifacts.SaveJsonAsync($"{Model}/runs/run-old/reference-profile.json", json);
        Assert.False(await artifacts.ExistsAsync(ReferenceProfiles.BinaryLocation(jsonOnly.Uri)));
        var version = await PublishAsync(workflow, "run-bin", model, model.ReferenceProfileUri);
        using var http = new HttpClient { BaseAddress = new Uri(Host.Url) };
        await SendTrafficAsync(http, 600, seed: 81);

        // The audit's activities as the orchestration runs them; the analysis runs once per reference over the same partitions.
        var recording = new RecordingArtifactStore(artifacts);
        var service = new DriftAuditService(Get<IWorkflowStore>(), Get<IModelRegistry>(), recording, Get<IInferenceStore>(), Get<IMonitoringStore>(),
            Get<IMetricHistory>(), Get<IEventPublisher>(), TimeProvider.System, NullLogger<DriftAuditService>.Instance, Options.Create(new DriftAuditOptions()));
        var plan = await service.PlanAsync(new PlanDriftAuditInput { Model = Model, WindowEnd = DateTimeOffset.UtcNow, CapturesPerPartition = 2, MaxPartitions = 16 });
        Assert.Equal(version, plan.Version);
        Assert.Equal(model.ReferenceProfileUri, plan.ReferenceProfileUri);
        var uris = new List<string>();
        for (var i = 0; i < plan.Partitions.Count; i++)
        {
            uris.Add((await service.ProfilePartitionAsync(new ProfilePartitionInput
            {
                Model = Model, Version = plan.Version, WorkflowHash = plan.WorkflowHash, WindowStart = plan.WindowStart, WindowEnd = plan.WindowEnd,
                Range = plan.Partitions[i], ProfilePath = DriftAuditOrchestrator.ProfilePath(Model, "binary-reference", i),
            })).Uri);
        }

        async Task<DriftAuditRecord> AnalyzeAsync(string referenceUri)
        {
            var result = await service.AnalyzeAsync(new AnalyzeDriftInput
            {
                AuditId = Guid.NewGuid().ToString("N"), Model = Model, Version = plan.Version, WorkflowHash = plan.WorkflowHash,
                ReferenceProfileUri = referenceUri, WindowStart = plan.WindowStart, WindowEnd = plan.WindowEnd, ProfileUris = uris,
            }, Host.Client);
            return (await Get<IMonitoringStore>().ListAuditsAsync(Model)).Single(a => a.AuditId == result.AuditId);
        }

        recording.WholeReads.Clear();
        recording.RangeReads.Clear();
        var fromBinary = await AnalyzeAsync(model.ReferenceProfileUri);
        var binaryWholeReads = recording.WholeReads.ToList();
        var binaryRanges = recording.RangeReads.Where(r => r.Uri == binaryUri).ToList();
        recording.WholeReads.Clear();
        recording.RangeReads.Clear();
        var fromJson = await AnalyzeAsync(jsonOnly.Uri);

        // The binary reference was read by ranges, never whole: the prefix, the header, then one feature per read.
        Assert.DoesNotContain(model.ReferenceProfileUri, binaryWholeReads);
        Assert.DoesNotContain(binaryUri, binaryWholeReads);
        Assert.Equal(2 + json.Features.Count, binaryRanges.Count);
        var largestFeature = json.Features.Max(f => (long)f.Values.Length * sizeof(double));
        Assert.All(binaryRanges.Skip(2), r => Assert.InRange(r.Length, 0, Math.Max(largestFeature, 64 * 1024)));
        // The older version's JSON was read whole, and nothing of the binary form.
        Assert.Contains(jsonOnly.Uri, recording.WholeReads);
        Assert.DoesNotContain(recording.RangeReads, r => r.Uri.EndsWith(".profile", StringComparison.Ordinal) && !uris.Contains(r.Uri));

        // Every value of every feature, the prediction feature included, is the same to the bit.
        Assert.Equal(600, fromBinary.Report.CurrentRows);
        Assert.Contains(fromBinary.Report.Features, f => f.IsPrediction);
        Assert.Equal(fromJson.Report.Features.Count, fromBinary.Report.Features.Count);
        var compared = 0;
        foreach (var (j, b) in fromJson.Report.Features.Zip(fromBinary.Report.Features))
        {
            Assert.Equal((j.Feature, j.Method, j.Drifted, j.IsPrediction, j.ReferenceRows, j.CurrentRows), (b.Feature, b.Method, b.Drifted, b.IsPrediction, b.ReferenceRows, b.CurrentRows));
            Assert.Equal(BitConverter.DoubleToInt64Bits(j.Value), BitConverter.DoubleToInt64Bits(b.Value));
            Assert.Equal(BitConverter.DoubleToInt64Bits(j.Threshold), BitConverter.DoubleToInt64Bits(b.Threshold));
            Assert.Equal(j.Metrics.Keys.Order(), b.Metrics.Keys.Order());
            foreach (var (name, value) in j.Metrics)
            {
                Assert.True(BitConverter.DoubleToInt64Bits(value) == BitConverter.DoubleToInt64Bits(b.Metrics[name]), $"{j.Feature}.{name}: json {value:R}, binary {b.Metrics[name]:R}");
                compared++;
            }
        }

        Assert.True(compared > 50, $"only {compared} values compared");
        Assert.Equal((fromJson.Report.DriftedFeatures, fromJson.Report.ReferenceRows, fromJson.Report.PredictionDrift), (fromBinary.Report.DriftedFeatures, fromBinary.Report.ReferenceRows, fromBinary.Report.PredictionDrift));
        Assert.Equal(fromJson.Report.Notes, fromBinary.Report.Notes);
        output.WriteLine($"{compared} metric values identical; binary reference read in {binaryRanges.Count} ranged reads of at most {binaryRanges.Max(r => r.Length)} bytes");
    }

    [Fact]
    public async Task Offline_command_and_fanned_out_audit_agree_on_the_prediction_feature()
    {
        var workflow = await RegisterWorkflowAsync(fixedThreshold: true);
        var workflowPath = Path.Combine(_dir, "workflow.yaml");
        // Inputs from the same generator; the current window's model outputs are pushed up by 1 in logit space.
        var referenceCsv = ScoredCsv("reference.csv", 3000, 1, logitShift: 0);
        var currentCsv = ScoredCsv("current.csv", 700, 4, logitShift: 1.0);

        // The version's reference profile: inputs and the prediction column, profiled as the offline command does.
        DatasetProfile reference;
        await using (var stream = File.OpenRead(referenceCsv))
        {
            reference = ProfileBuilder.FromCsv(stream, workflow.Definition);
        }

        await using (var stream = File.OpenRead(referenceCsv))
        {
            reference = PredictionFeature.Append(reference, PredictionFeature.FromCsv(stream, PredictionFeature.Name, workflow.Definition, referenceCsv));
        }

        var (version, _) = await TestRegistry.PublishReferenceAsync(Host, workflow, reference, $"{Model}/runs/parity/reference-profile.json", "parity");

        // Capture the current CSV as traffic: its inputs as rows, its prediction column as the captured probabilities.
        var captured = new List<(Dictionary<string, string?> Row, double Probability)>();
        using (var reader = Sep.Reader(o => o with { Unescape = true }).FromFile(currentCsv))
        {
            var names = reader.Header.ColNames;
            foreach (var row in reader)
            {
                var values = new Dictionary<string, string?>(StringComparer.Ordinal);
                for (var i = 0; i < names.Count; i++)
                {
                    values[names[i]] = row[i].ToString();
                }

                var probability = double.Parse(values[PredictionFeature.Name]!, CultureInfo.InvariantCulture);
                values.Remove(PredictionFeature.Name);
                captured.Add((values, probability));
            }
        }

        var inference = Get<IInferenceStore>();
        var at = DateTimeOffset.UtcNow.AddHours(-2);
        var request = 0;
        foreach (var chunk in captured.Chunk(100))
        {
            request++;
            await inference.CaptureAsync(new InferenceRecord
            {
                RequestId = $"r{request:D4}",
                Model = Model,
                Version = version.Version,
                Timestamp = at.AddSeconds(request),
                Rows = [.. chunk.Select(c => (IReadOnlyDictionary<string, string?>)c.Row)],
                Predictions = [.. chunk.Select(c => new Core.Training.Prediction(c.Probability * 2 - 1, c.Probability, c.Probability >= 0.5 ? "true" : "false"))],
            });
        }

        var (exit, stdout, stderr) = await RunCliAsync("drift", "--reference", referenceCsv, "--current", currentCsv, "--workflow", workflowPath, "--prediction-column", PredictionFeature.Name, "--json");
        Assert.True(exit == 0, stderr);
        var offline = JsonDocument.Parse(stdout).RootElement;

        var result = await DriftAuditService.WaitAsync(Host.Client, await Service().StartAsync(Host.Client, Model, DateTimeOffset.UtcNow, "request"), TimeSpan.FromMinutes(2));
        Assert.Equal(3, result.Partitions);
        var audit = (await Get<IMonitoringStore>().ListAuditsAsync(Model)).Single(a => a.AuditId == result.AuditId);

        // Every value of every feature, the prediction feature included, is the same to the bit.
        var offlineFeatures = offline.GetProperty("features").EnumerateArray().ToList();
        Assert.Equal(offlineFeatures.Count, audit.Report.Features.Count);
        var compared = 0;
        foreach (var (o, f) in offlineFeatures.Zip(audit.Report.Features))
        {
            Assert.Equal(o.GetProperty("feature").GetString(), f.Feature);
            Assert.Equal(o.GetProperty("isPrediction").GetBoolean(), f.IsPrediction);
            Assert.Equal(o.GetProperty("method").GetString(), f.Method);
            Assert.Equal(o.GetProperty("value").GetDouble(), f.Value);
            Assert.Equal(o.GetProperty("threshold").GetDouble(), f.Threshold);
            Assert.Equal(o.GetProperty("drifted").GetBoolean(), f.Drifted);
            var metrics = o.GetProperty("metrics").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetDouble());
            Assert.Equal(metrics.Keys.Order(), f.Metrics.Keys.Order());
            foreach (var (name, value) in metrics)
            {
                Assert.True(value == f.Metrics[name], $"{f.Feature}.{name}: offline {value:R}, audit {f.Metrics[name]:R}");
                compared++;
            }
        }

        var prediction = audit.Report.Features[^1];
        Assert.True(prediction.IsPrediction);
        Assert.True(prediction.Drifted, audit.Report.Summary);
        Assert.True(offline.GetProperty("predictionDrift").GetBoolean());
        Assert.True(audit.Report.PredictionDrift);
        Assert.Equal(offline.GetProperty("driftedFeatures").GetInt32(), audit.Report.DriftedFeatures);
        Assert.True(compared > 50, $"only {compared} values compared");
        output.WriteLine($"{compared} metric values identical; {audit.Report.Summary}");

        // Offline with the column in one file only: prediction drift is noted, not judged; a named column must exist.
        var inputsOnly = Path.Combine(_dir, "inputs-only.csv");
        using (var writer = new StreamWriter(inputsOnly))
        {
            CreditRiskData.WriteCsv(writer, 300, 5);
        }

        (exit, stdout, stderr) = await RunCliAsync("drift", "--reference", referenceCsv, "--current", inputsOnly, "--workflow", workflowPath, "--json");
        Assert.True(exit == 0, stderr);
        var noted = JsonDocument.Parse(stdout).RootElement;
        Assert.Contains("current data has no predictions", Assert.Single(noted.GetProperty("notes").EnumerateArray()).GetString(), StringComparison.Ordinal);
        (exit, _, stderr) = await RunCliAsync("drift", "--reference", referenceCsv, "--current", inputsOnly, "--workflow", workflowPath, "--prediction-column", "prediction", "--json");
        Assert.Equal(3, exit);
        Assert.Contains("has no prediction column 'prediction'", stderr, StringComparison.Ordinal);
    }

    /// <summary>A credit-risk CSV with a <c>prediction</c> column: a logistic score of debt-to-income and credit score,
    /// moved by <paramref name="logitShift"/>, written in round-trip form as a capture would hold it.</summary>
    private string ScoredCsv(string name, int rows, int seed, double logitShift)
    {
        var plain = new StringWriter(CultureInfo.InvariantCulture);
        CreditRiskData.WriteCsv(plain, rows, seed);
        var lines = plain.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var header = lines[0].Split(',');
        int dti = Array.IndexOf(header, "debt_to_income"), score = Array.IndexOf(header, "credit_score");
        var sb = new StringBuilder(lines[0]).Append(',').Append(PredictionFeature.Name).Append('\n');
        foreach (var line in lines.Skip(1))
        {
            var cells = line.Split(',');
            var logit = (4 * double.Parse(cells[dti], CultureInfo.InvariantCulture)) - ((double.Parse(cells[score], CultureInfo.InvariantCulture) - 650) / 80) - 1.5 + logitShift;
            var probability = (double)(float)(1 / (1 + Math.Exp(-logit)));
            sb.Append(line).Append(',').Append(probability.ToString("R", CultureInfo.InvariantCulture)).Append('\n');
        }

        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, sb.ToString(), new UTF8Encoding(false));
        return path;
    }

    private static async Task<(int Exit, string Stdout, string Stderr)> RunCliAsync(params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "mlops.dll"));
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        return (process.ExitCode, await stdout, await stderr);
    }
}
