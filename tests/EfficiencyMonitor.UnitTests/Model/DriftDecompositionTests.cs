using EfficiencyMonitor.Core.Catalog;
using EfficiencyMonitor.Core.Model;
using static EfficiencyMonitor.UnitTests.Model.ModelTestData;

namespace EfficiencyMonitor.UnitTests.Model;

/// <summary>MODEL.md §4 drift decomposition: the factor log-ratios add up exactly and name the factor that moved.</summary>
public sealed class DriftDecompositionTests
{
    private const double Utilization = 0.6;

    // A plan for Llama-3.1-70B on H100 at the scale the model gives (GPU-s per token on 8-GPU instances):
    // 4000 input tokens = 45 % uncached, 10 % HBM, 30 % DRAM, 10 % SSD, 5 % remote; 500 output tokens of which 200 reasoning.
    private static WorkloadPlan Plan => new()
    {
        Source = "test", RequestsPerSecond = 10, SuccessRate = 0.95, Utilization = Utilization,
        InputTokens = 4000, OutputTokens = 500, ReasoningTokens = 200,
        HitRateHbm = 0.10, HitRateDram = 0.30, HitRateLocalSsd = 0.10, HitRateRemote = 0.05,
        PrefillGpuSecondsPerToken = 3.6e-4, LoadHbmGpuSecondsPerToken = 1e-7, LoadDramGpuSecondsPerToken = 5.3e-5,
        LoadLocalSsdGpuSecondsPerToken = 3.8e-4, LoadRemoteGpuSecondsPerToken = 1.1e-3, DecodeGpuSecondsPerToken = 1.85e-3,
        FixedUsdPerGpuSecond = 4.2e-4, EnergyUsdPerBusyGpuSecond = 2.0e-5,
    };

    private static EfficiencyProfile Planned => EfficiencyProfile.FromPlan(Plan);

    private static double LnSpsRatio(EfficiencyProfile realized, EfficiencyProfile predicted) =>
        Math.Log(realized.SpendPerSuccess(Utilization)!.Value / predicted.SpendPerSuccess(Utilization)!.Value);

    private static void OnlyNonZero(DriftResult result, string factor)
    {
        foreach (var (name, value) in result.Factors)
        {
            if (name != factor) Assert.True(Math.Abs(value) < 1e-12, $"{name} = {value} (only {factor} moved)");
        }
    }

    // ---- (a) exactness over random pairs -----------------------------------------------------------------------------

    [Fact]
    public void Decompose_RandomProfilePairs_FactorsSumToLogOfSpendPerSuccessRatio()
    {
        // LMDI-I is exact: Σ factors = ln(SPS_r / SPS_p) for every pair, including components (tokens or GPU-s/token)
        // that are zero on one side, where the component's whole contribution (b₁ − b₀)/L(B₁, B₀) goes to one factor.
        var random = new Random(20261204);
        var zeroComponents = 0;
        for (var i = 0; i < 2000; i++)
        {
            var utilization = 0.1 + 0.85 * random.NextDouble();
            var predicted = RandomProfile(random);
            var realized = RandomProfile(random);
            if (i % 3 == 0) realized = Perturb(realized, predicted, random);
            zeroComponents += CountZeroOnOneSide(realized, predicted);

            var result = DriftDecomposition.Decompose(realized, predicted, utilization);

            var expected = Math.Log(realized.SpendPerSuccess(utilization)!.Value / predicted.SpendPerSuccess(utilization)!.Value);
            Assert.True(Math.Abs(expected - result.Factors.Values.Sum()) <= 1e-9, $"case {i}: Σ factors {result.Factors.Values.Sum():R} vs ln ratio {expected:R}");
            Assert.True(Math.Abs(expected - result.LogRatio) <= 1e-9, $"case {i}: LogRatio {result.LogRatio:R} vs {expected:R}");
            Assert.Equal(DriftFactor.All.Count, result.Factors.Count);
            Assert.True(result.Factors.Values.All(double.IsFinite), $"case {i}: a factor is not finite");
        }

        // The generator hits the one-sided-zero paths often (not just by luck).
        Assert.True(zeroComponents > 500, $"only {zeroComponents} one-sided zero components");
    }

