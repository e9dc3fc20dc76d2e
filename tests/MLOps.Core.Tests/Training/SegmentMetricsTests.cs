using MLOps.Core.Training;
using MLOps.Core.Workflows;

namespace MLOps.Core.Tests.Training;

public sealed class SegmentMetricsTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    private static WorkflowDefinition WithSegments(WorkflowDefinition workflow) => workflow with
    {
        Data = workflow.Data with
        {
            Segments =
            [
                Segment("eu", "region == \"EU\""),
                Segment("old_apac", "age >= 50 and region == 'APAC'"),
                Segment("nobody", "age > 1000"),
            ],
        },
    };

    private static SegmentSpec Segment(string name, string where)
    {
        Assert.True(SegmentExpression.TryParse(where, out var conditions, out var error, out _), error);
        return new SegmentSpec { Name = name, Where = where, Conditions = conditions };
    }

    [Fact]
    public void Train_WithSegments_EvaluatesCandidateAndChampionPerSegment()
    {
        var csv = SyntheticData.WriteBinaryCsv(_temp.Path, rows: 3000);
        var workflow = WithSegments(SyntheticData.BinaryWorkflow("fasttree"));
        using var champion = new MemoryStream();
        ModelTrainer.Train(workflow, csv, champion);
        champion.Position = 0;

        using var model = new MemoryStream();
        var result = ModelTrainer.Train(workflow, csv, model, champion);

        var eu = result.SegmentMetrics["eu"];
        Assert.InRange(eu.Rows, 100, result.HoldoutRows / 2);
        Assert.InRange(eu.Metrics["auc"], 0.6, 1.0);
        Assert.Equal(["accuracy", "auc", "aucpr", "f1", "log_loss", "precision", "recall"], eu.Metrics.Keys.Order(StringComparer.Ordinal));
        Assert.True(result.SegmentMetrics["old_apac"].Rows < eu.Rows);
        Assert.Equal(0, result.SegmentMetrics["nobody"].Rows);
        Assert.Empty(result.SegmentMetrics["nobody"].Metrics);
        Assert.True(result.SegmentMetrics.Values.Sum(s => s.Rows) > 0);

        // Same data, same seed: the champion scores the same segments with the same figures.
        Assert.Equal(eu.Rows, result.ChampionSegmentMetrics!["eu"].Rows);
        Assert.Equal(eu.Metrics["auc"], result.ChampionSegmentMetrics["eu"].Metrics["auc"], 6);
    }
}
