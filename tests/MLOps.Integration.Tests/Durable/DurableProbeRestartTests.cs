using System.Diagnostics;
using Microsoft.DurableTask.Client;
using MLOps.DurableProbe;
using MLOps.Integration.Tests.Fixtures;
using MLOps.Local.Durable;
using Xunit.Abstractions;

namespace MLOps.Integration.Tests.Durable;

/// <summary>Kills a real engine process (SIGKILL) mid-run and proves the run completes after a restart.</summary>
[Collection("Azurite")]
public sealed class DurableProbeRestartTests(AzuriteFixture azurite, ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task KilledProcess_RestartedWithSameWorkerId_CompletesRunWaitingForEvent()
    {
        var options = new LocalDurableEngineOptions
        {
            StorageConnectionString = azurite.ConnectionString,
            TaskHubName = "t" + Guid.NewGuid().ToString("N")[..8],
            WorkerId = "probe-" + Guid.NewGuid().ToString("N")[..6],
        };

        // The test's own client: it runs no orchestrations and takes no leases.
        await using var client = await LocalDurableEngine.StartClientAsync(options);

        var first = await ProbeProcess.StartAsync(options, output);
        string id;
        try
        {
            id = await client.Client.ScheduleNewOrchestrationInstanceAsync(ProbeApprovalOrchestrator.Name, "run-7");
            await client.Client.WaitForStateAsync(id, m => m.RuntimeStatus == OrchestrationRuntimeStatus.Running, Timeout);

            // Let the first episode's checkpoint finish (messages deleted) before the crash.
            await Task.Delay(500);
        }
        finally
        {
            first.Kill();
        }

        var restart = Stopwatch.StartNew();
        await using var second = await ProbeProcess.StartAsync(options, output);
        var ready = restart.Elapsed;

        var latency = Stopwatch.StartNew();
        await client.Client.RaiseEventAsync(id, ProbeApprovalOrchestrator.ApprovalEvent, "approved");
        var done = await client.Client.WaitForCompletionAsync(id, Timeout);
        output.WriteLine($"probe restart->ready {ready.TotalMilliseconds:F0} ms; event raised->completed after kill -9 {latency.Elapsed.TotalMilliseconds:F0} ms");

        Assert.Equal(OrchestrationRuntimeStatus.Completed, done.RuntimeStatus);
        Assert.Equal($"run-7:approved:{second.ProcessId}", done.ReadOutputAs<string>());
        Assert.True(await second.StopAsync(TimeSpan.FromSeconds(30)), "The probe did not stop gracefully.");
    }

    /// <summary>The probe executable, started with <c>dotnet MLOps.DurableProbe.dll</c>.</summary>
    private sealed class ProbeProcess : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly ITestOutputHelper _output;
        private Task _drain = Task.CompletedTask;

        private ProbeProcess(Process process, ITestOutputHelper output)
        {
            _process = process;
            _output = output;
        }

        public int ProcessId => _process.Id;

        public static async Task<ProbeProcess> StartAsync(LocalDurableEngineOptions options, ITestOutputHelper output)
        {
            var dll = Path.Combine(AppContext.BaseDirectory, "MLOps.DurableProbe.dll");
            Assert.True(File.Exists(dll), $"{dll} was not built next to the tests.");
            var info = new ProcessStartInfo("dotnet")
            {
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var arg in new[] { dll, options.StorageConnectionString, options.TaskHubName, options.WorkerId })
            {
                info.ArgumentList.Add(arg);
            }

            var process = Process.Start(info) ?? throw new InvalidOperationException("The probe did not start.");
            var probe = new ProbeProcess(process, output);
            process.ErrorDataReceived += (_, e) =>
            {
                if (e.Data is not null)
                {
                    probe.Log("stderr: " + e.Data);
                }
            };
            process.BeginErrorReadLine();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
            {
                probe.Log(line);
                if (line.StartsWith("ready", StringComparison.Ordinal))
                {
                    // Keep draining standard output so the probe never blocks on a full pipe.
                    probe._drain = Task.Run(async () =>
                    {
                        while (await process.StandardOutput.ReadLineAsync() is { } more)
                        {
                            probe.Log(more);
                        }
                    });
                    return probe;
                }
            }

            await probe.DisposeAsync();
            throw new InvalidOperationException("The probe exited before it was ready.");
        }

        public void Kill()
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        /// <summary>Closes the probe's standard input, which stops its engine gracefully.</summary>
        public async Task<bool> StopAsync(TimeSpan timeout)
        {
            _process.StandardInput.Close();
            using var cts = new CancellationTokenSource(timeout);
            try
            {
                await _process.WaitForExitAsync(cts.Token);
                await _drain;
                return _process.ExitCode == 0;
            }
            catch (OperationCanceledException)
            {
                return false;
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }

            _process.Dispose();
        }

        private void Log(string line)
        {
            try
            {
                _output.WriteLine($"[probe {_process.Id}] {line}");
            }
            catch (InvalidOperationException)
            {
                // The test has finished.
            }
        }
    }
}
