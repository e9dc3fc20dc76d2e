using System.Text;
using MLOps.Core.Data;
using MLOps.Core.Samples;
using MLOps.Core.Training;
using MLOps.Core.Workflows;

namespace MLOps.Core.Tests.Samples;

public sealed class HousePriceDataTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mlops-house-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static WorkflowDefinition Workflow() =>
        WorkflowParser.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "workflows", "house-prices.yaml")), "house-prices.yaml");

    private static string Csv(int rows, int seed)
    {
        var writer = new StringWriter { NewLine = "\n" };
        HousePriceData.WriteCsv(writer, rows, seed);
        return writer.ToString();
    }

    [Fact]
    public void WriteCsv_SameSeed_SameBytes_OtherSeed_OtherBytes()
    {
        Assert.Equal(Csv(500, 3), Csv(500, 3));
        Assert.NotEqual(Csv(500, 3), Csv(500, 4));
        Assert.Equal(string.Join(',', HousePriceData.Columns), Csv(1, 1).Split('\n')[0]);
    }

    [Fact]
    public async Task Validate_GeneratedData_MeetsTheSampleContract()
    {
        using var csv = new MemoryStream(Encoding.UTF8.GetBytes(Csv(3000, 5)));

        var report = await DatasetValidator.ValidateAsync(csv, "houses.csv", Workflow().Data);

        Assert.True(report.IsValid, string.Join("\n", report.Issues.Select(i => i.Message)));
    }

    [Fact]
    public void Train_SampleWorkflow_LearnsThePrice()
    {
        var path = Path.Combine(_dir, "houses.csv");
        File.WriteAllText(path, Csv(5000, 42), new UTF8Encoding(false));
        using var model = new MemoryStream();

        var result = ModelTrainer.Train(Workflow(), path, model);

        Assert.True(result.Metrics["r2"] > 0.5, $"r2 {result.Metrics["r2"]}");
        Assert.Contains("rmse", result.Metrics.Keys);
    }
}
