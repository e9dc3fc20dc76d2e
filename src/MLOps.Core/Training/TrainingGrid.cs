using System.Globalization;
using MLOps.Core.Gates;
using MLOps.Core.Workflows;

namespace MLOps.Core.Training;

/// <summary>What one grid candidate produced, as kept in history and evidence: its parameters, where its model is, and
/// its metrics (on the validation split that picks the winner, and on the holdout the gates judge).</summary>
public sealed record CandidateSummary
{
    public required int Index { get; init; }
    public required IReadOnlyDictionary<string, double> Parameters { get; init; }
    public required string ModelUri { get; init; }
    public IReadOnlyDictionary<string, double> ValidationMetrics { get; init; } = new Dictionary<string, double>();
    public IReadOnlyDictionary<string, double> HoldoutMetrics { get; init; } = new Dictionary<string, double>();
    public double TrainSeconds { get; init; }
    public long ModelBytes { get; init; }
}

/// <summary>The parameter grid of <see cref="TrainingSpec"/>: its candidates and the choice of the best one.</summary>
public static class TrainingGrid
{
    /// <summary>Trainer parameters by trainer name (what <c>training.parameters</c> and <c>training.grid</c> accept).</summary>
    public static IReadOnlyDictionary<string, IReadOnlyList<string>> ParametersByTrainer { get; } = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal)
    {
        ["fasttree"] = ["trees", "leaves", "learning_rate", "min_leaf"],
        ["lightgbm"] = ["trees", "iterations", "leaves", "learning_rate", "min_leaf"],
        ["linear"] = ["iterations", "l1", "l2"],
    };

    /// <summary>Number of candidates the grid makes (the product of its list lengths; 0 without a grid).</summary>
    public static long CountCandidates(TrainingSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.Grid.Count == 0)
        {
            return 0;
        }

        long count = 1;
        foreach (var values in spec.Grid.Values)
        {
            count = Math.Min(count * values.Count, long.MaxValue / 1024);
        }

        return count;
    }

    /// <summary>The candidates' parameters, in a stable order (grid keys sorted by name, the first key varying slowest):
    /// <see cref="TrainingSpec.Parameters"/> with the grid's values laid over them.</summary>
    public static IReadOnlyList<IReadOnlyDictionary<string, double>> Expand(TrainingSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var keys = spec.Grid.Keys.Order(StringComparer.Ordinal).ToList();
        var result = new List<IReadOnlyDictionary<string, double>>();
        if (keys.Count == 0)
        {
            return result;
        }

        var indexes = new int[keys.Count];
        while (true)
        {
            var parameters = new Dictionary<string, double>(spec.Parameters, StringComparer.Ordinal);
            for (var k = 0; k < keys.Count; k++)
            {
                parameters[keys[k]] = spec.Grid[keys[k]][indexes[k]];
            }

            result.Add(parameters);
            var position = keys.Count - 1;
            while (position >= 0 && ++indexes[position] == spec.Grid[keys[position]].Count)
            {
                indexes[position] = 0;
                position--;
            }

            if (position < 0)
            {
                return result;
            }
        }
    }

    /// <summary>The metric that picks the winner: <see cref="TrainingSpec.SelectBy"/>, else <c>auc</c> (binary) or
    /// <c>rmse</c> (regression) or <c>accuracy</c> (multiclass).</summary>
    public static string SelectionMetric(TrainingSpec spec, ModelTask task)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return spec.SelectBy ?? task switch
        {
            ModelTask.Regression => "rmse",
            ModelTask.Multiclass => "accuracy",
            _ => "auc",
        };
    }

    /// <summary>Whether larger values of <paramref name="metric"/> are better (auc, accuracy, f1, r2…); false for
    /// log_loss, rmse, mae.</summary>
    public static bool HigherIsBetter(string metric) => !GateEvaluator.LowerIsBetter.Contains(metric);

    /// <summary>Index (into <paramref name="candidates"/>) of the best candidate by its validation value of
    /// <paramref name="metric"/>; ties go to the earlier candidate. A candidate without the metric never wins unless
    /// none has it.</summary>
    /// <exception cref="ArgumentException">No candidates.</exception>
    public static int SelectBest(IReadOnlyList<CandidateSummary> candidates, string metric)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        if (candidates.Count == 0)
        {
            throw new ArgumentException("There are no candidates to choose from.", nameof(candidates));
        }

        var higher = HigherIsBetter(metric);
        var best = -1;
        var bestValue = 0.0;
        for (var i = 0; i < candidates.Count; i++)
        {
            // A missing or NaN value (e.g. AUC of a validation part with one class) never wins, wherever it stands.
            if (!candidates[i].ValidationMetrics.TryGetValue(metric, out var value) || double.IsNaN(value))
            {
                continue;
            }

            if (best < 0 || (higher ? value > bestValue : value < bestValue))
            {
                best = i;
                bestValue = value;
            }
        }

        return best < 0 ? 0 : best;
    }

    /// <summary>A short label of a candidate's grid values, e.g. <c>leaves=10, learning_rate=0.2</c>.</summary>
    public static string Describe(TrainingSpec spec, IReadOnlyDictionary<string, double> parameters)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(parameters);
        return string.Join(", ", spec.Grid.Keys.Order(StringComparer.Ordinal)
            .Select(k => $"{k}={parameters[k].ToString("R", CultureInfo.InvariantCulture)}"));
    }
}
