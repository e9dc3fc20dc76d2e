using MLOps.DurableProbe;
using MLOps.Local.Durable;

// Usage: MLOps.DurableProbe <storage connection string> <task hub> <worker id>
// Prints "ready <sidecar address>" once the engine runs; stops gracefully when standard input closes.
if (args.Length != 3)
{
    await Console.Error.WriteLineAsync("usage: MLOps.DurableProbe <storage connection string> <task hub> <worker id>");
    return 2;
}

var options = new LocalDurableEngineOptions { StorageConnectionString = args[0], TaskHubName = args[1], WorkerId = args[2] };
await using (var engine = await LocalDurableEngine.StartAsync(options, ProbeApprovalOrchestrator.Register))
{
    Console.WriteLine($"ready {engine.SidecarAddress}");
    while (await Console.In.ReadLineAsync() is not null)
    {
    }
}

Console.WriteLine("stopped");
return 0;
