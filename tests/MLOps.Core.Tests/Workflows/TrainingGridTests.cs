using MLOps.Core.Training;
using MLOps.Core.Workflows;

namespace MLOps.Core.Tests.Workflows;

public class TrainingGridTests
{
    // Lines 1–7; cases append sections from line 8.
    private const string Minimal = WorkflowParserTests.Minimal;

    public static TheoryData<string, string, string[]> InvalidGrids => new()
    {
        {
            "parameter the trainer does not have",
            Minimal + "training:\n  trainer: fasttree\n  grid:\n    depth: [3, 4]\n",
            ["t.yaml(11,5): unknown parameter 'depth' in 'training.grid' for trainer 'fasttree'; expected one of: trees, leaves, learning_rate, min_leaf"]
        },
        {
            "linear trainer has no leaves",
            Minimal + "training:\n  trainer: linear\n  grid:\n    leaves: [10]\n    l2: [0, 0.1]\n",
            ["t.yaml(11,5): unknown parameter 'leaves' in 'training.grid' for trainer 'linear'; expected one of: iterations, l1, l2"]
        },
        {
            "empty list",
            Minimal + "training:\n  grid:\n    leaves: []\n",
            ["t.yaml(10,13): 'training.grid.leaves' is empty; give at least one value"]
        },
        {
            "empty grid",
            Minimal + "training:\n  grid: {}\n",
            ["t.yaml(9,9): 'training.grid' must list at least one parameter with its values"]
        },
        {
            "a value that is not a list",
            Minimal + "training:\n  grid:\n    leaves: 10\n",
            ["t.yaml(10,13): 'training.grid.leaves' must be a list of numbers, e.g. [10, 20]"]
        },
        {
            "values: not a number, a duplicate, a fraction of a count, zero",
            Minimal + "training:\n  grid:\n    leaves: [10, ten, 10, 2.5]\n    learning_rate: [0]\n",
            [
                "t.yaml(10,18): values of 'training.grid.leaves' must be numbers; got 'ten'",
                "t.yaml(10,23): 'training.grid.leaves' lists 10 more than once",
                "t.yaml(10,27): values of 'training.grid.leaves' must be whole numbers; got 2.5",
                "t.yaml(11,21): values of 'training.grid.learning_rate' must be greater than 0; got 0",
            ]
        },
        {
            "too many candidates",
            Minimal + "training:\n  max_candidates: 4\n  grid:\n    leaves: [10, 20, 30]\n    learning_rate: [0.1, 0.2]\n",
            ["t.yaml(11,5): 'training.grid' makes 6 candidates; at most 4 are allowed ('training.max_candidates')"]
        },
        {
            "too many candidates under the default cap of 16",
            Minimal + "training:\n  grid:\n    leaves: [10, 20, 30, 40, 50]\n    learning_rate: [0.05, 0.1, 0.2, 0.4]\n",
            ["t.yaml(10,5): 'training.grid' makes 20 candidates; at most 16 are allowed ('training.max_candidates')"]
        },
        {
            "select_by of another task",
            Minimal + "training:\n  select_by: rmse\n  grid:\n    leaves: [10, 20]\n",
            ["t.yaml(9,14): 'training.select_by' must be a metric of a binary model: auc, accuracy, f1, precision, recall, log_loss, aucpr; got 'rmse'"]
        },
        {
            "grid settings without a grid",
            Minimal + "training:\n  select_by: auc\n  validation: 0.2\n",
            [
                "t.yaml(9,14): 'training.select_by' applies only with a parameter grid; add 'training.grid'",
                "t.yaml(10,15): 'training.validation' applies only with a parameter grid; add 'training.grid'",
            ]
        },
        {
            "caps out of range",
            Minimal + "training:\n  max_candidates: 0\n  max_parallel: 32\n  validation: 0.9\n  grid:\n    leaves: [10]\n",
            [
                "t.yaml(9,19): 'training.max_candidates' must be from 1 to 64; got 0",
                "t.yaml(10,17): 'training.max_parallel' must be from 1 to 16; got 32",
                "t.yaml(11,15): 'training.validation' must be greater than 0 and at most 0.5; got 0.9",
            ]
        },
        {
            "unknown budget limit",
            Minimal + "budget:\n  monthly:\n    gpu_hours: 3\n",
            ["t.yaml(10,5): unknown limit 'gpu_hours' in 'budget.monthly'; expected one of: training_runs, compute_hours, storage_gb, cost"]
        },
    };

