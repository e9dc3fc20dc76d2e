using System.Globalization;
using MLOps.Core.Workflows;

namespace MLOps.Core.Samples;

/// <summary>Shifts applied to generated data, to produce drifted production traffic.</summary>
public sealed record DataShift
{
    public double IncomeFactor { get; init; } = 1.0;
    public double AgeOffset { get; init; }
    public double DebtToIncomeOffset { get; init; }
    /// <summary>Probability of the APAC region (default 0.2).</summary>
    public double? ApacShare { get; init; }
    public static DataShift None { get; } = new();
}

/// <summary>Deterministic generator of the credit-risk sample dataset (real signal, numeric and categorical
/// features, binary label).</summary>
/// <remarks>
/// Columns: <c>application_id, age, income, loan_amount, debt_to_income, credit_score, employment_years,
/// num_credit_lines, region, home_ownership, default</c>. The label is drawn from a logistic model of the
/// features (debt-to-income, credit score, loan-to-income, age, employment, home ownership, region), so a
/// tree model reaches an AUC of roughly 0.8. About 2 % of incomes are empty. The same seed and shift always
/// give the same bytes; numbers are written with the invariant culture and LF line endings.
/// </remarks>
public static class CreditRiskData
{
    /// <summary>Header of the generated CSV, in order.</summary>
    public static IReadOnlyList<string> Columns { get; } =
    [
        "application_id", "age", "income", "loan_amount", "debt_to_income", "credit_score",
        "employment_years", "num_credit_lines", "region", "home_ownership", "default",
    ];

    /// <summary>The contract type of each column (as in <c>workflows/credit-risk.yaml</c>), e.g. for typed Parquet output.</summary>
    public static IReadOnlyDictionary<string, ColumnType> ColumnTypes { get; } = new Dictionary<string, ColumnType>
    {
        ["application_id"] = ColumnType.String, ["age"] = ColumnType.Integer, ["income"] = ColumnType.Number,
        ["loan_amount"] = ColumnType.Number, ["debt_to_income"] = ColumnType.Number, ["credit_score"] = ColumnType.Integer,
        ["employment_years"] = ColumnType.Integer, ["num_credit_lines"] = ColumnType.Integer, ["region"] = ColumnType.Category,
        ["home_ownership"] = ColumnType.Category, ["default"] = ColumnType.Boolean,
    };

    /// <summary>Name of the label column.</summary>
    public const string LabelColumn = "default";

    /// <summary>Name of the row-id column.</summary>
    public const string IdColumn = "application_id";

