using System.Globalization;
using System.Text;
using MLOps.Core.Workflows;

namespace MLOps.Core.Tests.Training;

/// <summary>Small synthetic datasets with a known signal, written to temp files, and matching workflows.</summary>
internal static class SyntheticData
{
    internal static readonly string[] Regions = ["EU", "US", "APAC"];

    /// <summary>Binary: logistic signal on income, age, debt_ratio and region; some missing incomes; a quoted
    /// note column that is not a feature.</summary>
    internal static string WriteBinaryCsv(string directory, int rows = 2000, int seed = 7, bool shuffleLabels = false)
    {
        var random = new Random(seed);
        var lines = new List<string[]>();
        for (var i = 0; i < rows; i++)
        {
            var income = 20 + (random.NextDouble() * 100);
            var age = 18 + random.Next(0, 60);
            var debt = random.NextDouble();
            var region = Regions[random.Next(Regions.Length)];
            var z = -0.04 * (income - 70) + (0.03 * (age - 45)) + (3.0 * (debt - 0.5)) + (region == "APAC" ? 1.2 : region == "US" ? -0.6 : 0);
            var p = 1 / (1 + Math.Exp(-z));
            var label = random.NextDouble() < p;
            var incomeText = random.NextDouble() < 0.03 ? "" : income.ToString("0.###", CultureInfo.InvariantCulture);
            lines.Add([
                $"C{i:D5}",
                incomeText,
                age.ToString(CultureInfo.InvariantCulture),
                debt.ToString("0.####", CultureInfo.InvariantCulture),
                region,
                "\"note, with comma\"",
                label ? (i % 2 == 0 ? "true" : "1") : (i % 2 == 0 ? "no" : "0"),
            ]);
        }

        if (shuffleLabels)
        {
            var labels = lines.Select(l => l[^1]).ToArray();
            random.Shuffle(labels);
            for (var i = 0; i < lines.Count; i++)
            {
                lines[i][^1] = labels[i];
            }
        }

        return Write(directory, "binary.csv", "customer_id,income,age,debt_ratio,region,note,defaulted", lines);
    }

    /// <summary>Regression: y = 3·x1 − 2·x2 + region effect + noise.</summary>
    internal static string WriteRegressionCsv(string directory, int rows = 2000, int seed = 11)
    {
        var random = new Random(seed);
        var lines = new List<string[]>();
        for (var i = 0; i < rows; i++)
        {
            var x1 = random.NextDouble() * 10;
            var x2 = random.NextDouble() * 5;
            var region = Regions[random.Next(Regions.Length)];
            var y = (3 * x1) - (2 * x2) + (region == "EU" ? 4 : 0) + (random.NextDouble() - 0.5) * 4;
            lines.Add([
                i.ToString(CultureInfo.InvariantCulture),
                x1.ToString("R", CultureInfo.InvariantCulture),
                x2.ToString("R", CultureInfo.InvariantCulture),
                region,
                y.ToString("R", CultureInfo.InvariantCulture),
            ]);
        }

        return Write(directory, "regression.csv", "id,x1,x2,region,y", lines);
    }

    private static string Write(string directory, string name, string header, List<string[]> lines)
    {
        var path = Path.Combine(directory, name);
        var builder = new StringBuilder();
        builder.Append(header).Append('\n');
        foreach (var line in lines)
        {
            builder.AppendJoin(',', line).Append('\n');
        }

        File.WriteAllText(path, builder.ToString());
        return path;
    }

    internal static WorkflowDefinition BinaryWorkflow(string trainer, IReadOnlyDictionary<string, double>? parameters = null, int seed = 42) => new()
    {
        Model = new ModelSection { Name = "credit-risk", Task = ModelTask.Binary, Label = "defaulted", Id = "customer_id" },
        Data = new DataContract
        {
            Columns =
            [
                new ColumnSpec { Name = "customer_id", Type = ColumnType.String, Unique = true },
                new ColumnSpec { Name = "income", Type = ColumnType.Number, Nullable = true },
                new ColumnSpec { Name = "age", Type = ColumnType.Integer },
                new ColumnSpec { Name = "debt_ratio", Type = ColumnType.Number },
                new ColumnSpec { Name = "region", Type = ColumnType.Category, Values = Regions },
                new ColumnSpec { Name = "note", Type = ColumnType.String, Feature = false },
                new ColumnSpec { Name = "defaulted", Type = ColumnType.Boolean },
            ],
        },
        Training = new TrainingSpec
        {
            Trainer = trainer,
            Parameters = parameters ?? DefaultParameters(trainer),
            Holdout = 0.2,
            Seed = seed,
        },
    };

    internal static WorkflowDefinition RegressionWorkflow(string trainer) => new()
    {
        Model = new ModelSection { Name = "price", Task = ModelTask.Regression, Label = "y", Id = "id" },
        Data = new DataContract
        {
            Columns =
            [
                new ColumnSpec { Name = "id", Type = ColumnType.Integer },
                new ColumnSpec { Name = "x1", Type = ColumnType.Number },
                new ColumnSpec { Name = "x2", Type = ColumnType.Number },
                new ColumnSpec { Name = "region", Type = ColumnType.Category },
                new ColumnSpec { Name = "y", Type = ColumnType.Number },
            ],
        },
        Training = new TrainingSpec { Trainer = trainer, Parameters = DefaultParameters(trainer), Holdout = 0.25, Seed = 3 },
    };

    internal static Dictionary<string, double> DefaultParameters(string trainer) => trainer switch
    {
        "fasttree" => new() { ["trees"] = 20, ["leaves"] = 8, ["learning_rate"] = 0.2, ["min_leaf"] = 10 },
        "lightgbm" => new() { ["iterations"] = 20, ["leaves"] = 8, ["learning_rate"] = 0.2, ["min_leaf"] = 10 },
        _ => new() { ["iterations"] = 20 },
    };
}

/// <summary>A temp directory removed after the test.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "mlops-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
