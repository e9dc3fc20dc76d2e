using System.Security.Cryptography;
using System.Text;
using MLOps.Core.Workflows;

namespace MLOps.Core.Tests.Workflows;

public class WorkflowParserTests
{
    // Lines 1–7; cases append sections from line 8 (shared with the other parser tables).
    internal const string Minimal = """
        model:
          name: m
          label: y
        data:
          columns:
            - { name: x, type: number }
            - { name: y, type: boolean }

        """;

    public static TheoryData<string, string, string[]> InvalidFiles => new()
    {
        {
            "unknown key in nested section",
            Minimal + """
            monitoring:
              drift:
                treshold: 0.1
            """,
            ["t.yaml(10,5): unknown key 'treshold' in 'monitoring.drift'; expected one of: method, threshold, dataset_share, threshold_mode, fdr, alert_after, prediction"]
        },
        {
            "unknown prediction drift mode",
            Minimal + "monitoring:\n  drift:\n    prediction: always\n",
            ["t.yaml(10,17): 'monitoring.drift.prediction' must be one of: monitor, count, off; got 'always'"]
        },
        {
            "feature column named like the prediction feature",
            "model:\n  name: m\n  label: y\ndata:\n  columns:\n    - { name: prediction, type: number }\n    - { name: y, type: boolean }\n",
            ["t.yaml(6,15): feature column 'prediction' clashes with the prediction feature of drift profiles; rename it, mark it 'feature: false', or set 'monitoring.drift.prediction: off'"]
        },
        {
            "unknown top-level section",
            Minimal + "gate:\n  - metric: auc\n",
            ["t.yaml(8,1): unknown key 'gate' at top level; expected one of: $schema, version, model, data, training, gates, approval, rollout, monitoring, retraining, budget"]
        },
        {
            "missing model and data",
            "training:\n  trainer: fasttree\n",
            ["t.yaml(1,1): missing required section 'model'", "t.yaml(1,1): missing required section 'data'"]
        },
        {
            "missing name and label, empty columns",
            "model:\n  task: binary\ndata:\n  columns: []\n",
            [
                "t.yaml(2,3): missing required key 'name' in 'model'",
                "t.yaml(2,3): missing required key 'label' in 'model'",
                "t.yaml(4,12): 'data.columns' must declare at least one column",
            ]
        },
        {
            "label and id not in columns",
            "model:\n  name: m\n  label: target\n  id: row_id\ndata:\n  columns:\n    - { name: x }\n",
            [
                "t.yaml(3,10): 'model.label' 'target' is not a column in 'data.columns'",
                "t.yaml(4,7): 'model.id' 'row_id' is not a column in 'data.columns'",
            ]
        },
        {
            "column errors are all collected",
            """
            model:
              name: m
              label: y
            data:
              columns:
                - { name: x, type: number, min: 5, max: 1 }
                - { name: x, type: integer }
                - { name: z, type: number, nullable: true, max_null_rate: 1.5 }
                - { name: c, type: categry }
                - { name: y, type: boolean }
            """,
            [
                "t.yaml(6,37): 'min' (5) of column 'x' is greater than 'max' (1)",
                "t.yaml(7,15): duplicate column name 'x' in 'data.columns' (first declared at line 6)",
                "t.yaml(8,63): 'max_null_rate' of column 'z' must be between 0 and 1; got 1.5",
                "t.yaml(9,24): 'data.columns[3].type' must be one of: number, integer, category, boolean, string, timestamp; got 'categry'",
            ]
        },
        {
            "reference bounds out of range or on the wrong column type",
            """
            model:
              name: m
              label: y
            data:
              max_unseen_category_rate: 2
              columns:
                - { name: x, type: number, max_category_shift: 0.2 }
                - { name: c, type: category, max_out_of_reference_rate: 0.1 }
                - { name: d, type: category, max_category_shift: -1 }
                - { name: y, type: boolean }
            """,
            [
                "t.yaml(5,29): 'data.max_unseen_category_rate' must be between 0 and 1; got 2",
                "t.yaml(7,52): 'max_category_shift' applies to category and boolean columns; column 'x' is number",
                "t.yaml(8,61): 'max_out_of_reference_rate' applies to number and integer columns; column 'c' is category",
                "t.yaml(9,54): 'max_category_shift' of column 'd' must be between 0 and 1; got -1",
            ]
        },
        {
            "training values out of range",
            Minimal + "training:\n  trainer: xgboost\n  holdout: 1\n  seed: forty\n",
            [
                "t.yaml(9,12): 'training.trainer' must be one of: fasttree, lightgbm, linear; got 'xgboost'",
                "t.yaml(10,12): 'training.holdout' must be greater than 0 and less than 1; got 1",
                "t.yaml(11,9): 'training.seed' must be an integer; got 'forty'",
            ]
        },
        {
            "gates: unknown metric, wrong task, no threshold",
            Minimal + "gates:\n  - metric: acc\n    min: 0.5\n  - metric: rmse\n    max: 1\n  - metric: auc\n",
            [
                "t.yaml(9,13): unknown metric 'acc'; expected one of: auc, accuracy, f1, precision, recall, log_loss, aucpr",
                "t.yaml(11,13): metric 'rmse' does not apply to a binary model; expected one of: auc, accuracy, f1, precision, recall, log_loss, aucpr",
                "t.yaml(13,5): gate 'auc' needs at least one of: min, max, min_absolute_change, min_relative_change",
            ]
        },
        {
            "approval needs at least one approver",
            Minimal + "approval:\n  required: 0\n  timeout: two days\n",
            [
                "t.yaml(9,13): 'approval.required' must be at least 1; got 0",
                "t.yaml(10,12): 'approval.timeout' must be a duration such as 30s, 15m, 2h, 7d or PT1H; got 'two days'",
            ]
        },
        {
            "canary steps must increase and end at 100",
            Minimal + "rollout:\n  strategy: canary\n  steps: [10, 5, 50]\n",
            [
                "t.yaml(10,15): 'rollout.steps' must be increasing; 5 follows 10",
                "t.yaml(10,18): 'rollout.steps' must end at 100; the last step is 50",
            ]
        },
        {
            "unknown rollout strategy",
            Minimal + "rollout:\n  strategy: bluegreen\n",
            ["t.yaml(9,13): 'rollout.strategy' must be one of: direct, canary, shadow; got 'bluegreen'"]
        },
        {
            "invalid cron and drift method",
            Minimal + "monitoring:\n  schedule: \"0 */6 * *\"\n  drift:\n    method: kl\n",
            [
                "t.yaml(9,13): 'monitoring.schedule' must be a 5-field cron expression (minute hour day-of-month month day-of-week, UTC); got '0 */6 * *'",
                "t.yaml(11,13): 'monitoring.drift.method' must be one of: auto, psi, ks, wasserstein, jensen_shannon, chi_square; got 'kl'",
            ]
        },
        {
            "retraining and budget",
            Minimal + "retraining:\n  min_drifted_features: 0\n  on_drift: maybe\nbudget:\n  per_run: -1\n  currency: dollars\n",
            [
                "t.yaml(9,25): 'retraining.min_drifted_features' must be at least 1; got 0",
                "t.yaml(10,13): 'retraining.on_drift' must be true or false; got 'maybe'",
                "t.yaml(12,12): 'budget.per_run' must be 0 or more; got -1",
                "t.yaml(13,13): 'budget.currency' must be a three-letter ISO 4217 code such as USD or EUR; got 'dollars'",
            ]
        },
        {
            "invalid YAML syntax",
            "model:\n  name: m\n   label: y\n",
            ["t.yaml(3,9): invalid YAML: While scanning a plain scalar value, found invalid mapping."]
        },
        {
            "duplicate key",
            "model:\n  name: m\n  name: n\n  label: y\ndata:\n  columns:\n    - { name: y, type: boolean }\n",
            ["t.yaml(3,3): invalid YAML: Duplicate key name"]
        },
        {
            "section of the wrong shape and label of the wrong type",
            "model:\n  name: Credit Risk\n  label: y\ndata:\n  columns:\n    - { name: y, type: string }\ngates: auc\n",
            [
                "t.yaml(2,9): 'model.name' must be lowercase letters, digits and '-' (it names blobs and table keys); got 'Credit Risk'",
                "t.yaml(3,10): label column 'y' is string, which does not fit a binary model",
                "t.yaml(7,8): 'gates' must be a list of gates",
            ]
        },
        {
            "empty file",
            "",
            ["t.yaml(1,1): the workflow file is empty"]
        },
    };

