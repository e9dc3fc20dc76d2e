// The Functions app on a Flex Consumption (FC1) plan, running as the user-assigned identity.
// Every storage connection is identity-based (`__serviceUri` + `__credential`): no keys, no connection strings.

@description('Name of the function app (also its default host name).')
param name string

@description('Name of the Flex Consumption plan.')
param planName string

@description('Region of the plan and the app.')
param location string

@description('Tags for every resource; the app also gets azd-service-name.')
param tags object

@description('azd service name in azure.yaml this app deploys.')
param serviceName string = 'api'

@description('Resource id of the user-assigned managed identity.')
param identityId string

@description('Client id of the user-assigned managed identity.')
param identityClientId string

@description('Name of the storage account.')
param storageAccountName string

@description('Container the plan deploys the app package from.')
param deploymentContainerName string

@description('Name of the Application Insights component.')
param applicationInsightsName string

@description('Endpoint of the custom Event Grid topic for lifecycle CloudEvents.')
param lifecycleTopicEndpoint string

@description('Durable Functions task hub name (letters and digits, 3-45 characters).')
@minLength(3)
@maxLength(45)
param taskHubName string

@description('Flex Consumption runtime version for dotnet-isolated. .NET 10 is expected as \'10.0\'; check `az functionapp list-flexconsumption-runtimes` in your region.')
param runtimeVersion string = '10.0'

@description('Memory per instance in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Upper bound on scale-out.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 40

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

var blobEndpoint = storage.properties.primaryEndpoints.blob
var queueEndpoint = storage.properties.primaryEndpoints.queue
var tableEndpoint = storage.properties.primaryEndpoints.table

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': serviceName })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${blobEndpoint}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
      }
      runtime: {
        name: 'dotnet-isolated'
        version: runtimeVersion
      }
    }
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
    }
  }
}

// Identity-based connections: `<name>__*ServiceUri` + `__credential` + `__clientId`, never a key.
resource settings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: functionApp
  name: 'appsettings'
  properties: {
    // Host storage (Flex Consumption runtime, timers, keys).
    AzureWebJobsStorage__blobServiceUri: blobEndpoint
    AzureWebJobsStorage__queueServiceUri: queueEndpoint
    AzureWebJobsStorage__tableServiceUri: tableEndpoint
    AzureWebJobsStorage__credential: 'managedidentity'
    AzureWebJobsStorage__clientId: identityClientId
    // Connection "MLOpsStorage": the Event Grid-based blob trigger and the Durable Task storage provider (host.json).
    MLOpsStorage__blobServiceUri: blobEndpoint
    MLOpsStorage__queueServiceUri: queueEndpoint
    MLOpsStorage__tableServiceUri: tableEndpoint
    MLOpsStorage__credential: 'managedidentity'
    MLOpsStorage__clientId: identityClientId
    MLOpsTaskHub: taskHubName
    // The app's own clients; DefaultAzureCredential picks the user-assigned identity from AZURE_CLIENT_ID.
    AZURE_CLIENT_ID: identityClientId
    MLOps__Storage__BlobServiceUri: blobEndpoint
    MLOps__Storage__QueueServiceUri: queueEndpoint
    MLOps__Storage__TableServiceUri: tableEndpoint
    MLOps__EventGrid__TopicEndpoint: lifecycleTopicEndpoint
    // Telemetry with Entra ID (the component has local auth disabled).
    APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsights.properties.ConnectionString
    APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
  }
}

// No publishing passwords: azd deploys with Entra ID.
resource ftpPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: functionApp
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: functionApp
  name: 'scm'
  properties: {
    allow: false
  }
}

output name string = functionApp.name
output defaultHostName string = functionApp.properties.defaultHostName
