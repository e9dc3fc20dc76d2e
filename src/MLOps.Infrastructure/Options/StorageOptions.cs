using System.ComponentModel.DataAnnotations;

namespace MLOps.Infrastructure.Options;

/// <summary>Where the control plane keeps its blobs and tables. Bound from <see cref="Section"/>.</summary>
/// <remarks>
/// Locally (Azurite) set <see cref="ConnectionString"/>. In Azure leave it empty and set
/// <see cref="BlobServiceUri"/> and <see cref="TableServiceUri"/>: the clients then authenticate with the
/// default Azure credential chain (managed identity in Azure, developer sign-in locally), created by
/// Microsoft.Extensions.Azure from this same section (keys such as <c>clientId</c> pick a user-assigned identity).
/// </remarks>
public sealed class StorageOptions : IValidatableObject
{
    /// <summary>Configuration section: <c>MLOps:Storage</c>.</summary>
    public const string Section = "MLOps:Storage";

    /// <summary>A storage connection string (Azurite or shared key). Takes precedence over the service URIs.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>Blob endpoint, e.g. <c>https://account.blob.core.windows.net</c>, used with managed identity.</summary>
    public Uri? BlobServiceUri { get; set; }

    /// <summary>Table endpoint, e.g. <c>https://account.table.core.windows.net</c>, used with managed identity.</summary>
    public Uri? TableServiceUri { get; set; }

    /// <summary>Queue endpoint (optional), used with managed identity.</summary>
    public Uri? QueueServiceUri { get; set; }

    /// <summary>Prepended to every container and table name (lowercase letters and digits, starting with a
    /// letter, at most 40 characters) so that several deployments or test classes can share one account.</summary>
    [RegularExpression("^([a-z][a-z0-9]{0,39})?$", ErrorMessage = "MLOps:Storage:Prefix must be lowercase letters and digits, start with a letter and be at most 40 characters.")]
    public string Prefix { get; set; } = "";

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (string.IsNullOrWhiteSpace(ConnectionString) && (BlobServiceUri is null || TableServiceUri is null))
        {
            yield return new ValidationResult(
                "Set MLOps:Storage:ConnectionString, or both MLOps:Storage:BlobServiceUri and MLOps:Storage:TableServiceUri.",
                [nameof(ConnectionString), nameof(BlobServiceUri), nameof(TableServiceUri)]);
        }
    }
}
