using EfficiencyMonitor.Core.Accounting;
using EfficiencyMonitor.Core.Catalog;
using static EfficiencyMonitor.UnitTests.Accounting.AccountingTestData;

namespace EfficiencyMonitor.UnitTests.Accounting;

public sealed class AttributionTests
{
    private static WindowInput Disaggregated(IReadOnlyList<OutcomeAggregate>? outcomes = null)
    {
        var startMs = Start.ToUnixTimeMilliseconds();
        var power = new List<GpuMinute>();
        for (var m = 0; m < 5; m++)
        {
            var ms = startMs + m * 60_000L;
            power.Add(Minute("prefill", "OWNED", "p1", ms, 600, m * 36_000.0, 0.8));
            power.Add(Minute("prefill", "OWNED", "p2", ms, 500, m * 30_000.0, 0.6));
            power.Add(Minute("decode", "RENTED", "d1", ms, 400, m * 24_000.0, 0.4));
        }

        return new WindowInput
        {
            Deployment = "dep", Start = Start, End = Start.AddMinutes(5), Power = power,
            Requests =
            [
                new RequestAggregate { Tenant = "a", Model = "m", PrefillPool = "prefill", DecodePool = "decode", Requests = 10, InputTokens = 50_000, CachedDramTokens = 30_000, OutputTokens = 4_000, PrefillMs = 300, KvLoadDramMs = 100, DecodeMs = 6_000, KvBytesTransferred = 2_000_000_000 },
                new RequestAggregate { Tenant = "b", Model = "m", PrefillPool = "prefill", DecodePool = "decode", Requests = 5, InputTokens = 20_000, CachedLocalSsdTokens = 10_000, OutputTokens = 1_000, PrefillMs = 600, KvLoadLocalSsdMs = 0, DecodeMs = 2_000, KvBytesTransferred = 1_000_000_000 },
                new RequestAggregate { Tenant = "c", Model = "m2", PrefillPool = "prefill", DecodePool = "decode", Requests = 1, InputTokens = 100, OutputTokens = 0, PrefillMs = 0, DecodeMs = 0 },
            ],
            Outcomes = outcomes ??
            [
                new OutcomeAggregate("a", "m", "ok", true, 90, 9), new OutcomeAggregate("a", "m", "error", null, -1, 1),
                new OutcomeAggregate("b", "m", "ok", false, 20, 2), new OutcomeAggregate("b", "m", "ok", null, -1, 3),
                new OutcomeAggregate("c", "m2", "timeout", null, -1, 1),
            ],
        };
    }

    [Fact]
    public void Compute_AllocationsPerTerm_SumToTheWindowsSpend()
    {
        var result = RealizedSpend.Compute(Disaggregated(), Pricing(), 300_000);

        var total = result.Total.Spend;
        var sum = result.Allocations.Select(a => a.Spend).Aggregate(SpendTerms.Zero, (x, y) => x + y);
        Assert.True(total.Total > 0);
        foreach (var (allocated, expected) in new[]
                 {
                     (sum.Capacity, total.Capacity), (sum.Energy, total.Energy), (sum.Space, total.Space), (sum.TierDram, total.TierDram),
                     (sum.TierLocalSsd, total.TierLocalSsd), (sum.TierRemote, total.TierRemote), (sum.Network, total.Network), (sum.Total, total.Total),
                 })
        {
            Assert.True(Math.Abs(allocated - expected) <= 1e-9 * Math.Max(Math.Abs(expected), 1e-300), $"{allocated} vs {expected}");
        }

        Assert.Equal(result.Total.CacheValue.Dram, result.Allocations.Sum(a => a.CacheValue.Dram), 12);
        Assert.Equal(result.Total.FacilityEnergyJoules, result.Allocations.Sum(a => a.FacilityEnergyJoules), 6);
    }

    [Fact]
    public void Compute_PoolCosts_SplitByBusyTimeInEachPool()
    {
        // Prefill pool busy (prefill + KV load): a 300 + 100 = 400 ms, b 600 ms, c 0 → a gets 40 %, b 60 % of the prefill pool.
        // Decode pool busy: a 6,000 ms, b 2,000 ms → a 75 %, b 25 % of the decode pool. Idle time is spread in proportion.
        // Capacity: prefill pool = 2 owned GPUs × 300 s × 52,800/126,230,400; decode pool = 1 rented GPU × 300 s × $0.001.
        var result = RealizedSpend.Compute(Disaggregated(), Pricing(), 300_000);
        var prefill = 2 * 300 * 52_800.0 / 126_230_400;
        var decode = 300 * 0.001;
        var a = result.Allocations.Single(r => r.Tenant == "a");
        var b = result.Allocations.Single(r => r.Tenant == "b");
        var c = result.Allocations.Single(r => r.Tenant == "c");

        Assert.Equal(0.4 * prefill + 0.75 * decode, a.Spend.Capacity, 12);
        Assert.Equal(0.6 * prefill + 0.25 * decode, b.Spend.Capacity, 12);
        Assert.Equal(0, c.Spend.Capacity);
        // Network by KV bytes: a 2 GB, b 1 GB at $0.01/GB → $0.02 and $0.01. DRAM tier entirely to a (only a read from DRAM).
        Assert.Equal(0.02, a.Spend.Network, 12);
        Assert.Equal(0.01, b.Spend.Network, 12);
        Assert.Equal(result.Total.Spend.TierDram, a.Spend.TierDram, 12);
    }

