using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace MLOps.Core.Approval;

/// <summary>What an approval token binds: one run, one version, one approver, until an expiry; the nonce makes it single-use.</summary>
public sealed record ApprovalTokenClaims(string RunId, int Version, string Approver, DateTimeOffset ExpiresAt, string Nonce);

public enum ApprovalTokenFailure { None, Missing, Malformed, BadSignature, Expired, WrongRun, WrongApprover }

/// <summary>The outcome of checking a token. <see cref="Claims"/> is set when the signature held.</summary>
public sealed record ApprovalTokenCheck(ApprovalTokenFailure Failure, string Message, ApprovalTokenClaims? Claims)
{
    public bool Valid => Failure == ApprovalTokenFailure.None;
}

/// <summary>Signed approval tokens: <c>base64url(claims JSON) "." base64url(HMAC-SHA256(key, first part))</c>.
/// Pure apart from the clock (<see cref="TimeProvider"/>) and the nonce generator; single use is the caller's part
/// (record the nonce, refuse it the second time).</summary>
public sealed class ApprovalTokenSigner
{
    /// <summary>Shortest key accepted (bytes): HMAC-SHA256's block of security.</summary>
    public const int MinKeyBytes = 32;

    private static readonly JsonSerializerOptions ClaimsJson = new(JsonSerializerDefaults.Web);
    private readonly byte[] _key;
    private readonly TimeProvider _time;

    public ApprovalTokenSigner(byte[] key, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(time);
        if (key.Length < MinKeyBytes)
        {
            throw new ArgumentException($"the approval signing key must be at least {MinKeyBytes} bytes; got {key.Length}", nameof(key));
        }

        _key = [.. key];
        _time = time;
    }

    /// <summary>A new random key, base64 (what <c>MLOps:Approval:SigningKey</c> holds).</summary>
    public static string GenerateKey() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(MinKeyBytes));

    /// <summary>Reads a base64 key; throws <see cref="FormatException"/> with a readable message otherwise.</summary>
    public static byte[] ParseKey(string base64)
    {
        try
        {
            return Convert.FromBase64String(base64);
        }
        catch (FormatException ex)
        {
            throw new FormatException("the approval signing key (MLOps:Approval:SigningKey) is not base64", ex);
        }
    }

    public string Issue(string runId, int version, string approver, DateTimeOffset expiresAt, string? nonce = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(runId);
        ArgumentException.ThrowIfNullOrWhiteSpace(approver);
        var claims = new ApprovalTokenClaims(runId, version, approver, expiresAt, nonce ?? Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)));
        var payload = Base64Url.EncodeToString(JsonSerializer.SerializeToUtf8Bytes(claims, ClaimsJson));
        return payload + "." + Base64Url.EncodeToString(Sign(payload));
    }

    /// <summary>Checks signature, expiry and binding to <paramref name="runId"/> (and <paramref name="version"/> when
    /// given) and to the caller <paramref name="approver"/> (case-insensitive, as approver names are elsewhere).</summary>
    public ApprovalTokenCheck Verify(string? token, string runId, string approver, int? version = null)
    {
        if (string.IsNullOrWhiteSpace(token))
        {
            return new(ApprovalTokenFailure.Missing, "this run needs a signed approval token (query 'token', header 'X-MLOps-Approval-Token' or body 'token')", null);
        }

        var dot = token.IndexOf('.', StringComparison.Ordinal);
        if (dot <= 0 || dot == token.Length - 1 || token.IndexOf('.', dot + 1) >= 0)
        {
            return new(ApprovalTokenFailure.Malformed, "the approval token is malformed", null);
        }

        var payload = token[..dot];
        byte[] signature;
        ApprovalTokenClaims? claims;
        try
        {
            signature = Base64Url.DecodeFromChars(token.AsSpan(dot + 1));
            if (!CryptographicOperations.FixedTimeEquals(signature, Sign(payload)))
            {
                return new(ApprovalTokenFailure.BadSignature, "the approval token's signature does not match", null);
            }

            claims = JsonSerializer.Deserialize<ApprovalTokenClaims>(Base64Url.DecodeFromChars(payload), ClaimsJson);
        }
        catch (Exception ex) when (ex is FormatException or JsonException)
        {
            return new(ApprovalTokenFailure.Malformed, "the approval token is malformed", null);
        }

        if (claims is null || string.IsNullOrEmpty(claims.Nonce) || string.IsNullOrEmpty(claims.RunId) || string.IsNullOrEmpty(claims.Approver))
        {
            return new(ApprovalTokenFailure.Malformed, "the approval token is malformed", null);
        }

        if (_time.GetUtcNow() >= claims.ExpiresAt)
        {
            return new(ApprovalTokenFailure.Expired, $"the approval token expired at {claims.ExpiresAt:u}", claims);
        }

        if (!string.Equals(claims.RunId, runId, StringComparison.Ordinal) || (version is { } v && v != claims.Version))
        {
            return new(ApprovalTokenFailure.WrongRun, "the approval token was issued for another run", claims);
        }

        if (!string.Equals(claims.Approver, approver, StringComparison.OrdinalIgnoreCase))
        {
            return new(ApprovalTokenFailure.WrongApprover, $"the approval token was issued to another approver, not '{approver}'", claims);
        }

        return new(ApprovalTokenFailure.None, "valid", claims);
    }

    private byte[] Sign(string payload) => HMACSHA256.HashData(_key, Encoding.ASCII.GetBytes(payload));
}
