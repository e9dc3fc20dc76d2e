using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace MLOps.Integration.Tests.Infra;

/// <summary>Builds and lints infra/main.bicep once per test class with the bicep CLI restored from NuGet
/// (Azure.Bicep.CommandLine.linux-x64, a PackageDownload of this project): offline, no Azure CLI.</summary>
public sealed class BicepFixture : IAsyncLifetime
{
    private const string BicepPackageId = "azure.bicep.commandline.linux-x64";
    private const string BicepPackageVersion = "0.49.2";
    private static readonly TimeSpan BicepTimeout = TimeSpan.FromMinutes(3);

    public string RepositoryRoot { get; } = FindRepositoryRoot();

    public string MainBicep => Path.Combine(RepositoryRoot, "infra", "main.bicep");

    public BicepResult Build { get; private set; } = BicepResult.NotRun;

    public BicepResult Lint { get; private set; } = BicepResult.NotRun;

    /// <summary>The compiled ARM template (subscription scope, modules as nested deployments).</summary>
    public JsonObject Template { get; private set; } = [];

    public async Task InitializeAsync()
    {
        var bicep = FindBicep(RepositoryRoot);
        var build = RunAsync(bicep, "build", MainBicep, "--stdout");
        var lint = RunAsync(bicep, "lint", MainBicep);
        Build = await build;
        Lint = await lint;
        if (Build.ExitCode == 0)
        {
            Template = JsonNode.Parse(Build.StandardOutput)?.AsObject()
                ?? throw new InvalidOperationException("bicep build produced no template.");
        }
    }

    public Task DisposeAsync() => Task.CompletedTask;

    /// <summary>Every resource of the template and its nested deployments, with the module (deployment name) it is in.</summary>
    public IReadOnlyList<TemplateResource> Resources()
    {
        var found = new List<TemplateResource>();
        Collect(Template, module: "main", moduleDeployment: null, found);
        return found;
    }

    public IReadOnlyList<TemplateResource> ResourcesOfType(string type) =>
        [.. Resources().Where(r => string.Equals(r.Type, type, StringComparison.OrdinalIgnoreCase))];

    /// <summary>The nested deployment (module call) of main.bicep with the given name.</summary>
    public JsonObject Module(string name) =>
        ResourcesOfType("Microsoft.Resources/deployments").Single(r => r.Module == "main" && r.Name == name).Json;

    private static void Collect(JsonObject template, string module, JsonObject? moduleDeployment, List<TemplateResource> found)
    {
        // Bicep emits an array, or an object keyed by symbolic name with languageVersion 2.0.
        IEnumerable<JsonNode?> resources = template["resources"] switch
        {
            JsonArray array => array,
            JsonObject map => map.Select(p => p.Value),
            _ => [],
        };
        foreach (var node in resources)
        {
            if (node is not JsonObject resource)
            {
                continue;
            }

            var type = resource["type"]?.GetValue<string>() ?? "";
            var name = resource["name"]?.GetValue<string>() ?? "";
            found.Add(new TemplateResource(module, type, name, resource, moduleDeployment));
            if (type == "Microsoft.Resources/deployments" && resource["properties"]?["template"] is JsonObject nested)
            {
                Collect(nested, name, resource, found);
            }
        }
    }

    private static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "MLOps.Functions.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"MLOps.Functions.sln not found above {AppContext.BaseDirectory}.");
    }

    /// <summary>The bicep binary in the NuGet packages folder restore used (from project.assets.json),
    /// else NUGET_PACKAGES, else the default ~/.nuget/packages.</summary>
    private static string FindBicep(string repositoryRoot)
    {
        var candidates = new List<string>();
        var assets = Path.Combine(repositoryRoot, "tests", "MLOps.Integration.Tests", "obj", "project.assets.json");
        if (File.Exists(assets))
        {
            using var document = JsonDocument.Parse(File.ReadAllText(assets));
            if (document.RootElement.TryGetProperty("packageFolders", out var folders))
            {
                candidates.AddRange(folders.EnumerateObject().Select(f => f.Name));
            }
        }

        if (Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } packages)
        {
            candidates.Add(packages);
        }

        candidates.Add(Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages"));

        var executable = OperatingSystem.IsWindows() ? "bicep.exe" : "bicep";
        foreach (var folder in candidates)
        {
            var path = Path.Combine(folder, BicepPackageId, BicepPackageVersion, "tools", executable);
            if (File.Exists(path))
            {
                return path;
            }
        }

        throw new InvalidOperationException(
            $"bicep {BicepPackageVersion} not found in {string.Join(", ", candidates)}; run `dotnet restore tests/MLOps.Integration.Tests`.");
    }

    private async Task<BicepResult> RunAsync(string bicep, params string[] arguments)
    {
        var start = new ProcessStartInfo(bicep)
        {
            WorkingDirectory = RepositoryRoot,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {bicep}.");
        using var timeout = new CancellationTokenSource(BicepTimeout);
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"bicep {string.Join(' ', arguments)} did not finish in {BicepTimeout}.");
        }

        return new BicepResult(process.ExitCode, await stdout, await stderr);
    }
}

/// <summary>Exit code and output of one bicep CLI run.</summary>
public sealed record BicepResult(int ExitCode, string StandardOutput, string StandardError)
{
    public static BicepResult NotRun { get; } = new(-1, "", "not run");

    /// <summary>Diagnostic lines: "file(line,col) : Error|Warning|Info code: message".</summary>
    public IReadOnlyList<string> Diagnostics =>
        [.. (StandardOutput + "\n" + StandardError)
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(line => line.Contains(") : Error ", StringComparison.Ordinal)
                || line.Contains(") : Warning ", StringComparison.Ordinal)
                || line.Contains(") : Info ", StringComparison.Ordinal))];
}

/// <summary>One resource of the compiled template; <see cref="Module"/> is "main" or the module's deployment name.</summary>
public sealed record TemplateResource(string Module, string Type, string Name, JsonObject Json, JsonObject? ModuleDeployment)
{
    public JsonObject Properties => Json["properties"] as JsonObject ?? [];

    public string? Condition => Json["condition"]?.ToString();
}
