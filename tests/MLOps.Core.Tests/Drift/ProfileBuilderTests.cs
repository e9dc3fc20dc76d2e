using System.Text;
using MLOps.Core.Drift;
using MLOps.Core.Workflows;

namespace MLOps.Core.Tests.Drift;

public sealed class ProfileBuilderTests
{
    private static WorkflowDefinition Workflow() => new()
    {
        Model = new ModelSection { Name = "credit", Label = "default", Id = "id" },
        Data = new DataContract
        {
            Columns =
            [
                new ColumnSpec { Name = "id", Type = ColumnType.String },
                new ColumnSpec { Name = "income", Type = ColumnType.Number, Nullable = true },
                new ColumnSpec { Name = "age", Type = ColumnType.Integer },
                new ColumnSpec { Name = "region", Type = ColumnType.Category },
                new ColumnSpec { Name = "owner", Type = ColumnType.Boolean },
                new ColumnSpec { Name = "note", Type = ColumnType.String, Feature = false },
                new ColumnSpec { Name = "default", Type = ColumnType.Boolean },
            ],
        },
        Training = new TrainingSpec(),
    };

    private const string Csv = """
        id,income,age,region,owner,note,default
        1,100.5,30,EU,true,x,false
        2,,41,US,False,y,true
        3,abc,25,EU,TRUE,z,false
        4,"1,5e3",52,,true,w,true
        5,2000,33,"APAC",false,v,false
        """;

    [Fact]
    public void Csv_profiles_features_only_with_nulls_and_counts()
    {
        var p = ProfileBuilder.FromCsv(new MemoryStream(Encoding.UTF8.GetBytes(Csv)), Workflow());
        Assert.Equal(5, p.Rows);
        Assert.Equal(new[] { "income", "age", "region", "owner" }, p.Features.Select(f => f.Name));
        var income = p.Features[0];
        Assert.Equal(FeatureKind.Numeric, income.Kind);
        Assert.Equal(new[] { 100.5, 2000 }, income.Values);
        Assert.Equal(3, income.Nulls); // empty, unparsable "abc", "1,5e3"
        Assert.Equal(5, income.Rows);
        Assert.Equal(new double[] { 30, 41, 25, 52, 33 }, p.Features[1].Values);
        var region = p.Features[2];
        Assert.Equal(FeatureKind.Categorical, region.Kind);
        Assert.Equal(2, region.Counts["EU"]);
        Assert.Equal(1, region.Counts["APAC"]);
        Assert.Equal(1, region.Nulls);
        var owner = p.Features[3];
        Assert.Equal(3, owner.Counts["true"]);
        Assert.Equal(2, owner.Counts["false"]);
    }

    [Fact]
    public void Rows_and_csv_give_the_same_profile()
    {
        var rows = new List<IReadOnlyDictionary<string, string?>>
        {
            new Dictionary<string, string?> { ["income"] = "100.5", ["age"] = "30", ["region"] = "EU", ["owner"] = "true" },
            new Dictionary<string, string?> { ["income"] = null, ["age"] = "41", ["region"] = "US", ["owner"] = "False" },
            new Dictionary<string, string?> { ["age"] = "25", ["region"] = "EU", ["owner"] = "TRUE" },
        };
        var p = ProfileBuilder.FromRows(rows, Workflow());
        Assert.Equal(3, p.Rows);
        Assert.Equal(new[] { 100.5 }, p.Features[0].Values);
        Assert.Equal(2, p.Features[0].Nulls);
        Assert.Equal(2, p.Features[2].Counts["EU"]);
        Assert.Equal(2, p.Features[3].Counts["true"]);
    }

    [Fact]
    public void Reservoir_sample_is_uniform_bounded_and_deterministic()
    {
        var sb = new StringBuilder("id,income,age,region,owner,note,default\n");
        for (int i = 0; i < 20_000; i++) sb.Append(i).Append(',').Append(i).Append(",30,EU,true,,false\n");
        byte[] bytes = Encoding.UTF8.GetBytes(sb.ToString());
        var a = ProfileBuilder.FromCsv(new MemoryStream(bytes), Workflow(), maxValuesPerFeature: 1000);
        var b = ProfileBuilder.FromCsv(new MemoryStream(bytes), Workflow(), maxValuesPerFeature: 1000);
        var income = a.Features[0];
        Assert.Equal(1000, income.Values.Length);
        Assert.Equal(20_000, income.Rows);
        Assert.Equal(income.Values, b.Features[0].Values);
        Assert.Equal(1000, income.Values.Distinct().Count());
        // Uniform over the stream: the sample's mean is near the population's (9999.5, sd of the mean ≈ 183).
        Assert.InRange(income.Values.Average(), 9999.5 - 800, 9999.5 + 800);
        Assert.Contains(income.Values, v => v >= 15_000);
        Assert.Contains(income.Values, v => v < 5_000);
    }
}
