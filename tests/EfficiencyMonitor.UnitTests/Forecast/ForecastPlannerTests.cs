using EfficiencyMonitor.Core.Catalog;
using EfficiencyMonitor.Core.Model;
using EfficiencyMonitor.Jobs.Catalog;
using static EfficiencyMonitor.UnitTests.Forecast.ForecastTestData;

namespace EfficiencyMonitor.UnitTests.Forecast;

public sealed class ForecastPlannerTests
{
    private static ServingModel Model(CostCatalog catalog, string gpu = "G1")
    {
        var d = catalog.Deployments[0];
        return new ServingModel(d, catalog.Models[0], catalog.Hardware.Single(h => h.GpuType == gpu));
    }

    private static void Near(double expected, double actual, double relative = 1e-9) =>
        Assert.True(Math.Abs(expected - actual) <= relative * Math.Max(Math.Abs(expected), 1e-300), $"expected {expected}, got {actual}");

    [Fact]
    public void Evaluate_OneClassNoCache_PlanComponentsAreTheModelsWorkPerToken()
    {
        var catalog = Catalog();
        var spec = Spec();

        var e = ForecastPlanner.Evaluate(spec, catalog, At);

        var w = Model(catalog).Evaluate(new RequestClass { Count = 10, Uncached = 2000, Output = 400 });
        Near(w.Prefill / 2000, e.Plan.PrefillGpuSecondsPerToken);
        Near(w.Decode / 400, e.Plan.DecodeGpuSecondsPerToken);
        Assert.Equal(0, e.Plan.LoadDramGpuSecondsPerToken);
        Assert.Equal(0, e.Plan.HitRateDram);
        Near(2000, e.Plan.InputTokens);
        Near(400, e.Plan.OutputTokens);
        Near(0.9, e.Plan.SuccessRate);
        Near(0.5, e.Plan.Utilization);
        Near(w.Busy, e.WorkPerRequest.Busy);

        // Prefill by hand: F = 2·P·u + 2·L·d_attn·u·(2p + u) over one GPU's peak × MFU (g cancels: g GPUs for F/(g·Peak·MFU)).
        var flops = 2 * 70e9 * 2000 + 2.0 * 80 * 64 * 128 * 2000 * 2000;
        Near(flops / (1000e12 * 0.4), w.Prefill);
    }

    [Fact]
    public void Evaluate_Utilization_PricesFollowTheCatalogAndSpendPerSuccessIsTheProductFormula()
    {
        var catalog = Catalog();
        var e = ForecastPlanner.Evaluate(Spec(), catalog, At);

        var w = Model(catalog).Evaluate(new RequestClass { Count = 10, Uncached = 2000, Output = 400 });
        var busy = 10 * w.Busy;
        var fleet = busy / 0.5;
        Near(busy, e.BusyGpus);
        Near(fleet, e.FleetGpus);
        var fixedRate = 3.6 / 3600 + (700 + 200) / 1000.0 * 150 / Units.SecondsPerMonth + (1000 * 2 + 10000 * 0.1) / Units.SecondsPerMonth / fleet;
        Near(fixedRate, e.Plan.FixedUsdPerGpuSecond);
        var energyPerS = (100 * fleet + 600 * busy + 200 * fleet) * 1.25 / 3.6e6 * 0.1;
        Near(energyPerS / busy, e.Plan.EnergyUsdPerBusyGpuSecond);

        var expected = w.Busy * (fixedRate / 0.5 + energyPerS / busy) / 0.9;
        Near(expected, e.SpendPerSuccessUsd!.Value);
        // The same as the fleet's spend rate over successful outputs per second.
        Near((fixedRate * fleet + energyPerS) / (10 * 0.9), e.SpendPerSuccessUsd!.Value);
        Near((fixedRate * fleet + energyPerS) * 3600, e.SpendUsdPerHour);
        Assert.Equal(e.SpendPerSuccessUsd, EfficiencyProfile.FromPlan(ForecastPlanner.ToPlan(Spec(), catalog, At)).SpendPerSuccess(0.5));
        Assert.Equal(0, e.GpusNeeded % 4);
        Assert.True(e.GpusNeeded >= fleet && e.GpusNeeded < fleet + 4);
    }

    [Fact]
    public void Evaluate_Fleet_UtilizationIsBusyOverGpusAndAnOverloadedFleetIsNoted()
    {
        var catalog = Catalog();
        var e = ForecastPlanner.Evaluate(Spec() with { Utilization = null, Fleet = new ForecastFleet { Gpus = 400 } }, catalog, At);

        Near(e.BusyGpus / 400, e.Plan.Utilization);
        Assert.Equal(400, e.FleetGpus);
        Assert.Empty(e.Notes);

        var small = ForecastPlanner.Evaluate(Spec() with { Utilization = null, Fleet = new ForecastFleet { Gpus = 4 } }, catalog, At);
        Assert.Contains(small.Notes, n => n.Contains("too small", StringComparison.Ordinal));
    }

