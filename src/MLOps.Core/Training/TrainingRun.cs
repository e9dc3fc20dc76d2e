using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Trainers;
using Microsoft.ML.Trainers.FastTree;
using Microsoft.ML.Trainers.LightGbm;
using MLOps.Core.Gates;
using MLOps.Core.Workflows;
using nietras.SeparatedValues;

namespace MLOps.Core.Training;

/// <summary>Everything one training produced, kept for tests and callers inside the assembly.</summary>
internal sealed record TrainingRun(MLContext Context, ITransformer Model, IDataView TrainSet, IDataView TestSet, TrainingResult Result);

/// <summary>The training procedure behind <c>ModelTrainer.Train</c>.</summary>
internal static class TrainingRunner
{
    private static readonly string[] TreeParameters = [.. TrainingGrid.ParametersByTrainer["fasttree"]];
    private static readonly string[] LightGbmParameters = [.. TrainingGrid.ParametersByTrainer["lightgbm"]];
    private static readonly string[] LinearParameters = [.. TrainingGrid.ParametersByTrainer["linear"]];

    internal static TrainingRun Run(WorkflowDefinition workflow, string csvPath, Stream modelOutput, Stream? championModel, CancellationToken cancellationToken)
        => Run(workflow, csvPath, modelOutput, championModel, validationShare: null, cancellationToken);

    /// <summary>With <paramref name="validationShare"/>, that share of the training part (split with the same seed) is
    /// kept out of fitting and the model is also evaluated on it (<see cref="TrainingResult.ValidationMetrics"/>): grid
    /// candidates are compared there, so the holdout stays untouched for the gates.</summary>
    internal static TrainingRun Run(WorkflowDefinition workflow, string csvPath, Stream modelOutput, Stream? championModel, double? validationShare, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(workflow);
        ArgumentException.ThrowIfNullOrWhiteSpace(csvPath);
        ArgumentNullException.ThrowIfNull(modelOutput);
        cancellationToken.ThrowIfCancellationRequested();

        var stopwatch = Stopwatch.StartNew();
        var schema = TabularSchema.For(workflow);
        var training = workflow.Training;
        if (!(training.Holdout > 0 && training.Holdout < 1))
        {
            throw new ArgumentException($"Model '{workflow.Model.Name}': holdout must be between 0 and 1 (exclusive), got {training.Holdout.ToString(CultureInfo.InvariantCulture)}.", nameof(workflow));
        }

        var header = ReadHeader(csvPath);
        var missing = workflow.Data.Columns
            .Where(c => (schema.IsFeature(c) || c.Name == schema.Label) && !header.Contains(c.Name.Trim(), StringComparer.Ordinal))
            .Select(c => c.Name)
            .ToList();
        if (missing.Count > 0)
        {
            throw new InvalidOperationException($"'{csvPath}' lacks column(s) the model needs: {string.Join(", ", missing)}.");
        }

        var mlContext = new MLContext(seed: training.Seed);
        try
        {
            var loader = schema.CreateLoader(mlContext, header, withRawLabel: true);
            var data = loader.Load(csvPath);
            CheckLabels(data, schema, csvPath);
            CheckRows(data, schema, csvPath, "");
            var split = mlContext.Data.TrainTestSplit(data, testFraction: training.Holdout, seed: training.Seed);
            var trainRows = CheckRows(split.TrainSet, schema, csvPath, " (training part of the split)");
            var testRows = CheckRows(split.TestSet, schema, csvPath, " (holdout part of the split)");
            cancellationToken.ThrowIfCancellationRequested();

            var fitSet = split.TrainSet;
            IDataView? validationSet = null;
            if (validationShare is { } share)
            {
                if (!(share > 0 && share <= 0.5))
                {
                    throw new ArgumentException($"Model '{workflow.Model.Name}': the validation share must be greater than 0 and at most 0.5, got {share.ToString(CultureInfo.InvariantCulture)}.", nameof(validationShare));
                }

                var carved = mlContext.Data.TrainTestSplit(split.TrainSet, testFraction: share, seed: training.Seed);
                fitSet = carved.TrainSet;
                validationSet = carved.TestSet;
                trainRows = CheckRows(fitSet, schema, csvPath, " (fitting part of the training split)");
                CheckRows(validationSet, schema, csvPath, " (validation part of the training split)");
            }

            var pipeline = schema.CreateFeaturePipeline(mlContext, normalize: IsLinear(training.Trainer))
                .Append(CreateTrainer(mlContext, schema, training));
            var model = pipeline.Fit(fitSet);
            cancellationToken.ThrowIfCancellationRequested();
            var validationMetrics = validationSet is null ? null : Evaluate(mlContext, schema, model.Transform(validationSet));

            var scoredHoldout = model.Transform(split.TestSet);
            var metrics = Evaluate(mlContext, schema, scoredHoldout);
            var holdoutPredictions = Drift.PredictionFeature.Enabled(workflow) ? ProfilePredictions(workflow, schema, scoredHoldout) : null;
            var segmentMetrics = SegmentScoring.Evaluate(mlContext, schema, scoredHoldout);
            IReadOnlyDictionary<string, double>? championMetrics = null;
            IReadOnlyDictionary<string, SegmentMetrics>? championSegments = null;
            if (championModel is not null)
            {
                (championMetrics, championSegments) = EvaluateChampion(mlContext, schema, championModel, split.TestSet, csvPath);
            }

            // The saved input schema is the contract's columns as scoring reads them (no training-only columns).
            mlContext.Model.Save(model, schema.CreateLoader(mlContext, header).GetOutputSchema(), modelOutput);
            stopwatch.Stop();

            var result = new TrainingResult
            {
                Metrics = metrics,
                ValidationMetrics = validationMetrics,
                ChampionMetrics = championMetrics,
                SegmentMetrics = segmentMetrics,
                ChampionSegmentMetrics = championSegments,
                HoldoutPredictions = holdoutPredictions,
                TrainRows = trainRows,
                HoldoutRows = testRows,
                TrainSeconds = stopwatch.Elapsed.TotalSeconds,
            };
            return new TrainingRun(mlContext, model, fitSet, split.TestSet, result);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException($"Training of model '{workflow.Model.Name}' on '{csvPath}' was cancelled.", cancellationToken);
        }
        catch (FormatException ex)
        {
            throw new InvalidOperationException($"'{csvPath}' could not be read as the data contract of model '{workflow.Model.Name}' says: {ex.Message}", ex);
        }
    }

