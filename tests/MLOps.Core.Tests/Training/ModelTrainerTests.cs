using System.Globalization;
using Microsoft.ML.Data;
using MLOps.Core.Training;
using MLOps.Core.Workflows;
using Xunit.Abstractions;

namespace MLOps.Core.Tests.Training;

public sealed class ModelTrainerTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Theory]
    [InlineData("fasttree")]
    [InlineData("lightgbm")]
    [InlineData("linear")]
    public void Train_BinarySignal_LearnsAndReportsAllMetrics(string trainer)
    {
        var csv = SyntheticData.WriteBinaryCsv(_temp.Path);
        using var model = new MemoryStream();

        var result = ModelTrainer.Train(SyntheticData.BinaryWorkflow(trainer), csv, model);

        output.WriteLine($"{trainer}: auc {result.Metrics["auc"]:0.0000}, {result.TrainSeconds:0.000} s, train {result.TrainRows}, holdout {result.HoldoutRows}");
        Assert.True(result.Metrics["auc"] > 0.7, $"auc {result.Metrics["auc"]}");
        Assert.Equal(["accuracy", "auc", "aucpr", "f1", "log_loss", "precision", "recall"], result.Metrics.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(2000, result.TrainRows + result.HoldoutRows);
        Assert.InRange(result.HoldoutRows, 330, 470);
        Assert.Null(result.ChampionMetrics);
        Assert.True(result.TrainSeconds > 0);
        Assert.True(model.Length > 0);
    }

    [Theory]
    [InlineData("fasttree")]
    [InlineData("lightgbm")]
    [InlineData("linear")]
    public void Train_ShuffledLabels_LearnsNothing(string trainer)
    {
        var csv = SyntheticData.WriteBinaryCsv(_temp.Path, shuffleLabels: true);
        using var model = new MemoryStream();

        var result = ModelTrainer.Train(SyntheticData.BinaryWorkflow(trainer), csv, model);

        Assert.True(result.Metrics["auc"] < 0.6, $"auc {result.Metrics["auc"]}");
    }

    [Theory]
    [InlineData("fasttree")]
    [InlineData("lightgbm")]
    [InlineData("linear")]
    public void Train_SameSeed_GivesIdenticalMetrics(string trainer)
    {
        var csv = SyntheticData.WriteBinaryCsv(_temp.Path);
        using var first = new MemoryStream();
        using var second = new MemoryStream();

        var a = ModelTrainer.Train(SyntheticData.BinaryWorkflow(trainer), csv, first);
        var b = ModelTrainer.Train(SyntheticData.BinaryWorkflow(trainer), csv, second);

        Assert.Equal(a.Metrics, b.Metrics);
        Assert.Equal(a.HoldoutRows, b.HoldoutRows);
    }

    [Fact]
    public void Train_DifferentSeed_GivesAnotherSplit()
    {
        var csv = SyntheticData.WriteBinaryCsv(_temp.Path);
        using var first = new MemoryStream();
        using var second = new MemoryStream();

        var a = ModelTrainer.Train(SyntheticData.BinaryWorkflow("fasttree", seed: 1), csv, first);
        var b = ModelTrainer.Train(SyntheticData.BinaryWorkflow("fasttree", seed: 2), csv, second);

        Assert.NotEqual(a.Metrics["auc"], b.Metrics["auc"]);
    }

    [Theory]
    [InlineData("fasttree")]
    [InlineData("lightgbm")]
    [InlineData("linear")]
    public void SavedModel_ScoredByModelScorer_MatchesHoldoutScoring(string trainer)
    {
        var csv = SyntheticData.WriteBinaryCsv(_temp.Path);
        var workflow = SyntheticData.BinaryWorkflow(trainer);
        using var model = new MemoryStream();
        var run = TrainingRunner.Run(workflow, csv, model, null, CancellationToken.None);

        var scoredHoldout = run.Model.Transform(run.TestSet);
        var holdout = run.Context.Data.CreateEnumerable<HoldoutPrediction>(scoredHoldout, reuseRowObject: false).ToList();
        var expected = holdout.Take(20).Concat(holdout.Skip(20).Where(p => float.IsNaN(p.Income)).Take(5)).ToList();
        var rows = expected.Select(ToRequestRow).ToList();

        model.Position = 0;
        var scorer = ModelScorer.Load(workflow, model);
        var predictions = scorer.Score(rows);

        Assert.Equal(expected.Count, predictions.Count);
        Assert.Contains(expected, e => float.IsNaN(e.Income));
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].Score, predictions[i].Score, 6);
            Assert.Equal(expected[i].Probability, predictions[i].Probability!.Value, 6);
            Assert.Equal(expected[i].PredictedLabel ? "true" : "false", predictions[i].PredictedLabel);
        }
    }

    [Fact]
    public void Champion_SameModel_HasTheSameMetricsOnTheSameHoldout()
    {
        var csv = SyntheticData.WriteBinaryCsv(_temp.Path);
        var workflow = SyntheticData.BinaryWorkflow("fasttree");
        using var champion = new MemoryStream();
        var first = ModelTrainer.Train(workflow, csv, champion);

        champion.Position = 0;
        using var candidate = new MemoryStream();
        var second = ModelTrainer.Train(workflow, csv, candidate, champion);

        Assert.NotNull(second.ChampionMetrics);
        Assert.Equal(first.Metrics, second.ChampionMetrics);
        Assert.Equal(second.Metrics, second.ChampionMetrics);
    }

    [Fact]
    public void Champion_FromAnotherTrainer_IsEvaluatedOnTheSameHoldout()
    {
        var csv = SyntheticData.WriteBinaryCsv(_temp.Path);
        using var champion = new MemoryStream();
        var linear = ModelTrainer.Train(SyntheticData.BinaryWorkflow("linear"), csv, champion);

        champion.Position = 0;
        using var candidate = new MemoryStream();
        var tree = ModelTrainer.Train(SyntheticData.BinaryWorkflow("fasttree"), csv, candidate, champion);

        Assert.Equal(linear.Metrics, tree.ChampionMetrics);
    }

    [Fact]
    public void Champion_WithAnotherSchema_ThrowsClearError()
    {
        var regressionCsv = SyntheticData.WriteRegressionCsv(_temp.Path);
        using var champion = new MemoryStream();
        ModelTrainer.Train(SyntheticData.RegressionWorkflow("fasttree"), regressionCsv, champion);

        var csv = SyntheticData.WriteBinaryCsv(_temp.Path);
        champion.Position = 0;
        using var candidate = new MemoryStream();
        var error = Assert.Throws<InvalidOperationException>(() => ModelTrainer.Train(SyntheticData.BinaryWorkflow("fasttree"), csv, candidate, champion));
        Assert.Contains("champion", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Champion_NotAModel_ThrowsClearError()
    {
        var csv = SyntheticData.WriteBinaryCsv(_temp.Path);
        using var champion = new MemoryStream([1, 2, 3, 4]);
        using var candidate = new MemoryStream();
        var error = Assert.Throws<InvalidOperationException>(() => ModelTrainer.Train(SyntheticData.BinaryWorkflow("fasttree"), csv, candidate, champion));
        Assert.Contains("champion", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("fasttree")]
    [InlineData("lightgbm")]
    [InlineData("linear")]
    public void Train_Regression_LearnsLinearSignal(string trainer)
    {
        var csv = SyntheticData.WriteRegressionCsv(_temp.Path);
        var workflow = SyntheticData.RegressionWorkflow(trainer);
        using var model = new MemoryStream();

        var result = ModelTrainer.Train(workflow, csv, model);

        output.WriteLine($"{trainer}: r2 {result.Metrics["r2"]:0.0000}, rmse {result.Metrics["rmse"]:0.000}, {result.TrainSeconds:0.000} s");
        Assert.Equal(["mae", "r2", "rmse"], result.Metrics.Keys.Order(StringComparer.Ordinal));
        Assert.True(result.Metrics["r2"] > 0.5, $"r2 {result.Metrics["r2"]}");
        Assert.Equal(500, result.HoldoutRows, 60.0);

        model.Position = 0;
        var scorer = ModelScorer.Load(workflow, model);
        var prediction = Assert.Single(scorer.Score([new Dictionary<string, string?> { ["x1"] = "5", ["x2"] = "1", ["region"] = "EU" }]));
        Assert.Null(prediction.Probability);
        Assert.Null(prediction.PredictedLabel);
        Assert.InRange(prediction.Score, 13.0, 21.0); // 3·5 − 2·1 + 4 = 17
    }

    [Fact]
    public void Train_MissingFile_NamesTheFile()
    {
        var path = Path.Combine(_temp.Path, "nope.csv");
        using var model = new MemoryStream();
        var error = Assert.Throws<InvalidOperationException>(() => ModelTrainer.Train(SyntheticData.BinaryWorkflow("fasttree"), path, model));
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("customer_id,income,age,debt_ratio,region,note,defaulted\n")]
    public void Train_NoRows_NamesTheFile(string content)
    {
        var path = Path.Combine(_temp.Path, "empty.csv");
        File.WriteAllText(path, content);
        using var model = new MemoryStream();
        var error = Assert.Throws<InvalidOperationException>(() => ModelTrainer.Train(SyntheticData.BinaryWorkflow("fasttree"), path, model));
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Train_OneClassOnly_NamesTheFileAndLabel()
    {
        var path = Path.Combine(_temp.Path, "one-class.csv");
        var lines = Enumerable.Range(0, 200).Select(i => $"C{i},{50 + i % 7},{30 + i % 11},0.{i % 9},EU,x,false");
        File.WriteAllText(path, "customer_id,income,age,debt_ratio,region,note,defaulted\n" + string.Join('\n', lines) + "\n");
        using var model = new MemoryStream();
        var error = Assert.Throws<InvalidOperationException>(() => ModelTrainer.Train(SyntheticData.BinaryWorkflow("fasttree"), path, model));
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains("one class", error.Message, StringComparison.Ordinal);
        Assert.Contains("defaulted", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("maybe", "maybe")]
    [InlineData("", "no value in label column 'defaulted' (first at data row 3)")]
    public void Train_BadLabel_NamesTheFile(string label, string expected)
    {
        var path = Path.Combine(_temp.Path, "bad-label.csv");
        var lines = Enumerable.Range(0, 100).Select(i => $"C{i},{50 + i % 7},{30 + i % 11},0.{i % 9},EU,x,{(i == 2 ? label : i % 2 == 0 ? "true" : "false")}");
        File.WriteAllText(path, "customer_id,income,age,debt_ratio,region,note,defaulted\n" + string.Join('\n', lines) + "\n");
        using var model = new MemoryStream();
        var error = Assert.Throws<InvalidOperationException>(() => ModelTrainer.Train(SyntheticData.BinaryWorkflow("fasttree"), path, model));
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Train_RegressionLabelNotANumber_NamesTheFile()
    {
        var path = Path.Combine(_temp.Path, "bad-target.csv");
        var lines = Enumerable.Range(0, 100).Select(i => $"{i},{i % 10},{i % 5},EU,{(i == 7 ? "abc" : (i % 13).ToString(CultureInfo.InvariantCulture))}");
        File.WriteAllText(path, "id,x1,x2,region,y\n" + string.Join('\n', lines) + "\n");
        using var model = new MemoryStream();
        var error = Assert.Throws<InvalidOperationException>(() => ModelTrainer.Train(SyntheticData.RegressionWorkflow("fasttree"), path, model));
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains("not a number", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Train_MissingFeatureColumn_NamesIt()
    {
        var path = Path.Combine(_temp.Path, "no-age.csv");
        File.WriteAllText(path, "customer_id,income,debt_ratio,region,defaulted\nC1,50,0.3,EU,true\nC2,60,0.1,US,false\n");
        using var model = new MemoryStream();
        var error = Assert.Throws<InvalidOperationException>(() => ModelTrainer.Train(SyntheticData.BinaryWorkflow("fasttree"), path, model));
        Assert.Contains("age", error.Message, StringComparison.Ordinal);
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Train_ColumnsInAnotherOrderWithExtras_AreBoundByName()
    {
        var random = new Random(5);
        var lines = Enumerable.Range(0, 1000).Select(i =>
        {
            var debt = random.NextDouble();
            var label = random.NextDouble() < debt;
            return string.Create(CultureInfo.InvariantCulture, $"{label},extra{i},{debt:0.###},{SyntheticData.Regions[i % 3]},{20 + (i % 50)},{40 + (i % 30)},C{i}");
        });
        var path = Path.Combine(_temp.Path, "reordered.csv");
        File.WriteAllText(path, "defaulted,unused,debt_ratio,region,age,income,customer_id\n" + string.Join('\n', lines) + "\n");
        using var model = new MemoryStream();

        var result = ModelTrainer.Train(SyntheticData.BinaryWorkflow("fasttree"), path, model);

        Assert.True(result.Metrics["auc"] > 0.7, $"auc {result.Metrics["auc"]}");
    }

    [Fact]
    public void Train_UnknownTrainerOrParameter_Throws()
    {
        var csv = SyntheticData.WriteBinaryCsv(_temp.Path, rows: 100);
        using var model = new MemoryStream();
        var unknownTrainer = SyntheticData.BinaryWorkflow("xgboost", new Dictionary<string, double>());
        Assert.Contains("xgboost", Assert.Throws<ArgumentException>(() => ModelTrainer.Train(unknownTrainer, csv, model)).Message, StringComparison.Ordinal);

        var unknownParameter = SyntheticData.BinaryWorkflow("fasttree", new Dictionary<string, double> { ["depth"] = 3 });
        Assert.Contains("depth", Assert.Throws<ArgumentException>(() => ModelTrainer.Train(unknownParameter, csv, model)).Message, StringComparison.Ordinal);

        var fractional = SyntheticData.BinaryWorkflow("fasttree", new Dictionary<string, double> { ["trees"] = 2.5 });
        Assert.Contains("trees", Assert.Throws<ArgumentException>(() => ModelTrainer.Train(fractional, csv, model)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Train_Cancelled_Throws()
    {
        var csv = SyntheticData.WriteBinaryCsv(_temp.Path, rows: 100);
        using var model = new MemoryStream();
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => ModelTrainer.Train(SyntheticData.BinaryWorkflow("fasttree"), csv, model, cancellationToken: cancelled.Token));
    }

    [Fact]
    public void Train_Multiclass_IsNotSupported()
    {
        var csv = SyntheticData.WriteBinaryCsv(_temp.Path, rows: 100);
        var workflow = SyntheticData.BinaryWorkflow("fasttree");
        workflow = workflow with { Model = workflow.Model with { Task = ModelTask.Multiclass } };
        using var model = new MemoryStream();
        Assert.Throws<NotSupportedException>(() => ModelTrainer.Train(workflow, csv, model));
    }

    private static Dictionary<string, string?> ToRequestRow(HoldoutPrediction p) => new()
    {
        ["customer_id"] = p.CustomerId,
        ["income"] = float.IsNaN(p.Income) ? null : p.Income.ToString("R", CultureInfo.InvariantCulture),
        ["age"] = p.Age.ToString("R", CultureInfo.InvariantCulture),
        ["debt_ratio"] = p.DebtRatio.ToString("R", CultureInfo.InvariantCulture),
        ["region"] = p.Region,
    };

    private sealed class HoldoutPrediction
    {
        [ColumnName("customer_id")]
        public string CustomerId { get; set; } = "";

        [ColumnName("income")]
        public float Income { get; set; }

        [ColumnName("age")]
        public float Age { get; set; }

        [ColumnName("debt_ratio")]
        public float DebtRatio { get; set; }

        [ColumnName("region")]
        public string Region { get; set; } = "";

        public float Score { get; set; }

        public float Probability { get; set; }

        public bool PredictedLabel { get; set; }
    }
}
