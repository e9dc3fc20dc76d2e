namespace MLOps.Core.Workflows;

// The parsed form of workflows/<model>.yaml. These records travel through durable history as JSON:
// add members, never rename or retype them.

/// <summary>A model's whole lifecycle policy, as declared in <c>workflows/&lt;model&gt;.yaml</c>.</summary>
public sealed record WorkflowDefinition
{
    public required ModelSection Model { get; init; }
    public required DataContract Data { get; init; }
    public required TrainingSpec Training { get; init; }
    public IReadOnlyList<GateSpec> Gates { get; init; } = [];
    public ApprovalSpec Approval { get; init; } = new();
    public RolloutSpec Rollout { get; init; } = new();
    public MonitoringSpec Monitoring { get; init; } = new();
    public RetrainingSpec Retraining { get; init; } = new();
    public BudgetSpec? Budget { get; init; }
}

public enum ModelTask { Binary, Multiclass, Regression }

public enum RiskTier { Unknown, Low, Medium, High }

/// <summary>What the model is, who owns it, and which columns are the label and the row id.</summary>
public sealed record ModelSection
{
    public required string Name { get; init; }
    public ModelTask Task { get; init; } = ModelTask.Binary;
    public required string Label { get; init; }
    public string? Id { get; init; }
    public RiskTier Risk { get; init; } = RiskTier.Unknown;
    public string? Description { get; init; }
    public IReadOnlyDictionary<string, string> Owners { get; init; } = new Dictionary<string, string>();
    public IReadOnlyList<string> IntendedUses { get; init; } = [];
    public IReadOnlyList<string> ExcludedUses { get; init; } = [];
}

public enum ColumnType { Number, Integer, Category, Boolean, String, Timestamp }

/// <summary>The data contract every dataset of the model is checked against.</summary>
public sealed record DataContract
{
    public required IReadOnlyList<ColumnSpec> Columns { get; init; }
    public long? MinRows { get; init; }
    public long? MaxRows { get; init; }
    /// <summary>Extra columns not in the contract fail validation unless this is true.</summary>
    public bool AllowExtraColumns { get; init; }
    /// <summary>Largest share of exact duplicate rows allowed (0–1; 0 forbids any). Unset, duplicates are counted and
    /// reported as a warning; set and exceeded, they fail validation. Unique columns (the id) are not compared.</summary>
    public double? MaxDuplicateRate { get; init; }
    /// <summary>Default for every category and boolean column's <see cref="ColumnSpec.MaxUnseenCategoryRate"/>.</summary>
    public double? MaxUnseenCategoryRate { get; init; }
    /// <summary>Default for every category and boolean column's <see cref="ColumnSpec.MaxCategoryShift"/>.</summary>
    public double? MaxCategoryShift { get; init; }
    /// <summary>Default for every number and integer column's <see cref="ColumnSpec.MaxOutOfReferenceRate"/>.</summary>
    public double? MaxOutOfReferenceRate { get; init; }
    /// <summary>The label column (set by the parser from <c>model.label</c>); when set, an empty label fails validation.</summary>
    public string? Label { get; init; }
    /// <summary>Named slices of the data (<c>data.segments</c>) that segment gates judge on their own.</summary>
    public IReadOnlyList<SegmentSpec> Segments { get; init; } = [];
}

/// <summary>A named slice of the data: rows for which every condition holds (<c>where: 'region == "EU" and age &lt; 30'</c>).</summary>
public sealed record SegmentSpec
{
    public required string Name { get; init; }
    /// <summary>The expression as written.</summary>
    public required string Where { get; init; }
    /// <summary>The parsed expression: conditions combined with <c>and</c>.</summary>
    public IReadOnlyList<SegmentCondition> Conditions { get; init; } = [];
}

/// <summary>One comparison of a segment expression: <c>column op literal</c>. Op is one of == != &lt; &lt;= &gt; &gt;=;
/// a numeric literal compares numerically, a quoted one compares text (== and != only).</summary>
public sealed record SegmentCondition(string Column, string Operator, string Value, bool Numeric);

