using MLOps.Core.Workflows;

namespace MLOps.Core.Tests.Workflows;

/// <summary>The <c>rollout</c> section: canary steps, bake time, shadow duration and sampling, guards.</summary>
public class RolloutPolicyParserTests
{
    // Lines 1–7; cases append the rollout section from line 8.
    private const string Minimal = WorkflowParserTests.Minimal;

    [Fact]
    public void Parse_CanaryWithGuards_MapsEveryField()
    {
        var wf = WorkflowParser.Parse(Minimal + """
            rollout:
              strategy: canary
              steps: [10, 50, 100]
              bake_time: 30s
              max_bakes: 4
              guards: { max_error_rate: 0.01, max_latency_p99_ms: 500, max_prediction_drift: 0.25, min_requests: 80 }
            """, "t.yaml");

        Assert.Equal("canary", wf.Rollout.Strategy);
        Assert.Equal([10, 50, 100], wf.Rollout.Steps);
        Assert.Equal(TimeSpan.FromSeconds(30), wf.Rollout.BakeTime);
        Assert.Equal(4, wf.Rollout.MaxBakes);
        Assert.Equal(new RolloutGuards { MaxErrorRate = 0.01, MaxLatencyP99Ms = 500, MaxPredictionDrift = 0.25, MinRequests = 80 }, wf.Rollout.Guards);
    }

    [Fact]
    public void Parse_ShadowWithoutGuards_TakesDefaults()
    {
        var wf = WorkflowParser.Parse(Minimal + "rollout:\n  strategy: shadow\n", "t.yaml");

        Assert.Equal("shadow", wf.Rollout.Strategy);
        Assert.Equal(TimeSpan.FromDays(7), wf.Rollout.Duration);
        Assert.Equal(0.2, wf.Rollout.Sampling);
        Assert.Equal(3, wf.Rollout.MaxBakes);
        Assert.Equal(0.05, wf.Rollout.Guards.MaxErrorRate);
        Assert.Null(wf.Rollout.Guards.MaxPredictionDrift);
        Assert.Equal(50, wf.Rollout.Guards.MinRequests);
    }

    [Fact]
    public void Parse_ShadowWithDurationAndSampling_MapsThem()
    {
        var wf = WorkflowParser.Parse(Minimal + "rollout:\n  strategy: shadow\n  duration: 2d\n  sampling: 0.5\n  guards:\n    max_prediction_drift: 0.1\n", "t.yaml");

        Assert.Equal(TimeSpan.FromDays(2), wf.Rollout.Duration);
        Assert.Equal(0.5, wf.Rollout.Sampling);
        Assert.Equal(0.1, wf.Rollout.Guards.MaxPredictionDrift);
    }

    public static TheoryData<string, string, string[]> InvalidRollouts => new()
    {
        {
            "first canary step above 50 %",
            "rollout:\n  strategy: canary\n  steps: [60, 100]\n",
            ["t.yaml(10,11): the first canary step may take at most 50 % of the traffic; got 60"]
        },
        {
            "step out of range, at its own position",
            "rollout:\n  strategy: canary\n  steps: [10, 150]\n",
            ["t.yaml(10,15): 'rollout.steps' must be percentages from 1 to 100; got 150", "t.yaml(10,15): 'rollout.steps' must end at 100; the last step is 150"]
        },
        {
            "canary without steps",
            "rollout:\n  strategy: canary\n",
            ["t.yaml(9,13): a canary rollout needs 'steps' (traffic percentages ending at 100, e.g. [10, 50, 100])"]
        },
        {
            "bake time above one hour",
            "rollout:\n  strategy: canary\n  steps: [10, 100]\n  bake_time: 2h\n",
            ["t.yaml(11,14): 'rollout.bake_time' must be at most 1h (3600 s); got 7200 s"]
        },
        {
            "shadow keys on a canary, canary keys on a shadow",
            "rollout:\n  strategy: shadow\n  steps: [10, 100]\n  bake_time: 5m\n  sampling: 0.7\n  duration: 0s\n",
            [
                "t.yaml(10,10): 'rollout.steps' apply only to the canary strategy; strategy is 'shadow'",
                "t.yaml(11,14): 'rollout.bake_time' applies only to the canary strategy; strategy is 'shadow'",
                "t.yaml(12,13): 'rollout.sampling' must be greater than 0 and at most 0.5 (mirrored traffic is capped at 50 %); got 0.7",
                "t.yaml(13,13): 'rollout.duration' must be greater than zero",
            ]
        },
        {
            "duration on a canary",
            "rollout:\n  strategy: canary\n  steps: [10, 100]\n  duration: 7d\n",
            ["t.yaml(11,13): 'rollout.duration' applies only to the shadow strategy; strategy is 'canary'"]
        },
        {
            "guards on a direct rollout",
            "rollout:\n  strategy: direct\n  guards: { min_requests: 10 }\n",
            ["t.yaml(10,11): 'rollout.guards' applies only to canary and shadow rollouts; strategy is 'direct'"]
        },
        {
            "guard values out of range and an unknown guard",
            "rollout:\n  strategy: shadow\n  max_bakes: 0\n  guards:\n    max_error_rate: 1.5\n    max_latency_p99_ms: -3\n    max_prediction_drift: 2\n    min_requests: 0\n    max_cost: 3\n",
            [
                "t.yaml(10,14): 'rollout.max_bakes' must be at least 1; got 0",
                "t.yaml(12,21): 'rollout.guards.max_error_rate' must be between 0 and 1; got 1.5",
                "t.yaml(13,25): 'rollout.guards.max_latency_p99_ms' must be greater than 0; got -3",
                "t.yaml(14,27): 'rollout.guards.max_prediction_drift' is a Jensen-Shannon distance: greater than 0 and at most 1; got 2",
                "t.yaml(15,19): 'rollout.guards.min_requests' must be at least 1; got 0",
                "t.yaml(16,5): unknown key 'max_cost' in 'rollout.guards'; expected one of: max_error_rate, max_latency_p99_ms, max_prediction_drift, min_requests",
            ]
        },
        {
            "guards that are not a mapping",
            "rollout:\n  strategy: canary\n  steps: [10, 100]\n  guards: strict\n",
            ["t.yaml(11,11): 'rollout.guards' must be a mapping"]
        },
    };

    [Theory]
    [MemberData(nameof(InvalidRollouts))]
    public void Parse_InvalidRollout_ReportsEveryErrorWithPlace(string because, string rollout, string[] expected)
    {
        var ex = Assert.Throws<WorkflowValidationException>(() => WorkflowParser.Parse(Minimal + rollout, "t.yaml"));

        Assert.True(expected.SequenceEqual(ex.Errors.Select(e => e.ToString())), $"{because}:\n{string.Join("\n", ex.Errors)}");
    }

    [Fact]
    public void Parse_SampleWorkflows_HouseIsShadowAndCreditIsDirect()
    {
        var dir = Path.Combine(AppContext.BaseDirectory, "workflows");
        var house = WorkflowParser.Parse(File.ReadAllText(Path.Combine(dir, "house-prices.yaml")), "house-prices.yaml");

        Assert.Equal(ModelTask.Regression, house.Model.Task);
        Assert.Equal("shadow", house.Rollout.Strategy);
        Assert.NotNull(house.Rollout.Guards.MaxPredictionDrift);
    }
}
