using System.Diagnostics;
using System.Text.Json;
using Microsoft.DurableTask.Client;
using MLOps.Cli;
using MLOps.Infrastructure.Azurite;
using MLOps.Integration.Tests.Fixtures;
using MLOps.Integration.Tests.Support;
using MLOps.Lifecycle.Contracts;
using MLOps.Lifecycle.Handlers;
using MLOps.Local;
using MLOps.Local.Durable;

namespace MLOps.Integration.Tests.EndToEnd;

/// <summary>A run waiting for approval (in its approval sub-orchestration) survives the host process being killed
/// (SIGKILL): a new process on the same task hub takes it over, the approval arrives, the run deploys.</summary>
[Collection("Azurite")]
public sealed class KillAndResumeTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task HostKilledWhileWaitingForApproval_RestartedHostCompletesTheRun()
    {
        var options = TestHosts.Options(azurite.ConnectionString);
        var first = StartHost(options, out var firstUrl);
        try
        {
            using var api = ApiClient.For(await firstUrl);
            await using (var storage = await azurite.CreateServicesAsync(options.StoragePrefix))
            {
                await TestHosts.UploadCsvAsync(storage, "credit-risk/kill.csv", rows: 6000, seed: 7, author: "alice");
            }

            var runId = await TestHosts.WaitForRunIdAsync(api, "credit-risk");
            var before = await TestHosts.WaitForStageAsync(api, runId, "awaiting-approval");
            Assert.True(before.GetProperty("status").GetProperty("stage").GetString() == "awaiting-approval", before.ToString());

            // The run waits in its approval sub-orchestration, which has published its request (so no activity of
            // its is in flight: a message a killed worker had taken stays invisible for minutes), when the host dies.
            var approvalId = before.GetProperty("status").GetProperty("approvalInstanceId").GetString()!;
            Assert.Equal(runId + ":approval", approvalId);
            await using (var observer = await LocalDurableEngine.StartClientAsync(new LocalDurableEngineOptions
                         {
                             StorageConnectionString = azurite.ConnectionString,
                             TaskHubName = options.TaskHub,
                             WorkerId = options.WorkerId + "-observer",
                         }))
            {
                var requested = await observer.Client.WaitForStateAsync(approvalId, m => m.RuntimeStatus == OrchestrationRuntimeStatus.Running
                    && m.SerializedCustomStatus is { } custom && JsonSerializer.Deserialize<ApprovalStatus>(custom, Json.Options)?.RequestedAt is not null,
                    TimeSpan.FromSeconds(60));
                Assert.Equal("ApprovalOrchestrator", requested.Name);
            }

            first.Kill(entireProcessTree: true);
            await first.WaitForExitAsync();
            var killedAt = Stopwatch.StartNew();

            // A replacement host (another worker id) takes the dead host's partitions over once their leases lapse.
            var second = StartHost(options with { WorkerId = options.WorkerId + "b" }, out var secondUrl);
            try
            {
                using var api2 = ApiClient.For(await secondUrl);
                Console.WriteLine($"kill → replacement API up: {killedAt.ElapsedMilliseconds} ms");
                var waiting = (await api2.GetAsync($"runs/{runId}")).Body;
                Assert.Equal("Running", waiting.GetProperty("runtimeStatus").GetString());
                Assert.Equal("awaiting-approval", waiting.GetProperty("status").GetProperty("stage").GetString());
                var approvedAt = Stopwatch.StartNew();
                Assert.Equal(202, (await api2.PostAsync($"runs/{runId}/approve", new { }, "bob")).Status);
                JsonElement done;
                try
                {
                    done = await TestHosts.WaitForCompletionAsync(api2, runId);
                }
                catch (TimeoutException)
                {
                    Console.WriteLine($"approval sub-orchestration: {(await api2.GetAsync($"runs/{approvalId}")).Body}");
                    throw;
                }

                Assert.Equal("Deployed", done.GetProperty("result").GetProperty("outcome").GetString());
                Assert.Equal(["bob"], done.GetProperty("result").GetProperty("approvedBy").EnumerateArray().Select(a => a.GetString()));
                var child = (await api2.GetAsync($"runs/{approvalId}")).Body;
                Assert.Equal("Completed", child.GetProperty("runtimeStatus").GetString());
                Console.WriteLine($"approval → completion after restart: {approvedAt.ElapsedMilliseconds} ms; kill → completion {killedAt.ElapsedMilliseconds} ms");
            }
            finally
            {
                second.Kill(entireProcessTree: true);
                await second.WaitForExitAsync();
            }
        }
        finally
        {
            if (!first.HasExited)
            {
                first.Kill(entireProcessTree: true);
            }
        }
    }

    /// <summary>Starts <c>mlops up</c> in its own process on a free port and returns when its API answers.</summary>
    private static Process StartHost(LocalHostOptions options, out Task<string> url)
    {
        var port = AzuriteProcess.FreePort();
        var cli = Path.Combine(AppContext.BaseDirectory, "mlops.dll");
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = RepoPaths.Root,
        };
        foreach (var arg in new[]
                 {
                     cli, "up", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--storage", options.StorageConnectionString!,
                     "--data-dir", options.DataDirectory, "--workflows", RepoPaths.Workflows, "--prefix", options.StoragePrefix,
                     "--task-hub", options.TaskHub, "--worker-id", options.WorkerId,
                 })
        {
            info.ArgumentList.Add(arg);
        }

        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { Console.Error.WriteLine("[mlops up] " + e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var baseUrl = $"http://127.0.0.1:{port}";
        url = WaitForApiAsync(process, baseUrl);
        return process;
    }

    private static async Task<string> WaitForApiAsync(Process process, string baseUrl)
    {
        using var api = ApiClient.For(baseUrl);
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"mlops up exited with code {process.ExitCode}");
            }

            try
            {
                if ((await api.GetAsync("health")).IsSuccess)
                {
                    return baseUrl;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(200);
        }

        throw new TimeoutException("mlops up did not answer within 90 s");
    }
}