    [Theory]
    [MemberData(nameof(InvalidFiles))]
    public void Parse_InvalidFile_ReportsEveryErrorWithLineAndColumn(string scenario, string yaml, string[] expected)
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
    public void Parse_MinimalFile_AppliesDefaults()
    {
        var wf = WorkflowParser.Parse(Minimal, "t.yaml");

        Assert.Equal("m", wf.Model.Name);
        Assert.Equal(ModelTask.Binary, wf.Model.Task);
        Assert.Equal("fasttree", wf.Training.Trainer);
        Assert.Equal(0.2, wf.Training.Holdout);
        Assert.Equal("direct", wf.Rollout.Strategy);
        Assert.Equal(TimeSpan.FromDays(7), wf.Approval.Timeout);
        Assert.Equal("auto", wf.Monitoring.Drift.Method);
        Assert.Equal("monitor", wf.Monitoring.Drift.Prediction);
        Assert.Null(wf.Budget);
        Assert.Empty(wf.Gates);
        Assert.Equal("y", wf.Data.Label);
        Assert.False(wf.Data.Columns.Single(c => c.Name == "y").Feature);
    }

    [Theory]
    [InlineData("count")]
    [InlineData("off")]
    public void Parse_PredictionDriftMode_IsKept(string mode)
    {
        var wf = WorkflowParser.Parse(Minimal + $"monitoring:\n  drift:\n    prediction: {mode}\n", "t.yaml");
        Assert.Equal(mode, wf.Monitoring.Drift.Prediction);
    }

