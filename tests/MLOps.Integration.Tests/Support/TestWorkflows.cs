using System.Globalization;

namespace MLOps.Integration.Tests.Support;

/// <summary>Variants of the sample workflow (workflows/credit-risk.yaml) for tests: same data contract and trainer,
/// with the model name, approval rule and gates a test needs. The model name is also the upload folder
/// (<c>&lt;model&gt;/&lt;file&gt;.csv</c>), so each variant gets a name of its own.</summary>
internal static class TestWorkflows
{
    /// <summary>The sample's data contract columns as YAML (under <c>data:</c>), shared by the test workflows.</summary>
    public const string CreditRiskColumns = """
          columns:
            - { name: application_id, type: string, unique: true, feature: false }
            - { name: age, type: integer, min: 18, max: 90 }
            - { name: income, type: number, min: 0, nullable: true, max_null_rate: 0.05 }
            - { name: loan_amount, type: number, min: 0 }
            - { name: debt_to_income, type: number, min: 0, max: 1.5 }
            - { name: credit_score, type: integer, min: 300, max: 850 }
            - { name: employment_years, type: integer, min: 0, max: 72 }
            - { name: num_credit_lines, type: integer, min: 0 }
            - { name: region, type: category, values: [EU, US, APAC] }
            - { name: home_ownership, type: category, values: [RENT, OWN, MORTGAGE] }
            - { name: default, type: boolean }
        """;

    public static string CreditRisk(
        string model,
        int required = 1,
        string timeout = "2d",
        double aucMin = 0.70,
        IReadOnlyList<string>? approvers = null,
        string comment = "test variant")
    {
        var approverLine = approvers is { Count: > 0 } ? $"\n  approvers: [{string.Join(", ", approvers)}]" : "";
        return $$"""
            # {{comment}}
            version: 1
            model:
              name: {{model}}
              task: binary
              label: default
              id: application_id
              risk: high
            data:
              min_rows: 1000
              max_rows: 5000000
              allow_extra_columns: false
            {{CreditRiskColumns}}
            training:
              trainer: fasttree
              parameters: { trees: 100, leaves: 20, min_leaf: 20, learning_rate: 0.2 }
              holdout: 0.2
              seed: 42
            gates:
              - metric: auc
                min: {{aucMin.ToString("R", CultureInfo.InvariantCulture)}}
              - metric: log_loss
                max: 0.75
              - metric: auc
                min_absolute_change: -0.02
            approval:
              required: {{required}}
              timeout: {{timeout}}{{approverLine}}
            rollout:
              strategy: direct
              bake_time: 0s
            monitoring:
              schedule: "0 */6 * * *"
              window: 1d
              min_rows: 100
              drift:
                method: auto
                dataset_share: 0.5
            retraining:
              on_drift: true
              min_drifted_features: 2
              cooldown: 1h
              require_approval: true
            """;
    }
}
