using MLOps.Core.Budgets;
using MLOps.Core.Ports;
using MLOps.Core.Workflows;
using MLOps.Integration.Tests.Fixtures;
using MLOps.Integration.Tests.Infrastructure;
using MLOps.Lifecycle.Budgets;

namespace MLOps.Integration.Tests.Budgets;

/// <summary>The budget ledger on Azurite's Table service: concurrent writers are serialised by ETags.</summary>
public sealed class TableBudgetLedgerTests(AzuriteFixture azurite) : StorageTestBase(azurite)
{
    private IBudgetLedger Ledger => Get<IBudgetLedger>();

    [Fact]
    public async Task Reserve_TenConcurrentRuns_LimitFour_ExactlyFourAdmitted()
    {
        var budgets = new BudgetService(Ledger, PriceTable.Default);
        var spec = new BudgetSpec { Monthly = new Dictionary<string, double> { ["training_runs"] = 4 } };
        using var start = new ManualResetEventSlim();

        var decisions = await Task.WhenAll(Enumerable.Range(0, 10).Select(i => Task.Run(async () =>
        {
            start.Wait();
            return await budgets.ReserveAsync("m", $"run-{i}", "2026-11", 1, spec);
        })).ToList().Also(_ => start.Set()));

        Assert.Equal(4, decisions.Count(d => d.Allowed));
        Assert.All(decisions.Where(d => !d.Allowed), d => Assert.Equal("monthly training_runs limit reached: 4 of 4 runs used in 2026-11", d.Reason));
        var usage = await Ledger.GetAsync("m", "2026-11");
        Assert.Equal(4, usage.TrainingRuns);
        Assert.Equal(4, usage.Applied.Count);
        Assert.Equal(["training_runs"], usage.Warned);
    }

    [Fact]
    public async Task Charge_TwentyConcurrentWriters_NothingLostOrDoubled_RetriedChargeIgnored()
    {
        var budgets = new BudgetService(Ledger, PriceTable.Default);
        using var start = new ManualResetEventSlim();

        await Task.WhenAll(Enumerable.Range(0, 20).Select(i => Task.Run(async () =>
        {
            start.Wait();
            await budgets.ChargeAsync("m", "2026-11", $"run-{i}/training", 1, computeSeconds: 36, storageBytes: 1_000_000, budget: null);
        })).ToList().Also(_ => start.Set()));
        await budgets.ChargeAsync("m", "2026-11", "run-3/training", 1, computeSeconds: 36, storageBytes: 1_000_000, budget: null);

        var usage = await Ledger.GetAsync("m", "2026-11");
        Assert.Equal(20, usage.CandidatesTrained);
        Assert.Equal(720, usage.ComputeSeconds, 9);
        Assert.Equal(20_000_000, usage.StorageBytes);
        Assert.Equal(0.2 * 0.40 + 0.02 * 0.02, usage.Cost, 9);
        Assert.Equal(20, usage.Applied.Distinct().Count());
    }

    [Fact]
    public async Task Update_StaleWriter_LosesItsWriteAndReappliesOnTheFreshRow()
    {
        // Two writers read the same row; the first to write wins, the second gets 412 and re-applies its change.
        await Ledger.UpdateAsync("m", "2026-12", u => u with { TrainingRuns = 1 });
        var calls = 0;
        var secondStarted = new TaskCompletionSource();
        var firstWritten = new TaskCompletionSource();
        var slow = Task.Run(() => Ledger.UpdateAsync("m", "2026-12", u =>
        {
            calls++;
            if (calls == 1)
            {
                secondStarted.SetResult();
                firstWritten.Task.Wait();
            }

            return u with { TrainingRuns = u.TrainingRuns + 10 };
        }));
        await secondStarted.Task;
        await Ledger.UpdateAsync("m", "2026-12", u => u with { TrainingRuns = u.TrainingRuns + 100 });
        firstWritten.SetResult();
        var result = await slow;

        Assert.Equal(2, calls);
        Assert.Equal(111, result.TrainingRuns);
        Assert.Equal(111, (await Ledger.GetAsync("m", "2026-12")).TrainingRuns);
    }
}

internal static class TaskListExtensions
{
    /// <summary>Runs <paramref name="action"/> on the value and returns it (starts the racers once all are queued).</summary>
    public static T Also<T>(this T value, Action<T> action)
    {
        action(value);
        return value;
    }
}
