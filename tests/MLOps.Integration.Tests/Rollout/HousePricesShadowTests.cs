using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using MLOps.Cli;
using MLOps.Core.Ports;
using MLOps.Core.Samples;
using MLOps.Integration.Tests.Fixtures;
using MLOps.Integration.Tests.Support;
using MLOps.Local;
using Xunit.Abstractions;

namespace MLOps.Integration.Tests.Rollout;

/// <summary>The regression sample (workflows/house-prices.yaml) end to end on the local host: the first version is
/// deployed directly, the second goes through the sample's shadow rollout while traffic is scored, and is promoted.
/// Only the shadow's duration and minimum traffic are shortened to test size; everything else is the sample file.</summary>
[Collection("Azurite")]
public sealed class HousePricesShadowTests(AzuriteFixture azurite, ITestOutputHelper output)
{
    private const string Model = "house-prices";

    [Fact]
    public async Task HousePricesSample_SecondVersion_ShadowsProductionThenIsPromoted()
    {
        var sample = await File.ReadAllTextAsync(Path.Combine(RepoPaths.Workflows, Model + ".yaml"));
        Assert.Contains("strategy: shadow", sample, StringComparison.Ordinal);
        var yaml = Replace(Replace(sample, "duration: 7d", "duration: 3s"), "min_requests: 200", "min_requests: 20");
        var options = TestHosts.Options(azurite.ConnectionString);
        var workflows = Path.Combine(options.DataDirectory, "workflows");
        Directory.CreateDirectory(workflows);
        await File.WriteAllTextAsync(Path.Combine(workflows, Model + ".yaml"), yaml);
        await using var host = await LocalHost.StartAsync(options with { WorkflowsDirectory = workflows });
        using var api = ApiClient.For(host.Url);

        var first = await UploadAndApproveAsync(host, api, "sales-1.csv", seed: 7, except: null);
        var done = await TestHosts.WaitForCompletionAsync(api, first);
        Assert.Equal("Deployed", done.GetProperty("result").GetProperty("outcome").GetString());

        var clock = Stopwatch.StartNew();
        var second = await UploadAndApproveAsync(host, api, "sales-2.csv", seed: 8, except: first);
        var (run, _) = await TestHosts.DriveTrafficUntilDoneAsync(api, Model, second, n => HousePriceData.FeatureRows(5, seed: 1000 + n));
        output.WriteLine($"shadow run completed {clock.Elapsed.TotalSeconds:F1} s after upload");

        var result = run.GetProperty("result");
        Assert.Equal("Deployed", result.GetProperty("outcome").GetString());
        Assert.Equal(2, result.GetProperty("version").GetInt32());
        var rollout = result.GetProperty("rollout");
        Assert.Equal("shadow", rollout.GetProperty("strategy").GetString());
        Assert.Equal("Promoted", rollout.GetProperty("outcome").GetString());
        var step = Assert.Single(rollout.GetProperty("steps").EnumerateArray());
        Assert.Equal("Pass", step.GetProperty("report").GetProperty("verdict").GetString());
        Assert.True(step.GetProperty("report").GetProperty("candidateRequests").GetInt32() >= 20);
        output.WriteLine(step.GetProperty("report").GetProperty("summary").GetString());

        var model = (await api.GetAsync($"models/{Model}")).Body;
        Assert.Equal(2, model.GetProperty("production").GetProperty("version").GetInt32());
        Assert.Equal(JsonValueKind.Null, model.GetProperty("traffic").ValueKind);
        var price = await api.PostAsync($"models/{Model}/predict", new { rows = HousePriceData.FeatureRows(1, seed: 99) });
        Assert.Equal(2, price.Body.GetProperty("version").GetInt32());
        Assert.True(price.Body.GetProperty("predictions")[0].GetProperty("score").GetDouble() > 0, price.Body.ToString());
    }

    private static string Replace(string text, string from, string to)
    {
        Assert.Contains(from, text, StringComparison.Ordinal);
        return text.Replace(from, to, StringComparison.Ordinal);
    }

    private static async Task<string> UploadAndApproveAsync(LocalHost host, ApiClient api, string name, int seed, string? except)
    {
        var writer = new StringWriter { NewLine = "\n" };
        HousePriceData.WriteCsv(writer, 6000, seed);
        await host.Services.GetRequiredService<IDatasetStore>().UploadAsync($"{Model}/{name}", new MemoryStream(Encoding.UTF8.GetBytes(writer.ToString())), "alice");
        var runId = await TestHosts.WaitForRunIdAsync(api, Model, r => r.GetProperty("runId").GetString() != except);
        var waiting = await TestHosts.WaitForStageAsync(api, runId, "awaiting-approval");
        Assert.Equal("awaiting-approval", waiting.GetProperty("status").GetProperty("stage").GetString());
        Assert.Equal(202, (await api.PostAsync($"runs/{runId}/approve", new { comment = "shadow sample" }, "bob")).Status);
        return runId;
    }
}
