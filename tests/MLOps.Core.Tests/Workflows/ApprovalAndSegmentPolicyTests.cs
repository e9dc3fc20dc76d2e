using MLOps.Core.Workflows;

namespace MLOps.Core.Tests.Workflows;

public sealed class ApprovalAndSegmentPolicyTests
{
    // Lines 1–11; cases append sections from line 12.
    private const string Head = """
        model:
          name: m
          label: y
          risk: high
        data:
          columns:
            - { name: x, type: number }
            - { name: region, type: category, values: [EU, US] }
            - { name: loan_amount, type: number }
            - { name: y, type: boolean }

        """;

    private static WorkflowDefinition Parse(string tail) => WorkflowParser.Parse(Head + tail, "t.yaml");

    private static List<string> Errors(string tail) =>
        Assert.Throws<WorkflowValidationException>(() => Parse(tail)).Errors.Select(e => e.ToString()).ToList();

    [Fact]
    public void Approval_FullPolicy_IsRead()
    {
        var w = Parse("""
            approval:
              required_by_risk: { high: 2, medium: 1, low: 1 }
              roles: { approver: [alice, bob, dave] }
              timeout: 2d
              escalation: { after: 1d, to: [head-of-risk] }
              token: true
            """);
        Assert.Equal(2, w.Approval.RequiredFor(RiskTier.High));
        Assert.Equal(1, w.Approval.RequiredFor(RiskTier.Low));
        Assert.Equal(2, w.Approval.RequiredFor(RiskTier.Unknown)); // an unlisted tier takes the largest count
        Assert.False(w.Approval.RequiredIsExplicit);
        Assert.Equal(["alice", "bob", "dave"], w.Approval.Approvers);
        Assert.Equal(TimeSpan.FromDays(2), w.Approval.Timeout);
        Assert.Equal(TimeSpan.FromDays(1), w.Approval.Escalation!.After);
        Assert.Equal(["head-of-risk"], w.Approval.Escalation.To);
        Assert.True(w.Approval.Token);
    }

    [Fact]
    public void Approval_ExplicitRequired_OverridesRiskTier()
    {
        var w = Parse("approval:\n  required: 1\n  required_by_risk: { high: 3 }\n");
        Assert.Equal(1, w.Approval.RequiredFor(RiskTier.High));
    }

    [Fact]
    public void Approval_NoPolicy_DefaultsToOne()
    {
        Assert.Equal(1, Parse("").Approval.RequiredFor(RiskTier.High));
    }

    public static TheoryData<string, string, string> Invalid => new()
    {
        { "required zero", "approval:\n  required: 0\n", "t.yaml(12,13): 'approval.required' must be at least 1; got 0" },
        { "tier count zero", "approval:\n  required_by_risk: { high: 0 }\n", "t.yaml(12,29): 'approval.required_by_risk.high' must be at least 1; got 0" },
        { "unknown tier", "approval:\n  required_by_risk: { severe: 2 }\n", "t.yaml(12,23): unknown key 'severe' in 'approval.required_by_risk'; expected one of: unknown, low, medium, high" },
        { "escalation after timeout", "approval:\n  timeout: 1d\n  escalation: { after: 2d, to: [boss] }\n",
            "t.yaml(13,24): 'approval.escalation.after' (2.00:00:00) must be shorter than 'approval.timeout' (1.00:00:00)" },
        { "escalation to nobody", "approval:\n  escalation: { after: 1h, to: [] }\n", "t.yaml(12,32): 'approval.escalation.to' must list at least one person" },
        { "token without named approvers", "approval:\n  token: true\n", "t.yaml(12,10): 'approval.token: true' needs named approvers ('approval.approvers' or 'approval.roles.approver'): each gets a token of their own" },
        { "both approver lists", "approval:\n  approvers: [a, b]\n  roles: { approver: [c] }\n", "t.yaml(13,10): give approvers either as 'approval.approvers' or as 'approval.roles.approver', not both" },
        { "unknown role", "approval:\n  roles: { reviewer: [c] }\n", "t.yaml(12,12): unknown key 'reviewer' in 'approval.roles'; expected one of: approver" },
        { "too few approvers for the tier", "approval:\n  required_by_risk: { high: 3 }\n  approvers: [a, b]\n", "t.yaml(12,21): a high-risk model needs 3 approvals but only 2 people may approve" },
    };

    [Theory]
    [MemberData(nameof(Invalid))]
    public void Approval_Invalid_ErrorHasFileLineColumn(string name, string tail, string expected)
    {
        Assert.True(Errors(tail).Contains(expected), $"{name}: got {string.Join(" | ", Errors(tail))}");
    }