public sealed record ColumnSpec
{
    public required string Name { get; init; }
    public ColumnType Type { get; init; } = ColumnType.Number;
    public bool Nullable { get; init; }
    /// <summary>Largest share of empty values allowed (0–1); only meaningful when <see cref="Nullable"/>.</summary>
    public double? MaxNullRate { get; init; }
    public double? Min { get; init; }
    public double? Max { get; init; }
    /// <summary>Allowed values of a category column.</summary>
    public IReadOnlyList<string>? Values { get; init; }
    public bool Unique { get; init; }
    /// <summary>False keeps a column out of the model's features (it is still validated).</summary>
    public bool Feature { get; init; } = true;
    /// <summary>Largest share (0–1) of non-null values whose category the reference (the production version's training
    /// data) never saw. Set and exceeded, the dataset fails; unset (here and in <c>data</c>), any unseen category is a
    /// warning.</summary>
    public double? MaxUnseenCategoryRate { get; init; }
    /// <summary>Largest category shift against the reference: Jensen–Shannon distance, base 2 (0–1). Set and exceeded,
    /// the dataset fails; unset, a shift of 0.1 or more (Azure ML's and Evidently's default) is a warning.</summary>
    public double? MaxCategoryShift { get; init; }
    /// <summary>Largest share (0–1) of non-null values outside the reference's [min, max]. Set and exceeded, the dataset
    /// fails; unset, the rate is only reported.</summary>
    public double? MaxOutOfReferenceRate { get; init; }
}

/// <summary>How a model is trained: the ML.NET trainer, its parameters, the holdout split.</summary>
public sealed record TrainingSpec
{
    /// <summary><c>fasttree</c>, <c>lightgbm</c> or <c>linear</c>.</summary>
    public string Trainer { get; init; } = "fasttree";
    public IReadOnlyDictionary<string, double> Parameters { get; init; } = new Dictionary<string, double>();
    public double Holdout { get; init; } = 0.2;
    public int Seed { get; init; } = 42;
    /// <summary>Optional parameter grid (<c>grid: { leaves: [10, 20], learning_rate: [0.1, 0.2] }</c>): every combination
    /// is a candidate, trained with <see cref="Parameters"/> overridden by its values, the same split and seed. Empty: one
    /// model, no selection.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<double>> Grid { get; init; } = new Dictionary<string, IReadOnlyList<double>>();
    /// <summary>The metric that picks the grid's winner (its direction is known: <c>auc</c> higher, <c>log_loss</c>
    /// lower…); null takes <c>auc</c> for binary and <c>rmse</c> for regression models.</summary>
    public string? SelectBy { get; init; }
    /// <summary>Largest number of candidates the grid may make (1–64).</summary>
    public int MaxCandidates { get; init; } = 16;
    /// <summary>How many candidates train at the same time (1–16).</summary>
    public int MaxParallel { get; init; } = 4;
    /// <summary>Share of the training part carved off (same seed) to pick the winner on, so the holdout stays untouched
    /// for the gates (greater than 0, at most 0.5).</summary>
    public double Validation { get; init; } = 0.2;
}

/// <summary>An acceptance threshold on one holdout metric, absolute or relative to the current champion.</summary>
public sealed record GateSpec
{
    public required string Metric { get; init; }
    public double? Min { get; init; }
    public double? Max { get; init; }
    /// <summary>The candidate must beat the champion by at least this much (in the metric's better direction).</summary>
    public double? MinAbsoluteChange { get; init; }
    /// <summary>The candidate must beat the champion by at least this fraction of the champion's value.</summary>
    public double? MinRelativeChange { get; init; }
    /// <summary>When set, the gate judges the metric on this segment of the holdout (<see cref="DataContract.Segments"/>).</summary>
    public string? Segment { get; init; }
    /// <summary>A segment with fewer holdout rows is not judged (default 1).</summary>
    public int? MinRows { get; init; }
    /// <summary>What a segment too small to judge means: <c>fail</c> (default) or <c>skip</c>.</summary>
    public string? OnSmallSegment { get; init; }
}

