using System.Text.Json.Nodes;
using MLOps.Functions.Triggers;
using YamlDotNet.RepresentationModel;

namespace MLOps.Integration.Tests.Infra;

/// <summary>The azd template compiles and lints offline, and the compiled ARM template keeps the promises
/// the app depends on: identity-only storage, the Event Grid-fed blob trigger, the app settings it reads.</summary>
public sealed class BicepTests(BicepFixture bicep) : IClassFixture<BicepFixture>
{
    private const string IdentityPrincipal = "[parameters('identityPrincipalId')]";
    private const string UserPrincipal = "[parameters('userPrincipalId')]";

    [Fact]
    public void Build_MainBicep_SucceedsWithoutDiagnostics()
    {
        Assert.True(bicep.Build.ExitCode == 0, $"bicep build failed:\n{bicep.Build.StandardError}");
        Assert.Empty(bicep.Build.Diagnostics);
        Assert.Equal("subscriptionDeploymentTemplate.json#", bicep.Template["$schema"]?.ToString().Split('/')[^1]);
    }

    [Fact]
    public void Lint_MainBicep_PassesWithoutDiagnostics()
    {
        Assert.True(bicep.Lint.ExitCode == 0, $"bicep lint failed:\n{bicep.Lint.StandardOutput}{bicep.Lint.StandardError}");
        Assert.Empty(bicep.Lint.Diagnostics);
    }

    [Fact]
    public void Storage_DisablesSharedKeysAndAnonymousAccess()
    {
        var storage = Assert.Single(bicep.ResourcesOfType("Microsoft.Storage/storageAccounts"), r => r.Module == "storage");
        Assert.Equal("StorageV2", storage.Json["kind"]?.ToString());
        Assert.False(storage.Properties["allowSharedKeyAccess"]?.GetValue<bool>());
        Assert.False(storage.Properties["allowBlobPublicAccess"]?.GetValue<bool>());
        Assert.Equal("TLS1_2", storage.Properties["minimumTlsVersion"]?.ToString());
    }

    [Fact]
    public void Storage_KeepsVersionsAndSoftDeletedBlobsAndContainers()
    {
        var blobService = Assert.Single(bicep.ResourcesOfType("Microsoft.Storage/storageAccounts/blobServices"));
        Assert.True(blobService.Properties["isVersioningEnabled"]?.GetValue<bool>());
        Assert.True(blobService.Properties["deleteRetentionPolicy"]?["enabled"]?.GetValue<bool>());
        Assert.True(blobService.Properties["containerDeleteRetentionPolicy"]?["enabled"]?.GetValue<bool>());
    }

    [Fact]
    public void Storage_CreatesTheLifecycleContainersAndTables()
    {
        var storageModule = bicep.Module("storage")["properties"]!["template"]!.ToJsonString();
        foreach (var container in new[] { "datasets", "lineage", "quarantine", "artifacts", "inference", "workflows" })
        {
            Assert.Contains($"\"{container}\"", storageModule, StringComparison.Ordinal);
        }

        foreach (var table in new[] { "registry", "monitoring", "audit", "workflows", "budgets" })
        {
            Assert.Contains($"\"{table}\"", storageModule, StringComparison.Ordinal);
        }

        Assert.Single(bicep.ResourcesOfType("Microsoft.Storage/storageAccounts/blobServices/containers"));
        Assert.Single(bicep.ResourcesOfType("Microsoft.Storage/storageAccounts/tableServices/tables"));
    }

    [Fact]
    public void Storage_MovesInferenceDataToCoolAfterThirtyDays()
    {
        var policy = Assert.Single(bicep.ResourcesOfType("Microsoft.Storage/storageAccounts/managementPolicies"));
        var rule = Assert.Single(policy.Properties["policy"]!["rules"]!.AsArray())!;
        Assert.Equal("inference/", Assert.Single(rule["definition"]!["filters"]!["prefixMatch"]!.AsArray())!.ToString());
        var coolAfter = rule["definition"]!["actions"]!["baseBlob"]!["tierToCool"]!["daysAfterModificationGreaterThan"]!.ToString();
        Assert.Equal("[parameters('inferenceCoolAfterDays')]", coolAfter);
        Assert.Equal(30, bicep.Module("storage")["properties"]!["template"]!["parameters"]!["inferenceCoolAfterDays"]!["defaultValue"]!.GetValue<int>());
    }

    [Fact]
    public void FunctionApp_RunsOnFlexConsumptionAsUserAssignedIdentity()
    {
        var plan = Assert.Single(bicep.ResourcesOfType("Microsoft.Web/serverfarms"));
        Assert.Equal("FC1", plan.Json["sku"]?["name"]?.ToString());

        var app = Assert.Single(bicep.ResourcesOfType("Microsoft.Web/sites"), r => r.Module == "function-app");
        Assert.Equal("UserAssigned", app.Json["identity"]?["type"]?.ToString());
        Assert.Single(app.Json["identity"]!["userAssignedIdentities"]!.AsObject());
        var config = app.Properties["functionAppConfig"]!;
        Assert.Equal("dotnet-isolated", config["runtime"]!["name"]!.ToString());
        Assert.Equal("UserAssignedIdentity", config["deployment"]!["storage"]!["authentication"]!["type"]!.ToString());

        // azd finds the app of service "api" by its azd-service-name tag.
        Assert.Contains("'azd-service-name', parameters('serviceName')", app.Json["tags"]!.ToString(), StringComparison.Ordinal);
        var module = app.ModuleDeployment!["properties"]!;
        Assert.Equal("api", module["template"]!["parameters"]!["serviceName"]!["defaultValue"]!.ToString());
        Assert.Null(module["parameters"]!["serviceName"]);
    }