    [Theory]
    [MemberData(nameof(InvalidGrids))]
    public void Parse_InvalidGrid_ReportsEveryErrorWithLineAndColumn(string scenario, string yaml, string[] expected)
    {
        var ex = Assert.Throws<WorkflowValidationException>(() => WorkflowParser.Parse(yaml, "t.yaml"));

        var actual = ex.Errors.Select(e => e.ToString()).ToArray();
        Assert.True(expected.Length == actual.Length, $"{scenario}: expected {expected.Length} errors, got:\n{string.Join("\n", actual)}");
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i], actual[i]);
        }
    }

    [Fact]
    public void Parse_Grid_MapsEveryFieldAndExpandsInStableOrder()
    {
        var yaml = Minimal + """
            training:
              parameters: { trees: 50, leaves: 20 }
              grid:
                learning_rate: [0.1, 0.3]
                leaves: [8, 32]
              select_by: log_loss
              max_candidates: 4
              max_parallel: 2
              validation: 0.25
            """;

        var spec = WorkflowParser.Parse(yaml, "t.yaml").Training;

        Assert.Equal("log_loss", spec.SelectBy);
        Assert.Equal(4, spec.MaxCandidates);
        Assert.Equal(2, spec.MaxParallel);
        Assert.Equal(0.25, spec.Validation);
        Assert.Equal(4, TrainingGrid.CountCandidates(spec));
        var candidates = TrainingGrid.Expand(spec);
        // Keys sorted by name (learning_rate, leaves), the first varying slowest; fixed parameters kept, grid values win.
        Assert.Equal([(0.1, 8.0), (0.1, 32.0), (0.3, 8.0), (0.3, 32.0)], candidates.Select(c => (c["learning_rate"], c["leaves"])).ToArray());
        Assert.All(candidates, c => Assert.Equal(50, c["trees"]));
        Assert.Equal("learning_rate=0.3, leaves=8", TrainingGrid.Describe(spec, candidates[2]));
    }

    [Fact]
    public void Parse_NoGrid_HasNoCandidatesAndDefaultSelection()
    {
        var spec = WorkflowParser.Parse(Minimal, "t.yaml").Training;

        Assert.Empty(TrainingGrid.Expand(spec));
        Assert.Equal(0, TrainingGrid.CountCandidates(spec));
        Assert.Equal("auc", TrainingGrid.SelectionMetric(spec, ModelTask.Binary));
        Assert.Equal("rmse", TrainingGrid.SelectionMetric(spec, ModelTask.Regression));
    }

    private static CandidateSummary Candidate(int index, string metric, double value) => new()
    {
        Index = index,
        Parameters = new Dictionary<string, double> { ["leaves"] = index },
        ModelUri = $"blob://{index}",
        ValidationMetrics = new Dictionary<string, double> { [metric] = value },
    };

    [Theory]
    [InlineData("auc", new[] { 0.71, 0.83, 0.79 }, 1)]
    [InlineData("r2", new[] { 0.2, 0.1, 0.5 }, 2)]
    [InlineData("log_loss", new[] { 0.61, 0.52, 0.58 }, 1)]
    [InlineData("rmse", new[] { 12.0, 15.0, 11.5 }, 2)]
    [InlineData("mae", new[] { 3.0, 3.0, 4.0 }, 0)]
    [InlineData("accuracy", new[] { 0.8, 0.8, 0.7 }, 0)]
    public void SelectBest_KnowsEachMetricsDirection_TiesGoToTheEarlier(string metric, double[] values, int expected)
    {
        var candidates = values.Select((v, i) => Candidate(i, metric, v)).ToList();

        Assert.Equal(expected, TrainingGrid.SelectBest(candidates, metric));
    }

    [Fact]
    public void SelectBest_CandidateWithoutTheMetric_NeverWins()
    {
        var candidates = new List<CandidateSummary> { Candidate(0, "f1", 0.9), Candidate(1, "auc", 0.6) };

        Assert.Equal(1, TrainingGrid.SelectBest(candidates, "auc"));
    }

    [Theory]
    [InlineData("auc", 0)]
    [InlineData("auc", 1)]
    [InlineData("rmse", 0)]
    [InlineData("rmse", 2)]
    public void SelectBest_NaNNeverWins_WhereverItStands(string metric, int nanAt)
    {
        var values = metric == "auc" ? new[] { 0.7, 0.8, 0.75 } : new[] { 12.0, 11.0, 13.0 };
        values[nanAt] = double.NaN;
        var candidates = values.Select((v, i) => Candidate(i, metric, v)).ToList();
        var expected = Enumerable.Range(0, values.Length)
            .Where(i => !double.IsNaN(values[i]))
            .OrderBy(i => metric == "auc" ? -values[i] : values[i])
            .First();

        Assert.Equal(expected, TrainingGrid.SelectBest(candidates, metric));
    }
}
