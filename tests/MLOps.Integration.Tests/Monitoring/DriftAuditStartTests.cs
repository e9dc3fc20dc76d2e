using System.Net;
using System.Text.Json;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using MLOps.Cli;
using MLOps.Cli.Commands;
using MLOps.Core.Drift;
using MLOps.Core.Monitoring;
using MLOps.Core.Ports;
using MLOps.Core.Samples;
using MLOps.Integration.Tests.Fixtures;
using MLOps.Integration.Tests.Support;
using MLOps.Lifecycle.Activities;
using MLOps.Lifecycle.Contracts;
using MLOps.Lifecycle.Services;
using MLOps.Local;
using MLOps.Local.Durable;

namespace MLOps.Integration.Tests.Monitoring;

/// <summary>
/// Starting drift audits on the local durable engine over Azurite: the window claim in Table storage makes racing
/// starters schedule one orchestration, survives a starter that died between claim and schedule, lets a failed audit's
/// window run again under the same audit id, and the HTTP route answers a long audit with 202 and a status URL.
/// </summary>
[Collection(AzuriteTestGroup.Name)]
public sealed class DriftAuditStartTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private const string Model = "credit-risk";
    private const string ReferencePath = Model + "/runs/start-tests/reference-profile.json";

    private readonly PerTestLocalHost _local = new(azurite.ConnectionString);

    private LocalHost Host => _local.Host;

    private T Get<T>() where T : notnull => _local.Get<T>();

    public Task InitializeAsync() => _local.StartAsync();

    public async Task DisposeAsync() => await _local.DisposeAsync();

    /// <summary>A production version of the sample model with a reference profile, and 300 rows of captured traffic
    /// (3 requests) in the hour before now.</summary>
    private async Task<string> ArrangeAsync()
    {
        var workflow = Host.Workflows.Single(w => w.Model == Model);
        var reference = ProfileBuilder.FromRows(CreditRiskData.FeatureRows(1000, seed: 1), workflow.Definition);
        var (version, profileUri) = await TestRegistry.PublishReferenceAsync(Host, workflow, reference, ReferencePath, "start-tests");

        await TestRegistry.CaptureSampleTrafficAsync(Host, Model, version.Version, "s");

        return profileUri;
    }

    /// <summary>The service as the host builds it, with these options.</summary>
    private DriftAuditService Service(DriftAuditOptions options) =>
        ActivatorUtilities.CreateInstance<DriftAuditService>(Host.Services, Options.Create(options));

    private static readonly DriftAuditOptions Defaults = new();

    [Fact]
    public async Task StartAsync_TenConcurrentStartersOnOneWindow_ScheduleOneOrchestration()
    {
        await ArrangeAsync();
        var service = Service(Defaults);
        var counting = new CountingDurableClient(Host.Client);
        var windowEnd = DateTimeOffset.UtcNow;
        var expected = DriftAuditService.InstanceIdFor(Model, windowEnd);

        using var go = new ManualResetEventSlim();
        var starts = Enumerable.Range(0, 10).Select(i => Task.Run(async () =>
        {
            go.Wait();
            return await service.StartAsync(counting, Model, windowEnd, i % 2 == 0 ? "schedule" : "request");
        })).ToList();
        go.Set();
        var ids = await Task.WhenAll(starts);

        Assert.All(ids, id => Assert.Equal(expected, id));
        Assert.Equal([expected], counting.Scheduled);
        var result = await DriftAuditService.WaitAsync(Host.Client, expected, TimeSpan.FromMinutes(2));
        Assert.Equal(DriftAuditService.AuditIdFor(Model, windowEnd), result.AuditId);
        Assert.Equal(300, result.CurrentRows);
        var claim = await Get<IMonitoringStore>().GetAuditClaimAsync(Model, windowEnd);
        Assert.NotNull(claim);
        Assert.Equal(0, claim.Attempt);
        Assert.Equal(expected, claim.InstanceId);

        // Once completed, the window answers with its audit and schedules nothing more.
        Assert.Equal(expected, await service.StartAsync(counting, Model, windowEnd, "schedule"));
        Assert.Single(counting.Scheduled);
        Assert.Single(await Get<IMonitoringStore>().ListAuditsAsync(Model));
    }

    [Fact]
    public async Task StartAsync_StarterDiedAfterClaiming_IsTakenOverAfterTheGracePeriod()
    {
        await ArrangeAsync();
        var counting = new CountingDurableClient(Host.Client);
        var windowEnd = DateTimeOffset.UtcNow;
        var first = DriftAuditService.InstanceIdFor(Model, windowEnd);

        // A starter claimed the window 30 s ago and died before scheduling.
        Assert.True(await Get<IMonitoringStore>().TryAddAuditClaimAsync(new DriftAuditClaim
        {
            Model = Model,
            WindowEnd = windowEnd,
            InstanceId = first,
            ClaimedAt = DateTimeOffset.UtcNow.AddSeconds(-30),
            Trigger = "schedule",
        }));

        // Within the grace period the claim stands: its starter may be about to schedule.
        var patient = Service(Defaults with { ClaimGrace = TimeSpan.FromMinutes(1) });
        Assert.Equal(first, await patient.StartAsync(counting, Model, windowEnd, "schedule"));
        Assert.Empty(counting.Scheduled);
        Assert.Null(await Host.Client.GetInstanceAsync(first));

        // After it, of five racing starters one takes the claim over (ETag) and schedules the next attempt.
        var prompt = Service(Defaults with { ClaimGrace = TimeSpan.FromSeconds(10) });
        var ids = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => Task.Run(() => prompt.StartAsync(counting, Model, windowEnd, "schedule"))));
        var next = DriftAuditService.InstanceIdFor(Model, windowEnd, 1);
        Assert.Equal(first + "-r1", next);
        Assert.All(ids, id => Assert.Equal(next, id));
        Assert.Equal([next], counting.Scheduled);

        var result = await DriftAuditService.WaitAsync(Host.Client, next, TimeSpan.FromMinutes(2));
        Assert.Equal(DriftAuditService.AuditIdFor(Model, windowEnd), result.AuditId);
        var claim = await Get<IMonitoringStore>().GetAuditClaimAsync(Model, windowEnd);
        Assert.Equal(1, claim!.Attempt);
        Assert.Equal(next, claim.InstanceId);
    }

    [Fact]
    public async Task StartAsync_FailedAuditWindow_RunsAgainAfterTheFixUnderTheSameAuditId()
    {
        var referenceUri = await ArrangeAsync();
        var reference = await Get<IArtifactStore>().ReadJsonAsync<DatasetProfile>(referenceUri);
        var service = Service(Defaults);
        var counting = new CountingDurableClient(Host.Client);
        var windowEnd = DateTimeOffset.UtcNow;

        // The reference profile is gone (the JSON and its binary form): the audit fails on bad data (not retried).
        await TestRegistry.DeleteReferenceAsync(Host, referenceUri);
        var failed = await service.StartAsync(counting, Model, windowEnd, "schedule");
        var error = await Assert.ThrowsAsync<InvalidDataException>(() => DriftAuditService.WaitAsync(Host.Client, failed, TimeSpan.FromMinutes(2)));
        Assert.Contains("reference profile", error.Message, StringComparison.Ordinal);
        var status = await service.GetStatusAsync(Host.Client, Model, failed);
        Assert.Equal(DriftAuditStatus.Failed, status!.Status);
        Assert.Contains("reference profile", status.Error, StringComparison.Ordinal);
        Assert.Empty(await Get<IMonitoringStore>().ListAuditsAsync(Model));

        // Fixed (the JSON alone, as a version registered before the binary form has it), the next start of the window
        // (the timer's next fire) runs it again as attempt 1, under the same audit id.
        await Get<IArtifactStore>().SaveJsonAsync(ReferencePath, reference);
        var rerun = await service.StartAsync(counting, Model, windowEnd, "schedule");
        Assert.Equal(DriftAuditService.InstanceIdFor(Model, windowEnd, 1), rerun);
        var result = await DriftAuditService.WaitAsync(Host.Client, rerun, TimeSpan.FromMinutes(2));
        Assert.Equal(DriftAuditService.AuditIdFor(Model, windowEnd), result.AuditId);
        var stored = Assert.Single(await Get<IMonitoringStore>().ListAuditsAsync(Model));
        Assert.Equal(result.AuditId, stored.AuditId);
        Assert.Equal(DriftAuditStatus.Completed, (await service.GetStatusAsync(Host.Client, Model, rerun))!.Status);

        // The failed attempt's history stays; the completed window schedules nothing more.
        Assert.Equal(DriftAuditStatus.Failed, (await service.GetStatusAsync(Host.Client, Model, failed))!.Status);
        Assert.Equal(rerun, await service.StartAsync(counting, Model, windowEnd, "schedule"));
        Assert.Equal([failed, rerun], counting.Scheduled);
    }

    [Fact]
    public async Task StartAsync_TerminatedAuditWindow_RunsAgainAsR1UnderTheSameAuditId()
    {
        await ArrangeAsync();
        var service = Service(Defaults);
        var counting = new CountingDurableClient(Host.Client);
        var windowEnd = DateTimeOffset.UtcNow;

        // The first attempt is terminated as soon as it is scheduled: the engine ends it before its three steps ran.
        var first = await service.StartAsync(counting, Model, windowEnd, "schedule");
        var before = await Host.Client.GetInstanceAsync(first);
        Assert.True(before is { RuntimeStatus: OrchestrationRuntimeStatus.Pending or OrchestrationRuntimeStatus.Running },
            $"the audit was {before?.RuntimeStatus} before it could be terminated");
        await Host.Client.TerminateInstanceAsync(first, "stopped by an operator");
        var terminated = await Host.Client.WaitForCompletionAsync(first, TimeSpan.FromMinutes(2));
        Assert.Equal(OrchestrationRuntimeStatus.Terminated, terminated.RuntimeStatus);
        Assert.Equal(0, await _local.History.AttemptsAsync(first, nameof(AnalyzeDriftActivity)));
        Assert.Empty(await Get<IMonitoringStore>().ListAuditsAsync(Model));
        var status = await service.GetStatusAsync(Host.Client, Model, first);
        Assert.Equal(DriftAuditStatus.Terminated, status!.Status);

        // The next start of the window runs it again as attempt 1, under the same audit id, and it completes.
        var rerun = await service.StartAsync(counting, Model, windowEnd, "schedule");
        Assert.Equal(first + "-r1", rerun);
        var result = await DriftAuditService.WaitAsync(Host.Client, rerun, TimeSpan.FromMinutes(2));
        Assert.Equal(DriftAuditService.AuditIdFor(Model, windowEnd), result.AuditId);
        Assert.Equal(300, result.CurrentRows);
        var stored = Assert.Single(await Get<IMonitoringStore>().ListAuditsAsync(Model));
        Assert.Equal(result.AuditId, stored.AuditId);
        var claim = await Get<IMonitoringStore>().GetAuditClaimAsync(Model, windowEnd);
        Assert.Equal(1, claim!.Attempt);
        Assert.Equal(rerun, claim.InstanceId);

        // The terminated attempt keeps its history; the completed window schedules nothing more.
        Assert.Equal(OrchestrationRuntimeStatus.Terminated, (await Host.Client.GetInstanceAsync(first))!.RuntimeStatus);
        Assert.Equal(rerun, await service.StartAsync(counting, Model, windowEnd, "schedule"));
        Assert.Equal([first, rerun], counting.Scheduled);
    }

    [Fact]
    public async Task StartAsync_WindowThatKeepsFailing_StopsAfterMaxAttempts()
    {
        var referenceUri = await ArrangeAsync();
        var service = Service(Defaults with { MaxAttempts = 2 });
        var counting = new CountingDurableClient(Host.Client);
        var windowEnd = DateTimeOffset.UtcNow;
        await TestRegistry.DeleteReferenceAsync(Host, referenceUri);

        var first = await service.StartAsync(counting, Model, windowEnd, "schedule");
        await Assert.ThrowsAsync<InvalidDataException>(() => DriftAuditService.WaitAsync(Host.Client, first, TimeSpan.FromMinutes(2)));
        var second = await service.StartAsync(counting, Model, windowEnd, "schedule");
        Assert.Equal(DriftAuditService.InstanceIdFor(Model, windowEnd, 1), second);
        await Assert.ThrowsAsync<InvalidDataException>(() => DriftAuditService.WaitAsync(Host.Client, second, TimeSpan.FromMinutes(2)));

        // Two failed attempts are the most allowed: the next fires answer with the last one and schedule nothing.
        Assert.Equal(second, await service.StartAsync(counting, Model, windowEnd, "schedule"));
        Assert.Equal(second, await service.StartAsync(counting, Model, windowEnd, "schedule"));
        Assert.Equal([first, second], counting.Scheduled);
        Assert.Equal(1, (await Get<IMonitoringStore>().GetAuditClaimAsync(Model, windowEnd))!.Attempt);
    }

    [Fact]
    public async Task HttpAudit_QuickAnswers200_SlowAnswers202WithAStatusUrlThatReachesCompleted()
    {
        await ArrangeAsync();
        using var api = ApiClient.For(Host.Url);

        // Quick: waited for, the stored audit itself.
        var quick = await api.PostAsync($"models/{Model}/drift-audits?wait=120", null);
        Assert.Equal(200, quick.Status);
        Assert.Equal(300, quick.Body.GetProperty("report").GetProperty("currentRows").GetInt64());
        var quickId = quick.Body.GetProperty("auditId").GetString();

        // Slow (no wait at all): 202, a Location and a status URL on this host.
        using var http = new HttpClient { BaseAddress = new Uri(Host.Url) };
        using var accepted = await http.PostAsync(new Uri($"api/models/{Model}/drift-audits?wait=0", UriKind.Relative), null);
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        var body = JsonDocument.Parse(await accepted.Content.ReadAsStringAsync()).RootElement;
        var instanceId = body.GetProperty("instanceId").GetString()!;
        Assert.StartsWith($"drift-{Model}-", instanceId, StringComparison.Ordinal);
        Assert.Contains(body.GetProperty("status").GetString(), new[] { "pending", "running" });
        var statusUri = body.GetProperty("statusQueryGetUri").GetString()!;
        Assert.Equal(new Uri(new Uri(Host.Url), $"/api/models/{Model}/drift-audits/{instanceId}"), new Uri(statusUri));
        Assert.Equal(new Uri(statusUri), accepted.Headers.Location);

        // The status URL answers 202 until the audit ends, then 200 with the stored audit.
        var codes = new List<HttpStatusCode>();
        JsonElement done = default;
        await WaitForAsync(async () =>
        {
            using var poll = await http.GetAsync(new Uri(statusUri));
            codes.Add(poll.StatusCode);
            done = JsonDocument.Parse(await poll.Content.ReadAsStringAsync()).RootElement.Clone();
            return poll.StatusCode == HttpStatusCode.OK;
        }, "the audit to complete");
        Assert.All(codes.SkipLast(1), c => Assert.Equal(HttpStatusCode.Accepted, c));
        Assert.Equal("completed", done.GetProperty("status").GetString());
        var audit = done.GetProperty("audit");
        Assert.Equal(300, audit.GetProperty("report").GetProperty("currentRows").GetInt64());
        Assert.NotEqual(quickId, audit.GetProperty("auditId").GetString());

        // What the CLI does: post without waiting, follow the status, end with the same body as a quick audit.
        var followed = await DriftAudits.RunAsync(api, Model, follow: true, TimeSpan.FromMinutes(2), wait: 0);
        Assert.Equal(200, followed.Status);
        Assert.Equal(300, followed.Body.GetProperty("report").GetProperty("currentRows").GetInt64());

        // A wait that ends while the engine is being read answers with the status, not an error.
        for (var i = 0; i < 3; i++)
        {
            var brief = await api.PostAsync($"models/{Model}/drift-audits?wait=0.03", null);
            Assert.True(brief.Status is 200 or 202, $"HTTP {brief.Status}: {brief.Error}");
        }

        // Unknown instances, instances of other models and bad waits are refused.
        Assert.Equal(404, (await api.GetAsync($"models/{Model}/drift-audits/drift-{Model}-nope")).Status);
        Assert.Equal(404, (await api.GetAsync($"models/house-prices/drift-audits/{instanceId}")).Status);
        Assert.Equal(400, (await api.PostAsync($"models/{Model}/drift-audits?wait=soon", null)).Status);
    }

    private static async Task WaitForAsync(Func<Task<bool>> done, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (!await done())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"timed out waiting for {what}");
            }

            await Task.Delay(100);
        }
    }
}
