using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Serialization;
using MLOps.Core.Data;
using MLOps.Core.Drift;
using MLOps.Core.Samples;
using MLOps.Core.Workflows;

namespace MLOps.Cli.Commands;

/// <summary>Offline commands: they need no host and no storage.</summary>
internal static class DataCommands
{
    private static readonly JsonSerializerOptions Pretty = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static Command Data()
    {
        var file = new Argument<string>("file") { Description = "CSV or Parquet file to validate" };
        var workflow = new Option<string>("--workflow") { Description = "Workflow YAML with the data contract", Required = true };
        var json = CommonOptions.Json();
        var referenceOption = new Option<string?>("--reference")
        {
            Description = "Reference to compare with (unseen categories, category shift, reference range): the training CSV or Parquet, or a reference profile JSON",
        };
        var validate = new Command("validate", "Validate a CSV or Parquet file against a workflow's data contract (exit 2 when invalid)") { file, workflow, referenceOption, json };
        validate.SetAction(async (parse, ct) =>
        {
            var definition = LoadWorkflow(parse.GetValue(workflow)!);
            if (definition is null)
            {
                return 3;
            }

            var path = parse.GetValue(file)!;
            await using var stream = File.OpenRead(path);
            var report = await DatasetValidator.ValidateDatasetAsync(stream, Path.GetFileName(path), definition.Data, cancellationToken: ct);
            if (parse.GetValue(referenceOption) is { } referencePath)
            {
                var reference = await LoadReferenceAsync(referencePath, definition, ct);
                stream.Position = 0;
                report = await ReferenceSignals.ApplyAsync(report, stream, definition.Data, reference, Path.GetFileName(referencePath), ct);
            }

            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(report, Pretty));
            }
            else
            {
                Console.WriteLine($"{(report.IsValid ? "VALID" : "INVALID")}: {report.Summary}");
                Console.WriteLine($"  rows {report.Rows}, bytes {report.Bytes}, sha256 {report.Sha256}");
                foreach (var c in report.Columns)
                {
                    if (c.CategoryShift is not null || c.UnseenCategoryRate is not null)
                    {
                        Console.WriteLine($"  {c.Name}: unseen-category rate {c.UnseenCategoryRate:0.####}, category shift (JS) {c.CategoryShift:0.####}, PSI {c.CategoryPsi:0.####} vs {report.Reference}");
                    }
                    else if (c.OutOfReferenceBoundsRate is { } outside)
                    {
                        Console.WriteLine($"  {c.Name}: {outside:0.####} outside the reference range [{c.ReferenceMin:G6}, {c.ReferenceMax:G6}]");
                    }
                }

                foreach (var warning in report.Warnings)
                {
                    Console.WriteLine($"  warning: {warning}");
                }

                foreach (var issue in report.Issues.Take(20))
                {
                    Console.WriteLine($"  - {issue.Message}");
                }

                if (report.IssueCount > 20)
                {
                    Console.WriteLine($"  … {report.IssueCount - 20} more issue(s); --json lists up to {report.Issues.Count}");
                }
            }

            return report.IsValid ? 0 : 2;
        });

        var output = new Argument<string>("output") { Description = "File to write (.csv or .parquet)" };
        var rows = new Option<int>("--rows") { DefaultValueFactory = _ => 20_000 };
        var seed = new Option<int>("--seed") { DefaultValueFactory = _ => 7 };
        var drifted = new Option<bool>("--drifted") { Description = "Shift income, age, debt-to-income and region mix" };
        var format = new Option<string?>("--format") { Description = "csv or parquet (default: from the output's extension, else csv)" };
        format.AcceptOnlyFromAmong("csv", "parquet");
        var generate = new Command("generate", "Write the credit-risk sample dataset") { output, rows, seed, drifted, format };
        generate.SetAction(async (parse, ct) =>
        {
            var path = parse.GetValue(output)!;
            var parquet = parse.GetValue(format) is { } f ? f == "parquet" : DatasetFormats.IsParquetName(path);
            if (!parquet)
            {
                await using var writer = new StreamWriter(path);
                CreditRiskData.WriteCsv(writer, parse.GetValue(rows), parse.GetValue(seed), parse.GetValue(drifted) ? DemoCommand.Drift : null);
                return 0;
            }

            // Parquet typed by the sample workflow's contract, through a temporary CSV (rows are generated as text).
            var csv = Path.GetTempFileName();
            try
            {
                await using (var writer = new StreamWriter(csv))
                {
                    CreditRiskData.WriteCsv(writer, parse.GetValue(rows), parse.GetValue(seed), parse.GetValue(drifted) ? DemoCommand.Drift : null);
                }

                using var reader = new StreamReader(csv);
                await using var target = File.Create(path);
                var types = new DataContract { Columns = [.. CreditRiskData.Columns.Select(n => new ColumnSpec { Name = n, Type = CreditRiskData.ColumnTypes[n] })] };
                await ParquetConversion.CsvToParquetAsync(reader, target, types, cancellationToken: ct);
            }
            finally
            {
                File.Delete(csv);
            }

            return 0;
        });
        return new Command("data", "Datasets") { validate, generate };
    }

    public static Command Workflow()
    {
        var file = new Argument<string>("file") { Description = "Workflow YAML" };
        var sample = new Option<string?>("--sample") { Description = "Dry run on a sample CSV: contract, training and gates, drift monitors" };
        var validate = new Command("validate", "Check a workflow file; errors name file, line and column (exit 2 when invalid)") { file, sample };
        validate.SetAction(async (parse, ct) =>
        {
            var path = parse.GetValue(file)!;
            var definition = LoadWorkflow(path);
            if (definition is null)
            {
                return 2;
            }

            Console.WriteLine($"{Path.GetFileName(path)}: valid — model '{definition.Model.Name}' ({definition.Model.Task}), {definition.Data.Columns.Count} columns, " +
                $"{definition.Gates.Count} gate(s), trainer {definition.Training.Trainer}, rollout {definition.Rollout.Strategy}, sha256 {WorkflowParser.ComputeHash(File.ReadAllText(path))[..12]}");
            return parse.GetValue(sample) is { } samplePath ? await DryRunAsync(definition, samplePath, ct) : 0;
        });
        return new Command("workflow", "Workflow files") { validate };
    }

    /// <summary>Evaluates the policy on sample data before it is used: the data contract, the trainer and every gate
    /// on the sample's holdout (as a first model: no champion), and the drift monitors on two halves of the sample
    /// (same distribution: a policy that alerts there is too tight). Exit 2 when any stage fails.</summary>
    private static async Task<int> DryRunAsync(WorkflowDefinition definition, string samplePath, CancellationToken ct)
    {
        var failed = false;
        DatasetValidationReport report;
        await using (var stream = File.OpenRead(samplePath))
        {
            report = await DatasetValidator.ValidateDatasetAsync(stream, Path.GetFileName(samplePath), definition.Data, cancellationToken: ct);
        }

        Console.WriteLine($"contract: {(report.IsValid ? "pass" : "FAIL")} — {report.Summary}");
        foreach (var issue in report.Issues.Take(10))
        {
            Console.WriteLine($"  - {issue.Message}");
        }

        if (!report.IsValid)
        {
            return 2;
        }

        using var csvSample = await CsvView.OpenAsync(samplePath, ct);
        samplePath = csvSample.Path;
        try
        {
            using var model = new MemoryStream();
            var training = MLOps.Core.Training.ModelTrainer.Train(definition, samplePath, model, cancellationToken: ct);
            Console.WriteLine($"training: {definition.Training.Trainer} on {training.TrainRows} rows, holdout {training.HoldoutRows}, {training.TrainSeconds:F2} s — " +
                string.Join(", ", training.Metrics.Select(m => $"{m.Key} {m.Value:F3}")));
            var gates = MLOps.Core.Gates.GateEvaluator.Evaluate(definition.Gates, training.Metrics, null, training.SegmentMetrics, null);
            foreach (var gate in gates.Results)
            {
                Console.WriteLine($"  gate {(gate.Passed ? "pass" : "FAIL")}: {gate.Message}");
            }

            failed |= !gates.Passed;

            // A grid: every candidate trains on the sample (fitting minus the validation share) and the winner is named.
            var grid = MLOps.Core.Training.TrainingGrid.Expand(definition.Training);
            if (grid.Count > 0)
            {
                var metric = MLOps.Core.Training.TrainingGrid.SelectionMetric(definition.Training, definition.Model.Task);
                var candidates = new List<MLOps.Core.Training.CandidateSummary>();
                foreach (var parameters in grid)
                {
                    using var candidateModel = new MemoryStream();
                    var candidate = MLOps.Core.Training.ModelTrainer.Train(definition with { Training = definition.Training with { Parameters = parameters } },
                        samplePath, candidateModel, null, definition.Training.Validation, ct);
                    candidates.Add(new MLOps.Core.Training.CandidateSummary
                    {
                        Index = candidates.Count,
                        Parameters = parameters,
                        ModelUri = "",
                        ValidationMetrics = candidate.ValidationMetrics ?? new Dictionary<string, double>(),
                        HoldoutMetrics = candidate.Metrics,
                        TrainSeconds = candidate.TrainSeconds,
                    });
                    Console.WriteLine($"  candidate {candidates.Count - 1} ({MLOps.Core.Training.TrainingGrid.Describe(definition.Training, parameters)}): " +
                        $"validation {metric} {candidates[^1].ValidationMetrics.GetValueOrDefault(metric):F4}, {candidate.TrainSeconds:F2} s");
                }

                var best = MLOps.Core.Training.TrainingGrid.SelectBest(candidates, metric);
                Console.WriteLine($"grid: {grid.Count} candidates; the best by validation {metric} is candidate {best}");
            }
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException or InvalidDataException or IOException)
        {
            Console.WriteLine($"training: FAIL — {ex.Message}");
            failed = true;
        }

        // Monitors: the first half of the sample as reference, the second as a production window.
        DatasetProfile whole;
        await using (var stream = File.OpenRead(samplePath))
        {
            whole = ProfileBuilder.FromCsv(stream, definition);
        }

        var (first, second) = Halves(whole);
        var drift = DriftAnalyzer.Compare(first, second, definition.Monitoring);
        Console.WriteLine($"monitors on two halves of the sample: {drift.Summary}");
        if (drift.DatasetDrift)
        {
            Console.WriteLine("  FAIL: the monitors report dataset drift between two halves of the same data; thresholds are too tight");
            failed = true;
        }

        Console.WriteLine(failed ? "dry run: FAIL" : "dry run: pass");
        return failed ? 2 : 0;
    }

    private static (DatasetProfile First, DatasetProfile Second) Halves(DatasetProfile profile)
    {
        FeatureProfile Half(FeatureProfile f, int part)
        {
            var values = f.Values.Where((_, i) => i % 2 == part).ToArray();
            var counts = f.Counts.ToDictionary(c => c.Key, c => part == 0 ? (c.Value + 1) / 2 : c.Value / 2);
            return f with { Values = values, Counts = counts, Nulls = part == 0 ? (f.Nulls + 1) / 2 : f.Nulls / 2, Rows = part == 0 ? (f.Rows + 1) / 2 : f.Rows / 2 };
        }

        return (
            new DatasetProfile { Features = profile.Features.Select(f => Half(f, 0)).ToList(), Rows = (profile.Rows + 1) / 2 },
            new DatasetProfile { Features = profile.Features.Select(f => Half(f, 1)).ToList(), Rows = profile.Rows / 2 });
    }

    public static void AddOfflineDrift(Command drift)
    {
        var reference = new Option<string?>("--reference") { Description = "Reference CSV or Parquet (e.g. the training data)" };
        var current = new Option<string?>("--current") { Description = "Current CSV or Parquet (e.g. production traffic)" };
        var workflow = new Option<string?>("--workflow")
        {
            Description = "Workflow YAML (features and monitoring settings). Without it: the columns both files share, numeric when "
                + "every non-empty value is a number, categorical otherwise, judged by the default monitoring (method auto)",
        };
        var json = CommonOptions.Json();
        var predictionColumn = new Option<string?>("--prediction-column")
        {
            Description = $"Column holding the model's output in both files (default: '{PredictionFeature.Name}' when both have it); judged as the prediction feature",
        };
        drift.Add(reference);
        drift.Add(current);
        drift.Add(workflow);
        drift.Add(predictionColumn);
        drift.Add(json);
        drift.SetAction(async (parse, ct) =>
        {
            if (parse.GetValue(reference) is not { } referencePath || parse.GetValue(current) is not { } currentPath)
            {
                Console.Error.WriteLine("mlops drift --reference <csv|parquet> --current <csv|parquet> [--workflow <yaml>] [--prediction-column <name>] [--json], or mlops drift audit <model>");
                return 3;
            }

            WorkflowDefinition? definition = null;
            if (parse.GetValue(workflow) is { } workflowPath && (definition = LoadWorkflow(workflowPath)) is null)
            {
                return 3;
            }

            using var referenceCsv = await CsvView.OpenAsync(referencePath, ct);
            using var currentCsv = await CsvView.OpenAsync(currentPath, ct);
            if (definition is null)
            {
                // No workflow: the shared columns, typed from the values, under the default monitoring spec.
                InferredDriftFeatures inferred;
                await using (var r = File.OpenRead(referenceCsv.Path))
                await using (var c = File.OpenRead(currentCsv.Path))
                {
                    inferred = DriftFeatureInference.Infer(r, c);
                }

                foreach (var name in inferred.MissingFromCurrent)
                {
                    Console.Error.WriteLine($"{Path.GetFileName(currentPath)}: no column '{name}' (in {Path.GetFileName(referencePath)}); not compared");
                }

                if (inferred.Workflow.Data.Columns.Count == 0)
                {
                    Console.Error.WriteLine($"{Path.GetFileName(referencePath)} and {Path.GetFileName(currentPath)} share no column: nothing to compare");
                    return 3;
                }

                definition = inferred.Workflow;
            }

            // The prediction column is judged when the workflow monitors predictions and the column is there: named
            // explicitly, both files must have it; by default, a file without it leaves prediction drift unjudged (noted).
            var contract = definition;
            var explicitColumn = parse.GetValue(predictionColumn);
            var column = explicitColumn ?? PredictionFeature.Name;
            DatasetProfile Profile(CsvView csv, string path)
            {
                DatasetProfile profile;
                using (var stream = File.OpenRead(csv.Path))
                {
                    profile = ProfileBuilder.FromCsv(stream, contract);
                }

                if (!PredictionFeature.Enabled(contract))
                {
                    return profile;
                }

                using (var stream = File.OpenRead(csv.Path))
                {
                    if (!PredictionFeature.CsvHasColumn(stream, column))
                    {
                        return explicitColumn is null
                            ? profile
                            : throw new InvalidDataException($"'{path}' has no prediction column '{column}' (--prediction-column)");
                    }
                }

                using (var stream = File.OpenRead(csv.Path))
                {
                    return PredictionFeature.Append(profile, PredictionFeature.FromCsv(stream, column, contract, path));
                }
            }

            DatasetProfile referenceProfile, currentProfile;
            try
            {
                referenceProfile = Profile(referenceCsv, referencePath);
                currentProfile = Profile(currentCsv, currentPath);
            }
            catch (InvalidDataException ex)
            {
                Console.Error.WriteLine(ex.Message);
                return 3;
            }

            var report = DriftAnalyzer.Compare(referenceProfile, currentProfile, definition.Monitoring);
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(report, Pretty));
                return 0;
            }

            Console.WriteLine(report.Summary);
            Console.WriteLine($"{"FEATURE",-20} {"KIND",-12} {"METHOD",-18} {"VALUE",10} {"THRESHOLD",10} DRIFTED");
            foreach (var f in report.Features)
            {
                var kind = f.IsPrediction ? "prediction" : f.Kind.ToString();
                Console.WriteLine($"{f.Feature,-20} {kind,-12} {f.Method,-18} {f.Value,10:G4} {f.Threshold,10:G4} {(f.Drifted ? "yes" : "no")}");
            }

            return 0;
        });
    }

    /// <summary>A reference profile: read from a profile JSON (as training stores it), or built from a CSV or Parquet
    /// file with the workflow's features.</summary>
    private static async Task<DatasetProfile> LoadReferenceAsync(string path, WorkflowDefinition definition, CancellationToken ct)
    {
        if (path.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
        {
            await using var json = File.OpenRead(path);
            return await JsonSerializer.DeserializeAsync<DatasetProfile>(json, Pretty, ct)
                ?? throw new InvalidDataException($"{path}: not a reference profile");
        }

        using var csv = await CsvView.OpenAsync(path, ct);
        await using var stream = File.OpenRead(csv.Path);
        return ProfileBuilder.FromCsv(stream, definition);
    }

    /// <summary>Parses a workflow file, printing its errors; null when invalid.</summary>
    public static WorkflowDefinition? LoadWorkflow(string path)
    {
        try
        {
            return WorkflowParser.Parse(File.ReadAllText(path), Path.GetFileName(path));
        }
        catch (WorkflowValidationException ex)
        {
            foreach (var error in ex.Errors)
            {
                Console.Error.WriteLine(error);
            }

            if (ex.Errors.Count == 0)
            {
                Console.Error.WriteLine(ex.Message);
            }

            return null;
        }
        catch (IOException ex)
        {
            Console.Error.WriteLine($"{path}: {ex.Message}");
            return null;
        }
    }

    /// <summary>A CSV path for a dataset file: the file itself, or a temporary CSV converted from Parquet (deleted on dispose).</summary>
    private sealed class CsvView(string path, bool temporary) : IDisposable
    {
        public string Path { get; } = path;

        public static async Task<CsvView> OpenAsync(string path, CancellationToken ct)
        {
            if (DatasetFormats.DetectFile(path) != DatasetFormat.Parquet)
            {
                return new CsvView(path, false);
            }

            var csv = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"mlops-{Guid.NewGuid():N}.csv");
            await ParquetConversion.ParquetFileToCsvAsync(path, csv, ct);
            return new CsvView(csv, true);
        }

        public void Dispose()
        {
            if (temporary)
            {
                File.Delete(Path);
            }
        }
    }
}
