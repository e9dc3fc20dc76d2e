using MLOps.Core.Workflows;

namespace MLOps.Core.Training;

/// <summary>A trained model with its holdout metrics. Metric names: binary — auc, accuracy, f1, precision,
/// recall, log_loss, aucpr; regression — rmse, mae, r2.</summary>
public sealed record TrainingResult
{
    public required IReadOnlyDictionary<string, double> Metrics { get; init; }
    /// <summary>Metrics of the current champion on the same holdout, when one was given.</summary>
    public IReadOnlyDictionary<string, double>? ChampionMetrics { get; init; }
    public long TrainRows { get; init; }
    public long HoldoutRows { get; init; }
    public double TrainSeconds { get; init; }
}

/// <summary>One scored row.</summary>
public sealed record Prediction(double Score, double? Probability, string? PredictedLabel);

/// <summary>Trains and evaluates an ML.NET model as a workflow says. TODO(helper A2): implement.</summary>
public static class ModelTrainer
{
    /// <summary>Reads <paramref name="csvPath"/>, splits it by the workflow's seed and holdout share, trains the
    /// workflow's trainer, writes the model (ML.NET zip) to <paramref name="modelOutput"/> and evaluates it on the
    /// holdout. When <paramref name="championModel"/> is given, it is evaluated on the same holdout too.</summary>
    public static TrainingResult Train(WorkflowDefinition workflow, string csvPath, Stream modelOutput, Stream? championModel = null, CancellationToken cancellationToken = default)
        => throw new NotImplementedException();
}

/// <summary>A loaded model that scores rows given as column name → invariant-culture text. Thread-safe.
/// TODO(helper A2): implement.</summary>
public sealed class ModelScorer
{
    private ModelScorer() { }

    public static ModelScorer Load(WorkflowDefinition workflow, Stream model) => throw new NotImplementedException();

    /// <summary>Scores rows; throws <see cref="ArgumentException"/> naming the row and column of a bad value.</summary>
    public IReadOnlyList<Prediction> Score(IReadOnlyList<IReadOnlyDictionary<string, string?>> rows) => throw new NotImplementedException();
}
