// The storage account behind everything: lifecycle data (blobs), registry/monitoring/audit (tables),
// the Durable task hub (queues, tables, blobs) and the Flex Consumption deployment package.
// Entra ID only: shared keys and anonymous blob access are off.

@description('Name of the storage account (3-24 lowercase letters and digits).')
@minLength(3)
@maxLength(24)
param name string

@description('Region of the account.')
param location string

@description('Tags for every resource.')
param tags object

@description('Container the Flex Consumption plan deploys the app package to.')
param deploymentContainerName string

@description('Days deleted blobs and containers stay recoverable.')
@minValue(1)
@maxValue(365)
param softDeleteRetentionDays int = 7

@description('Days after which captured inference data moves to the cool tier.')
@minValue(1)
param inferenceCoolAfterDays int = 30

// Blob containers the lifecycle reads and writes; datasets/ is the upload drop that fires the blob trigger.
var dataContainers = [
  'datasets'
  'lineage'
  'quarantine'
  'artifacts'
  'inference'
  'workflows'
]

// Event Grid dead-letters undeliverable dataset-upload events here.
var deadLetterContainerName = 'events-deadletter'

var tableNames = [
  'registry'
  'monitoring'
  'audit'
  'workflows'
  'budgets'
]

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    accessTier: 'Hot'
    allowSharedKeyAccess: false
    allowBlobPublicAccess: false
    allowCrossTenantReplication: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storage
  name: 'default'
  properties: {
    // Every overwrite keeps the previous version: a dataset or model artifact is recoverable by version id.
    isVersioningEnabled: true
    deleteRetentionPolicy: {
      enabled: true
      days: softDeleteRetentionDays
    }
    containerDeleteRetentionPolicy: {
      enabled: true
      days: softDeleteRetentionDays
    }
  }
}

resource containers 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = [
  for container in concat(dataContainers, [deploymentContainerName, deadLetterContainerName]): {
    parent: blobService
    name: container
    properties: {
      publicAccess: 'None'
    }
  }
]

resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource tables 'Microsoft.Storage/storageAccounts/tableServices/tables@2023-05-01' = [
  for table in tableNames: {
    parent: tableService
    name: table
  }
]

// Captured inference rows are read for drift audits in the first weeks, then rarely: cool tier after 30 days.
resource lifecycle 'Microsoft.Storage/storageAccounts/managementPolicies@2023-05-01' = {
  parent: storage
  name: 'default'
  properties: {
    policy: {
      rules: [
        {
          name: 'inference-to-cool'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: {
              blobTypes: [
                'blockBlob'
              ]
              prefixMatch: [
                'inference/'
              ]
            }
            actions: {
              baseBlob: {
                tierToCool: {
                  daysAfterModificationGreaterThan: inferenceCoolAfterDays
                }
              }
              version: {
                tierToCool: {
                  daysAfterCreationGreaterThan: inferenceCoolAfterDays
                }
              }
            }
          }
        }
      ]
    }
  }
  dependsOn: [
    blobService
  ]
}

output id string = storage.id
output name string = storage.name
output blobEndpoint string = storage.properties.primaryEndpoints.blob
output queueEndpoint string = storage.properties.primaryEndpoints.queue
output tableEndpoint string = storage.properties.primaryEndpoints.table
output deadLetterContainerName string = deadLetterContainerName
