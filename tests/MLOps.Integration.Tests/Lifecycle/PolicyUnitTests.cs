using System.Text.Json;
using Cronos;
using MLOps.Core.Registry;
using MLOps.Core.Workflows;
using MLOps.Lifecycle.Contracts;
using MLOps.Lifecycle.Handlers;
using MLOps.Lifecycle.Orchestrations;
using MLOps.Lifecycle.Services;

namespace MLOps.Integration.Tests.Lifecycle;

/// <summary>The pure rules of the lifecycle: who may decide, where a rollback goes, when an audit is due, who is
/// calling, how scoring rows are read. No storage, no engine; milliseconds.</summary>
public sealed class PolicyUnitTests
{
    private static string[] List(string csv) => csv.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    [Theory]
    [InlineData("bob", true, "alice", "", "", null)]
    [InlineData("bob", false, "alice", "", "", null)]
    [InlineData("alice", true, "alice", "", "", "is the author")]
    [InlineData("ALICE", true, "alice", "", "", "is the author")]
    [InlineData("alice", false, "Alice", "", "", "is the author")]
    [InlineData("eve", true, "alice", "bob,carol", "", "not among the workflow's approvers")]
    [InlineData("eve", false, "alice", "bob,carol", "", "not among the workflow's approvers")]
    [InlineData("Carol", true, "alice", "bob,carol", "", null)]
    [InlineData("bob", true, "alice", "", "bob", "already approved")]
    [InlineData("BOB", true, "alice", "bob,carol", "bob", "already approved")]
    [InlineData("carol", true, "alice", "", "bob", null)]
    [InlineData("bob", false, "alice", "", "bob", null)]
    [InlineData("", true, "alice", "", "", "identity is required")]
    [InlineData("   ", true, "alice", "", "", "identity is required")]
    public void Refusal_Decision_RefusedOnlyWhenRulesSay(string approver, bool approved, string author, string approvers, string soFar, string? expected)
    {
        var spec = new ApprovalSpec { Required = 2, Approvers = List(approvers) };
        var refusal = ApprovalRules.Refusal(new ApprovalDecision { Approver = approver, Approved = approved }, author, spec, List(soFar));
        if (expected is null)
        {
            Assert.Null(refusal);
        }
        else
        {
            Assert.NotNull(refusal);
            Assert.Contains(expected, refusal, StringComparison.Ordinal);
        }
    }

    private static ModelVersion Version(int number, ModelVersionStatus status) => new()
    {
        Model = "m",
        Version = number,
        RunId = $"run-{number}",
        Status = status,
        ArtifactUri = $"https://example.invalid/{number}.zip",
        ArtifactSha256 = "a",
        DatasetSha256 = "b",
        WorkflowHash = "h",
        Trainer = "fasttree",
        CreatedBy = "alice",
    };

    private static AliasRecord Production(int version, int? previous) => new()
    {
        Model = "m",
        Alias = Aliases.Production,
        Version = version,
        PreviousVersion = previous,
        ChangedAt = DateTimeOffset.UnixEpoch,
        ChangedBy = "bob",
        Reason = "test",
    };

    private static readonly ModelVersionStatus A = ModelVersionStatus.Approved;

    [Fact]
    public void ChooseTarget_PreviousApproved_GoesToPrevious()
    {
        var target = RollbackPolicy.ChooseTarget(Production(3, 2), [Version(1, A), Version(2, A), Version(3, A)], null);
        Assert.Equal(2, target.Version);
    }

