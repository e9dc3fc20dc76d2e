using System.CommandLine;
using MLOps.Cli.Commands;

var root = new RootCommand("mlops — the MLOps.Functions command line: run the local host, drive and inspect model lifecycles, validate data offline.");
root.Add(HostCommands.Up());
root.Add(DemoCommand.Create());
root.Add(ApiCommands.Runs());
root.Add(ApiCommands.Decide("approve", approve: true));
root.Add(ApiCommands.Decide("reject", approve: false));
root.Add(ApiCommands.Models());
root.Add(ApiCommands.Rollback());
root.Add(ApiCommands.Predict());
root.Add(ApiCommands.AuditTrail());
root.Add(ApiCommands.Budget());
root.Add(ApiCommands.Drift());
root.Add(DataCommands.Data());
root.Add(DataCommands.Workflow());
root.Add(HostCommands.Upload());
return await root.Parse(args).InvokeAsync();
