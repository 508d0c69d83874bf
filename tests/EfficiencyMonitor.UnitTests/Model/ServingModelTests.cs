using EfficiencyMonitor.Core.Catalog;
using EfficiencyMonitor.Core.Model;
using static EfficiencyMonitor.UnitTests.Model.ModelTestData;

namespace EfficiencyMonitor.UnitTests.Model;

/// <summary>MODEL.md §3 term by term on Llama-3.1-70B / H100 SXM, every expected figure worked by hand in a comment.</summary>
public sealed class ServingModelTests
{
    // Shorthands used in the comments: P_act = 70.6e9, L·d_attn = 80·(64·128) = 80·8192, kvb = 327,680 B,
    // g·Peak·MFU_pf = 8 · 989e12 · 0.4 = 3.1648e15 FLOP/s.
    private const double Kvb = 327_680;
    private const double PrefillFlopsPerS = 8 * 989e12 * 0.4;

    // ---- 1. KV bytes per token -------------------------------------------------------------------------------------

    [Fact]
    public void KvBytesPerToken_Llama70BFp16_IsTwoTimesLayersKvHeadsHeadDimBytes()
    {
        // 2 (K and V) · 80 layers · 8 KV heads · 128 head_dim · 2 bytes (FP16/BF16) = 327,680 B exactly.
        Assert.Equal(2.0 * 80 * 8 * 128 * 2, 327_680.0);
        Assert.Equal(327_680.0, Llama70B.EffectiveKvBytesPerToken());
        Assert.Equal(327_680.0, Build().KvBytesPerToken);
    }

    [Fact]
    public void KvBytesPerToken_ExplicitFigure_OverridesTheFormula()
    {
        // DeepSeek-V3's latent cache: (512 + 64) elements · 61 layers · 2 B = 70,272 B, whatever the head shape says.
        var model = Llama70B with { KvBytesPerToken = 70_272, KvCompressionRatio = 10 };

        Assert.Equal(70_272.0, model.EffectiveKvBytesPerToken());
        Assert.Equal(70_272.0, new ServingModel(Deployment(), model, H100).KvBytesPerToken);
    }

    [Fact]
    public void KvBytesPerToken_CompressionRatio_Divides()
    {
        // 327,680 / 4 = 81,920 B.
        var model = Llama70B with { KvCompressionRatio = 4 };

        Assert.Equal(81_920.0, model.EffectiveKvBytesPerToken());
    }

    // ---- 2. Prefill FLOPs and time -----------------------------------------------------------------------------------

    [Fact]
    public void PrefillFlops_NoPrefix_IsDenseMatmulsPlusCausalAttention()
    {
        // F = 2·P_act·u + 2·L·d_attn·u·(2p + u), u = 1000, p = 0:
        //   2 · 70.6e9 · 1000           = 1.412e14   (dense matmuls)
        //   2 · 80 · 8192 · 1000 · 1000 = 1.31072e12 (attention over the new tokens)
        //   F                           = 1.4251072e14
        var model = Build();

        Near(1.412e14 + 1.31072e12, model.PrefillFlops(1000, 0));
        Near(1.4251072e14, model.PrefillFlops(1000, 0));
    }

    [Fact]
    public void PrefillFlops_CachedPrefix_AttentionCoversThePrefixTwice()
    {
        // p = 4000: attention term 2 · 80 · 8192 · 1000 · (2·4000 + 1000) = 2·80·8192·1000·9000 = 1.179648e13;
        // F = 1.412e14 + 1.179648e13 = 1.5299648e14. The prefix adds attention work only, no dense work.
        var model = Build();

        Near(1.412e14 + 2.0 * 80 * 8192 * 1000 * 9000, model.PrefillFlops(1000, 4000));
        Near(1.5299648e14, model.PrefillFlops(1000, 4000));
        Near(2.0 * 80 * 8192 * 1000 * 8000, model.PrefillFlops(1000, 4000) - model.PrefillFlops(1000, 0));
    }

    [Fact]
    public void PrefillSeconds_IsFlopsOverInstancePeakTimesMfu()
    {
        // t_pf = F / (g·Peak·MFU) = 1.4251072e14 / (8 · 989e12 · 0.4 = 3.1648e15) = 0.045029929… s;
        // with the 4000-token prefix 1.5299648e14 / 3.1648e15 = 0.048343… s.
        var model = Build();

        Near(1.4251072e14 / 3.1648e15, model.PrefillSeconds(1000, 0));
        Near(0.0450299292214358, model.PrefillSeconds(1000, 0), 1e-12);
        Near(1.5299648e14 / 3.1648e15, model.PrefillSeconds(1000, 4000));
        Near(model.PrefillSeconds(1000, 4000), model.RecomputeSeconds(1000, 4000));
    }

