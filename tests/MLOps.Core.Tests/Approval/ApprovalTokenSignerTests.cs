using MLOps.Core.Approval;

namespace MLOps.Core.Tests.Approval;

public sealed class ApprovalTokenSignerTests
{
    private static readonly byte[] Key = Convert.FromBase64String(ApprovalTokenSigner.GenerateKey());
    private static readonly DateTimeOffset Now = new(2026, 11, 1, 9, 0, 0, TimeSpan.Zero);
    private readonly ManualTime _time = new() { Now = Now };

    private ApprovalTokenSigner Signer() => new(Key, _time);

    private string Issue() => Signer().Issue("run-1", 3, "bob", Now.AddHours(1));

    [Fact]
    public void Verify_FreshToken_IsValidAndCarriesItsClaims()
    {
        var check = Signer().Verify(Issue(), "run-1", "BOB", version: 3);
        Assert.True(check.Valid, check.Message);
        Assert.Equal("bob", check.Claims!.Approver);
        Assert.Equal(32, check.Claims.Nonce.Length);
    }

    [Fact]
    public void Issue_TwoTokens_HaveDifferentNonces()
    {
        Assert.NotEqual(Signer().Verify(Issue(), "run-1", "bob").Claims!.Nonce, Signer().Verify(Issue(), "run-1", "bob").Claims!.Nonce);
    }

    [Fact]
    public void Verify_TamperedPayload_FailsSignature()
    {
        var token = Issue();
        var other = Signer().Issue("run-1", 3, "mallory", Now.AddHours(1));
        var forged = other[..other.IndexOf('.', StringComparison.Ordinal)] + token[token.IndexOf('.', StringComparison.Ordinal)..];
        Assert.Equal(ApprovalTokenFailure.BadSignature, Signer().Verify(forged, "run-1", "mallory").Failure);
    }

    [Fact]
    public void Verify_OtherKey_FailsSignature()
    {
        var foreign = new ApprovalTokenSigner(Convert.FromBase64String(ApprovalTokenSigner.GenerateKey()), _time).Issue("run-1", 3, "bob", Now.AddHours(1));
        Assert.Equal(ApprovalTokenFailure.BadSignature, Signer().Verify(foreign, "run-1", "bob").Failure);
    }

    [Fact]
    public void Verify_AfterExpiry_IsExpired()
    {
        var token = Issue();
        _time.Now += TimeSpan.FromHours(1);
        var check = Signer().Verify(token, "run-1", "bob");
        Assert.Equal(ApprovalTokenFailure.Expired, check.Failure);
        Assert.Contains("expired", check.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("run-2", "bob", 3, ApprovalTokenFailure.WrongRun)]
    [InlineData("run-1", "bob", 4, ApprovalTokenFailure.WrongRun)]
    [InlineData("run-1", "dave", 3, ApprovalTokenFailure.WrongApprover)]
    public void Verify_BoundToRunVersionAndApprover(string runId, string approver, int version, ApprovalTokenFailure expected)
    {
        Assert.Equal(expected, Signer().Verify(Issue(), runId, approver, version).Failure);
    }

    [Theory]
    [InlineData(null, ApprovalTokenFailure.Missing)]
    [InlineData("", ApprovalTokenFailure.Missing)]
    [InlineData("abc", ApprovalTokenFailure.Malformed)]
    [InlineData("a.b.c", ApprovalTokenFailure.Malformed)]
    [InlineData("!!!.???", ApprovalTokenFailure.Malformed)]
    public void Verify_MissingOrMalformed(string? token, ApprovalTokenFailure expected)
    {
        Assert.Equal(expected, Signer().Verify(token, "run-1", "bob").Failure);
    }

    [Fact]
    public void Constructor_ShortKey_Throws()
    {
        Assert.Throws<ArgumentException>(() => new ApprovalTokenSigner(new byte[16], _time));
    }
}

internal sealed class ManualTime : TimeProvider
{
    public DateTimeOffset Now { get; set; }

    public override DateTimeOffset GetUtcNow() => Now;
}
