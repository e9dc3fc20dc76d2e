using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using MLOps.Cli;
using MLOps.Core.Ports;
using MLOps.Integration.Tests.Fixtures;
using MLOps.Integration.Tests.Support;
using MLOps.Local;

namespace MLOps.Integration.Tests.Approval;

/// <summary>Approval policies on the real engine and Azurite: approvals by risk tier, escalation, expiry and signed
/// single-use tokens, each with a workflow registered from YAML in the test.</summary>
[Collection("Azurite")]
public sealed class ApprovalPolicyTests(AzuriteFixture azurite)
{
    private static string Workflow(string model, string risk, string approval) => $$"""
        version: 1
        model:
          name: {{model}}
          task: binary
          label: default
          id: application_id
          risk: {{risk}}
        data:
          min_rows: 1000
        {{TestWorkflows.CreditRiskColumns}}
        training:
          trainer: fasttree
          parameters: { trees: 20, leaves: 8, min_leaf: 20, learning_rate: 0.2 }
        gates:
          - { metric: auc, min: 0.5 }
        approval:
        {{approval}}
        """;

    private async Task<(LocalHost Host, ApiClient Api, string RunId)> StartRunAsync(string model, string risk, string approval)
    {
        var host = await LocalHost.StartAsync(TestHosts.Options(azurite.ConnectionString));
        await host.Services.GetRequiredService<IWorkflowStore>().RegisterAsync(Workflow(model, risk, approval), $"{model}.yaml");
        var api = ApiClient.For(host.Url);
        await TestHosts.UploadCsvAsync(host.Services, $"{model}/data.csv", rows: 3000, seed: 7, author: "alice");
        var runId = await TestHosts.WaitForRunIdAsync(api, model);
        var waiting = await TestHosts.WaitForStageAsync(api, runId, "awaiting-approval");
        Assert.Equal("awaiting-approval", waiting.GetProperty("status").GetProperty("stage").GetString());
        return (host, api, runId);
    }

    private static async Task<JsonElement> WaitForStatusAsync(ApiClient api, string runId, Func<JsonElement, bool> done, string what) =>
        (await TestHosts.WaitAsync(async () => (await api.GetAsync($"runs/{runId}")).Body,
            r => r.ValueKind == JsonValueKind.Object && r.GetProperty("status") is { ValueKind: JsonValueKind.Object } s && done(s),
            TimeSpan.FromSeconds(60), what)).GetProperty("status");

    /// <summary>The model's events of one type, waiting up to 30 s for at least one: a run's status can show a step
    /// before the activity that publishes its event has run.</summary>
    private static async Task<List<JsonElement>> EventsAsync(ApiClient api, string model, string type)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            List<JsonElement> events = [.. (await api.GetAsync($"models/{model}/audit-trail")).Body.GetProperty("entries").EnumerateArray()
                .Select(e => e.GetProperty("event")).Where(e => e.GetProperty("type").GetString() == type)];
            if (events.Count > 0 || DateTime.UtcNow > deadline)
            {
                return events;
            }