    [Fact]
    public void AppSettings_AreIdentityBasedWithoutAccountKeys()
    {
        var settings = AppSettings();
        Assert.DoesNotContain(settings, s => s.Value.Contains("AccountKey", StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain(settings, s => s.Value.Contains("listKeys", StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain("AzureWebJobsStorage", settings.Keys);
        Assert.DoesNotContain("MLOpsStorage", settings.Keys);
        Assert.DoesNotContain(bicep.Build.StandardOutput, "AccountKey", StringComparison.OrdinalIgnoreCase);

        foreach (var connection in new[] { "AzureWebJobsStorage", "MLOpsStorage" })
        {
            Assert.Equal("managedidentity", settings[$"{connection}__credential"]);
            Assert.Equal("[parameters('identityClientId')]", settings[$"{connection}__clientId"]);
            foreach (var service in new[] { "blob", "queue", "table" })
            {
                Assert.Contains($"primaryEndpoints.{service}", settings[$"{connection}__{service}ServiceUri"], StringComparison.Ordinal);
            }
        }
    }

    [Theory]
    [InlineData("MLOpsTaskHub")]
    [InlineData("MLOps__EventGrid__TopicEndpoint")]
    [InlineData("MLOps__Storage__BlobServiceUri")]
    [InlineData("MLOps__Storage__TableServiceUri")]
    [InlineData("MLOps__Storage__QueueServiceUri")]
    [InlineData("AZURE_CLIENT_ID")]
    [InlineData("APPLICATIONINSIGHTS_AUTHENTICATION_STRING")]
    public void AppSettings_ContainWhatTheAppReads(string name) =>
        Assert.False(string.IsNullOrWhiteSpace(AppSettings().GetValueOrDefault(name)), $"app setting {name} is missing");

    [Fact]
    public void AppSettings_TaskHubMatchesHostJson()
    {
        var hostJson = JsonNode.Parse(File.ReadAllText(Path.Combine(bicep.RepositoryRoot, "host.json")))!;
        Assert.Equal("%MLOpsTaskHub%", hostJson["extensions"]!["durableTask"]!["hubName"]!.ToString());
        Assert.Equal("MLOpsStorage", hostJson["extensions"]!["durableTask"]!["storageProvider"]!["connectionName"]!.ToString());
    }

    [Fact]
    public void EventSubscription_DeliversBlobCreatedOnDatasetsToTheBlobExtensionWebhook()
    {
        var subscription = Assert.Single(bicep.ResourcesOfType("Microsoft.EventGrid/systemTopics/eventSubscriptions"));
        var filter = subscription.Properties["filter"]!;
        Assert.Equal("Microsoft.Storage.BlobCreated", Assert.Single(filter["includedEventTypes"]!.AsArray())!.ToString());
        Assert.Equal("/blobServices/default/containers/datasets/", filter["subjectBeginsWith"]!.ToString());

        var destination = subscription.Properties["destination"]!;
        Assert.Equal("WebHook", destination["endpointType"]!.ToString());
        var endpoint = destination["properties"]!["endpointUrl"]!.ToString();
        Assert.Contains($"/runtime/webhooks/blobs?functionName=Host.Functions.{nameof(DatasetUploadTrigger)}&code=", endpoint, StringComparison.Ordinal);
        Assert.Contains("systemKeys.blobs_extension", endpoint, StringComparison.Ordinal);

        // Added once the code (and so the system key) exists: the postdeploy hook turns the flag on.
        Assert.Equal("[parameters('blobEventsEnabled')]", subscription.ModuleDeployment!["condition"]!.ToString());
    }

    [Fact]
    public void SystemTopic_ListensToTheStorageAccount()
    {
        var topic = Assert.Single(bicep.ResourcesOfType("Microsoft.EventGrid/systemTopics"));
        Assert.Equal("Microsoft.Storage.StorageAccounts", topic.Properties["topicType"]!.ToString());
    }

    [Fact]
    public void LifecycleTopic_AcceptsCloudEventsFromEntraIdOnly()
    {
        var topic = Assert.Single(bicep.ResourcesOfType("Microsoft.EventGrid/topics"), r => r.Json["existing"] is null);
        Assert.Equal("CloudEventSchemaV1_0", topic.Properties["inputSchema"]!.ToString());
        Assert.True(topic.Properties["disableLocalAuth"]!.GetValue<bool>());
    }

    [Fact]
    public void RoleAssignments_GoToTheAppIdentityOrTheOptionalDeployingUser()
    {
        var assignments = bicep.ResourcesOfType("Microsoft.Authorization/roleAssignments");
        Assert.NotEmpty(assignments);
        foreach (var assignment in assignments)
        {
            var principal = assignment.Properties["principalId"]!.ToString();
            Assert.True(principal is IdentityPrincipal or UserPrincipal, $"role assignment {assignment.Name} goes to {principal}");
            if (principal == UserPrincipal)
            {
                Assert.Contains("not(empty(parameters('userPrincipalId')))", assignment.Condition ?? "", StringComparison.Ordinal);
            }
            else
            {
                Assert.Equal("ServicePrincipal", assignment.Properties["principalType"]!.ToString());
            }
        }

        // Every module that assigns roles receives the principal id of the identity module's identity.
        foreach (var module in assignments.Select(a => a.ModuleDeployment!).Distinct())
        {
            var identity = module["properties"]!["parameters"]!["identityPrincipalId"]!["value"]!.ToString();
            Assert.Contains("'Microsoft.Resources/deployments', 'identity')", identity, StringComparison.Ordinal);
            Assert.EndsWith(".outputs.principalId.value]", identity, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("b7e6dc6d-f1e8-4753-8033-0f276bb0955b")] // Storage Blob Data Owner
    [InlineData("974c5e8b-45b9-4653-ba55-5f855dd0fb88")] // Storage Queue Data Contributor
    [InlineData("0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3")] // Storage Table Data Contributor
    [InlineData("d5a91429-5739-47e2-a06b-3470a27159e7")] // EventGrid Data Sender
    [InlineData("3913510d-42f4-4e42-8a64-420c390055eb")] // Monitoring Metrics Publisher
    public void RoleAssignments_GrantTheAppIdentityItsDataRoles(string roleDefinitionId)
    {
        var rbac = bicep.Module("rbac")["properties"]!["template"]!;
        Assert.Contains(roleDefinitionId, rbac["variables"]!.ToJsonString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("AZURE_FUNCTION_APP_NAME")]
    [InlineData("MLOPS_API_URL")]
    [InlineData("AZURE_STORAGE_ACCOUNT_NAME")]
    [InlineData("MLOPS_EVENTGRID_TOPIC_ENDPOINT")]
    [InlineData("AZURE_RESOURCE_GROUP")]
    public void Outputs_NameWhatAzdAndTheCliNeed(string output) =>
        Assert.NotNull(bicep.Template["outputs"]?[output]);

    [Fact]
    public void Parameters_MapTheAzdEnvironment()
    {
        var parameters = JsonNode.Parse(File.ReadAllText(Path.Combine(bicep.RepositoryRoot, "infra", "main.parameters.json")))!["parameters"]!.AsObject();
        Assert.Equal("${AZURE_ENV_NAME}", parameters["environmentName"]!["value"]!.ToString());
        Assert.Equal("${AZURE_LOCATION}", parameters["location"]!["value"]!.ToString());
        Assert.Equal("${AZURE_PRINCIPAL_ID}", parameters["principalId"]!["value"]!.ToString());
        var declared = bicep.Template["parameters"]!.AsObject();
        Assert.All(parameters, p => Assert.True(declared.ContainsKey(p.Key), $"{p.Key} is not a parameter of main.bicep"));
    }

    [Fact]
    public void AzureYaml_DeclaresTheApiFunctionService()
    {
        var yaml = new YamlStream();
        using (var reader = new StreamReader(Path.Combine(bicep.RepositoryRoot, "azure.yaml")))
        {
            yaml.Load(reader);
        }

        var root = (YamlMappingNode)yaml.Documents[0].RootNode;
        Assert.Equal("mlops-functions", Scalar(root, "name"));
        var infra = (YamlMappingNode)root["infra"];
        Assert.Equal("bicep", Scalar(infra, "provider"));
        Assert.Equal("infra", Scalar(infra, "path"));

        var services = (YamlMappingNode)root["services"];
        var api = (YamlMappingNode)Assert.Single(services.Children, s => Scalar(s.Key) == "api").Value;
        Assert.Equal("./src/MLOps.Functions", Scalar(api, "project"));
        Assert.Equal("dotnet", Scalar(api, "language"));
        Assert.Equal("function", Scalar(api, "host"));
        Assert.True(File.Exists(Path.Combine(bicep.RepositoryRoot, "src", "MLOps.Functions", "MLOps.Functions.csproj")));
    }

    private Dictionary<string, string> AppSettings()
    {
        var config = Assert.Single(bicep.ResourcesOfType("Microsoft.Web/sites/config"), r => r.Name.EndsWith("'appsettings')]", StringComparison.Ordinal));
        return config.Properties.ToDictionary(p => p.Key, p => p.Value?.ToString() ?? "", StringComparer.Ordinal);
    }

    private static string Scalar(YamlMappingNode node, string key) => Scalar(node[key]);

    private static string Scalar(YamlNode node) => ((YamlScalarNode)node).Value ?? "";
}
