using System.Text.Json;
using MLOps.Core.Workflows;

namespace MLOps.Core.Tests.Workflows;

public class SampleWorkflowTests
{
    private static string WorkflowsDir => Path.Combine(AppContext.BaseDirectory, "workflows");

    [Fact]
    public void Parse_CreditRiskSample_ParsesWithDeclaredPolicy()
    {
        var yaml = File.ReadAllText(Path.Combine(WorkflowsDir, "credit-risk.yaml"));

        var wf = WorkflowParser.Parse(yaml, "credit-risk.yaml");

        Assert.Equal("credit-risk", wf.Model.Name);
        Assert.Equal(RiskTier.High, wf.Model.Risk);
        Assert.Equal("default", wf.Model.Label);
        Assert.Equal("application_id", wf.Model.Id);
        Assert.Equal(11, wf.Data.Columns.Count);
        Assert.Equal("fasttree", wf.Training.Trainer);
        Assert.Contains(wf.Gates, g => g is { Metric: "auc", Min: 0.70 });
        Assert.Contains(wf.Gates, g => g is { Metric: "auc", MinAbsoluteChange: -0.02 });
        Assert.Contains(wf.Gates, g => g is { Metric: "log_loss", Max: not null });
        Assert.Equal(1, wf.Approval.Required);
        Assert.Equal(TimeSpan.FromDays(2), wf.Approval.Timeout);
        Assert.Equal("canary", wf.Rollout.Strategy);
        Assert.Equal([10, 50, 100], wf.Rollout.Steps);
        Assert.NotNull(wf.Rollout.Guards.MaxErrorRate);
        Assert.NotNull(wf.Rollout.Guards.MaxLatencyP99Ms);
        Assert.NotNull(wf.Rollout.Guards.MaxPredictionDrift);
        Assert.True(wf.Rollout.Guards.MinRequests > 0);
        Assert.Equal("0 */6 * * *", wf.Monitoring.Schedule);
        Assert.Equal(TimeSpan.FromDays(1), wf.Monitoring.Window);
        Assert.Equal(100, wf.Monitoring.MinRows);
        Assert.Equal("auto", wf.Monitoring.Drift.Method);
        Assert.True(wf.Retraining.OnDrift);
        Assert.Equal(2, wf.Retraining.MinDriftedFeatures);
        Assert.Equal(TimeSpan.FromHours(1), wf.Retraining.Cooldown);
        Assert.NotNull(wf.Budget);
        Assert.NotEmpty(wf.Budget.Monthly);
    }

    [Fact]
    public void Sample_FirstLine_ReferencesTheSchema()
    {
        var first = File.ReadLines(Path.Combine(WorkflowsDir, "credit-risk.yaml")).First();

        Assert.Equal("# yaml-language-server: $schema=./workflow.schema.json", first);
    }

    [Fact]
    public void Schema_IsValidJson_ListingEveryTopLevelSection()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(WorkflowsDir, "workflow.schema.json")));
        var root = doc.RootElement;

        Assert.Equal("https://json-schema.org/draft/2020-12/schema", root.GetProperty("$schema").GetString());
        Assert.False(root.GetProperty("additionalProperties").GetBoolean());
        var properties = root.GetProperty("properties").EnumerateObject().Select(p => p.Name).ToHashSet();
        foreach (var section in WorkflowParser.Sections)
        {
            Assert.Contains(section, properties);
        }
        Assert.Equal(WorkflowParser.Sections.Count, properties.Count);
    }
}