    private static EfficiencyProfile RandomProfile(Random random)
    {
        ComponentWork Component(double tokensScale, double speedScale)
        {
            var roll = random.NextDouble();
            var tokens = roll < 0.15 ? 0 : tokensScale * (0.05 + random.NextDouble());
            var speed = roll is >= 0.15 and < 0.25 ? 0 : speedScale * (0.05 + random.NextDouble());
            return new ComponentWork(tokens, speed);
        }

        while (true)
        {
            var prefill = Component(2000, 4e-4);
            var hbm = Component(500, 1e-7);
            var dram = Component(1500, 5e-5);
            var ssd = Component(500, 4e-4);
            var remote = Component(300, 1e-3);
            var decode = Component(800, 2e-3);
            var profile = new EfficiencyProfile
            {
                Requests = 1,
                SuccessRate = 0.2 + 0.8 * random.NextDouble(),
                InputTokens = prefill.Tokens + hbm.Tokens + dram.Tokens + ssd.Tokens + remote.Tokens,
                ReasoningTokens = decode.Tokens * random.NextDouble(),
                Prefill = prefill, LoadHbm = hbm, LoadDram = dram, LoadLocalSsd = ssd, LoadRemote = remote, Decode = decode,
                FixedUsdPerGpuSecond = 4e-4 * (0.2 + random.NextDouble()),
                EnergyUsdPerBusyGpuSecond = random.NextDouble() < 0.1 ? 0 : 2e-5 * (0.2 + random.NextDouble()),
                Utilization = 0.6,
            };
            if (profile.BusyGpuSecondsPerRequest > 0) return profile;
        }
    }

    // Small moves of a copy of the other side, so near-equal components (the LogMean limit) are exercised too.
    private static EfficiencyProfile Perturb(EfficiencyProfile source, EfficiencyProfile basis, Random random)
    {
        ComponentWork Nudge(ComponentWork c) => random.NextDouble() < 0.5 ? c : new ComponentWork(c.Tokens * (1 + 1e-13 * random.NextDouble()), c.GpuSecondsPerToken * (1 + 0.1 * (random.NextDouble() - 0.5)));
        var moved = basis with
        {
            Prefill = Nudge(basis.Prefill), LoadDram = Nudge(basis.LoadDram), Decode = Nudge(basis.Decode),
            SuccessRate = random.NextDouble() < 0.5 ? basis.SuccessRate : source.SuccessRate,
        };
        return moved with { InputTokens = moved.Prefill.Tokens + moved.LoadHbm.Tokens + moved.LoadDram.Tokens + moved.LoadLocalSsd.Tokens + moved.LoadRemote.Tokens };
    }

    private static int CountZeroOnOneSide(EfficiencyProfile r, EfficiencyProfile p)
    {
        var pairs = new[] { (r.Prefill, p.Prefill), (r.LoadHbm, p.LoadHbm), (r.LoadDram, p.LoadDram), (r.LoadLocalSsd, p.LoadLocalSsd), (r.LoadRemote, p.LoadRemote), (r.Decode, p.Decode) };
        return pairs.Count(x => (x.Item1.GpuSeconds > 0) != (x.Item2.GpuSeconds > 0));
    }

    // ---- (b)–(g) one factor at a time --------------------------------------------------------------------------------

    [Fact]
    public void Decompose_DecodeTwelvePercentSlower_DecodeSpeedIsTheTopFactor()
    {
        // Only decode GPU-s/token moves, ×1.12. Decode GPU-s per request b_d: 500 · 1.85e-3 = 0.925 → 1.036.
        // LMDI: decode_speed = L(b_d₁, b_d₀) / L(B₁, B₀) · ln 1.12 — the log change weighted by decode's (log-mean)
        // share of busy time — and since nothing else moves, that is ln(B₁/B₀) = ln(SPS₁/SPS₀).
        var predicted = Planned;
        var realized = predicted with { Decode = predicted.Decode with { GpuSecondsPerToken = predicted.Decode.GpuSecondsPerToken * 1.12 } };

        var result = DriftDecomposition.Decompose(realized, predicted, Utilization);

        var bd0 = 500 * 1.85e-3;
        var bd1 = bd0 * 1.12;
        var b0 = predicted.BusyGpuSecondsPerRequest;
        var b1 = b0 - bd0 + bd1;
        Near(DriftDecomposition.LogMean(bd1, bd0) / DriftDecomposition.LogMean(b1, b0) * Math.Log(1.12), result.Factors[DriftFactor.DecodeSpeed], 1e-12);
        Near(LnSpsRatio(realized, predicted), result.Factors[DriftFactor.DecodeSpeed], 1e-12);
        Assert.Equal(DriftFactor.DecodeSpeed, result.TopFactor);
        OnlyNonZero(result, DriftFactor.DecodeSpeed);
        Assert.Contains("decode 12% slower", result.Explanation, StringComparison.Ordinal);
        Near(b1 / b0 - 1, result.DriftRatio, 1e-12);
    }