    [Fact]
    public void Compute_SuccessPolicy_CountsOkNotRejected()
    {
        // a: 9 ok accepted → 9 (the error does not count); b: 2 ok rejected (excluded) + 3 ok without flag → 3; c: timeout → 0.
        var result = RealizedSpend.Compute(Disaggregated(), Pricing(), 300_000);

        Assert.Equal(9, result.Allocations.Single(r => r.Tenant == "a").SuccessfulOutputs);
        Assert.Equal(3, result.Allocations.Single(r => r.Tenant == "b").SuccessfulOutputs);
        Assert.Equal(12, result.Total.SuccessfulOutputs);
    }

    [Fact]
    public void Compute_MinimumQuality_ExcludesLowScores()
    {
        // min quality 0.5: a's 9 (score 0.90) count; b's 2 (0.20) would not, and they are rejected anyway; unscored count.
        var policy = new SuccessPolicyEntry { EffectiveFrom = Epoch, MinQualityScore = 0.5, ExcludeRejected = false };

        var result = RealizedSpend.Compute(Disaggregated(), Pricing(policy: policy), 300_000);

        Assert.Equal(9 + 3, result.Total.SuccessfulOutputs);
    }

    [Fact]
    public void Compute_NoSuccessfulOutput_ReportsSpendAndSaysSo()
    {
        var outcomes = new[] { new OutcomeAggregate("a", "m", "error", null, -1, 10), new OutcomeAggregate("b", "m", "timeout", null, -1, 5) };

        var result = RealizedSpend.Compute(Disaggregated(outcomes), Pricing(), 300_000);

        var total = result.Total;
        Assert.True(total.Spend.Total > 0);
        Assert.Equal(0, total.SuccessfulOutputs);
        Assert.True(total.NoSuccess);
        Assert.Null(total.SpendPerSuccess);
        Assert.Contains("no successful output", total.Note, StringComparison.Ordinal);
        Assert.All(result.Allocations.Prepend(total), r => Assert.True(double.IsFinite(r.Spend.Total) && (r.SpendPerSuccess is null || double.IsFinite(r.SpendPerSuccess.Value))));
    }

    [Fact]
    public void Compute_NoRequests_AllSpendUnattributedAndConserved()
    {
        var input = Disaggregated() with { Requests = [], Outcomes = [] };

        var result = RealizedSpend.Compute(input, Pricing(), 300_000);

        var row = Assert.Single(result.Allocations);
        Assert.Equal(RealizedSpend.Unattributed, row.Tenant);
        Assert.Equal(result.Total.Spend.Total, row.Spend.Total, 12);
        Assert.True(result.Total.NoSuccess);
    }

    [Fact]
    public void Compute_CacheValue_IsRecomputeMinusRetrievalMinusTierCost()
    {
        // Prefill side: cost P = capacity + energy + space of the prefill pool; busy 1,000 ms → $P/1,000 per ms.
        // Recompute $/token = (P/1,000) × Σprefill_ms 900 / uncached tokens (50,000 − 30,000 + 20,000 − 10,000 + 100 = 30,100).
        // DRAM value = 30,000 × recompute − (P/1,000) × 100 ms − DRAM tier cost (all allocated to a).
        var result = RealizedSpend.Compute(Disaggregated(), Pricing(), 300_000);
        var total = result.Total;
        var perMs = (total.Spend.Capacity + total.Spend.Energy + total.Spend.Space - DecodePoolCost(result)) / 1_000;
        var recompute = perMs * 900 / 30_100;

        Assert.Equal(recompute, total.RecomputeUsdPerToken, 12);
        Assert.Equal(30_000 * recompute - perMs * 100 - total.Spend.TierDram, total.CacheValue.Dram, 12);
    }

    // Decode pool: 1 rented GPU: capacity 300 × 0.001; energy (GPU 116,000 J — 20,000 J in the first minute, which has no earlier
    // sample to bridge from, + 4 × 24,000 J — plus host 300 W × 300 s) × PUE 1.5 / 3.6e6 × $0.10; space 1 kW × $200 × 300 s / month.
    private static double DecodePoolCost(WindowResult _) =>
        300 * 0.001 + (116_000.0 + 300.0 * 300) * 1.5 / 3.6e6 * 0.10 + 1.0 * 200 * 300 / 2_629_800;
}
