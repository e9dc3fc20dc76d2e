// MLOps.Functions on Azure: one resource group with the storage account, identity, monitoring,
// Flex Consumption function app, Event Grid topics and role assignments. Deployed by `azd up`.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('azd environment name; names the resource group and seeds the unique resource token.')
param environmentName string

@minLength(1)
@description('Region for every resource.')
@metadata({
  azd: {
    type: 'location'
  }
})
param location string

@description('Object id of the deploying user: gets blob/queue/table data roles so the mlops CLI works against Azure. Empty grants nothing.')
param principalId string = ''

@description('Durable Functions task hub name.')
@minLength(3)
@maxLength(45)
param taskHubName string = 'mlopshub'

@description('Flex Consumption runtime version for dotnet-isolated (.NET 10).')
param functionsRuntimeVersion string = '10.0'

@description('Deploy the Event Grid subscription for dataset uploads. Needs the deployed app\'s blobs_extension key: the postdeploy hook sets it after the first deploy.')
param blobEventsEnabled bool = false

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
}
var names = {
  resourceGroup: 'rg-${environmentName}'
  identity: 'id-mlops-${resourceToken}'
  storage: 'st${resourceToken}'
  logAnalytics: 'log-${resourceToken}'
  applicationInsights: 'appi-${resourceToken}'
  plan: 'plan-${resourceToken}'
  functionApp: 'func-mlops-${resourceToken}'
  systemTopic: 'evgt-storage-${resourceToken}'
  lifecycleTopic: 'evgt-lifecycle-${resourceToken}'
  deploymentContainer: 'app-package-${resourceToken}'
}

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: names.resourceGroup
  location: location
  tags: tags
}

module identity 'app/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: names.identity
    location: location
    tags: tags
  }
}

module storage 'app/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: names.storage
    location: location
    tags: tags
    deploymentContainerName: names.deploymentContainer
  }
}

module monitoring 'app/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    logAnalyticsName: names.logAnalytics
    applicationInsightsName: names.applicationInsights
    location: location
    tags: tags
  }
}

module eventGrid 'app/eventgrid.bicep' = {
  name: 'eventgrid'
  scope: rg
  params: {
    systemTopicName: names.systemTopic
    lifecycleTopicName: names.lifecycleTopic
    location: location
    tags: tags
    storageAccountName: storage.outputs.name
    identityId: identity.outputs.id
  }
}

module rbac 'app/rbac.bicep' = {
  name: 'rbac'
  scope: rg
  params: {
    storageAccountName: storage.outputs.name
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    lifecycleTopicName: eventGrid.outputs.lifecycleTopicName
    identityPrincipalId: identity.outputs.principalId
    userPrincipalId: principalId
  }
}

module functionApp 'app/function-app.bicep' = {
  name: 'function-app'
  scope: rg
  params: {
    name: names.functionApp
    planName: names.plan
    location: location
    tags: tags
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    storageAccountName: storage.outputs.name
    deploymentContainerName: names.deploymentContainer
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    lifecycleTopicEndpoint: eventGrid.outputs.lifecycleTopicEndpoint
    taskHubName: taskHubName
    runtimeVersion: functionsRuntimeVersion
  }
  // The app starts with identity-based connections: its roles must exist first.
  dependsOn: [
    rbac
  ]
}

module blobEvents 'app/blob-events.bicep' = if (blobEventsEnabled) {
  name: 'blob-events'
  scope: rg
  params: {
    systemTopicName: eventGrid.outputs.systemTopicName
    functionAppName: functionApp.outputs.name
    storageAccountName: storage.outputs.name
    identityName: identity.outputs.name
    deadLetterContainerName: storage.outputs.deadLetterContainerName
  }
}

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name
output MLOPS_API_URL string = 'https://${functionApp.outputs.defaultHostName}/api'
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output MLOPS_STORAGE_BLOB_ENDPOINT string = storage.outputs.blobEndpoint
output MLOPS_EVENTGRID_TOPIC_ENDPOINT string = eventGrid.outputs.lifecycleTopicEndpoint
output MLOPS_STORAGE_SYSTEM_TOPIC_NAME string = eventGrid.outputs.systemTopicName
output MLOPS_IDENTITY_NAME string = identity.outputs.name