    /// <summary>The scored holdout's model output as the prediction feature: the probability of a binary model, the
    /// score of a regression, read as floats exactly as scoring returns them.</summary>
    private static Drift.FeatureProfile ProfilePredictions(WorkflowDefinition workflow, TabularSchema schema, IDataView scored)
    {
        var collector = Drift.PredictionFeature.Create(workflow);
        var column = scored.Schema[schema.Task == ModelTask.Binary ? "Probability" : "Score"];
        using var cursor = scored.GetRowCursor([column]);
        var getter = cursor.GetGetter<float>(column);
        var value = 0f;
        while (cursor.MoveNext())
        {
            getter(ref value);
            collector.AddNumber(value);
        }

        return collector.ToProfile();
    }

    private static bool IsLinear(string trainer) => string.Equals(trainer, "linear", StringComparison.OrdinalIgnoreCase);

    private static List<string> ReadHeader(string csvPath)
    {
        try
        {
            using var reader = Sep.New(',').Reader(o => o with { Unescape = true, DisableColCountCheck = true }).FromFile(csvPath);
            var names = reader.Header.ColNames.Select(n => n.Trim()).ToList();
            if (names.Count == 0 || names.All(n => n.Length == 0))
            {
                throw new InvalidOperationException($"'{csvPath}' is empty: no header and no rows.");
            }

            if (!reader.MoveNext())
            {
                throw new InvalidOperationException($"'{csvPath}' has a header but no data rows.");
            }

            return names;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException($"'{csvPath}' cannot be read: {ex.Message}", ex);
        }
    }

    /// <summary>Every row needs a label: an empty binary label would otherwise read as false.</summary>
    private static void CheckLabels(IDataView data, TabularSchema schema, string csvPath)
    {
        var column = data.Schema[TabularSchema.RawLabelColumn];
        using var cursor = data.GetRowCursor([column]);
        var getter = cursor.GetGetter<ReadOnlyMemory<char>>(column);
        var text = default(ReadOnlyMemory<char>);
        long row = 0, empty = 0, first = 0;
        while (cursor.MoveNext())
        {
            row++;
            getter(ref text);
            if (text.Span.Trim().IsEmpty)
            {
                empty++;
                first = first == 0 ? row : first;
            }
        }

        if (empty > 0)
        {
            throw new InvalidOperationException(
                $"'{csvPath}': {empty} row(s) have no value in label column '{schema.Label}' (first at data row {first}).");
        }
    }