    // ---- 3. Tier loads and the break-even bandwidth ------------------------------------------------------------------

    [Fact]
    public void TierLoadSeconds_Dram_IsLatencyPlusBytesOverBandwidth()
    {
        // DRAM 50 GB/s, 0.2 ms: 1000 tokens = 327.68e6 B → 0.2e-3 + 327.68e6 / 50e9 = 0.2e-3 + 6.5536e-3 = 6.7536e-3 s.
        var model = Build();

        Near(0.2e-3 + 327.68e6 / 50e9, model.TierLoadSeconds(KvTier.Dram, 1000));
        Near(6.7536e-3, model.TierLoadSeconds(KvTier.Dram, 1000));
        Assert.Equal(0, model.TierLoadSeconds(KvTier.Dram, 0));
        // HBM: no latency, the instance's 8 · 3.35e12 B/s: 327.68e6 / 2.68e13 = 1.22268…e-5 s.
        Near(327.68e6 / 2.68e13, model.TierLoadSeconds(KvTier.Hbm, 1000));
    }

    [Fact]
    public void BreakEvenBandwidth_LoadAtItEqualsRecompute_FasterTierWins()
    {
        // Recomputing 1000 tokens with no prefix before them: 0.0450299… s (test above).
        // BW* = C·kvb / (t_recompute − latency) = 327.68e6 / (0.0450299292 − 0.0002) = 7.3094…e9 B/s (≈ 7.3 GB/s):
        // the catalog's 50 GB/s DRAM beats recomputing by far.
        var model = Build();
        var recompute = model.RecomputeSeconds(1000, 0);
        var breakEven = model.BreakEvenBandwidth(KvTier.Dram, 1000, 0);

        Near(327.68e6 / (recompute - 0.2e-3), breakEven);
        Near(7.309402573031882e9, breakEven, 1e-9);

        // A DRAM tier at exactly BW* loads in exactly the recompute time.
        var atBreakEven = ModelWithDram(breakEven / Units.BytesPerGb);
        Near(recompute, atBreakEven.TierLoadSeconds(KvTier.Dram, 1000), 1e-9);

        // Faster than BW* (the catalog's 50 GB/s, or BW*·1.01) loads faster; slower recomputes faster.
        Assert.True(model.TierLoadSeconds(KvTier.Dram, 1000) < recompute);
        Assert.True(ModelWithDram(breakEven * 1.01 / Units.BytesPerGb).TierLoadSeconds(KvTier.Dram, 1000) < recompute);
        Assert.True(ModelWithDram(breakEven * 0.99 / Units.BytesPerGb).TierLoadSeconds(KvTier.Dram, 1000) > recompute);
    }

    [Fact]
    public void BreakEvenBandwidth_LatencyAboveRecompute_IsInfinite()
    {
        // One token recomputes in (2·70.6e9 + 2·80·8192·1) / 3.1648e15 = 4.46…e-5 s, less than the remote tier's 4 ms
        // first byte: no bandwidth makes loading it worth it.
        var model = Build();

        Assert.True(model.RecomputeSeconds(1, 0) < 4e-3);
        Assert.Equal(double.PositiveInfinity, model.BreakEvenBandwidth(KvTier.Remote, 1, 0));
        Assert.True(double.IsNaN(model.BreakEvenBandwidth(KvTier.Remote, 0, 0)));
    }

    // ---- 4. Decode roofline -------------------------------------------------------------------------------------------

    [Fact]
    public void DecodeStepTime_MemoryBoundBelowCriticalBatch_ComputeBoundAbove()
    {
        // MBU = MFU = 1, g = 8, ctx = 100. Per step:
        //   memory  = (W + B·kvb·ctx) / (g·BW),  W = 70.6e9 · 2 B = 1.412e11 B, g·BW = 2.68e13 B/s
        //   compute = 2·P_act·B / (g·Peak),      g·Peak = 7.912e15 FLOP/s
        // Equal at B* = W/(g·BW) / (2·P_act/(g·Peak) − kvb·ctx/(g·BW)); multiplying through by g·BW, g cancels:
        //   B* = W / (2·P_act·BW/Peak − kvb·ctx) = 1.412e11 / (1.412e11 · 3.35/989 − 327,680 · 100)
        //      = 1.412e11 / (4.78281…e8 − 3.2768e7) = 1.412e11 / 4.45513…e8 = 316.94
        // (with ctx → 0 it is Peak/BW = 295.2 FLOP/B, the ridge; the KV reads push it up).
        var model = Build(Serving with { DecodeMbu = 1, DecodeMfu = 1 });
        var expected = 1.412e11 / (1.412e11 * 3.35 / 989 - 327_680.0 * 100);

        var critical = model.CriticalBatch(100);

        Near(expected, critical, 1e-12);
        Assert.Equal(316, Math.Floor(critical));
        Assert.True(model.DecodeStepTime(Math.Floor(critical) - 1, 100).MemoryBound);
        Assert.False(model.DecodeStepTime(Math.Ceiling(critical) + 1, 100).MemoryBound);
        // At B* both roofs meet: (1.412e11 + B*·3.2768e7) / 2.68e13 = 2·70.6e9·B* / 7.912e15.
        Near((1.412e11 + critical * 3.2768e7) / 2.68e13, 1.412e11 * critical / 7.912e15, 1e-12);
        Near(1.412e11 * 320 / 7.912e15, model.DecodeStepTime(320, 100).Seconds);
        Near(64 / ((1.412e11 + 64 * 3.2768e7) / 2.68e13), model.DecodeTokensPerSecond(64, 100));
    }

