using System.Globalization;
using System.Text;
using MLOps.Core.Drift;
using MLOps.Core.Monitoring;
using MLOps.Core.Training;
using MLOps.Core.Workflows;
using MLOps.Core.Tests.Training;
using static MLOps.Core.Tests.Drift.DriftTestData;

namespace MLOps.Core.Tests.Drift;

/// <summary>The model's output as a drift feature: judged like any feature, counted only under
/// <c>prediction: count</c>, skipped with a note when only one side has it, profiled the same from captures and CSV.</summary>
public sealed class PredictionDriftTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    private static MonitoringSpec Spec(string prediction = "monitor", string fdr = "none", double share = 0.5) =>
        new() { MinRows = 100, Drift = new DriftSpec { Prediction = prediction, Fdr = fdr, DatasetShare = share } };

    private static FeatureProfile Prediction(double[] values) => Num(PredictionFeature.Name, values) with { IsPrediction = true };

    private static DatasetProfile Dataset(params FeatureProfile[] features) => new() { Features = features, Rows = features.Max(f => f.Rows) };

    /// <summary>Unchanged inputs, shifted outputs (a model swap): the probabilities move, the inputs do not.</summary>
    private static (DatasetProfile Reference, DatasetProfile Current) InputsSameOutputsShifted()
    {
        var reference = Dataset(Num("income", Normal(3000, 50, 10, 1)), Num("age", Normal(3000, 40, 8, 2)),
            Prediction([.. Normal(3000, 0, 1, 3).Select(Sigmoid)]));
        var current = Dataset(Num("income", Normal(1500, 50, 10, 4)), Num("age", Normal(1500, 40, 8, 5)),
            Prediction([.. Normal(1500, 1.2, 1, 6).Select(Sigmoid)]));
        return (reference, current);

        static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));
    }

    /// <summary>A captured number is added without formatting it, and profiles exactly as the CSV cell holding its
    /// round-trip text does: same sample (reservoir included, past its size), extremes, nulls; on a categorical
    /// prediction feature the text is what is counted.</summary>
    [Theory]
    [InlineData(FeatureKind.Numeric)]
    [InlineData(FeatureKind.Categorical)]
    public void AddNumber_profiles_as_the_round_trip_text(FeatureKind kind)
    {
        var rng = new Random(11);
        var direct = new PredictionFeature.Collector(kind, ModelTask.Binary, maxValues: 500, seed: 7);
        var viaText = new PredictionFeature.Collector(kind, ModelTask.Binary, maxValues: 500, seed: 7);
        double[] special = [0.0, -0.0, 1.0, 0.1, 1e-300, -1e300, double.Epsilon, 0.30000000000000004, double.NaN, double.PositiveInfinity];
        for (var i = 0; i < 3000; i++)
        {
            double? value = i < special.Length ? special[i] : i % 97 == 0 ? null : rng.Next(3) switch
            {
                0 => rng.NextDouble(),
                1 => Math.Round(rng.NextDouble(), 2),
                _ => (rng.NextDouble() - 0.5) * Math.Pow(10, rng.Next(-20, 20)),
            };
            direct.AddNumber(value);
            viaText.AddText(value is { } v && double.IsFinite(v) ? v.ToString("R", CultureInfo.InvariantCulture) : "");
        }

        var a = direct.ToProfile();
        var b = viaText.ToProfile();
        Assert.Equal(b.Rows, a.Rows);
        Assert.Equal(b.Nulls, a.Nulls);
        Assert.Equal(b.Values.Select(BitConverter.DoubleToInt64Bits), a.Values.Select(BitConverter.DoubleToInt64Bits));
        Assert.Equal(b.Min, a.Min);
        Assert.Equal(b.Max, a.Max);
        Assert.Equal(b.Counts.OrderBy(c => c.Key, StringComparer.Ordinal), a.Counts.OrderBy(c => c.Key, StringComparer.Ordinal));
        Assert.True(kind == FeatureKind.Numeric ? a.Values.Length == 500 : a.Counts.Count > 500, "the sample is full / the text is counted");
    }

    [Fact]
    public void Monitor_PredictionDriftsAlone_ReportedFlaggedAndNotCounted()
    {
        var (reference, current) = InputsSameOutputsShifted();

        var report = DriftAnalyzer.Compare(reference, current, Spec());

        var prediction = report.Features[^1];
        Assert.Equal(PredictionFeature.Name, prediction.Feature);
        Assert.True(prediction.IsPrediction);
        Assert.Equal(FeatureKind.Numeric, prediction.Kind);
        Assert.Equal("wasserstein_norm", prediction.Method);
        Assert.True(prediction.Drifted);
        foreach (var m in new[] { "psi", "ks", "ks_p_value", "wasserstein", "wasserstein_norm", "jensen_shannon", "mean_ref", "mean_cur" })
        {
            Assert.True(prediction.Metrics.ContainsKey(m), m);
        }

        Assert.All(report.Features.Where(f => !f.IsPrediction), f => Assert.False(f.Drifted));
        Assert.True(report.PredictionDrift);
        Assert.Equal(0, report.DriftedFeatures);
        Assert.False(report.DatasetDrift);
        Assert.False(report.Alert);
        Assert.StartsWith("0 of 2 features drifted; dataset drift no", report.Summary, StringComparison.Ordinal);
        Assert.Contains("prediction drift yes (wasserstein_norm ", report.Summary, StringComparison.Ordinal);
        Assert.Contains("monitored, not counted", report.Summary, StringComparison.Ordinal);
        Assert.Empty(report.Notes);
    }

    [Fact]
    public void Count_PredictionDrift_CountsTowardDriftedFeaturesAndShare()
    {
        var (reference, current) = InputsSameOutputsShifted();

        var report = DriftAnalyzer.Compare(reference, current, Spec("count", share: 0.3));

        Assert.Equal(1, report.DriftedFeatures);
        Assert.True(report.DatasetDrift); // 1 of 3 ≥ 0.3
        Assert.True(report.Alert);
        Assert.True(report.PredictionDrift);
        Assert.StartsWith("1 of 3 features drifted (prediction: wasserstein_norm ", report.Summary, StringComparison.Ordinal);
    }

    [Fact]
    public void Off_PredictionFeatureIsIgnored()
    {
        var (reference, current) = InputsSameOutputsShifted();

        var report = DriftAnalyzer.Compare(reference, current, Spec("off"));

        Assert.DoesNotContain(report.Features, f => f.IsPrediction);
        Assert.Null(report.PredictionDrift);
        Assert.Empty(report.Notes);
    }

    [Fact]
    public void ReferenceWithoutPrediction_SkipsItWithANote()
    {
        var (reference, current) = InputsSameOutputsShifted();
        var old = reference with { Features = [.. reference.Features.Where(f => !f.IsPrediction)] };

        var report = DriftAnalyzer.Compare(old, current, Spec());

        Assert.Equal(["income", "age"], report.Features.Select(f => f.Feature));
        Assert.Null(report.PredictionDrift);
        var note = Assert.Single(report.Notes);
        Assert.Contains("reference profile has no prediction feature", note, StringComparison.Ordinal);
        Assert.EndsWith(note, report.Summary, StringComparison.Ordinal);
    }

    [Fact]
    public void CurrentWithoutPrediction_SkipsItWithANote()
    {
        var (reference, current) = InputsSameOutputsShifted();
        var inputsOnly = current with { Features = [.. current.Features.Where(f => !f.IsPrediction)] };

        var report = DriftAnalyzer.Compare(reference, inputsOnly, Spec());

        Assert.DoesNotContain(report.Features, f => f.IsPrediction);
        Assert.Contains("current data has no predictions", Assert.Single(report.Notes), StringComparison.Ordinal);
    }

    [Fact]
    public void BenjaminiHochberg_MonitoredPredictionKeepsItsRawPValue()
    {
        // Small reference: KS decides, with p-values; the monitored prediction is not in the family.
        var reference = Dataset(Num("a", Normal(500, 0, 1, 1)), Num("b", Normal(500, 0, 1, 2)), Prediction(Normal(500, 0, 1, 3)));
        var current = Dataset(Num("a", Normal(400, 0.2, 1, 4)), Num("b", Normal(400, 0, 1, 5)), Prediction(Normal(400, 0.2, 1, 6)));

        var monitor = DriftAnalyzer.Compare(reference, current, Spec(fdr: "benjamini_hochberg"));
        var counted = DriftAnalyzer.Compare(reference, current, Spec("count", fdr: "benjamini_hochberg"));

        var p = monitor.Features.Single(f => f.IsPrediction);
        Assert.Equal("ks", p.Method);
        Assert.False(p.Metrics.ContainsKey("p_value_bh"));
        Assert.Equal(p.Metrics["ks_p_value"], p.Value);
        Assert.True(monitor.Features.Single(f => f.Feature == "a").Metrics.ContainsKey("p_value_bh"));
        Assert.True(counted.Features.Single(f => f.IsPrediction).Metrics.ContainsKey("p_value_bh"));
    }

    [Fact]
    public void Collector_CapturesAndCsvColumn_GiveTheSameProfile()
    {
        var workflow = SyntheticData.BinaryWorkflow("fasttree");
        var random = new Random(9);
        var probabilities = Enumerable.Range(0, 1200).Select(_ => (double)(float)random.NextDouble()).ToArray();

        // Captured: requests of 100 rows; the third request failed (rows, no predictions).
        var fromCaptures = PredictionFeature.Create(workflow, maxValues: 500);
        var csv = new StringBuilder("id,prediction\n");
        for (var r = 0; r < 12; r++)
        {
            var chunk = probabilities.Skip(r * 100).Take(100).ToArray();
            var failed = r == 2;
            fromCaptures.Add(new InferenceRecord
            {
                RequestId = $"r{r}",
                Model = "m",
                Version = 1,
                Timestamp = DateTimeOffset.UnixEpoch,
                Rows = [.. chunk.Select(_ => (IReadOnlyDictionary<string, string?>)new Dictionary<string, string?>())],
                Predictions = failed ? [] : [.. chunk.Select(p => new Prediction(p * 4 - 2, p, p >= 0.5 ? "true" : "false"))],
                Error = failed,
            });
            foreach (var p in chunk)
            {
                csv.Append(CultureInfo.InvariantCulture, $"{r},{(failed ? "" : p.ToString("R", CultureInfo.InvariantCulture))}\n");
            }
        }

        var captured = fromCaptures.ToProfile();
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(csv.ToString()));
        var fromCsv = PredictionFeature.FromCsv(stream, "prediction", workflow, maxValues: 500);

        Assert.True(captured.IsPrediction);
        Assert.Equal(1200, captured.Rows);
        Assert.Equal(100, captured.Nulls);
        Assert.Equal(500, captured.Values.Length); // a reservoir sample beyond 500 values
        Assert.Equal(captured.Values, fromCsv.Values);
        Assert.Equal(captured.Rows, fromCsv.Rows);
        Assert.Equal(captured.Nulls, fromCsv.Nulls);
    }

    [Fact]
    public void FromCsv_MissingColumn_NamesFileAndColumn()
    {
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes("id,score\n1,0.5\n"));
        var error = Assert.Throws<InvalidDataException>(() => PredictionFeature.FromCsv(stream, "prediction", SyntheticData.BinaryWorkflow("fasttree"), "current.csv"));
        Assert.Contains("'current.csv' has no prediction column 'prediction'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Regression_UsesTheScore_Multiclass_ThePredictedLabel()
    {
        var regression = PredictionFeature.Create(SyntheticData.RegressionWorkflow("fasttree"));
        regression.Add(new Prediction(123.5, null, null));
        Assert.Equal([123.5], regression.ToProfile().Values);

        var binary = SyntheticData.BinaryWorkflow("fasttree");
        var labels = PredictionFeature.Create(binary with { Model = binary.Model with { Task = ModelTask.Multiclass } });
        labels.Add(new Prediction(0, null, "gold"));
        labels.Add(new Prediction(0, null, "gold"));
        labels.Add(new Prediction(0, null, null));
        var profile = labels.ToProfile();
        Assert.Equal(FeatureKind.Categorical, profile.Kind);
        Assert.Equal(2, profile.Counts["gold"]);
        Assert.Equal(1, profile.Nulls);
    }

    [Fact]
    public void Train_ReferenceOfPredictions_IsTheHoldoutProbabilities()
    {
        var csv = SyntheticData.WriteBinaryCsv(_temp.Path);
        using var model = new MemoryStream();

        var result = ModelTrainer.Train(SyntheticData.BinaryWorkflow("fasttree"), csv, model);

        var predictions = Assert.IsType<FeatureProfile>(result.HoldoutPredictions);
        Assert.True(predictions.IsPrediction);
        Assert.Equal(PredictionFeature.Name, predictions.Name);
        Assert.Equal(result.HoldoutRows, predictions.Rows);
        Assert.Equal(result.HoldoutRows, predictions.Values.Length);
        Assert.All(predictions.Values, p => Assert.InRange(p, 0.0, 1.0));
        Assert.True(predictions.Values.Distinct().Count() > 20, "probabilities vary over the holdout");

        // Turned off, training profiles no predictions.
        var off = SyntheticData.BinaryWorkflow("fasttree") with { Monitoring = new MonitoringSpec { Drift = new DriftSpec { Prediction = "off" } } };
        using var again = new MemoryStream();
        Assert.Null(ModelTrainer.Train(off, csv, again).HoldoutPredictions);
    }
}