    /// <summary>Counts rows and, for a binary task, checks both classes are present.</summary>
    private static long CheckRows(IDataView data, TabularSchema schema, string csvPath, string part)
    {
        long rows = 0, positives = 0;
        var column = data.Schema[schema.Label];
        using var cursor = data.GetRowCursor([column]);
        if (schema.Task == ModelTask.Binary)
        {
            var getter = cursor.GetGetter<bool>(column);
            var value = false;
            while (cursor.MoveNext())
            {
                getter(ref value);
                rows++;
                if (value)
                {
                    positives++;
                }
            }
        }
        else
        {
            var getter = cursor.GetGetter<float>(column);
            var value = 0f;
            long notNumbers = 0;
            while (cursor.MoveNext())
            {
                getter(ref value);
                rows++;
                notNumbers += float.IsFinite(value) ? 0 : 1;
            }

            if (notNumbers > 0)
            {
                throw new InvalidOperationException($"'{csvPath}'{part}: {notNumbers} row(s) have a label '{schema.Label}' that is not a number.");
            }
        }

        if (rows == 0)
        {
            throw new InvalidOperationException($"'{csvPath}' has no usable rows{part}.");
        }

        if (schema.Task == ModelTask.Binary && (positives == 0 || positives == rows))
        {
            throw new InvalidOperationException(
                $"'{csvPath}'{part}: label '{schema.Label}' has one class only ({(positives == 0 ? "all false" : "all true")} in {rows} rows); a binary model needs both.");
        }

        return rows;
    }

    private static IEstimator<ITransformer> CreateTrainer(MLContext mlContext, TabularSchema schema, TrainingSpec spec)
    {
        var p = spec.Parameters;
        var label = schema.Label;
        const string features = TabularSchema.FeaturesColumn;
        var binary = schema.Task == ModelTask.Binary;

        switch (spec.Trainer.Trim().ToLowerInvariant())
        {
            case "fasttree":
                CheckParameters(p, TreeParameters, spec.Trainer);
                if (binary)
                {
                    var o = new FastTreeBinaryTrainer.Options { LabelColumnName = label, FeatureColumnName = features };
                    ApplyTree(o, p);
                    return mlContext.BinaryClassification.Trainers.FastTree(o);
                }
                else
                {
                    var o = new FastTreeRegressionTrainer.Options { LabelColumnName = label, FeatureColumnName = features };
                    ApplyTree(o, p);
                    return mlContext.Regression.Trainers.FastTree(o);
                }

            case "lightgbm":
                CheckParameters(p, LightGbmParameters, spec.Trainer);
                if (binary)
                {
                    var o = new LightGbmBinaryTrainer.Options { LabelColumnName = label, FeatureColumnName = features };
                    ApplyLightGbm(o, p, spec.Seed);
                    return mlContext.BinaryClassification.Trainers.LightGbm(o);
                }
                else
                {
                    var o = new LightGbmRegressionTrainer.Options { LabelColumnName = label, FeatureColumnName = features };
                    ApplyLightGbm(o, p, spec.Seed);
                    return mlContext.Regression.Trainers.LightGbm(o);
                }

            case "linear":
                CheckParameters(p, LinearParameters, spec.Trainer);
                if (binary)
                {
                    var o = new SdcaLogisticRegressionBinaryTrainer.Options { LabelColumnName = label, FeatureColumnName = features };
                    ApplySdca(o, p);
                    return mlContext.BinaryClassification.Trainers.SdcaLogisticRegression(o);
                }
                else
                {
                    var o = new SdcaRegressionTrainer.Options { LabelColumnName = label, FeatureColumnName = features };
                    ApplySdca(o, p);
                    return mlContext.Regression.Trainers.Sdca(o);
                }

            default:
                throw new ArgumentException($"Unknown trainer '{spec.Trainer}'; expected fasttree, lightgbm or linear.", nameof(spec));
        }
    }

    private static void CheckParameters(IReadOnlyDictionary<string, double> parameters, string[] allowed, string trainer)
    {
        foreach (var (name, value) in parameters)
        {
            if (!allowed.Contains(name, StringComparer.Ordinal))
            {
                throw new ArgumentException($"Trainer '{trainer}' has no parameter '{name}'; allowed: {string.Join(", ", allowed)}.", nameof(parameters));
            }

            if (!double.IsFinite(value) || value <= 0 && name is not ("l1" or "l2") || value < 0)
            {
                throw new ArgumentException($"Trainer '{trainer}': parameter '{name}' has an invalid value {value.ToString(CultureInfo.InvariantCulture)}.", nameof(parameters));
            }
        }
    }

    private static int? Int(IReadOnlyDictionary<string, double> p, string name)
    {
        if (!p.TryGetValue(name, out var value))
        {
            return null;
        }

        if (value != Math.Floor(value) || value > int.MaxValue)
        {
            throw new ArgumentException($"Training parameter '{name}' must be a whole number, got {value.ToString(CultureInfo.InvariantCulture)}.", nameof(p));
        }

        return (int)value;
    }

    private static double? Real(IReadOnlyDictionary<string, double> p, string name) => p.TryGetValue(name, out var v) ? v : null;

    private static void ApplyTree(BoostedTreeOptions o, IReadOnlyDictionary<string, double> p)
    {
        o.NumberOfTrees = Int(p, "trees") ?? o.NumberOfTrees;
        o.NumberOfLeaves = Int(p, "leaves") ?? o.NumberOfLeaves;
        o.LearningRate = Real(p, "learning_rate") ?? o.LearningRate;
        o.MinimumExampleCountPerLeaf = Int(p, "min_leaf") ?? o.MinimumExampleCountPerLeaf;
    }