    [Fact]
    public void CriticalBatch_LongContext_NeverLeavesTheMemoryRoof()
    {
        // The KV term per sequence (kvb·ctx/BW) outgrows its compute (2·P_act/Peak) once
        // ctx > 2·P_act·BW/(Peak·kvb) = 4.78281e8 / 327,680 = 1459.6 tokens: at 32k every batch is memory-bound.
        var model = Build(Serving with { DecodeMbu = 1, DecodeMfu = 1 });

        Assert.Equal(double.PositiveInfinity, model.CriticalBatch(32_768));
        Assert.True(model.DecodeStepTime(65_536, 32_768).MemoryBound);
        Assert.True(double.IsFinite(model.CriticalBatch(1459)));
        Assert.Equal(double.PositiveInfinity, model.CriticalBatch(1460));
    }

    // ---- 5. Busy GPU-seconds, transfer, energy ------------------------------------------------------------------------

    private static RequestClass HandClass => new()
    {
        Count = 1, Uncached = 1000, CachedHbm = 500, CachedDram = 2000, LoadsDram = 1, CachedLocalSsd = 1000, LoadsLocalSsd = 0.5, Output = 200,
    };

    [Fact]
    public void Evaluate_HandClass_BusyGpuSecondsPerComponent()
    {
        // u = 1000, p = 500 (HBM) + 2000 (DRAM) + 1000 (SSD) = 3500, D = 200; g_pf = g_dec = 8, B = 64.
        // Prefill: F = 1.412e14 + 2·80·8192·1000·(7000 + 1000) = 1.412e14 + 1.048576e13 = 1.5168576e14;
        //   t_pf = F / 3.1648e15 = 0.0479290… s → 8 · t_pf GPU-s.
        // HBM: 500 · 327,680 / (8 · 3.35e12) = 6.1134…e-6 s (no latency).
        // DRAM: every request loads (share 1): 0.2e-3 + 2000 · 327,680 / 50e9 = 0.2e-3 + 13.1072e-3 = 13.3072e-3 s.
        // SSD: half the requests load (share 0.5): 0.5 · 1e-3 + 1000 · 327,680 / 7e9 = 0.5e-3 + 46.8114…e-3 s.
        // Decode: ctx = u + p + D/2 = 4600; memory = (1.412e11 + 64 · 327,680 · 4600) / (8 · 3.35e12 · 0.6)
        //   = (1.412e11 + 9.6469e10) / 1.608e13 = 0.0147804… s; compute = 2·70.6e9·64 / (8·989e12·0.5) = 2.284…e-3 s
        //   → memory-bound; decode GPU-s = g_dec · D · t_step / B = 8 · 200 · 0.0147804 / 64 = 0.369510… GPU-s.
        // Busy = 8·(0.0479290 + 6.11e-6 + 0.0133072 + 0.0473114) + 0.3695102 = 1.23794… GPU-s.
        var model = Build();

        var w = model.Evaluate(HandClass);

        var tPf = (1.412e14 + 2.0 * 80 * 8192 * 1000 * 8000) / PrefillFlopsPerS;
        var tStep = (1.412e11 + 64 * Kvb * 4600) / (8 * 3.35e12 * 0.6);
        Near(8 * tPf, w.Prefill);
        Near(8 * 500 * Kvb / (8 * 3.35e12), w.LoadHbm);
        Near(8 * (0.2e-3 + 2000 * Kvb / 50e9), w.LoadDram);
        Near(8 * (0.5 * 1e-3 + 1000 * Kvb / 7e9), w.LoadLocalSsd);
        Assert.Equal(0, w.LoadRemote);
        Near(8 * 200 * tStep / 64, w.Decode);
        Near(8 * (tPf + 500 * Kvb / 2.68e13 + 13.3072e-3 + 0.5e-3 + 1000 * Kvb / 7e9) + 8 * 200 * tStep / 64, w.Busy);
        Near(1.2379403384809307, w.Busy, 1e-12);
        Assert.True(model.DecodeStepTime(64, 4600).MemoryBound);
        Near(tStep, model.DecodeStepTime(64, 4600).Seconds);
        // Aggregated: the KV never leaves the instance.
        Assert.Equal(0, w.TransferSeconds);
        Assert.Equal(0, w.TransferBytes);
    }

