using System.CommandLine;
using System.Text.Json;

namespace MLOps.Cli.Commands;

/// <summary>Commands that talk to the HTTP API.</summary>
internal static class ApiCommands
{
    public static Command Runs()
    {
        var url = CommonOptions.Url();
        var dataDir = CommonOptions.DataDir();
        var model = new Option<string?>("--model") { Description = "Only runs of this model" };
        var list = new Command("list", "List lifecycle runs, newest first") { model, url, dataDir };
        list.SetAction(async (parse, ct) =>
        {
            using var client = CommonOptions.Client(parse, url, dataDir);
            var query = parse.GetValue(model) is { } m ? $"?model={Uri.EscapeDataString(m)}" : "";
            var response = await client.GetAsync("runs" + query, ct);
            if (!response.IsSuccess)
            {
                return CommonOptions.Print(response);
            }

            Console.WriteLine($"{"RUN",-40} {"STATUS",-10} {"STAGE",-18} {"VERSION",-7} MESSAGE");
            foreach (var run in response.Body.EnumerateArray())
            {
                var status = run.GetProperty("status");
                string Field(string name) => status.ValueKind == JsonValueKind.Object && status.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? v.ToString() : "";
                Console.WriteLine($"{run.GetProperty("runId").GetString(),-40} {run.GetProperty("runtimeStatus").GetString(),-10} {Field("stage"),-18} {Field("version"),-7} {Field("message")}");
            }

            return 0;
        });

        var runId = new Argument<string>("runId");
        var show = new Command("show", "Show one run: stage, figures, result") { runId, url, dataDir };
        show.SetAction(async (parse, ct) =>
        {
            using var client = CommonOptions.Client(parse, url, dataDir);
            return CommonOptions.Print(await client.GetAsync($"runs/{Uri.EscapeDataString(parse.GetValue(runId)!)}", ct));
        });
        return new Command("runs", "Lifecycle runs") { list, show };
    }

    public static Command Decide(string name, bool approve)
    {
        var url = CommonOptions.Url();
        var dataDir = CommonOptions.DataDir();
        var runId = new Argument<string>("runId");
        var user = CommonOptions.As();
        var comment = new Option<string?>("--comment") { Description = "Why" };
        var command = new Command(name, approve ? "Approve a run waiting for approval" : "Reject a run waiting for approval") { runId, user, comment, url, dataDir };
        command.SetAction(async (parse, ct) =>
        {
            using var client = CommonOptions.Client(parse, url, dataDir);
            return CommonOptions.Print(await client.PostAsync($"runs/{Uri.EscapeDataString(parse.GetValue(runId)!)}/{name}",
                new { approver = parse.GetValue(user), comment = parse.GetValue(comment) }, parse.GetValue(user), ct));
        });
        return command;
    }

    public static Command Models()
    {
        var url = CommonOptions.Url();
        var dataDir = CommonOptions.DataDir();
        var list = new Command("list", "Models with their production version") { url, dataDir };
        list.SetAction(async (parse, ct) =>
        {
            using var client = CommonOptions.Client(parse, url, dataDir);
            return CommonOptions.Print(await client.GetAsync("models", ct));
        });
        var model = new Argument<string>("model");
        var show = new Command("show", "Versions, aliases and their history, datasets, recent drift audits") { model, url, dataDir };
        show.SetAction(async (parse, ct) =>
        {
            using var client = CommonOptions.Client(parse, url, dataDir);
            return CommonOptions.Print(await client.GetAsync($"models/{Uri.EscapeDataString(parse.GetValue(model)!)}", ct));
        });
        return new Command("models", "The model registry") { list, show };
    }

