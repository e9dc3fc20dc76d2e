using System.Text;
using MLOps.Core.Drift;
using MLOps.Core.Workflows;

namespace MLOps.Core.Tests.Drift;

/// <summary>Features of two files compared without a workflow: shared columns in the reference's order, typed from
/// every non-empty value of both files.</summary>
public sealed class DriftFeatureInferenceTests
{
    private static MemoryStream Csv(string text) => new(Encoding.UTF8.GetBytes(text));

    [Fact]
    public void Shared_columns_in_reference_order_numeric_only_when_every_value_in_both_files_is_a_number()
    {
        const string reference = "age,region,score,flag,only_ref,\"quoted, name\"\n"
            + "31,EU,0.5,1,x,2\n"
            + "45,US,1e3,,y,3\n"
            + "52,APAC,-7,0,z,4\n";
        // The current file orders columns differently, has a column of its own, and one non-number in 'score'.
        const string current = "flag,extra,\"quoted, name\",score,region,age\n"
            + "0,q,5,n/a,EU,40\n"
            + " ,q,6,2.5,US,\n";

        var inferred = DriftFeatureInference.Infer(Csv(reference), Csv(current));

        var columns = inferred.Workflow.Data.Columns;
        Assert.Equal(["age", "region", "score", "flag", "quoted, name"], columns.Select(c => c.Name));
        Assert.Equal([ColumnType.Number, ColumnType.Category, ColumnType.Category, ColumnType.Number, ColumnType.Number], columns.Select(c => c.Type));
        Assert.Equal(["only_ref"], inferred.MissingFromCurrent);
        Assert.Equal(ProfileBuilder.FeatureColumns(inferred.Workflow).Select(c => c.Name), columns.Select(c => c.Name));

        // The default monitoring spec.
        var monitoring = inferred.Workflow.Monitoring;
        Assert.Equal(("auto", "fixed", "none", (double?)null), (monitoring.Drift.Method, monitoring.Drift.ThresholdMode, monitoring.Drift.Fdr, monitoring.Drift.Threshold));
        Assert.Equal(new MonitoringSpec().MinRows, monitoring.MinRows);

        // Profiles through the inferred contract: empty cells are nulls, the text column counts categories.
        var profile = ProfileBuilder.FromCsv(Csv(current), inferred.Workflow);
        var byName = profile.Features.ToDictionary(f => f.Name);
        Assert.Equal(FeatureKind.Numeric, byName["age"].Kind);
        Assert.Equal([40.0], byName["age"].Values);
        Assert.Equal(1, byName["age"].Nulls);
        Assert.Equal(1, byName["flag"].Nulls);
        Assert.Equal(FeatureKind.Categorical, byName["score"].Kind);
        Assert.Equal(1, byName["score"].Counts["n/a"]);
        Assert.Equal([5.0, 6.0], byName["quoted, name"].Values);
    }

    [Fact]
    public void No_shared_column_gives_an_empty_contract()
    {
        var inferred = DriftFeatureInference.Infer(Csv("a,b\n1,2\n"), Csv("c\n3\n"));
        Assert.Empty(inferred.Workflow.Data.Columns);
        Assert.Equal(["a", "b"], inferred.MissingFromCurrent);
    }
}