public sealed record ApprovalSpec
{
    /// <summary>Distinct approvers needed. The run's author never counts. An explicit value (see
    /// <see cref="RequiredIsExplicit"/>) overrides <see cref="RequiredByRisk"/>.</summary>
    public int Required { get; init; } = 1;
    /// <summary>True when the workflow sets <c>approval.required</c>.</summary>
    public bool RequiredIsExplicit { get; init; }
    /// <summary>Approvals needed per risk tier (<c>low</c>, <c>medium</c>, <c>high</c>, <c>unknown</c>).</summary>
    public IReadOnlyDictionary<string, int> RequiredByRisk { get; init; } = new Dictionary<string, int>();
    public TimeSpan Timeout { get; init; } = TimeSpan.FromDays(7);
    /// <summary>Who may approve (<c>approvers:</c> or <c>roles.approver</c>); empty means anyone but the author.</summary>
    public IReadOnlyList<string> Approvers { get; init; } = [];
    /// <summary>After a delay without enough approvals, an escalation event is published and more people may approve.</summary>
    public EscalationSpec? Escalation { get; init; }
    /// <summary>Approval callbacks must carry a signed, single-use, expiring token bound to the run and the approver.</summary>
    public bool Token { get; init; }

    /// <summary>The approvals a model of <paramref name="risk"/> needs: the explicit count, else the tier's count,
    /// else (tier not listed) the largest count listed — a missing tier never lowers the bar — else 1.</summary>
    public int RequiredFor(RiskTier risk)
    {
        if (RequiredIsExplicit || RequiredByRisk.Count == 0)
        {
            return Required;
        }

        return RequiredByRisk.TryGetValue(risk.ToString().ToLowerInvariant(), out var count) ? count : RequiredByRisk.Values.Max();
    }
}

public sealed record EscalationSpec
{
    public required TimeSpan After { get; init; }
    /// <summary>People who become eligible approvers once the escalation fires.</summary>
    public IReadOnlyList<string> To { get; init; } = [];
}

public sealed record RolloutSpec
{
    /// <summary><c>direct</c>, <c>canary</c> or <c>shadow</c>.</summary>
    public string Strategy { get; init; } = "direct";
    /// <summary>Canary: the candidate's traffic percentages, increasing, the first at most 50, ending at 100
    /// (reaching 100 promotes the candidate to <c>production</c>).</summary>
    public IReadOnlyList<int> Steps { get; init; } = [];
    /// <summary>Canary: how long each step bakes before its guards are evaluated (0–3600 s).</summary>
    public TimeSpan BakeTime { get; init; } = TimeSpan.Zero;
    /// <summary>Shadow: how long the candidate is mirrored before its guards are evaluated.</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromDays(7);
    /// <summary>Shadow: the share of requests (0–0.5) the candidate also scores.</summary>
    public double Sampling { get; init; } = 0.2;
    /// <summary>Canary and shadow: how many bake periods (or shadow durations) a step may wait for
    /// <see cref="RolloutGuards.MinRequests"/>; then it rolls back (fail-safe).</summary>
    public int MaxBakes { get; init; } = 3;
    public RolloutGuards Guards { get; init; } = new();
}

/// <summary>What the candidate's captured traffic must satisfy at each rollout step; a breach rolls back.</summary>
public sealed record RolloutGuards
{
    /// <summary>Largest share of the candidate's requests that may fail.</summary>
    public double? MaxErrorRate { get; init; } = 0.05;
    /// <summary>Largest 99th percentile of the candidate's scoring latency, in milliseconds.</summary>
    public double? MaxLatencyP99Ms { get; init; }
    /// <summary>Largest Jensen–Shannon distance (base 2, 0–1) between the candidate's score distribution and the
    /// control arm's on the step's captured traffic.</summary>
    public double? MaxPredictionDrift { get; init; }
    /// <summary>Requests the candidate must have answered before a step is judged.</summary>
    public int MinRequests { get; init; } = 50;
}