    public static Command Rollback()
    {
        var url = CommonOptions.Url();
        var dataDir = CommonOptions.DataDir();
        var model = new Argument<string>("model");
        var user = CommonOptions.As();
        var reason = new Option<string?>("--reason") { Description = "Why" };
        var to = new Option<int?>("--to") { Description = "Version to roll back to (default: the previous approved one)" };
        var command = new Command("rollback", "Move production back to the previous approved version") { model, user, reason, to, url, dataDir };
        command.SetAction(async (parse, ct) =>
        {
            using var client = CommonOptions.Client(parse, url, dataDir);
            return CommonOptions.Print(await client.PostAsync($"models/{Uri.EscapeDataString(parse.GetValue(model)!)}/rollback",
                new { actor = parse.GetValue(user), reason = parse.GetValue(reason), toVersion = parse.GetValue(to) }, parse.GetValue(user), ct));
        });
        return command;
    }

    public static Command Predict()
    {
        var url = CommonOptions.Url();
        var dataDir = CommonOptions.DataDir();
        var model = new Argument<string>("model");
        var file = new Option<string>("--rows") { Description = "JSON file with an array of rows", Required = true };
        var command = new Command("predict", "Score rows with the production version") { model, file, url, dataDir };
        command.SetAction(async (parse, ct) =>
        {
            using var client = CommonOptions.Client(parse, url, dataDir);
            using var doc = JsonDocument.Parse(await File.ReadAllTextAsync(parse.GetValue(file)!, ct));
            return CommonOptions.Print(await client.PostAsync($"models/{Uri.EscapeDataString(parse.GetValue(model)!)}/predict", doc.RootElement.Clone(), null, ct));
        });
        return command;
    }

    public static Command AuditTrail()
    {
        var url = CommonOptions.Url();
        var dataDir = CommonOptions.DataDir();
        var model = new Argument<string>("model");
        var command = new Command("audit-trail", "The model's hash-chained audit trail and its verification") { model, url, dataDir };
        command.SetAction(async (parse, ct) =>
        {
            using var client = CommonOptions.Client(parse, url, dataDir);
            return CommonOptions.Print(await client.GetAsync($"models/{Uri.EscapeDataString(parse.GetValue(model)!)}/audit-trail", ct));
        });
        return command;
    }

    public static Command Budget()
    {
        var url = CommonOptions.Url();
        var dataDir = CommonOptions.DataDir();
        var model = new Argument<string>("model");
        var month = new Option<string?>("--month") { Description = "Month as yyyy-MM (default: this month, UTC)" };
        var command = new Command("budget", "The model's budget: this month's training runs, compute hours, storage and cost against its limits") { model, month, url, dataDir };
        command.SetAction(async (parse, ct) =>
        {
            using var client = CommonOptions.Client(parse, url, dataDir);
            var query = parse.GetValue(month) is { } m ? $"?month={Uri.EscapeDataString(m)}" : "";
            return CommonOptions.Print(await client.GetAsync($"models/{Uri.EscapeDataString(parse.GetValue(model)!)}/budget{query}", ct));
        });
        return command;
    }

