#!/bin/sh
# azd postdeploy hook: subscribe the blob trigger to dataset uploads once the code is deployed.
# The Event Grid subscription's webhook carries the host's blobs_extension system key, which exists only
# after the first deploy; Event Grid also validates the webhook, which only the running app answers.
# After this runs once, MLOPS_BLOB_EVENTS_ENABLED=true keeps the subscription in every later `azd provision`.
set -eu

if [ "${MLOPS_BLOB_EVENTS_ENABLED:-false}" = "true" ]; then
  echo "Dataset upload subscription is managed by azd provision (MLOPS_BLOB_EVENTS_ENABLED=true)."
  exit 0
fi

if ! command -v az >/dev/null 2>&1; then
  echo "The Azure CLI (az) is required to create the dataset upload subscription." >&2
  exit 1
fi

az deployment group create \
  --name blob-events \
  --resource-group "$AZURE_RESOURCE_GROUP" \
  --template-file ./infra/app/blob-events.bicep \
  --parameters \
    systemTopicName="$MLOPS_STORAGE_SYSTEM_TOPIC_NAME" \
    functionAppName="$AZURE_FUNCTION_APP_NAME" \
    storageAccountName="$AZURE_STORAGE_ACCOUNT_NAME" \
    identityName="$MLOPS_IDENTITY_NAME" \
  --output none

azd env set MLOPS_BLOB_EVENTS_ENABLED true
echo "Dataset uploads to datasets/ now start lifecycle runs."
