using Microsoft.ML;
using Microsoft.ML.Data;
using MLOps.Core.Training;

namespace MLOps.Core.Tests.Training;

public sealed class TabularSchemaTests
{
    private static readonly string[] Header = ["customer_id", "income", "age", "debt_ratio", "region", "note", "defaulted"];

    private static IDataView Load(string csv)
    {
        var schema = TabularSchema.For(SyntheticData.BinaryWorkflow("fasttree"));
        var mlContext = new MLContext(seed: 1);
        return schema.CreateLoader(mlContext, Header).Load(new InMemoryTextSource(csv));
    }

    [Fact]
    public void Loader_ParsesBinaryLabelSpellings()
    {
        string[] labels = ["true", "false", "1", "0", "yes", "no", "TRUE", "No"];
        var csv = string.Join(',', Header) + "\n" + string.Join('\n', labels.Select((l, i) => $"C{i},1,2,0.5,EU,x,{l}")) + "\n";

        var values = Load(csv).GetColumn<bool>("defaulted").ToArray();

        Assert.Equal([true, false, true, false, true, false, true, false], values);
    }

    [Fact]
    public void Loader_EmptyNumericIsMissing_QuotedFieldsAreRead()
    {
        var csv = string.Join(',', Header) + "\nC1,,2,0.5,\"E,U\",\"say \"\"hi\"\"\",true\n";

        var view = Load(csv);

        Assert.True(float.IsNaN(view.GetColumn<float>("income").Single()));
        Assert.Equal("E,U", view.GetColumn<ReadOnlyMemory<char>>("region").Single().ToString());
        Assert.Equal("say \"hi\"", view.GetColumn<ReadOnlyMemory<char>>("note").Single().ToString());
    }

    [Fact]
    public void ToCsv_QuotesOnlyWhenNeeded()
    {
        var schema = TabularSchema.For(SyntheticData.BinaryWorkflow("fasttree"));

        var csv = schema.ToCsv([new Dictionary<string, string?> { ["income"] = " 5 ", ["age"] = "2", ["debt_ratio"] = null, ["region"] = "a,\"b\"" }]);

        Assert.Equal("customer_id,income,age,debt_ratio,region,note\n,5,2,,\"a,\"\"b\"\"\",\n", csv);
    }
}
