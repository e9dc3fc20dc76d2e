using System.Diagnostics;
using System.Text.Json;
using MLOps.Cli.Commands;
using MLOps.Core.Samples;
using MLOps.Integration.Tests.Fixtures;
using MLOps.Integration.Tests.Support;

namespace MLOps.Integration.Tests.Cli;

/// <summary>The <c>mlops</c> command line as a user runs it: its own process, exit codes, output.</summary>
[Collection("Azurite")]
public sealed class CliTests(AzuriteFixture azurite)
{
    private static async Task<(int Exit, string Out, string Err)> MlopsAsync(params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = RepoPaths.Root };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "mlops.dll"));
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }

    [Fact]
    public async Task WorkflowValidate_SampleIsValid_BrokenFileNamesLineAndColumn()
    {
        var (exit, output, _) = await MlopsAsync("workflow", "validate", Path.Combine(RepoPaths.Workflows, "credit-risk.yaml"));
        Assert.Equal(0, exit);
        Assert.Contains("valid", output, StringComparison.Ordinal);

        var broken = Path.Combine(Path.GetTempPath(), $"broken-{Guid.NewGuid():N}.yaml");
        var yaml = await File.ReadAllTextAsync(Path.Combine(RepoPaths.Workflows, "credit-risk.yaml"));
        await File.WriteAllTextAsync(broken, yaml.Replace("  window: 1d", "  window: 1d\n  treshold: 3", StringComparison.Ordinal));
        try
        {
            var (brokenExit, _, errors) = await MlopsAsync("workflow", "validate", broken);
            Assert.Equal(2, brokenExit);
            Assert.Matches(@"broken-[0-9a-f]+\.yaml\(\d+,\d+\): unknown key 'treshold'", errors);
        }
        finally
        {
            File.Delete(broken);
        }
    }

    [Fact]
    public async Task DataGenerateParquet_ValidatesOffline_AndDriftReadsParquet()
    {
        var dir = Directory.CreateTempSubdirectory("mlops-cli-parquet-");
        var workflow = Path.Combine(RepoPaths.Workflows, "credit-risk.yaml");
        try
        {
            var reference = Path.Combine(dir.FullName, "reference.parquet");
            var current = Path.Combine(dir.FullName, "current.data");
            Assert.Equal(0, (await MlopsAsync("data", "generate", reference, "--rows", "3000")).Exit);
            Assert.Equal(0, (await MlopsAsync("data", "generate", current, "--rows", "3000", "--seed", "9", "--drifted", "--format", "parquet")).Exit);
            Assert.True(File.ReadAllBytes(current).AsSpan().StartsWith("PAR1"u8));

            var (exit, json, errors) = await MlopsAsync("data", "validate", reference, "--workflow", workflow, "--json");
            Assert.True(exit == 0, json + errors);
            using (var doc = JsonDocument.Parse(json))
            {
                Assert.True(doc.RootElement.GetProperty("isValid").GetBoolean());
                Assert.Equal(3000, doc.RootElement.GetProperty("rows").GetInt64());
                Assert.Equal("Parquet", doc.RootElement.GetProperty("format").GetString());
            }

            // Format by magic bytes: a name without the extension is still read as Parquet.
            var (driftExit, drift, driftErrors) = await MlopsAsync("drift", "--reference", reference, "--current", current, "--workflow", workflow, "--json");
            Assert.True(driftExit == 0, drift + driftErrors);
            using (var doc = JsonDocument.Parse(drift))
            {
                Assert.True(doc.RootElement.GetProperty("datasetDrift").GetBoolean(), drift);
            }

            var truncated = Path.Combine(dir.FullName, "truncated.parquet");
            await File.WriteAllBytesAsync(truncated, File.ReadAllBytes(reference)[..4096]);
            var (badExit, bad, _) = await MlopsAsync("data", "validate", truncated, "--workflow", workflow);
            Assert.Equal(2, badExit);
            Assert.Contains("truncated.parquet: it does not end with the Parquet magic 'PAR1'", bad, StringComparison.Ordinal);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Drift_WithoutWorkflow_ComparesSharedColumnsTypedFromValues_WithTheDefaultSpec()
    {
        var dir = Directory.CreateTempSubdirectory("mlops-cli-drift-");
        try
        {
            // 1012 reference rows: about 2 % of incomes are empty, so income has at most 1000 values (a small reference
            // for Evidently's rule, which drops nulls) while every other column has 1012 (a large one).
            var reference = Path.Combine(dir.FullName, "reference.csv");
            using (var writer = new StreamWriter(reference))
            {
                CreditRiskData.WriteCsv(writer, 1012, seed: 3);
            }

            var incomeValues = File.ReadLines(reference).Skip(1).Count(l => l.Split(',')[2].Length > 0);
            Assert.InRange(incomeValues, 900, 1000);

            // Production traffic has no label column: the current file drops "default".
            var current = Path.Combine(dir.FullName, "current.csv");
            using (var writer = new StringWriter())
            {
                CreditRiskData.WriteCsv(writer, 800, seed: 4, new DataShift { IncomeFactor = 0.7, AgeOffset = 6 });
                await File.WriteAllLinesAsync(current, writer.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l[..l.LastIndexOf(',')]));
            }

            var (exit, json, errors) = await MlopsAsync("drift", "--reference", reference, "--current", current, "--json");
            Assert.True(exit == 0, json + errors);
            Assert.Contains("current.csv: no column 'default' (in reference.csv); not compared", errors, StringComparison.Ordinal);
            using var doc = JsonDocument.Parse(json);
            var features = doc.RootElement.GetProperty("features").EnumerateArray().ToDictionary(f => f.GetProperty("feature").GetString()!);
            Assert.Equal(CreditRiskData.Columns.Where(c => c != "default"), doc.RootElement.GetProperty("features").EnumerateArray().Select(f => f.GetProperty("feature").GetString()));
            foreach (var numeric in new[] { "age", "income", "loan_amount", "debt_to_income", "credit_score", "employment_years", "num_credit_lines" })
            {
                Assert.Equal("Numeric", features[numeric].GetProperty("kind").GetString());
            }

            Assert.Equal("Categorical", features["region"].GetProperty("kind").GetString());
            Assert.Equal("Categorical", features["home_ownership"].GetProperty("kind").GetString());

            // The default spec: method auto, fixed thresholds. Income's 1000-or-fewer values take KS; age's 1012 take
            // normalized Wasserstein; both shifted, both drift.
            var income = features["income"];
            Assert.Equal("ks", income.GetProperty("method").GetString());
            Assert.Equal(0.05, income.GetProperty("threshold").GetDouble());
            Assert.True(income.GetProperty("drifted").GetBoolean());
            Assert.Equal(income.GetProperty("metrics").GetProperty("ks_p_value").GetDouble(), income.GetProperty("value").GetDouble());
            var age = features["age"];
            Assert.Equal("wasserstein_norm", age.GetProperty("method").GetString());
            Assert.Equal(0.1, age.GetProperty("threshold").GetDouble());
            Assert.True(age.GetProperty("drifted").GetBoolean());
            Assert.Equal("jensen_shannon", features["region"].GetProperty("method").GetString());

            // The numbers equal those of the same files profiled through the sample workflow's contract.
            var (workflowExit, withWorkflow, workflowErrors) = await MlopsAsync("drift", "--reference", reference, "--current", current,
                "--workflow", Path.Combine(RepoPaths.Workflows, "credit-risk.yaml"), "--json");
            Assert.True(workflowExit == 0, withWorkflow + workflowErrors);
            using var workflowDoc = JsonDocument.Parse(withWorkflow);
            int compared = 0;
            foreach (var f in workflowDoc.RootElement.GetProperty("features").EnumerateArray())
            {
                var inferred = features[f.GetProperty("feature").GetString()!];
                Assert.Equal(f.GetProperty("kind").GetString(), inferred.GetProperty("kind").GetString());
                foreach (var metric in f.GetProperty("metrics").EnumerateObject().Where(m => !m.Name.StartsWith("calibration_", StringComparison.Ordinal)))
                {
                    Assert.Equal(metric.Value.GetDouble(), inferred.GetProperty("metrics").GetProperty(metric.Name).GetDouble());
                    compared++;
                }
            }

            Assert.True(compared > 50, $"{compared} values compared");

            // No shared column: a clear error, exit 3.
            var other = Path.Combine(dir.FullName, "other.csv");
            await File.WriteAllTextAsync(other, "a,b\n1,2\n");
            var (noneExit, _, noneErrors) = await MlopsAsync("drift", "--reference", reference, "--current", other);
            Assert.Equal(3, noneExit);
            Assert.Contains("reference.csv and other.csv share no column: nothing to compare", noneErrors, StringComparison.Ordinal);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task DataValidate_InvalidCsv_ExitsTwoAndNamesRowAndColumn()
    {
        var path = Path.Combine(Path.GetTempPath(), $"data-{Guid.NewGuid():N}.csv");
        using (var writer = new StreamWriter(path))
        {
            CreditRiskData.WriteCsv(writer, 1200, seed: 5);
        }

        var lines = await File.ReadAllLinesAsync(path);
        var cells = lines[3].Split(',');
        cells[1] = "old";
        lines[3] = string.Join(',', cells);
        await File.WriteAllLinesAsync(path, lines);
        try
        {
            var (exit, output, _) = await MlopsAsync("data", "validate", path, "--workflow", Path.Combine(RepoPaths.Workflows, "credit-risk.yaml"));
            Assert.Equal(2, exit);
            Assert.Contains("INVALID", output, StringComparison.Ordinal);
            Assert.Contains("row 3, column 'age'", output, StringComparison.Ordinal);

            var (jsonExit, json, _) = await MlopsAsync("data", "validate", path, "--workflow", Path.Combine(RepoPaths.Workflows, "credit-risk.yaml"), "--json");
            Assert.Equal(2, jsonExit);
            using var doc = JsonDocument.Parse(json);
            Assert.False(doc.RootElement.GetProperty("isValid").GetBoolean());
            Assert.Equal(1200, doc.RootElement.GetProperty("rows").GetInt64());
            var issue = doc.RootElement.GetProperty("issues")[0];
            Assert.Equal(3, issue.GetProperty("row").GetInt64());
            Assert.Equal("age", issue.GetProperty("column").GetString());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task DataValidateWithReference_ReportsUnseenCategoryAndShift_FromACsvOrAProfile()
    {
        var dir = Directory.CreateTempSubdirectory("mlops-reference-");
        try
        {
            // The reference has no APAC applicants; the file to validate has.
            var current = Path.Combine(dir.FullName, "current.csv");
            using (var writer = new StreamWriter(current))
            {
                CreditRiskData.WriteCsv(writer, 1500, seed: 5);
            }
            var lines = await File.ReadAllLinesAsync(current);
            var region = Array.IndexOf(lines[0].Split(','), "region");
            var reference = Path.Combine(dir.FullName, "reference.csv");
            await File.WriteAllLinesAsync(reference, lines.Where((l, i) => i == 0 || l.Split(',')[region] != "APAC"));
            var apac = lines.Skip(1).Count(l => l.Split(',')[region] == "APAC");
            Assert.True(apac > 0);
            var workflow = Path.Combine(RepoPaths.Workflows, "credit-risk.yaml");

            var (exit, json, err) = await MlopsAsync("data", "validate", current, "--workflow", workflow, "--reference", reference, "--json");
            Assert.True(exit == 0, err);
            using var doc = JsonDocument.Parse(json);
            Assert.Equal("reference.csv", doc.RootElement.GetProperty("reference").GetString());
            var column = doc.RootElement.GetProperty("columns").EnumerateArray().Single(c => c.GetProperty("name").GetString() == "region");
            Assert.Equal(apac, column.GetProperty("unseenCategoryValues").GetInt64());
            Assert.Equal((double)apac / (lines.Length - 1), column.GetProperty("unseenCategoryRate").GetDouble(), 12);
            Assert.True(column.GetProperty("categoryShift").GetDouble() > 0);

            // The same from a stored reference profile, and as text.
            var profile = Path.Combine(dir.FullName, "reference-profile.json");
            await using (var csv = File.OpenRead(reference))
            {
                var definition = MLOps.Core.Workflows.WorkflowParser.Parse(await File.ReadAllTextAsync(workflow), "credit-risk.yaml");
                await File.WriteAllTextAsync(profile, JsonSerializer.Serialize(MLOps.Core.Drift.ProfileBuilder.FromCsv(csv, definition)));
            }
            var (textExit, text, _) = await MlopsAsync("data", "validate", current, "--workflow", workflow, "--reference", profile);
            Assert.Equal(0, textExit);
            Assert.Contains($"region: unseen-category rate {((double)apac / (lines.Length - 1)).ToString("0.####", System.Globalization.CultureInfo.CurrentCulture)}", text, StringComparison.Ordinal);
            Assert.Contains("have a category the reference never saw ('APAC')", text, StringComparison.Ordinal);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task WorkflowValidateSample_DryRunsContractGatesAndMonitors_FailsOnAnUnreachableGate()
    {
        var dir = Directory.CreateTempSubdirectory("mlops-dryrun-");
        try
        {
            var sample = Path.Combine(dir.FullName, "sample.csv");
            using (var writer = new StreamWriter(sample))
            {
                CreditRiskData.WriteCsv(writer, 6000, seed: 7);
            }

            var workflow = Path.Combine(RepoPaths.Workflows, "credit-risk.yaml");
            var (exit, output, _) = await MlopsAsync("workflow", "validate", workflow, "--sample", sample);
            Assert.True(exit == 0, output);
            Assert.Contains("contract: pass", output, StringComparison.Ordinal);
            Assert.Contains("gate pass: auc", output, StringComparison.Ordinal);
            Assert.Contains("monitors on two halves of the sample: 0 of", output, StringComparison.Ordinal);
            Assert.Contains("dry run: pass", output, StringComparison.Ordinal);

            var strict = Path.Combine(dir.FullName, "credit-risk.yaml");
            var yaml = await File.ReadAllTextAsync(workflow);
            await File.WriteAllTextAsync(strict, yaml.Replace("    min: 0.70", "    min: 0.99", StringComparison.Ordinal));
            var (strictExit, strictOutput, _) = await MlopsAsync("workflow", "validate", strict, "--sample", sample);
            Assert.Equal(2, strictExit);
            Assert.Contains("gate FAIL: auc", strictOutput, StringComparison.Ordinal);
            Assert.Contains("dry run: FAIL", strictOutput, StringComparison.Ordinal);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Demo_RunsTheWholeLifecycle_AndExitsZero()
    {
        var output = new StringWriter();
        var exit = await DemoCommand.RunAsync(TestHosts.Options(azurite.ConnectionString) with { LogLevel = Microsoft.Extensions.Logging.LogLevel.Error }, 6000, output, CancellationToken.None);
        var text = output.ToString();
        Assert.True(exit == 0, text);
        Assert.Contains("HTTP 403", text, StringComparison.Ordinal);
        Assert.Contains("retraining started", text, StringComparison.Ordinal);
        Assert.Contains("production moved from version 2 to 1", text, StringComparison.Ordinal);
        Assert.Contains("chain intact", text, StringComparison.Ordinal);
    }
}