            await Task.Delay(100);
        }
    }

    private static string[] Approvals(JsonElement status) => [.. status.GetProperty("approvals").EnumerateArray().Select(a => a.GetString()!)];

    [Fact]
    public async Task HighRisk_NeedsTwoDistinctApprovers_AuthorAndRepeatsDoNotCount()
    {
        const string model = "appr-high";
        var (host, api, runId) = await StartRunAsync(model, "high", """
              required_by_risk: { high: 2, medium: 1, low: 1 }
              roles: { approver: [bob, dave, erin] }
              timeout: 1h
            """);
        await using var _ = host;
        using var __ = api;

        Assert.Equal(403, (await api.PostAsync($"runs/{runId}/approve", new { }, "alice")).Status);
        var stranger = await api.PostAsync($"runs/{runId}/approve", new { }, "mallory");
        Assert.True(stranger.Status == 403, stranger.Pretty());
        Assert.Equal(202, (await api.PostAsync($"runs/{runId}/approve", new { comment = "first" }, "bob")).Status);
        var status = await WaitForStatusAsync(api, runId, s => Approvals(s).Length == 1, "bob's approval");
        Assert.Equal("awaiting-approval", status.GetProperty("stage").GetString());
        Assert.Equal(2, status.GetProperty("approvalsRequired").GetInt32());
        Assert.Equal(["bob"], Approvals(status));

        var again = await api.PostAsync($"runs/{runId}/approve", new { }, "bob");
        Assert.Equal(403, again.Status);
        Assert.Contains("distinct", again.Error, StringComparison.Ordinal);

        Assert.Equal(202, (await api.PostAsync($"runs/{runId}/approve", new { comment = "second" }, "dave")).Status);
        var done = await TestHosts.WaitForCompletionAsync(api, runId);
        var result = done.GetProperty("result");
        Assert.Equal("Deployed", result.GetProperty("outcome").GetString());
        Assert.Equal(["bob", "dave"], result.GetProperty("approvedBy").EnumerateArray().Select(a => a.GetString()));
    }

    [Fact]
    public async Task Escalation_AfterDelay_MakesEscalationApproverEligibleAndPublishesEvent()
    {
        const string model = "appr-escalate";
        var (host, api, runId) = await StartRunAsync(model, "low", """
              required: 1
              approvers: [bob]
              timeout: 60s
              escalation: { after: 2s, to: [head-of-risk] }
            """);
        await using var _ = host;
        using var __ = api;

        var early = await api.PostAsync($"runs/{runId}/approve", new { }, "head-of-risk");
        Assert.Equal(403, early.Status);
        Assert.Contains("not among", early.Error, StringComparison.Ordinal);

        var escalated = await WaitForStatusAsync(api, runId, s => s.GetProperty("approvalEscalated").GetBoolean(), "the escalation");
        Assert.Contains("head-of-risk", escalated.GetProperty("approvalEligible").EnumerateArray().Select(a => a.GetString()));
        var events = await EventsAsync(api, model, "MLOps.Approval.Escalated");
        Assert.Equal("head-of-risk", Assert.Single(events).GetProperty("data").GetProperty("to")[0].GetString());

        Assert.Equal(202, (await api.PostAsync($"runs/{runId}/approve", new { }, "head-of-risk")).Status);
        var done = await TestHosts.WaitForCompletionAsync(api, runId);
        Assert.Equal("Deployed", done.GetProperty("result").GetProperty("outcome").GetString());
    }

    [Fact]
    public async Task Expiry_WithoutDecisions_EndsRunApprovalExpired()
    {
        const string model = "appr-expire";
        var (host, api, runId) = await StartRunAsync(model, "medium", """
              approvers: [bob]
              timeout: 4s
            """);
        await using var _ = host;
        using var __ = api;

        var done = await TestHosts.WaitForCompletionAsync(api, runId, TimeSpan.FromSeconds(60));
        Assert.Equal("ApprovalExpired", done.GetProperty("result").GetProperty("outcome").GetString());
        Assert.Single(await EventsAsync(api, model, "MLOps.Approval.Expired"));
        var version = (await api.GetAsync($"models/{model}")).Body.ToString();
        Assert.Contains("Expired", version, StringComparison.Ordinal);
        Assert.Equal(409, (await api.PostAsync($"runs/{runId}/approve", new { }, "bob")).Status);
    }

    [Fact]
    public async Task Token_Required_MissingIs401_OtherApproversIs403_ReuseIs409_ValidIs202()
    {
        const string model = "appr-token";
        var (host, api, runId) = await StartRunAsync(model, "high", """
              required: 2
              approvers: [bob, dave]
              timeout: 1h
              token: true
            """);
        await using var _ = host;
        using var __ = api;

        await TestHosts.WaitAsync(async () => (await api.GetAsync($"models/{model}/audit-trail")).Body,
            t => t.ValueKind == JsonValueKind.Object && t.GetProperty("entries").EnumerateArray()
                .Any(e => e.GetProperty("event").GetProperty("type").GetString() == "MLOps.Approval.Requested"),
            TimeSpan.FromSeconds(30), "the approval request");
        var links = Assert.Single(await EventsAsync(api, model, "MLOps.Approval.Requested")).GetProperty("data").GetProperty("links").EnumerateArray()
            .ToDictionary(l => l.GetProperty("approver").GetString()!, l => l.GetProperty("url").GetString()!);
        Assert.Equal(["bob", "dave"], links.Keys.Order(StringComparer.Ordinal));
        string Path(string approver) => links[approver]["/api/".Length..];
        var bobToken = Uri.UnescapeDataString(links["bob"][(links["bob"].IndexOf("token=", StringComparison.Ordinal) + 6)..]);

        var missing = await api.PostAsync($"runs/{runId}/approve", new { }, "bob");
        Assert.Equal(401, missing.Status);
        Assert.Contains("token", missing.Error, StringComparison.Ordinal);
        Assert.Equal(401, (await api.PostAsync($"runs/{runId}/approve", new { token = bobToken[..^4] + "AAAA" }, "bob")).Status);
        Assert.Equal(403, (await api.PostAsync(Path("bob"), new { }, "dave")).Status);
        Assert.Equal(403, (await api.PostAsync(Path("dave"), new { }, "alice")).Status);

        Assert.Equal(202, (await api.PostAsync(Path("bob"), new { comment = "with token" }, "bob")).Status);
        var reuse = await api.PostAsync($"runs/{runId}/approve", new { token = bobToken }, "bob");
        Assert.Equal(409, reuse.Status);
        Assert.Contains("used already", reuse.Error, StringComparison.Ordinal);

        await WaitForStatusAsync(api, runId, s => Approvals(s).Length == 1, "bob's approval");
        Assert.Equal(202, (await api.PostAsync(Path("dave"), new { }, "dave")).Status);
        var done = await TestHosts.WaitForCompletionAsync(api, runId);
        Assert.Equal("Deployed", done.GetProperty("result").GetProperty("outcome").GetString());
    }
}