    [Fact]
    public void Decompose_DeeperReasoning_OutputLengthIsTheTopFactor()
    {
        // Reasoning 200 → 400 tokens, so output 500 → 700 (+40 %); decode GPU-s/token unchanged.
        // output_length = L(b_d₁, b_d₀)/L(B₁, B₀) · ln(700/500) = ln(B₁/B₀).
        var predicted = Planned;
        var realized = predicted with { ReasoningTokens = 400, Decode = predicted.Decode with { Tokens = 700 } };

        var result = DriftDecomposition.Decompose(realized, predicted, Utilization);

        Assert.Equal(DriftFactor.OutputLength, result.TopFactor);
        OnlyNonZero(result, DriftFactor.OutputLength);
        Near(LnSpsRatio(realized, predicted), result.Factors[DriftFactor.OutputLength], 1e-12);
        Assert.Contains("reasoning depth +100%", result.Explanation, StringComparison.Ordinal);
        Assert.Contains("output tokens per request +40%", result.Explanation, StringComparison.Ordinal);
    }

    [Fact]
    public void Decompose_DramHitRateDownTwentyPoints_CacheHitMixIsTheTopFactor()
    {
        // DRAM 30 % → 10 % of 4000 input tokens; the 800 tokens become uncached (45 % → 65 %). Per request:
        // prefill 1800 · 3.6e-4 = 0.648 → 2600 · 3.6e-4 = 0.936 GPU-s; DRAM 1200 · 5.3e-5 = 0.0636 → 400 · 5.3e-5 = 0.0212.
        // Input length and every speed are unchanged, so the whole ln(B₁/B₀) is the hit mix.
        var predicted = Planned;
        var realized = EfficiencyProfile.FromPlan(Plan with { HitRateDram = 0.10 });

        var result = DriftDecomposition.Decompose(realized, predicted, Utilization);

        Near(0.936, realized.Prefill.GpuSeconds, 1e-12);
        Assert.Equal(DriftFactor.CacheHitMix, result.TopFactor);
        OnlyNonZero(result, DriftFactor.CacheHitMix);
        Near(LnSpsRatio(realized, predicted), result.Factors[DriftFactor.CacheHitMix], 1e-12);
        Assert.True(result.Factors[DriftFactor.CacheHitMix] > 0);
        Assert.Contains("DRAM tier hit rate -20.0 points (10.0% vs 30.0%)", result.Explanation, StringComparison.Ordinal);
    }

    [Fact]
    public void Decompose_LongerInputSameShares_InputLengthIsTheTopFactor()
    {
        // 4000 → 4400 input tokens (+10 %), same shares: every prefill-side component's tokens ×1.1, so
        // input_length = Σ L(bᵢ₁, bᵢ₀)/L(B₁, B₀) · ln 1.1 over the five prefill-side components, and the hit mix stays 0.
        var predicted = Planned;
        var realized = EfficiencyProfile.FromPlan(Plan with { InputTokens = 4400 });

        var result = DriftDecomposition.Decompose(realized, predicted, Utilization);

        Assert.Equal(DriftFactor.InputLength, result.TopFactor);
        Near(LnSpsRatio(realized, predicted), result.Factors[DriftFactor.InputLength], 1e-9);
        Assert.True(Math.Abs(result.Factors[DriftFactor.CacheHitMix]) < 1e-12);
        Assert.Contains("input tokens per request +10%", result.Explanation, StringComparison.Ordinal);
    }

    [Fact]
    public void Decompose_SuccessRateDown_SuccessRateIsTheTopFactor()
    {
        // 95 % → 80 %: requests per success ×0.95/0.80, success_rate = −ln(0.80/0.95) = 0.17185.
        var predicted = Planned;
        var realized = predicted with { SuccessRate = 0.80 };

        var result = DriftDecomposition.Decompose(realized, predicted, Utilization);

        Near(Math.Log(0.95 / 0.80), result.Factors[DriftFactor.SuccessRate], 1e-12);
        Assert.Equal(DriftFactor.SuccessRate, result.TopFactor);
        OnlyNonZero(result, DriftFactor.SuccessRate);
        Assert.Contains("success rate 80.0% vs 95.0% planned", result.Explanation, StringComparison.Ordinal);
    }

