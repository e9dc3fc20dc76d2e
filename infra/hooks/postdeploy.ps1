# azd postdeploy hook: subscribe the blob trigger to dataset uploads once the code is deployed.
# See postdeploy.sh for why this cannot happen during the first provision.
$ErrorActionPreference = 'Stop'

if ($env:MLOPS_BLOB_EVENTS_ENABLED -eq 'true') {
  Write-Host 'Dataset upload subscription is managed by azd provision (MLOPS_BLOB_EVENTS_ENABLED=true).'
  exit 0
}

if (-not (Get-Command az -ErrorAction SilentlyContinue)) {
  Write-Error 'The Azure CLI (az) is required to create the dataset upload subscription.'
}

az deployment group create `
  --name blob-events `
  --resource-group $env:AZURE_RESOURCE_GROUP `
  --template-file ./infra/app/blob-events.bicep `
  --parameters `
    systemTopicName=$env:MLOPS_STORAGE_SYSTEM_TOPIC_NAME `
    functionAppName=$env:AZURE_FUNCTION_APP_NAME `
    storageAccountName=$env:AZURE_STORAGE_ACCOUNT_NAME `
    identityName=$env:MLOPS_IDENTITY_NAME `
  --output none
if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }

azd env set MLOPS_BLOB_EVENTS_ENABLED true
Write-Host 'Dataset uploads to datasets/ now start lifecycle runs.'