    [Fact]
    public void Evaluate_MixWithCache_ProfileOfThePlanGivesBackTheModelsBusyTimeAndBreakEven()
    {
        var catalog = Catalog();
        var spec = Spec(
            new ForecastClass { Share = 0.7, InputTokens = 3000, OutputTokens = 300, HitRates = new ForecastHitRates { Hbm = 0.1, Dram = 0.4 } },
            new ForecastClass { Share = 0.3, InputTokens = 10000, OutputTokens = 800, ReasoningTokens = 200, HitRates = new ForecastHitRates { LocalSsd = 0.5 } });

        var e = ForecastPlanner.Evaluate(spec, catalog, At);

        var model = Model(catalog);
        var a = model.Evaluate(new RequestClass { Count = 7, Uncached = 1500, CachedHbm = 300, CachedDram = 1200, LoadsDram = 1, Output = 300 });
        var b = model.Evaluate(new RequestClass { Count = 3, Uncached = 5000, CachedLocalSsd = 5000, LoadsLocalSsd = 1, Output = 800 });
        var busy = 0.7 * a.Busy + 0.3 * b.Busy;
        Near(busy, e.WorkPerRequest.Busy);
        Near(busy, EfficiencyProfile.FromPlan(e.Plan).BusyGpuSecondsPerRequest);
        Near((0.7 * 1200) / (0.7 * 3000 + 0.3 * 10000), e.Plan.HitRateDram);
        Near(60, e.Plan.ReasoningTokens);

        var dram = e.BreakEven.Single(t => t.Tier == "dram");
        Near(0.7 * 1200, dram.TokensPerRequest);
        var meanPrefix = 0.7 * 1500 + 0.3 * 5000;
        Near(model.BreakEvenBandwidth(KvTier.Dram, 0.7 * 1200, meanPrefix - 0.7 * 1200) / 1e9, dram.BreakEvenGbPerS);
        Assert.Equal(50, dram.TierGbPerS);
        Assert.True(double.IsNaN(e.BreakEven.Single(t => t.Tier == "remote").BreakEvenGbPerS));
        Near(model.KvBytesPerToken, e.KvBytesPerToken);
        Near(2 * 70e9 + 4.0 * 80 * 64 * 128 * e.MeanContextTokens, e.FlopsPerToken);

        // The plan is one the catalog accepts as a deployment's plan (what calibrate stores and validation reads).
        var withPlan = catalog with { Deployments = [catalog.Deployments[0] with { Plan = e.Plan }] };
        Assert.Empty(CatalogValidator.Validate(withPlan));
    }

    [Fact]
    public void Evaluate_DeploymentWithoutServing_ListsTheFix()
    {
        var catalog = Catalog();
        catalog = catalog with { Deployments = [catalog.Deployments[0] with { Serving = null }] };

        var e = Assert.Throws<CatalogException>(() => ForecastPlanner.Evaluate(Spec(), catalog, At));
        Assert.Contains("serving", e.Message, StringComparison.Ordinal);
        Assert.Throws<CatalogException>(() => ForecastPlanner.Evaluate(Spec() with { Deployment = "nope" }, Catalog(), At));
        Assert.Throws<ForecastException>(() => ForecastPlanner.Evaluate(Spec() with { SuccessRate = 0 }, Catalog(), At));
    }

    [Fact]
    public void Disaggregated_NetworkIsPricedPerByteShippedAndSpreadOverTheFleet()
    {
        var aggregated = ForecastPlanner.Evaluate(Spec(), Catalog(disaggregated: false), At);
        var split = ForecastPlanner.Evaluate(Spec(), Catalog(disaggregated: true), At);

        // 10 req/s × 2000 tokens × kvb bytes at 0.01 $/GB, spread over the fleet.
        var kvb = 2.0 * 80 * 8 * 128 * 2;
        var networkPerS = 10 * 2000 * kvb / 1e9 * 0.01;
        var perGpu = 3.6 / 3600 + (700 + 200) / 1000.0 * 150 / Units.SecondsPerMonth;
        var tiers = (1000 * 2 + 10000 * 0.1) / Units.SecondsPerMonth;
        Near(networkPerS, split.Plan.FixedUsdPerGpuSecond * split.FleetGpus - perGpu * split.FleetGpus - tiers, 1e-6);
        Assert.Equal(0, aggregated.Plan.FixedUsdPerGpuSecond * aggregated.FleetGpus - perGpu * aggregated.FleetGpus - tiers, 12);
        Assert.Equal(8, split.GpusPerInstance);
    }