    [Fact]
    public void Evaluate_SeparatePoolSizes_PrefillOnGPfDecodeOnGDec()
    {
        // g_pf = 4 (prefill at 4 · 989e12 · 0.4), g_dec = 16: prefill GPU-s = 4 · F / (4·989e12·0.4) = F / (989e12·0.4),
        // i.e. the same GPU-seconds as with 8 GPUs (twice the time on half the GPUs); decode = 16 · D · t_step(16 GPUs) / B.
        var model = Build(Serving with { PrefillGpusPerInstance = 4, DecodeGpusPerInstance = 16 });

        var w = model.Evaluate(HandClass);

        Near(4 * (1.412e14 + 2.0 * 80 * 8192 * 1000 * 8000) / (4 * 989e12 * 0.4), w.Prefill);
        Near(4 * (0.2e-3 + 2000 * Kvb / 50e9), w.LoadDram);
        Near(16 * 200 * ((1.412e11 + 64 * Kvb * 4600) / (16 * 3.35e12 * 0.6)) / 64, w.Decode);
    }

    [Fact]
    public void Evaluate_Disaggregated_ShipsTheWholeContextOverTheNetwork()
    {
        // (u + p) · kvb / BW_net = 4500 · 327,680 / 50e9 = 1.47456e9 B / 50e9 B/s = 0.0294912 s.
        var model = Build(Serving with { Disaggregated = true }, network: true);

        var w = model.Evaluate(HandClass);

        Near(4500 * Kvb, w.TransferBytes);
        Near(0.0294912, w.TransferSeconds);
        Near(0.0294912, model.TransferSeconds(4500));
        Assert.Equal(0, Build().TransferSeconds(4500));
        // Transfer is wall time on the network, not busy GPU time.
        Near(Build().Evaluate(HandClass).Busy, w.Busy);
    }

    [Fact]
    public void Evaluate_WeightedSum_AddsPerRequestWork()
    {
        var model = Build();
        var total = default(RequestWork);

        total.Add(model.Evaluate(HandClass), 3);
        total.Add(model.Evaluate(HandClass with { CachedDram = 0, LoadsDram = 0 }), 2);

        Near(3 * 8 * (0.2e-3 + 2000 * Kvb / 50e9), total.LoadDram);
        Near(3 * model.Evaluate(HandClass).Busy + 2 * model.Evaluate(HandClass with { CachedDram = 0, LoadsDram = 0 }).Busy, total.Busy);
    }

    [Fact]
    public void ItEnergyJoules_IdleOverProvisionedPlusDynamicOverBusyPlusHost()
    {
        // 3600 provisioned GPU-s, 1800 busy: 90 W · 3600 + (700 − 90) W · 1800 + 300 W · 3600
        //   = 324,000 + 1,098,000 + 1,080,000 = 2,502,000 J.
        var model = Build();

        Near(2_502_000, model.ItEnergyJoules(3600, 1800));
        // Busy time above provisioned is capped (the GPUs cannot draw TDP longer than they exist).
        Near(90.0 * 3600 + 610 * 3600 + 300 * 3600, model.ItEnergyJoules(3600, 5000));
    }

    [Fact]
    public void Constructor_MissingServingOrPrecision_ThrowsCatalogExceptionNamingTheDeployment()
    {
        var noServing = Deployment() with { Serving = null };
        var e = Assert.Throws<CatalogException>(() => new ServingModel(noServing, Llama70B, H100));
        Assert.Contains("llama-70b-chat-prod", e.Message, StringComparison.Ordinal);

        var fp4 = Deployment(Serving with { Precision = "fp4" });
        e = Assert.Throws<CatalogException>(() => new ServingModel(fp4, Llama70B, H100));
        Assert.Contains("'fp4'", e.Message, StringComparison.Ordinal);
        Assert.Contains("llama-70b-chat-prod", e.Message, StringComparison.Ordinal);

        // A catalog read back from stored JSON is not re-validated: a null precision must still be a CatalogException
        // (it was an ArgumentNullException from Dictionary.TryGetValue).
        var none = Deployment(Serving with { Precision = null! });
        e = Assert.Throws<CatalogException>(() => new ServingModel(none, Llama70B, H100));
        Assert.Contains("llama-70b-chat-prod", e.Message, StringComparison.Ordinal);
    }

    private static ServingModel ModelWithDram(double gbPerS)
    {
        var d = Deployment();
        return new ServingModel(d with { Tiers = d.Tiers with { Dram = d.Tiers.Dram! with { BandwidthGbPerS = gbPerS } } }, Llama70B, H100);
    }
}
