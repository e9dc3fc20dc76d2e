// The Event Grid subscription that feeds the Event Grid-based blob trigger (DatasetUploadTrigger):
// BlobCreated under datasets/ is pushed to the blob extension's webhook on the function app.
// The webhook needs the host's `blobs_extension` system key, which exists only after the code is
// deployed, so main.bicep includes this module only when blobEventsEnabled is true (set by the
// postdeploy hook in infra/hooks after it deploys this module once).

@description('Name of the storage account\'s Event Grid system topic.')
param systemTopicName string

@description('Name of the function app hosting the blob trigger.')
param functionAppName string

@description('Name of the storage account (dead-letter destination).')
param storageAccountName string

@description('Name of the user-assigned identity attached to the system topic, used to dead-letter.')
param identityName string

@description('Container for events Event Grid could not deliver.')
param deadLetterContainerName string = 'events-deadletter'

resource systemTopic 'Microsoft.EventGrid/systemTopics@2025-02-15' existing = {
  name: systemTopicName
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' existing = {
  name: functionAppName
}

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' existing = {
  name: identityName
}

// The webhook of the Event Grid-based blob trigger: functionName is Host.Functions.<[Function] name>, the
// trigger's path is "datasets/{name}" (src/MLOps.Functions/Triggers/DatasetUploadTrigger.cs).
var blobsExtensionKey = listKeys('${functionApp.id}/host/default', '2022-03-01').systemKeys.blobs_extension

resource datasetUploads 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2025-02-15' = {
  parent: systemTopic
  name: 'datasets-uploads'
  properties: {
    destination: {
      endpointType: 'WebHook'
      properties: {
        endpointUrl: 'https://${functionApp.properties.defaultHostName}/runtime/webhooks/blobs?functionName=Host.Functions.DatasetUploadTrigger&code=${blobsExtensionKey}'
        maxEventsPerBatch: 1
        preferredBatchSizeInKilobytes: 64
      }
    }
    eventDeliverySchema: 'EventGridSchema'
    filter: {
      includedEventTypes: [
        'Microsoft.Storage.BlobCreated'
      ]
      subjectBeginsWith: '/blobServices/default/containers/datasets/'
    }
    retryPolicy: {
      maxDeliveryAttempts: 30
      eventTimeToLiveInMinutes: 1440
    }
    deadLetterWithResourceIdentity: {
      identity: {
        type: 'UserAssigned'
        userAssignedIdentity: identity.id
      }
      deadLetterDestination: {
        endpointType: 'StorageBlob'
        properties: {
          resourceId: storage.id
          blobContainerName: deadLetterContainerName
        }
      }
    }
  }
}

output subscriptionName string = datasetUploads.name