    [Fact]
    public void Segments_AndSegmentGates_AreRead()
    {
        var w = WorkflowParser.Parse("""
            model:
              name: m
              label: y
            data:
              columns:
                - { name: region, type: category, values: [EU, US] }
                - { name: loan_amount, type: number }
                - { name: y, type: boolean }
              segments:
                - { name: eu, where: 'region == "EU"' }
                - { name: large_eu, where: 'loan_amount >= 20000 and region != "US"' }
            gates:
              - { metric: auc, min: 0.65, segment: eu, min_rows: 200 }
              - { metric: auc, min: 0.6, segment: large_eu, on_small_segment: skip }
            """, "t.yaml");
        Assert.Equal(2, w.Data.Segments.Count);
        Assert.Equal([new SegmentCondition("region", "==", "EU", false)], w.Data.Segments[0].Conditions);
        Assert.Equal([new SegmentCondition("loan_amount", ">=", "20000", true), new SegmentCondition("region", "!=", "US", false)], w.Data.Segments[1].Conditions);
        Assert.Equal("eu", w.Gates[0].Segment);
        Assert.Equal(200, w.Gates[0].MinRows);
        Assert.Equal("skip", w.Gates[1].OnSmallSegment);
    }

    public static TheoryData<string, string, string> InvalidSegments => new()
    {
        { "unknown column", "  segments:\n    - { name: s, where: 'country == \"EU\"' }\n", "t.yaml(12,26): segment 's': 'country' is not a column in 'data.columns'" },
        { "text on number column", "  segments:\n    - { name: s, where: 'loan_amount == \"big\"' }\n", "t.yaml(12,26): segment 's': column 'loan_amount' is number; compare it with a number, not 'big'" },
        { "order on text", "  segments:\n    - { name: s, where: 'region < \"EU\"' }\n", "t.yaml(12,33): segment 's': '<' compares numbers; text compares with == or != only in 'region < \"EU\"'" },
        { "bad operator", "  segments:\n    - { name: s, where: 'x => 3' }\n", "t.yaml(12,28): segment 's': expected a comparison (== != < <= > >=) after 'x' in 'x => 3'" },
        { "value not in category", "  segments:\n    - { name: s, where: 'region == \"MARS\"' }\n", "t.yaml(12,26): segment 's': 'MARS' is not a value of category column 'region' (EU, US)" },
        { "or is not supported", "  segments:\n    - { name: s, where: 'x > 1 or x < 0' }\n", "t.yaml(12,32): segment 's': expected 'and' or the end of the expression in 'x > 1 or x < 0'" },
    };

    [Theory]
    [MemberData(nameof(InvalidSegments))]
    public void Segments_Invalid_ErrorPointsIntoTheExpression(string name, string segments, string expected)
    {
        var errors = Errors(segments);
        Assert.True(errors.Contains(expected), $"{name}: got {string.Join(" | ", errors)}");
    }

    [Fact]
    public void SegmentGate_UnknownSegmentOrBadOptions_AreErrors()
    {
        var errors = Errors("""
              segments:
                - { name: eu, where: 'region == "EU"' }
            gates:
              - { metric: auc, min: 0.6, segment: us }
              - { metric: auc, min: 0.6, min_rows: 10 }
              - { metric: auc, min: 0.6, segment: eu, min_rows: 0, on_small_segment: ignore }
            """);
        Assert.True(errors.Count == 4, string.Join(" | ", errors));
        Assert.Contains("t.yaml(14,39): segment 'us' is not defined in 'data.segments' (eu)", errors);
        Assert.Contains("t.yaml(15,40): 'min_rows' and 'on_small_segment' apply to segment gates; set 'segment'", errors);
        Assert.Contains("t.yaml(16,53): 'min_rows' of a segment gate must be at least 1; got 0", errors);
        Assert.Contains("t.yaml(16,74): 'on_small_segment' must be one of: fail, skip; got 'ignore'", errors);
    }

    [Theory]
    [InlineData("region == \"EU\"", "EU", 5000, true)]
    [InlineData("region == \"EU\"", "US", 5000, false)]
    [InlineData("loan_amount >= 20000 and region != 'US'", "EU", 20000, true)]
    [InlineData("loan_amount >= 20000 and region != 'US'", "EU", 19999, false)]
    [InlineData("loan_amount < 1e4", "EU", double.NaN, false)]
    public void SegmentExpression_Matches(string where, string region, double amount, bool expected)
    {
        Assert.True(SegmentExpression.TryParse(where, out var conditions, out var error, out _), error);
        Assert.Equal(expected, SegmentExpression.Matches(conditions, c => c == "loan_amount" ? amount : double.NaN, c => c == "region" ? region : null));
    }
}
