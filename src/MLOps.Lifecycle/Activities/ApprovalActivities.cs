using Microsoft.Extensions.Options;
using MLOps.Core.Approval;
using MLOps.Lifecycle.Contracts;

namespace MLOps.Lifecycle.Activities;

/// <summary>Settings of human approvals (<c>MLOps:Approval</c>).</summary>
public sealed class ApprovalOptions
{
    public const string Section = "MLOps:Approval";

    /// <summary>Base64 HMAC key (at least 32 bytes) that signs approval tokens. In Azure an app setting (a Key Vault
    /// reference); the local host generates one per data directory.</summary>
    public string? SigningKey { get; set; }

    /// <summary>Prefix of approval links (the API's base, e.g. <c>https://app.example.net/api</c>).</summary>
    public string LinkBase { get; set; } = "/api";

    /// <summary>The signer over the configured key; throws a readable error when no key is configured.</summary>
    public ApprovalTokenSigner CreateSigner(TimeProvider time) =>
        new(ApprovalTokenSigner.ParseKey(string.IsNullOrWhiteSpace(SigningKey)
            ? throw new InvalidOperationException($"{Section}:SigningKey is not configured; approval tokens cannot be issued or checked")
            : SigningKey), time);
}

/// <summary>Issues one signed, expiring approval link per approver (bound to the run, the version and the approver).</summary>
public sealed class IssueApprovalTokensActivity(IOptions<ApprovalOptions> options, TimeProvider time)
{
    public Task<IReadOnlyList<ApprovalLink>> RunAsync(IssueApprovalTokensInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var settings = options.Value;
        var signer = settings.CreateSigner(time);
        var expires = new DateTimeOffset(DateTime.SpecifyKind(input.ExpiresAt, DateTimeKind.Utc));
        IReadOnlyList<ApprovalLink> links = [.. input.Approvers.Select(approver =>
        {
            var token = signer.Issue(input.RunId, input.Version, approver, expires);
            var url = $"{settings.LinkBase.TrimEnd('/')}/runs/{Uri.EscapeDataString(input.RunId)}/approve?token={Uri.EscapeDataString(token)}";
            return new ApprovalLink(approver, url, input.ExpiresAt);
        })];
        return Task.FromResult(links);
    }
}
