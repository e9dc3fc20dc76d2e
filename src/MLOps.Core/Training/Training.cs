using Microsoft.ML;
using Microsoft.ML.Data;
using MLOps.Core.Gates;
using MLOps.Core.Workflows;

namespace MLOps.Core.Training;

/// <summary>A trained model with its holdout metrics. Metric names: binary — auc, accuracy, f1, precision,
/// recall, log_loss, aucpr; regression — rmse, mae, r2.</summary>
public sealed record TrainingResult
{
    public required IReadOnlyDictionary<string, double> Metrics { get; init; }
    /// <summary>Metrics on the validation part carved from the training split (grid candidates only; null otherwise).</summary>
    public IReadOnlyDictionary<string, double>? ValidationMetrics { get; init; }
    /// <summary>Metrics of the current champion on the same holdout, when one was given.</summary>
    public IReadOnlyDictionary<string, double>? ChampionMetrics { get; init; }
    public long TrainRows { get; init; }
    public long HoldoutRows { get; init; }
    public double TrainSeconds { get; init; }
    /// <summary>Candidate metrics per segment of the holdout (<c>data.segments</c>), with the segment's row count.</summary>
    public IReadOnlyDictionary<string, SegmentMetrics> SegmentMetrics { get; init; } = new Dictionary<string, SegmentMetrics>();
    /// <summary>The champion's metrics on the same segments, when a champion was given.</summary>
    public IReadOnlyDictionary<string, SegmentMetrics>? ChampionSegmentMetrics { get; init; }
    /// <summary>The model's predictions on the holdout as the drift <see cref="Drift.PredictionFeature"/> (probability
    /// for binary, score for regression): the reference of prediction drift; null when the workflow turns it off.</summary>
    public Drift.FeatureProfile? HoldoutPredictions { get; init; }
}

/// <summary>One scored row.</summary>
public sealed record Prediction(double Score, double? Probability, string? PredictedLabel);

/// <summary>Trains and evaluates an ML.NET model as a workflow says: the pipeline (mean imputation of numeric
/// features, one-hot categories, one feature vector, the trainer) is built from the data contract, the holdout
/// split is deterministic (workflow seed and holdout share).</summary>
public static class ModelTrainer
{
    /// <summary>Reads <paramref name="csvPath"/>, splits it by the workflow's seed and holdout share, trains the
    /// workflow's trainer, writes the model (ML.NET zip) to <paramref name="modelOutput"/> and evaluates it on the
    /// holdout. When <paramref name="championModel"/> is given, it is evaluated on the same holdout too.</summary>
    /// <exception cref="InvalidOperationException">The file is unreadable, has no rows, misses a needed column,
    /// has a single label class, or the champion cannot be applied to this data.</exception>
    /// <exception cref="ArgumentException">The workflow names an unknown trainer or parameter.</exception>
    public static TrainingResult Train(WorkflowDefinition workflow, string csvPath, Stream modelOutput, Stream? championModel = null, CancellationToken cancellationToken = default)
        => TrainingRunner.Run(workflow, csvPath, modelOutput, championModel, cancellationToken).Result;

    /// <summary>As <see cref="Train(WorkflowDefinition, string, Stream, Stream?, CancellationToken)"/>, and fits on the training
    /// part minus <paramref name="validationShare"/> of it (same seed), evaluating on that validation part too
    /// (<see cref="TrainingResult.ValidationMetrics"/>). Grid candidates are trained this way: they are compared on the
    /// validation part, never on the holdout the gates judge.</summary>
    public static TrainingResult Train(WorkflowDefinition workflow, string csvPath, Stream modelOutput, Stream? championModel, double validationShare, CancellationToken cancellationToken = default)
        => TrainingRunner.Run(workflow, csvPath, modelOutput, championModel, validationShare, cancellationToken).Result;
}

/// <summary>A loaded model that scores rows given as column name → invariant-culture text. Thread-safe.</summary>
/// <remarks>Feature columns are required in every row (a null value means missing); the label, the id and
/// non-feature columns may be left out. Rows are numbered from 1 in error messages.</remarks>
public sealed class ModelScorer
{
    private readonly TabularSchema _schema;
    private readonly TextLoader _loader;
    private readonly ITransformer _model;

    private ModelScorer(TabularSchema schema, TextLoader loader, ITransformer model)
    {
        _schema = schema;
        _loader = loader;
        _model = model;
    }

    public static ModelScorer Load(WorkflowDefinition workflow, Stream model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var schema = TabularSchema.For(workflow);
        var mlContext = new MLContext(seed: workflow.Training.Seed);
        ITransformer transformer;
        try
        {
            transformer = mlContext.Model.Load(model, out _);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw new InvalidOperationException($"The model of '{workflow.Model.Name}' could not be loaded: {ex.Message}", ex);
        }

        var loader = schema.CreateLoader(mlContext, [.. schema.ScoringColumns.Select(c => c.Name)]);
        var scorer = new ModelScorer(schema, loader, transformer);

        // Fail at load time, not at the first request, when the model does not fit this data contract.
        try
        {
            var output = transformer.GetOutputSchema(loader.GetOutputSchema());
            _ = output["Score"];
            if (schema.Task == ModelTask.Binary)
            {
                _ = output["Probability"];
                _ = output["PredictedLabel"];
            }
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException)
        {
            throw new InvalidOperationException($"The model cannot score rows of the data contract of '{workflow.Model.Name}': {ex.Message}", ex);
        }

        return scorer;
    }

    /// <summary>Scores rows; throws <see cref="ArgumentException"/> naming the row and column of a bad value.</summary>
    public IReadOnlyList<Prediction> Score(IReadOnlyList<IReadOnlyDictionary<string, string?>> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        if (rows.Count == 0)
        {
            return [];
        }

        var csv = _schema.ToCsv(rows);
        var scored = _model.Transform(_loader.Load(new InMemoryTextSource(csv)));
        var binary = _schema.Task == ModelTask.Binary;
        var scoreColumn = scored.Schema["Score"];
        DataViewSchema.Column[] needed = binary ? [scoreColumn, scored.Schema["Probability"], scored.Schema["PredictedLabel"]] : [scoreColumn];

        var predictions = new List<Prediction>(rows.Count);
        using var cursor = scored.GetRowCursor(needed);
        var scoreGetter = cursor.GetGetter<float>(scoreColumn);
        var probabilityGetter = binary ? cursor.GetGetter<float>(needed[1]) : null;
        var labelGetter = binary ? cursor.GetGetter<bool>(needed[2]) : null;
        float score = 0, probability = 0;
        var label = false;
        while (cursor.MoveNext())
        {
            scoreGetter(ref score);
            if (binary)
            {
                probabilityGetter!(ref probability);
                labelGetter!(ref label);
                predictions.Add(new Prediction(score, probability, label ? "true" : "false"));
            }
            else
            {
                predictions.Add(new Prediction(score, null, null));
            }
        }

        if (predictions.Count != rows.Count)
        {
            throw new InvalidOperationException($"Scoring produced {predictions.Count} predictions for {rows.Count} rows.");
        }

        return predictions;
    }
}
