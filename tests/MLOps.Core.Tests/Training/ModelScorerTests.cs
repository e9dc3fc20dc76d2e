using MLOps.Core.Training;

namespace MLOps.Core.Tests.Training;

/// <summary>Scoring rows with a model trained once for the class.</summary>
public sealed class ModelScorerTests(ModelScorerTests.TrainedModel trained) : IClassFixture<ModelScorerTests.TrainedModel>
{
    public sealed class TrainedModel : IDisposable
    {
        private readonly TempDirectory _temp = new();

        public TrainedModel()
        {
            var csv = SyntheticData.WriteBinaryCsv(_temp.Path, rows: 1000);
            using var model = new MemoryStream();
            ModelTrainer.Train(SyntheticData.BinaryWorkflow("fasttree"), csv, model);
            model.Position = 0;
            Scorer = ModelScorer.Load(SyntheticData.BinaryWorkflow("fasttree"), model);
        }

        public ModelScorer Scorer { get; }

        public void Dispose() => _temp.Dispose();
    }

    private static Dictionary<string, string?> Row(string? income = "55.5", string? age = "40", string? debt = "0.3", string? region = "EU") => new()
    {
        ["income"] = income,
        ["age"] = age,
        ["debt_ratio"] = debt,
        ["region"] = region,
    };

    [Fact]
    public void Score_BinaryRows_GivesProbabilityAndLabel()
    {
        var predictions = trained.Scorer.Score([Row(debt: "0.05", region: "US", income: "110"), Row(debt: "0.95", region: "APAC", income: "25")]);

        Assert.Equal(2, predictions.Count);
        Assert.All(predictions, p => Assert.InRange(p.Probability!.Value, 0, 1));
        Assert.True(predictions[1].Probability > predictions[0].Probability);
        Assert.Equal("false", predictions[0].PredictedLabel);
        Assert.Equal("true", predictions[1].PredictedLabel);
    }

    [Fact]
    public void Score_LabelIdAndNonFeatureColumns_AreOptional_AndAcceptedWhenPresent()
    {
        var bare = Row();
        var full = new Dictionary<string, string?>(Row()) { ["customer_id"] = "C1", ["note"] = "a \"quoted\", note\nover lines", ["defaulted"] = "true" };

        var predictions = trained.Scorer.Score([bare, full]);

        Assert.Equal(predictions[0], predictions[1]);
    }

    [Fact]
    public void Score_MissingValues_AreAccepted()
    {
        var predictions = trained.Scorer.Score([Row(income: null), Row(income: ""), Row(income: " 55.5 ", region: null), Row(region: "never-seen")]);

        Assert.Equal(4, predictions.Count);
        Assert.Equal(predictions[0], predictions[1]);
        Assert.All(predictions, p => Assert.True(double.IsFinite(p.Score)));
    }

    [Fact]
    public void Score_NonNumericValue_NamesRowAndColumn()
    {
        var rows = new[] { Row(), Row(), Row(age: "abc") };

        var error = Assert.Throws<ArgumentException>(() => trained.Scorer.Score(rows));

        Assert.StartsWith("row 3, column 'age': 'abc' is not a number", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("NaN")]
    [InlineData("Infinity")]
    [InlineData("1,5")]
    public void Score_NonFiniteOrLocalisedNumber_IsRejected(string value)
    {
        var error = Assert.Throws<ArgumentException>(() => trained.Scorer.Score([Row(income: value)]));
        Assert.Contains("column 'income'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Score_UnknownColumn_NamesIt()
    {
        var row = new Dictionary<string, string?>(Row()) { ["salary"] = "1" };

        var error = Assert.Throws<ArgumentException>(() => trained.Scorer.Score([Row(), row]));

        Assert.Contains("'salary'", error.Message, StringComparison.Ordinal);
        Assert.Contains("row 2", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Score_MissingFeatureColumn_NamesIt()
    {
        var row = Row();
        row.Remove("debt_ratio");

        var error = Assert.Throws<ArgumentException>(() => trained.Scorer.Score([row]));

        Assert.Contains("row 1", error.Message, StringComparison.Ordinal);
        Assert.Contains("'debt_ratio'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Score_NoRows_GivesNoPredictions() => Assert.Empty(trained.Scorer.Score([]));

    [Fact]
    public void Score_ConcurrentCalls_GiveTheSameResultsAsSequentialOnes()
    {
        var rows = Enumerable.Range(0, 50)
            .Select(i => (IReadOnlyDictionary<string, string?>)Row(income: (20 + i * 2).ToString(System.Globalization.CultureInfo.InvariantCulture), debt: (i / 50.0).ToString(System.Globalization.CultureInfo.InvariantCulture), region: SyntheticData.Regions[i % 3]))
            .ToList();
        var expected = trained.Scorer.Score(rows);

        var results = new IReadOnlyList<Prediction>[16];
        Parallel.For(0, results.Length, i => results[i] = trained.Scorer.Score(rows));

        Assert.All(results, r => Assert.Equal(expected, r));
    }

    [Fact]
    public void Load_ModelOfAnotherContract_Throws()
    {
        using var temp = new TempDirectory();
        var csv = SyntheticData.WriteRegressionCsv(temp.Path, rows: 200);
        using var model = new MemoryStream();
        ModelTrainer.Train(SyntheticData.RegressionWorkflow("fasttree"), csv, model);
        model.Position = 0;

        Assert.Throws<InvalidOperationException>(() => ModelScorer.Load(SyntheticData.BinaryWorkflow("fasttree"), model));
    }

    [Fact]
    public void Load_NotAModel_Throws()
    {
        using var garbage = new MemoryStream([0, 1, 2]);
        Assert.Throws<InvalidOperationException>(() => ModelScorer.Load(SyntheticData.BinaryWorkflow("fasttree"), garbage));
    }
}