public sealed record MonitoringSpec
{
    /// <summary>Cron expression (5 fields, UTC) for drift audits.</summary>
    public string Schedule { get; init; } = "0 */6 * * *";
    /// <summary>How much recent traffic an audit reads.</summary>
    public TimeSpan Window { get; init; } = TimeSpan.FromDays(1);
    /// <summary>Windows with fewer captured rows are not judged.</summary>
    public int MinRows { get; init; } = 100;
    public DriftSpec Drift { get; init; } = new();
}

public sealed record DriftSpec
{
    /// <summary><c>auto</c> (Evidently's rules), <c>psi</c>, <c>ks</c>, <c>wasserstein</c>, <c>jensen_shannon</c>, <c>chi_square</c>.</summary>
    public string Method { get; init; } = "auto";
    /// <summary>Threshold of the deciding method — with <c>auto</c>, of whichever test it picks (an alpha for a p-value
    /// test, a limit for a distance), as Evidently's <c>stattest_threshold</c>; null takes the method's default. Under
    /// <c>calibrated</c> it is the floor of distance thresholds only.</summary>
    public double? Threshold { get; init; }
    /// <summary>Share of features that must drift for the dataset to count as drifted.</summary>
    public double DatasetShare { get; init; } = 0.5;
    /// <summary><c>fixed</c> (the method's threshold) or <c>calibrated</c> (mean + 3σ of the deciding metric over
    /// chunks of the reference, never below a floor).</summary>
    public string ThresholdMode { get; init; } = "fixed";
    /// <summary><c>none</c> or <c>benjamini_hochberg</c>: adjust p-values across features when a p-value test decides
    /// (only with <c>fixed</c> thresholds and a method that yields p-values: auto, ks, chi_square).</summary>
    public string Fdr { get; init; } = "none";
    /// <summary>Alert only when <c>K</c> of the last <c>N</c> judged windows drifted.</summary>
    public AlertAfterSpec AlertAfter { get; init; } = new();
    /// <summary>Drift of the model's output (<c>prediction</c> feature: probability for binary, score for regression):
    /// <c>monitor</c> (judged, reported and kept, but not counted among drifted features, so it neither makes dataset
    /// drift nor starts retraining), <c>count</c> (counted like an input feature, as Evidently does), <c>off</c>.</summary>
    public string Prediction { get; init; } = "monitor";
}

/// <summary>An alert needs <see cref="K"/> drifted windows among the last <see cref="N"/> judged ones (this one included).</summary>
public sealed record AlertAfterSpec
{
    public int K { get; init; } = 1;
    public int N { get; init; } = 1;
}

public sealed record RetrainingSpec
{
    public bool OnDrift { get; init; } = true;
    /// <summary>Retrain when at least this many features drift.</summary>
    public int MinDriftedFeatures { get; init; } = 1;
    public TimeSpan Cooldown { get; init; } = TimeSpan.FromHours(1);
    public bool RequireApproval { get; init; } = true;
}

/// <summary>Monthly limits (<c>training_runs</c>, <c>compute_hours</c>, <c>storage_gb</c>, <c>cost</c>) and a per-run cost
/// cap, enforced by the budget ledger before each run trains.</summary>
public sealed record BudgetSpec
{
    /// <summary>Limits <see cref="Monthly"/> accepts.</summary>
    public static IReadOnlyList<string> MonthlyLimits { get; } = ["training_runs", "compute_hours", "storage_gb", "cost"];

    /// <summary>Share of a limit at which a warning event is published once a month (80 %).</summary>
    public const double WarningShare = 0.8;

    public IReadOnlyDictionary<string, double> Monthly { get; init; } = new Dictionary<string, double>();
    public double? PerRun { get; init; }
    public string Currency { get; init; } = "USD";
}