    [Fact]
    public void WhatIf_MoreDramHits_LowersPrefillWork()
    {
        var catalog = Catalog();
        var spec = Spec(new ForecastClass { Share = 1, InputTokens = 4000, OutputTokens = 300, HitRates = new ForecastHitRates { Dram = 0.2 } });
        var variant = new ForecastVariant { HitRatePoints = new Dictionary<KvTier, double> { [KvTier.Dram] = 30 } };

        var (vSpec, vCatalog) = variant.Apply(spec, catalog, At);
        var baseline = ForecastPlanner.Evaluate(spec, catalog, At);
        var changed = ForecastPlanner.Evaluate(vSpec, vCatalog, At);

        Near(0.5, vSpec.Classes[0].HitRates.Dram);
        Assert.True(changed.WorkPerRequest.Prefill < baseline.WorkPerRequest.Prefill);
        Assert.True(changed.WorkPerRequest.LoadDram > baseline.WorkPerRequest.LoadDram);
        Assert.True(changed.SpendPerSuccessUsd < baseline.SpendPerSuccessUsd);
        Assert.Equal(0.2, spec.Classes[0].HitRates.Dram); // the original is untouched

        // Clamped to the room left by the other tiers.
        var (clamped, _) = new ForecastVariant { HitRatePoints = new Dictionary<KvTier, double> { [KvTier.Dram] = 200 - 120, [KvTier.Hbm] = 30 } }.Apply(spec, catalog, At);
        Near(1.0, clamped.Classes[0].HitRates.Total);
    }

    [Fact]
    public void WhatIf_GpuTypeSwap_ChangesTheFiguresAndUnknownGpuIsAProblem()
    {
        var catalog = Catalog();
        var spec = Spec();
        var (s, c) = new ForecastVariant { GpuType = "G2" }.Apply(spec, catalog, At);

        var baseline = ForecastPlanner.Evaluate(spec, catalog, At);
        var swapped = ForecastPlanner.Evaluate(s, c, At);

        Assert.Equal("G2", swapped.GpuType);
        Assert.True(swapped.WorkPerRequest.Prefill < baseline.WorkPerRequest.Prefill); // twice the FLOP/s
        Assert.True(swapped.WorkPerRequest.Decode < baseline.WorkPerRequest.Decode); // twice the bandwidth
        Assert.NotEqual(baseline.SpendPerSuccessUsd, swapped.SpendPerSuccessUsd);
        Assert.Equal("G1", catalog.Deployments[0].Serving!.GpuType);

        var e = Assert.Throws<ForecastException>(() => new ForecastVariant { GpuType = "G9", Disaggregated = true }.Apply(spec, catalog, At));
        Assert.Equal(2, e.Problems.Count); // unknown GPU, and no network for disaggregated serving
    }

    [Fact]
    public void WhatIf_ReasoningFactorAndKvCompression()
    {
        var catalog = Catalog();
        var spec = Spec(new ForecastClass { Share = 1, InputTokens = 2000, OutputTokens = 500, ReasoningTokens = 100 });

        var (s, c) = new ForecastVariant { ReasoningFactor = 3, KvCompression = 2 }.Apply(spec, catalog, At);

        Assert.Equal(700, s.Classes[0].OutputTokens);
        Assert.Equal(300, s.Classes[0].ReasoningTokens);
        Assert.Equal(ForecastPlanner.Evaluate(spec, catalog, At).KvBytesPerToken / 2, ForecastPlanner.Evaluate(s, c, At).KvBytesPerToken);
        Assert.Contains("reasoning ×3", new ForecastVariant { ReasoningFactor = 3 }.Describe(), StringComparison.Ordinal);
    }

    [Fact]
    public void ModelFigures_KvDtypeFp8HalvesKvBytesAndLlamaIs327680()
    {
        var catalog = Catalog();
        var fp16 = ModelFigures.For(catalog, "m70", "fp16", "G1", At);
        var fp8 = ModelFigures.For(catalog, "m70", "fp8", "G1", At);

        Assert.Equal(327_680, fp16.KvBytesPerToken);
        Assert.Equal(fp16.KvBytesPerToken / 2, fp8.KvBytesPerToken);
        Assert.Equal(2 * 70e9, fp16.DenseFlopsPerToken);
        Assert.Equal(140e9, fp16.WeightBytes);
        Assert.Equal(4.0 * 80 * 64 * 128 * 1024, fp16.Contexts[0].AttentionFlopsPerToken);
        Assert.NotNull(fp16.Contexts[0].CriticalBatch);
        Assert.True(fp8.Contexts[^1].CriticalBatch >= fp8.Contexts[0].CriticalBatch);

        var embedded = CatalogFiles.LoadEmbedded().Catalog;
        var llama = ModelFigures.For(embedded, "Llama-3.1-70B-Instruct", "fp16", null, At);
        Assert.Equal(327_680, llama.KvBytesPerToken);
        Assert.Equal("H100-SXM5-80GB", llama.GpuType);
        Assert.Contains("327,680", ForecastReport.Model(llama), StringComparison.Ordinal);

        var e = Assert.Throws<ForecastException>(() => ModelFigures.For(catalog, "nope", "fp5", "G9", At));
        Assert.Equal(3, e.Problems.Count); // model, dtype and GPU, all listed
    }

    [Fact]
    public void CheckedInCatalog_EveryDeploymentHasAServingSectionTheModelAccepts()
    {
        var catalog = CatalogFiles.LoadEmbedded().Catalog;
        Assert.Equal("2026.12.3", catalog.Version);
        foreach (var d in catalog.Deployments)
        {
            var (model, _) = ForecastPlanner.Resolve(catalog, d.Name, At);
            Assert.True(model.KvBytesPerToken > 0, d.Name);
        }
    }
}
