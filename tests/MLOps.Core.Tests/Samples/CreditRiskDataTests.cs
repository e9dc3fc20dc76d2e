using System.Globalization;
using System.Text;
using MLOps.Core.Samples;

namespace MLOps.Core.Tests.Samples;

public class CreditRiskDataTests
{
    private static string Csv(int rows, int seed, DataShift? shift = null)
    {
        using var writer = new StringWriter(CultureInfo.InvariantCulture);
        CreditRiskData.WriteCsv(writer, rows, seed, shift);
        return writer.ToString();
    }

    [Fact]
    public void WriteCsv_SameSeed_SameBytes()
    {
        Assert.Equal(Csv(2000, 7), Csv(2000, 7));
        Assert.NotEqual(Csv(2000, 7), Csv(2000, 8));
    }

    [Fact]
    public void WriteCsv_Header_MatchesColumnsWithUniqueIds()
    {
        var lines = Csv(500, 1).Split('\n', StringSplitOptions.RemoveEmptyEntries);

        Assert.Equal(string.Join(',', CreditRiskData.Columns), lines[0]);
        Assert.Equal(501, lines.Length);
        Assert.StartsWith("A000001,", lines[1], StringComparison.Ordinal);
        Assert.Equal(500, lines.Skip(1).Select(l => l.Split(',')[0]).Distinct().Count());
        Assert.All(lines.Skip(1), l => Assert.Equal(11, l.Split(',').Length));
    }

    [Fact]
    public void Generate_Distributions_AreRealistic()
    {
        var rows = CreditRiskData.Generate(20_000, 3, DataShift.None).ToList();

        Assert.All(rows, r =>
        {
            Assert.InRange(r.Age, 18, 90);
            Assert.InRange(r.CreditScore, 300, 850);
            Assert.InRange(r.DebtToIncome, 0, 1.5);
            Assert.True(r.EmploymentYears >= 0 && r.NumCreditLines >= 0 && r.LoanAmount > 0);
            Assert.True(r.Income is null or >= 0);
        });
        var nullIncome = rows.Count(r => r.Income is null) / (double)rows.Count;
        Assert.InRange(nullIncome, 0.01, 0.03);
        var apac = rows.Count(r => r.Region == "APAC") / (double)rows.Count;
        Assert.InRange(apac, 0.18, 0.22);
        var defaults = rows.Count(r => r.Default) / (double)rows.Count;
        Assert.InRange(defaults, 0.12, 0.35);
    }

    [Fact]
    public void Generate_Label_CarriesSignal()
    {
        var rows = CreditRiskData.Generate(20_000, 5, DataShift.None).ToList();

        // AUC of the probability the labels were drawn from: the ceiling any model can reach.
        var bayes = Auc(rows.Select(r => (r.Probability, r.Default)).ToList());
        Assert.InRange(bayes, 0.78, 0.90);
        // A single feature already separates the classes.
        var byScore = Auc(rows.Select(r => ((double)-r.CreditScore, r.Default)).ToList());
        Assert.InRange(byScore, 0.6, 0.85);
    }

    [Fact]
    public void Generate_Shift_MovesTheDistributions()
    {
        var baseRows = CreditRiskData.Generate(10_000, 9, DataShift.None).ToList();
        var shifted = CreditRiskData.Generate(10_000, 9, new DataShift { IncomeFactor = 1.5, AgeOffset = 10, DebtToIncomeOffset = 0.2, ApacShare = 0.6 }).ToList();

        Assert.True(shifted.Where(r => r.Income is not null).Average(r => r.Income!.Value) > 1.4 * baseRows.Where(r => r.Income is not null).Average(r => r.Income!.Value));
        Assert.True(shifted.Average(r => r.Age) > baseRows.Average(r => r.Age) + 8);
        Assert.True(shifted.Average(r => r.DebtToIncome) > baseRows.Average(r => r.DebtToIncome) + 0.15);
        Assert.InRange(shifted.Count(r => r.Region == "APAC") / 10_000.0, 0.57, 0.63);
    }

    [Fact]
    public void FeatureRows_SameSeed_MatchCsvWithoutLabel()
    {
        var features = CreditRiskData.FeatureRows(300, 11);
        var lines = Csv(300, 11).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var header = lines[0].Split(',');

        Assert.Equal(300, features.Count);
        for (var i = 0; i < features.Count; i++)
        {
            var cells = lines[i + 1].Split(',');
            Assert.False(features[i].ContainsKey("default"));
            Assert.Equal(10, features[i].Count);
            for (var c = 0; c < header.Length - 1; c++)
            {
                var expected = cells[c].Length == 0 ? null : cells[c];
                Assert.Equal(expected, features[i][header[c]]);
            }
        }
        Assert.Contains(features, f => f["income"] is null);
    }

    [Fact]
    public void WriteCsv_Output_IsAsciiWithLfOnly()
    {
        var csv = Csv(1000, 2);

        Assert.DoesNotContain('\r', csv);
        Assert.Equal(Encoding.ASCII.GetByteCount(csv), Encoding.UTF8.GetByteCount(csv));
    }

    private static double Auc(List<(double Score, bool Positive)> scored)
    {
        // Mann–Whitney U with average ranks for ties.
        var ordered = scored.OrderBy(s => s.Score).ToList();
        var ranks = new double[ordered.Count];
        for (var i = 0; i < ordered.Count;)
        {
            var j = i;
            while (j + 1 < ordered.Count && ordered[j + 1].Score == ordered[i].Score)
            {
                j++;
            }
            for (var k = i; k <= j; k++)
            {
                ranks[k] = (i + j) / 2.0 + 1;
            }
            i = j + 1;
        }
        double positives = ordered.Count(s => s.Positive), negatives = ordered.Count - positives;
        var rankSum = ordered.Select((s, i) => s.Positive ? ranks[i] : 0).Sum();
        return (rankSum - positives * (positives + 1) / 2) / (positives * negatives);
    }
}