    public static Command Drift()
    {
        var url = CommonOptions.Url();
        var dataDir = CommonOptions.DataDir();
        var model = new Argument<string>("model");
        var noWait = new Option<bool>("--no-wait") { Description = "Print the audit's status and URL instead of waiting for it" };
        var timeout = new Option<int>("--timeout") { Description = "Seconds to follow a long audit before giving up (it goes on)", DefaultValueFactory = _ => 600 };
        var audit = new Command("audit", "Audit the model's recent production traffic for drift now (follows a long audit until it ends)") { model, noWait, timeout, url, dataDir };
        audit.SetAction(async (parse, ct) =>
        {
            using var client = CommonOptions.Client(parse, url, dataDir);
            var name = parse.GetValue(model)!;
            var response = await DriftAudits.RunAsync(client, name, follow: !parse.GetValue(noWait), TimeSpan.FromSeconds(parse.GetValue(timeout)),
                progress => Console.Error.WriteLine(progress), wait: parse.GetValue(noWait) ? 0 : null, ct);
            return Still(response, name, parse.GetValue(noWait));
        });
        var feature = new Argument<string>("feature") { Description = "A feature of the model, or 'prediction' for its output" };
        var take = new Option<int?>("--take") { Description = "Most audits to show, newest first (default 50)" };
        var json = CommonOptions.Json();
        var historyModel = new Argument<string>("model");
        var history = new Command("history", "A feature's raw drift values over past audits, newest first") { historyModel, feature, take, json, url, dataDir };
        history.SetAction(async (parse, ct) =>
        {
            using var client = CommonOptions.Client(parse, url, dataDir);
            var query = parse.GetValue(take) is { } n ? $"?take={n.ToString(System.Globalization.CultureInfo.InvariantCulture)}" : "";
            var response = await client.GetAsync(
                $"models/{Uri.EscapeDataString(parse.GetValue(historyModel)!)}/features/{Uri.EscapeDataString(parse.GetValue(feature)!)}/drift-history{query}", ct);
            if (!response.IsSuccess || parse.GetValue(json))
            {
                return CommonOptions.Print(response);
            }

            PrintHistory(response.Body);
            return 0;
        });

        var instanceId = new Argument<string>("instanceId");
        var follow = new Option<bool>("--follow") { Description = "Wait until the audit ends" };
        var status = new Command("status", "Show the status of one drift audit (an instance id from 'mlops drift audit --no-wait')") { model, instanceId, follow, timeout, url, dataDir };
        status.SetAction(async (parse, ct) =>
        {
            using var client = CommonOptions.Client(parse, url, dataDir);
            var name = parse.GetValue(model)!;
            var id = parse.GetValue(instanceId)!;
            var response = parse.GetValue(follow)
                ? await DriftAudits.FollowAsync(client, name, id, TimeSpan.FromSeconds(parse.GetValue(timeout)), progress => Console.Error.WriteLine(progress), ct)
                : await client.GetAsync($"models/{Uri.EscapeDataString(name)}/drift-audits/{Uri.EscapeDataString(id)}", ct);
            return Still(response, name, !parse.GetValue(follow));
        });
        var command = new Command("drift", "Drift audits") { audit, status, history };
        DataCommands.AddOfflineDrift(command);
        return command;
    }

    /// <summary>One line per audit: when, version, the deciding method, value, threshold, verdict and rows.</summary>
    private static void PrintHistory(JsonElement body)
    {
        var feature = body.GetProperty("feature").GetString();
        var prediction = body.TryGetProperty("isPrediction", out var p) && p.ValueKind == JsonValueKind.True;
        Console.WriteLine($"{feature}{(prediction ? " (model output)" : "")}: {body.GetProperty("count").GetInt32()} audit(s), newest first");
        Console.WriteLine($"{"AUDITED AT",-22} {"VERSION",7} {"METHOD",-18} {"VALUE",10} {"THRESHOLD",10} {"DRIFTED",-7} {"ROWS",8}  AUDIT");
        foreach (var point in body.GetProperty("points").EnumerateArray())
        {
            static string Num(JsonElement e) => e.ValueKind == JsonValueKind.Number ? e.GetDouble().ToString("G4", System.Globalization.CultureInfo.InvariantCulture) : "-";
            var at = point.GetProperty("auditedAt").GetDateTimeOffset().UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);
            Console.WriteLine($"{at,-22} {point.GetProperty("version").GetInt32(),7} {point.GetProperty("method").GetString(),-18} {Num(point.GetProperty("value")),10} " +
                $"{Num(point.GetProperty("threshold")),10} {(point.GetProperty("drifted").GetBoolean() ? "yes" : "no"),-7} {point.GetProperty("currentRows").GetInt64(),8}  {point.GetProperty("auditId").GetString()}");
        }
    }

    /// <summary>Prints an audit answer; one still running (202) is printed with how to follow it, and fails only when
    /// it was meant to be waited for.</summary>
    private static int Still(ApiResponse response, string model, bool asked)
    {
        var code = CommonOptions.Print(response);
        if (response.Status != 202)
        {
            return code;
        }

        var id = response.Body.GetProperty("instanceId").GetString();
        Console.Error.WriteLine($"the audit is still running; follow it with: mlops drift status {model} {id} --follow");
        return asked ? 0 : 1;
    }
}