    [Fact]
    public void Parse_ColumnNamedPrediction_IsAllowedWhenPredictionDriftIsOff()
    {
        var yaml = "model:\n  name: m\n  label: y\ndata:\n  columns:\n    - { name: prediction, type: number }\n    - { name: y, type: boolean }\nmonitoring:\n  drift:\n    prediction: off\n";
        Assert.Contains(WorkflowParser.Parse(yaml, "t.yaml").Data.Columns, c => c.Name == "prediction" && c.Feature);
    }

    [Fact]
    public void Parse_CanaryWithDurations_MapsEveryField()
    {
        var yaml = Minimal + """
            rollout:
              strategy: canary
              steps: [10, 50, 100]
              bake_time: 15m
            approval:
              required: 2
              timeout: PT36H
              approvers: [ana, bo]
            retraining:
              cooldown: 1h30m
            """;

        var wf = WorkflowParser.Parse(yaml, "t.yaml");

        Assert.Equal([10, 50, 100], wf.Rollout.Steps);
        Assert.Equal(TimeSpan.FromMinutes(15), wf.Rollout.BakeTime);
        Assert.Equal(TimeSpan.FromHours(36), wf.Approval.Timeout);
        Assert.Equal(["ana", "bo"], wf.Approval.Approvers);
        Assert.Equal(TimeSpan.FromMinutes(90), wf.Retraining.Cooldown);
    }

    [Fact]
    public void Parse_IdColumn_IsMarkedUniqueAndNotAFeature()
    {
        var yaml = "model:\n  name: m\n  label: y\n  id: k\ndata:\n  columns:\n    - { name: k, type: string }\n    - { name: y, type: boolean }\n";

        var wf = WorkflowParser.Parse(yaml, "t.yaml");

        var id = wf.Data.Columns.Single(c => c.Name == "k");
        Assert.True(id.Unique);
        Assert.False(id.Feature);
    }

    [Theory]
    [InlineData("30s", 30)]
    [InlineData("15m", 900)]
    [InlineData("2h", 7200)]
    [InlineData("7d", 604800)]
    [InlineData("PT1H", 3600)]
    [InlineData("1h30m", 5400)]
    public void TryParseDuration_ValidText_ReturnsSeconds(string text, double seconds)
    {
        Assert.True(WorkflowParser.TryParseDuration(text, out var value));
        Assert.Equal(seconds, value.TotalSeconds);
    }

    [Theory]
    [InlineData("")]
    [InlineData("10")]
    [InlineData("5 minutes")]
    [InlineData("-5m")]
    [InlineData("P")]
    public void TryParseDuration_InvalidText_ReturnsFalse(string text) =>
        Assert.False(WorkflowParser.TryParseDuration(text, out _));

    [Fact]
    public void ComputeHash_CrlfAndLf_AreEqualAndMatchSha256OfLfText()
    {
        var lf = "model:\n  name: m\n";
        var crlf = "model:\r\n  name: m\r\n";
        var cr = "model:\r  name: m\r";

        var expected = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(lf)));
        Assert.Equal(expected, WorkflowParser.ComputeHash(lf));
        Assert.Equal(expected, WorkflowParser.ComputeHash(crlf));
        Assert.Equal(expected, WorkflowParser.ComputeHash(cr));
        Assert.Matches("^[0-9a-f]{64}$", expected);
    }
}