    [Fact]
    public void ChooseTarget_PreviousNoLongerApproved_FallsBackToNewestOlderApproved()
    {
        var versions = new[] { Version(1, A), Version(2, ModelVersionStatus.Retired), Version(3, ModelVersionStatus.Rejected), Version(4, A) };
        var target = RollbackPolicy.ChooseTarget(Production(4, 2), versions, null);
        Assert.Equal(1, target.Version);
        Assert.Contains("newest approved", target.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void ChooseTarget_NoPreviousRecorded_FallsBackToNewestOlderApproved()
    {
        var target = RollbackPolicy.ChooseTarget(Production(3, null), [Version(1, A), Version(2, ModelVersionStatus.Expired), Version(3, A)], null);
        Assert.Equal(1, target.Version);
    }

    [Fact]
    public void ChooseTarget_TwoRollbacksInARow_NeverBounceBackUp()
    {
        var versions = new[] { Version(1, A), Version(2, A), Version(3, A) };
        var first = RollbackPolicy.ChooseTarget(Production(3, 2), versions, null);
        Assert.Equal(2, first.Version);

        // After the first rollback the alias remembers 3 as its previous version; going "back" must not mean 3.
        var second = RollbackPolicy.ChooseTarget(Production(2, 3), versions, null);
        Assert.Equal(1, second.Version);
        var third = RollbackPolicy.ChooseTarget(Production(1, 2), versions, null);
        Assert.Null(third.Version);
        Assert.Contains("no approved version before 1", third.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void ChooseTarget_NothingApprovedBefore_ReturnsNoTarget()
    {
        var target = RollbackPolicy.ChooseTarget(Production(2, null), [Version(1, ModelVersionStatus.Rejected), Version(2, A)], null);
        Assert.Null(target.Version);
        Assert.Contains("no approved version before 2", target.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1, null, "already in production")]
    [InlineData(2, null, "not an approved version")]
    [InlineData(9, null, "not an approved version")]
    [InlineData(3, 3, "requested")]
    public void ChooseTarget_ExplicitVersion_MustBeApprovedAndNotCurrent(int requested, int? expected, string reason)
    {
        var versions = new[] { Version(1, A), Version(2, ModelVersionStatus.PendingApproval), Version(3, A) };
        var target = RollbackPolicy.ChooseTarget(Production(1, null), versions, requested);
        Assert.Equal(expected is null ? null : requested, target.Version);
        Assert.Contains(reason, target.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0 */6 * * *", "2026-11-25T00:30:00Z", "2026-11-25T05:59:59Z", false)]
    [InlineData("0 */6 * * *", "2026-11-25T00:30:00Z", "2026-11-25T06:00:00Z", true)]
    [InlineData("0 */6 * * *", "2026-11-25T06:00:00Z", "2026-11-25T06:00:00Z", false)]
    [InlineData("0 */6 * * *", "2026-11-25T06:00:00Z", "2026-11-25T11:59:00Z", false)]
    [InlineData("0 */6 * * *", "2026-11-20T06:00:00Z", "2026-11-25T01:00:00Z", true)]
    [InlineData("0 */6 * * *", null, "2026-11-25T01:00:00Z", true)]
    [InlineData("*/15 * * * *", "2026-11-25T10:14:00Z", "2026-11-25T10:15:00Z", true)]
    [InlineData("0 3 * * 1", "2026-11-23T03:00:00Z", "2026-11-29T23:59:00Z", false)]
    [InlineData("0 3 * * 1", "2026-11-23T03:00:00Z", "2026-11-30T03:00:00Z", true)]
    [InlineData("0 0 1 1 *", null, "2026-06-15T00:00:00Z", false)]
    public void IsDue_CronSchedule_DueOnlyAfterAnOccurrenceSinceLastAudit(string schedule, string? last, string now, bool due)
    {
        var lastAudit = last is null ? (DateTimeOffset?)null : DateTimeOffset.Parse(last, System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(due, DriftAuditService.IsDue(schedule, lastAudit, DateTimeOffset.Parse(now, System.Globalization.CultureInfo.InvariantCulture)));
    }

    [Fact]
    public void IsDue_LastAuditInOtherOffset_ComparesInstants()
    {
        // 07:30 at +02:00 is 05:30 UTC: the 06:00 UTC occurrence has not been audited yet.
        var last = new DateTimeOffset(2026, 11, 25, 7, 30, 0, TimeSpan.FromHours(2));
        Assert.True(DriftAuditService.IsDue("0 */6 * * *", last, new DateTimeOffset(2026, 11, 25, 6, 5, 0, TimeSpan.Zero)));
    }

    [Fact]
    public void DueOccurrence_IsTheLatestOccurrenceSinceTheLastAudit_SoTwoFiresShareAWindow()
    {
        var last = new DateTimeOffset(2026, 11, 25, 0, 0, 0, TimeSpan.Zero);
        var now = new DateTimeOffset(2026, 11, 25, 13, 7, 0, TimeSpan.Zero);
        Assert.Equal(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero), DriftAuditService.DueOccurrence("0 */6 * * *", last, now));
        Assert.Equal(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero), DriftAuditService.DueOccurrence("0 */6 * * *", last, now.AddMinutes(40)));
        Assert.Null(DriftAuditService.DueOccurrence("0 */6 * * *", new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero), now));
        Assert.Equal(DriftAuditService.InstanceIdFor("m", new DateTimeOffset(2026, 11, 25, 13, 0, 0, TimeSpan.FromHours(1))),
            DriftAuditService.InstanceIdFor("m", new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero)));
        Assert.Equal("drift-m-20261125T120000000Z", DriftAuditService.InstanceIdFor("m", new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero)));
    }

    [Theory]
    [InlineData(0, 2, 16, new int[0])]
    [InlineData(1, 200, 16, new[] { 1 })]
    [InlineData(7, 2, 16, new[] { 3, 2, 2 })]
    [InlineData(399, 200, 16, new[] { 399 })]
    [InlineData(100, 2, 16, new[] { 7, 7, 7, 7, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6 })]
    public void Partition_CutsCapturesIntoContiguousBoundedRanges(int captures, int perPartition, int maxPartitions, int[] sizes)
    {
        var names = Enumerable.Range(0, captures).Select(i => $"m/2026/11/25/12/{i:D9}-r.json").ToList();
        var ranges = DriftAuditService.Partition(names, perPartition, maxPartitions);
        Assert.Equal(sizes, ranges.Select(r => r.Count));
        var at = 0;
        foreach (var range in ranges)
        {
            Assert.Equal(names[at], range.First);
            Assert.Equal(names[at + range.Count - 1], range.Last);
            at += range.Count;
        }
        Assert.Equal(captures, at);
    }

    [Fact]
    public void IsDue_InvalidSchedule_Throws()
    {
        Assert.Throws<CronFormatException>(() => DriftAuditService.IsDue("every hour", null, DateTimeOffset.UnixEpoch));
    }

    [Theory]
    [InlineData("platform", "local", "body", "platform")]
    [InlineData("  platform  ", "local", "body", "platform")]
    [InlineData(null, "local", "body", "local")]
    [InlineData("   ", " local ", "body", "local")]
    [InlineData(null, null, " body ", "body")]
    [InlineData("", "", "body", "body")]
    [InlineData(null, null, null, null)]
    [InlineData(" ", " ", " ", null)]
    public void Resolve_Sources_PlatformThenLocalHeaderThenBody(string? platform, string? local, string? body, string? expected)
    {
        var headers = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
        {
            [CallerIdentity.PlatformHeader] = platform,
            [CallerIdentity.LocalHeader] = local,
        };
        Assert.Equal(expected, CallerIdentity.Resolve(name => headers.GetValueOrDefault(name), body));
    }

    [Fact]
    public void ParseRows_ArrayOrRowsObject_ReadsValuesAsInvariantText()
    {
        const string row = """{"age": 34, "income": 52000.50, "region": "EU", "active": true, "closed": false, "note": null}""";
        foreach (var json in new[] { $"[{row}]", $$"""{"rows": [{{row}}], "other": 1}""" })
        {
            using var doc = JsonDocument.Parse(json);
            var values = Assert.Single(ModelsApi.ParseRows(doc.RootElement));
            Assert.Equal("34", values["age"]);
            Assert.Equal("52000.50", values["income"]);
            Assert.Equal("EU", values["region"]);
            Assert.Equal("true", values["active"]);
            Assert.Equal("false", values["closed"]);
            Assert.Null(values["note"]);
        }
    }

    [Fact]
    public void ParseRows_EmptyArray_ReturnsNoRows()
    {
        using var doc = JsonDocument.Parse("""{"rows": []}""");
        Assert.Empty(ModelsApi.ParseRows(doc.RootElement));
    }

    [Theory]
    [InlineData("\"text\"", "expected a JSON array of rows")]
    [InlineData("42", "expected a JSON array of rows")]
    [InlineData("{\"data\": []}", "expected a JSON array of rows")]
    [InlineData("{\"rows\": {\"age\": 1}}", "expected a JSON array of rows")]
    [InlineData("[{\"age\": 1}, 5]", "row 2 is not a JSON object")]
    [InlineData("[{\"age\": 1}, {\"age\": [1, 2]}]", "row 2, column 'age': nested values are not supported")]
    [InlineData("[{\"address\": {\"city\": \"x\"}}]", "row 1, column 'address'")]
    public void ParseRows_BadShape_ThrowsFormatExceptionNamingTheRow(string json, string message)
    {
        using var doc = JsonDocument.Parse(json);
        var error = Assert.Throws<FormatException>(() => ModelsApi.ParseRows(doc.RootElement));
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }
}