    private static void ApplyLightGbm(LightGbmBinaryTrainer.Options o, IReadOnlyDictionary<string, double> p, int seed)
    {
        o.NumberOfIterations = Int(p, "iterations") ?? Int(p, "trees") ?? o.NumberOfIterations;
        o.NumberOfLeaves = Int(p, "leaves") ?? o.NumberOfLeaves;
        o.LearningRate = Real(p, "learning_rate") ?? o.LearningRate;
        o.MinimumExampleCountPerLeaf = Int(p, "min_leaf") ?? o.MinimumExampleCountPerLeaf;
        o.UseCategoricalSplit = false;
        o.Seed = seed;
        o.NumberOfThreads = 1;
    }

    private static void ApplyLightGbm(LightGbmRegressionTrainer.Options o, IReadOnlyDictionary<string, double> p, int seed)
    {
        o.NumberOfIterations = Int(p, "iterations") ?? Int(p, "trees") ?? o.NumberOfIterations;
        o.NumberOfLeaves = Int(p, "leaves") ?? o.NumberOfLeaves;
        o.LearningRate = Real(p, "learning_rate") ?? o.LearningRate;
        o.MinimumExampleCountPerLeaf = Int(p, "min_leaf") ?? o.MinimumExampleCountPerLeaf;
        o.UseCategoricalSplit = false;
        o.Seed = seed;
        o.NumberOfThreads = 1;
    }

    // SDCA is only reproducible single-threaded.
    private static void ApplySdca(SdcaLogisticRegressionBinaryTrainer.Options o, IReadOnlyDictionary<string, double> p)
    {
        o.MaximumNumberOfIterations = Int(p, "iterations") ?? o.MaximumNumberOfIterations;
        o.L1Regularization = (float?)Real(p, "l1") ?? o.L1Regularization;
        o.L2Regularization = (float?)Real(p, "l2") ?? o.L2Regularization;
        o.NumberOfThreads = 1;
    }

    private static void ApplySdca(SdcaRegressionTrainer.Options o, IReadOnlyDictionary<string, double> p)
    {
        o.MaximumNumberOfIterations = Int(p, "iterations") ?? o.MaximumNumberOfIterations;
        o.L1Regularization = (float?)Real(p, "l1") ?? o.L1Regularization;
        o.L2Regularization = (float?)Real(p, "l2") ?? o.L2Regularization;
        o.NumberOfThreads = 1;
    }

    internal static Dictionary<string, double> Evaluate(MLContext mlContext, TabularSchema schema, IDataView scored, string? labelColumn = null)
    {
        var metrics = new Dictionary<string, double>(StringComparer.Ordinal);
        if (schema.Task == ModelTask.Binary)
        {
            var m = mlContext.BinaryClassification.Evaluate(scored, labelColumnName: labelColumn ?? schema.Label);
            Add(metrics, "auc", m.AreaUnderRocCurve);
            Add(metrics, "accuracy", m.Accuracy);
            Add(metrics, "f1", m.F1Score);
            Add(metrics, "precision", m.PositivePrecision);
            Add(metrics, "recall", m.PositiveRecall);
            Add(metrics, "log_loss", m.LogLoss);
            Add(metrics, "aucpr", m.AreaUnderPrecisionRecallCurve);
        }
        else
        {
            var m = mlContext.Regression.Evaluate(scored, labelColumnName: labelColumn ?? schema.Label);
            Add(metrics, "rmse", m.RootMeanSquaredError);
            Add(metrics, "mae", m.MeanAbsoluteError);
            Add(metrics, "r2", m.RSquared);
        }

        return metrics;

        // Non-finite values cannot travel as JSON; a metric that is undefined is left out (gates then say so).
        static void Add(Dictionary<string, double> metrics, string name, double value)
        {
            if (double.IsFinite(value))
            {
                metrics[name] = value;
            }
        }
    }

    private static (Dictionary<string, double> Metrics, Dictionary<string, SegmentMetrics> Segments) EvaluateChampion(MLContext mlContext, TabularSchema schema, Stream championModel, IDataView testSet, string csvPath)
    {
        ITransformer champion;
        try
        {
            champion = mlContext.Model.Load(championModel, out _);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw new InvalidOperationException($"The champion model could not be loaded: {ex.Message}", ex);
        }

        try
        {
            var scored = champion.Transform(testSet);
            return (Evaluate(mlContext, schema, scored), SegmentScoring.Evaluate(mlContext, schema, scored));
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw new InvalidOperationException(
                $"The champion model cannot be applied to the holdout of '{csvPath}' (its input schema differs from this data contract): {ex.Message}", ex);
        }
    }
}