    /// <summary>Writes a CSV with a header and <paramref name="rows"/> rows; same seed, same bytes.</summary>
    public static void WriteCsv(TextWriter writer, int rows, int seed, DataShift? shift = null)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        writer.Write(string.Join(',', Columns));
        writer.Write('\n');
        Span<char> buffer = stackalloc char[32];
        foreach (var r in Generate(rows, seed, shift ?? DataShift.None))
        {
            writer.Write(r.Id);
            writer.Write(',');
            WriteInt(writer, r.Age, buffer);
            writer.Write(',');
            if (r.Income is { } income)
            {
                WriteNumber(writer, income, buffer);
            }
            writer.Write(',');
            WriteNumber(writer, r.LoanAmount, buffer);
            writer.Write(',');
            WriteNumber(writer, r.DebtToIncome, buffer);
            writer.Write(',');
            WriteInt(writer, r.CreditScore, buffer);
            writer.Write(',');
            WriteInt(writer, r.EmploymentYears, buffer);
            writer.Write(',');
            WriteInt(writer, r.NumCreditLines, buffer);
            writer.Write(',');
            writer.Write(r.Region);
            writer.Write(',');
            writer.Write(r.HomeOwnership);
            writer.Write(',');
            writer.Write(r.Default ? "true" : "false");
            writer.Write('\n');
        }
    }

    /// <summary>Feature rows without the label, as a scoring client would send them.</summary>
    public static IReadOnlyList<Dictionary<string, string?>> FeatureRows(int rows, int seed, DataShift? shift = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        var list = new List<Dictionary<string, string?>>(rows);
        foreach (var r in Generate(rows, seed, shift ?? DataShift.None))
        {
            list.Add(new Dictionary<string, string?>(StringComparer.Ordinal)
            {
                ["application_id"] = r.Id,
                ["age"] = r.Age.ToString(CultureInfo.InvariantCulture),
                ["income"] = r.Income?.ToString(CultureInfo.InvariantCulture),
                ["loan_amount"] = r.LoanAmount.ToString(CultureInfo.InvariantCulture),
                ["debt_to_income"] = r.DebtToIncome.ToString(CultureInfo.InvariantCulture),
                ["credit_score"] = r.CreditScore.ToString(CultureInfo.InvariantCulture),
                ["employment_years"] = r.EmploymentYears.ToString(CultureInfo.InvariantCulture),
                ["num_credit_lines"] = r.NumCreditLines.ToString(CultureInfo.InvariantCulture),
                ["region"] = r.Region,
                ["home_ownership"] = r.HomeOwnership,
            });
        }
        return list;
    }

    /// <summary>One generated application with its label and the probability of default it was drawn from.</summary>
    internal readonly record struct Application(
        string Id, int Age, double? Income, double LoanAmount, double DebtToIncome, int CreditScore,
        int EmploymentYears, int NumCreditLines, string Region, string HomeOwnership, bool Default, double Probability);

    /// <summary>The generator. The order of random draws is part of the output: change it and every seed changes.</summary>
    internal static IEnumerable<Application> Generate(int rows, int seed, DataShift shift)
    {
        var rng = new Random(seed);
        var apac = Math.Clamp(shift.ApacShare ?? 0.2, 0, 1);
        for (var i = 0; i < rows; i++)
        {
            var age = (int)Math.Round(Math.Clamp(41 + 12 * Gaussian(rng) + shift.AgeOffset, 18, 90));

            var incomeValue = Math.Round(Math.Exp(Math.Log(52_000) + 0.5 * Gaussian(rng)) * Math.Max(shift.IncomeFactor, 0), 2);
            var incomeMissing = rng.NextDouble() < 0.02;

            var loanAmount = Math.Round(Math.Clamp(Math.Exp(Math.Log(14_000) + 0.6 * Gaussian(rng)), 500, 250_000), 2);

            var dti = Math.Round(Math.Clamp(0.32 + 0.14 * Gaussian(rng) + shift.DebtToIncomeOffset, 0, 1.5), 4);

            var employment = (int)Math.Round(Math.Clamp(Math.Abs(6 + 5 * Gaussian(rng)), 0, Math.Max(0, age - 16)));

            var creditScore = (int)Math.Round(Math.Clamp(650 + 60 * Gaussian(rng) + 1.2 * (age - 41) + 2.0 * employment, 300, 850));

            var creditLines = (int)Math.Round(Math.Clamp(Math.Abs(4 + 2.5 * Gaussian(rng)), 0, 40));

            var u = rng.NextDouble();
            var region = u < apac ? "APAC" : (u - apac) < (1 - apac) * 0.55 ? "EU" : "US";

            var pRent = Math.Clamp(0.75 - 0.012 * (age - 18), 0.1, 0.75);
            var h = rng.NextDouble();
            var home = h < pRent ? "RENT" : h < pRent + (1 - pRent) * 0.35 ? "OWN" : "MORTGAGE";

            var logit = -1.45
                + 4.2 * (dti - 0.32)
                - 0.016 * (creditScore - 650)
                + 0.9 * Math.Log(loanAmount / Math.Max(incomeValue, 1_000) / 0.27)
                - 0.018 * (age - 41)
                - 0.04 * (employment - 6)
                + 0.04 * (creditLines - 4)
                + (home == "RENT" ? 0.35 : home == "OWN" ? -0.25 : 0)
                + (region == "APAC" ? 0.3 : region == "US" ? 0.1 : 0);
            var p = 1 / (1 + Math.Exp(-logit));
            var isDefault = rng.NextDouble() < p;

            yield return new Application(
                "A" + (i + 1).ToString("D6", CultureInfo.InvariantCulture), age, incomeMissing ? null : incomeValue, loanAmount, dti,
                creditScore, employment, creditLines, region, home, isDefault, p);
        }
    }

    /// <summary>Standard normal draw by Box–Muller (one value per call, two uniforms).</summary>
    private static double Gaussian(Random rng)
    {
        var u1 = 1.0 - rng.NextDouble(); // (0, 1]: keeps the log finite
        var u2 = rng.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }

    private static void WriteInt(TextWriter writer, int value, Span<char> buffer)
    {
        value.TryFormat(buffer, out var n, default, CultureInfo.InvariantCulture);
        writer.Write(buffer[..n]);
    }

    private static void WriteNumber(TextWriter writer, double value, Span<char> buffer)
    {
        value.TryFormat(buffer, out var n, default, CultureInfo.InvariantCulture);
        writer.Write(buffer[..n]);
    }
}