    [Fact]
    public void Decompose_PriceUpTwentyFivePercent_PriceIsTheTopFactor()
    {
        // $ per busy GPU-s k = fixed/U + energy = 4.2e-4/0.6 + 2e-5 = 7.2e-4 → 5.25e-4/0.6 + 2e-5 = 8.95e-4.
        // price = (fixed₁ − fixed₀)/U / L(k₁, k₀) = ln(k₁/k₀) = ln(8.95/7.2) (energy did not move) — a bit under ln 1.25.
        var predicted = Planned;
        var realized = predicted with { FixedUsdPerGpuSecond = predicted.FixedUsdPerGpuSecond * 1.25 };

        var result = DriftDecomposition.Decompose(realized, predicted, Utilization);

        Near(Math.Log(8.95e-4 / 7.2e-4), result.Factors[DriftFactor.Price], 1e-12);
        Assert.Equal(DriftFactor.Price, result.TopFactor);
        OnlyNonZero(result, DriftFactor.Price);
        Assert.Contains("price: $ per GPU-second +25%", result.Explanation, StringComparison.Ordinal);
    }

    [Fact]
    public void Decompose_SlowerPrefillDramLoadsAndDearerEnergy_EachToItsOwnFactor()
    {
        // Prefill GPU-s/token ×1.3, DRAM load GPU-s/token ×1.5, energy $/busy GPU-s ×2: three factors, each the
        // (log-mean weighted) log of its own ratio, together exactly ln(SPS₁/SPS₀); the explanation lists the top three.
        var predicted = Planned;
        var realized = predicted with
        {
            Prefill = predicted.Prefill with { GpuSecondsPerToken = predicted.Prefill.GpuSecondsPerToken * 1.3 },
            LoadDram = predicted.LoadDram with { GpuSecondsPerToken = predicted.LoadDram.GpuSecondsPerToken * 1.5 },
            EnergyUsdPerBusyGpuSecond = predicted.EnergyUsdPerBusyGpuSecond * 2,
        };

        var result = DriftDecomposition.Decompose(realized, predicted, Utilization);

        Near(LnSpsRatio(realized, predicted), result.Factors.Values.Sum(), 1e-12);
        // Energy: k = 7.2e-4 → 7.4e-4 per busy GPU-s, all of it energy: ln(7.4/7.2).
        Near(Math.Log(7.4e-4 / 7.2e-4), result.Factors[DriftFactor.Energy], 1e-12);
        var b0 = predicted.BusyGpuSecondsPerRequest;
        var b1 = realized.BusyGpuSecondsPerRequest;
        Near(DriftDecomposition.LogMean(0.648 * 1.3, 0.648) / DriftDecomposition.LogMean(b1, b0) * Math.Log(1.3), result.Factors[DriftFactor.PrefillSpeed], 1e-12);
        Near(DriftDecomposition.LogMean(0.0636 * 1.5, 0.0636) / DriftDecomposition.LogMean(b1, b0) * Math.Log(1.5), result.Factors[DriftFactor.KvLoadSpeed], 1e-12);
        Assert.Equal(DriftFactor.PrefillSpeed, result.TopFactor);
        Assert.Contains("prefill 30% slower than planned", result.Explanation, StringComparison.Ordinal);
        Assert.Contains("KV loads from DRAM 50% slower per token than planned", result.Explanation, StringComparison.Ordinal);
        Assert.Contains("energy: $ per busy GPU-second +100%", result.Explanation, StringComparison.Ordinal);
    }

    [Fact]
    public void Decompose_IdenticalProfiles_AllZeroOnPlan()
    {
        var result = DriftDecomposition.Decompose(Planned, Planned, Utilization);

        Assert.All(result.Factors.Values, v => Assert.Equal(0, v));
        Assert.Equal(0, result.LogRatio);
        Assert.Equal(0, result.DriftRatio);
        Assert.Equal("", result.TopFactor);
        Assert.StartsWith("on plan", result.Explanation, StringComparison.Ordinal);
    }

    [Fact]
    public void LogMean_HandValues()
    {
        // L(2, 1) = (2 − 1)/ln 2 = 1.442695…; L(a, a) = a; L(a, 0) = 0 (no logarithm).
        Near(1 / Math.Log(2), DriftDecomposition.LogMean(2, 1), 1e-15);
        Assert.Equal(3.5, DriftDecomposition.LogMean(3.5, 3.5));
        Assert.Equal(0, DriftDecomposition.LogMean(3.5, 0));
    }

    [Fact]
    public void FromPlan_ToPlan_RoundTrips()
    {
        var plan = EfficiencyProfile.FromPlan(Plan).ToPlan("test", 10);

        Assert.Equal(Plan with { }, plan with { HitRateDram = Plan.HitRateDram, HitRateHbm = Plan.HitRateHbm, HitRateLocalSsd = Plan.HitRateLocalSsd, HitRateRemote = Plan.HitRateRemote });
        Near(0.30, plan.HitRateDram, 1e-12);
        Near(0.05, plan.HitRateRemote, 1e-12);
    }
}
