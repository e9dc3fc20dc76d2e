// Event Grid: the storage account's system topic (source of the dataset-upload events the blob trigger
// receives; the subscription itself is in blob-events.bicep) and the custom topic the app publishes
// lifecycle CloudEvents to. Both accept Entra ID only.

@description('Name of the system topic on the storage account.')
param systemTopicName string

@description('Name of the custom topic for lifecycle events.')
param lifecycleTopicName string

@description('Region of both topics.')
param location string

@description('Tags for every resource.')
param tags object

@description('Name of the storage account the system topic listens to.')
param storageAccountName string

@description('Resource id of the user-assigned identity Event Grid uses to dead-letter undeliverable events.')
param identityId string

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource systemTopic 'Microsoft.EventGrid/systemTopics@2025-02-15' = {
  name: systemTopicName
  location: location
  tags: tags
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    source: storage.id
    topicType: 'Microsoft.Storage.StorageAccounts'
  }
}

resource lifecycleTopic 'Microsoft.EventGrid/topics@2025-02-15' = {
  name: lifecycleTopicName
  location: location
  tags: tags
  properties: {
    inputSchema: 'CloudEventSchemaV1_0'
    disableLocalAuth: true
    publicNetworkAccess: 'Enabled'
  }
}

output systemTopicName string = systemTopic.name
output lifecycleTopicName string = lifecycleTopic.name
output lifecycleTopicEndpoint string = lifecycleTopic.properties.endpoint
