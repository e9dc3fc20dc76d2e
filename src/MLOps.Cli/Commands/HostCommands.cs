using System.CommandLine;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using MLOps.Core.Ports;
using MLOps.Infrastructure;
using MLOps.Local;

namespace MLOps.Cli.Commands;

/// <summary>Running the local host, and uploading to its storage.</summary>
internal static class HostCommands
{
    public static Command Up()
    {
        var port = new Option<int>("--port") { Description = "HTTP port on 127.0.0.1", DefaultValueFactory = _ => 7071 };
        var storage = new Option<string?>("--storage") { Description = "Storage connection string (default: embedded Azurite; or MLOPS_STORAGE)" };
        var dataDir = CommonOptions.DataDir();
        var workflows = new Option<string?>("--workflows") { Description = "Folder of workflow files (default: ./workflows or above)" };
        var verbose = new Option<bool>("--verbose") { Description = "Log at Information" };
        var prefix = new Option<string>("--prefix") { Description = "Prefix of container and table names", DefaultValueFactory = _ => "" };
        var taskHub = new Option<string>("--task-hub") { Description = "Durable task hub name", DefaultValueFactory = _ => "mlopslocal" };
        var workerId = new Option<string>("--worker-id") { Description = "Stable durable worker id", DefaultValueFactory = _ => "mlops-local" };
        var command = new Command("up", "Run the local host until Ctrl+C: Azurite, the durable engine, the API, the upload listener and the drift scheduler")
        {
            port, storage, dataDir, workflows, verbose, prefix, taskHub, workerId,
        };
        command.SetAction(async (parse, ct) =>
        {
            var options = new LocalHostOptions
            {
                Port = parse.GetValue(port),
                StorageConnectionString = parse.GetValue(storage) ?? Environment.GetEnvironmentVariable("MLOPS_STORAGE"),
                DataDirectory = parse.GetValue(dataDir)!,
                WorkflowsDirectory = parse.GetValue(workflows),
                StoragePrefix = parse.GetValue(prefix)!,
                TaskHub = parse.GetValue(taskHub)!,
                WorkerId = parse.GetValue(workerId)!,
                LogLevel = parse.GetValue(verbose) ? Microsoft.Extensions.Logging.LogLevel.Information : Microsoft.Extensions.Logging.LogLevel.Warning,
            };
            await using var host = await LocalHost.StartAsync(options, ct);
            Console.WriteLine($"MLOps local host listening on {host.Url} (workflows: {string.Join(", ", host.Workflows.Select(w => $"{w.Model}@{w.Hash[..12]}"))})");
            Console.WriteLine("Upload a dataset with 'mlops upload <csv|parquet> --model <model> --as <you>'; Ctrl+C stops.");
            try
            {
                await Task.Delay(Timeout.Infinite, ct);
            }
            catch (OperationCanceledException)
            {
                Console.WriteLine("Stopping…");
            }

            return 0;
        });
        return command;
    }

    public static Command Upload()
    {
        var file = new Argument<string>("file") { Description = "CSV or Parquet file to upload" };
        var model = new Option<string>("--model") { Description = "Model the dataset is for", Required = true };
        var name = new Option<string?>("--name") { Description = "Blob name under the model (default: the file name)" };
        var user = CommonOptions.As();
        var dataDir = CommonOptions.DataDir();
        var command = new Command("upload", "Upload a dataset to the running local host's 'datasets' container (starts validation)") { file, model, name, user, dataDir };
        command.SetAction(async (parse, ct) =>
        {
            var state = LocalHost.StateFile(parse.GetValue(dataDir)!);
            if (!File.Exists(state))
            {
                Console.Error.WriteLine("No local host is running here: start one with 'mlops up'.");
                return 1;
            }

            using var doc = JsonDocument.Parse(await File.ReadAllTextAsync(state, ct));
            var services = new ServiceCollection().AddMLOpsInfrastructure(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["MLOps:Storage:ConnectionString"] = doc.RootElement.GetProperty("storage").GetString(),
                ["MLOps:Storage:Prefix"] = doc.RootElement.GetProperty("prefix").GetString(),
            }).Build()).BuildServiceProvider();
            var path = parse.GetValue(file)!;
            var blobName = $"{parse.GetValue(model)}/{parse.GetValue(name) ?? Path.GetFileName(path)}";
            await using var stream = File.OpenRead(path);
            var uri = await services.GetRequiredService<IDatasetStore>().UploadAsync(blobName, stream, parse.GetValue(user), ct);
            Console.WriteLine($"uploaded {blobName} ({stream.Length} bytes) to {uri}; follow it with 'mlops runs list'");
            return 0;
        });
        return command;
    }
}
