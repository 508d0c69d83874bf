using EfficiencyMonitor.Core.Catalog;

namespace EfficiencyMonitor.Core.Model;

/// <summary>KV tiers in telemetry order (G1 HBM … G4 remote).</summary>
public enum KvTier
{
    /// <summary>GPU HBM (prefix already resident).</summary>
    Hbm = 0,

    /// <summary>Host DRAM.</summary>
    Dram = 1,

    /// <summary>Local flash.</summary>
    LocalSsd = 2,

    /// <summary>Shared remote store.</summary>
    Remote = 3,
}

/// <summary>
/// A group of similar requests, as averages per request (MODEL.md §3 symbols): <c>u</c> uncached input, <c>C_t</c> prefix
/// tokens per tier (their sum is <c>p</c>), the share of requests that load from each tier (each such load pays the
/// tier's first-byte latency once), <c>D</c> output tokens including hidden reasoning.
/// </summary>
public struct RequestClass
{
    /// <summary>Requests in the class (a weight; fractional for planned mixes).</summary>
    public double Count;

    /// <summary>Uncached input tokens per request (<c>u</c>).</summary>
    public double Uncached;

    /// <summary>Prefix tokens from HBM per request.</summary>
    public double CachedHbm;

    /// <summary>Prefix tokens from DRAM per request.</summary>
    public double CachedDram;

    /// <summary>Prefix tokens from local SSD per request.</summary>
    public double CachedLocalSsd;

    /// <summary>Prefix tokens from the remote store per request.</summary>
    public double CachedRemote;

    /// <summary>Share of requests that load from DRAM (0..1).</summary>
    public double LoadsDram;

    /// <summary>Share of requests that load from local SSD (0..1).</summary>
    public double LoadsLocalSsd;

    /// <summary>Share of requests that load from the remote store (0..1).</summary>
    public double LoadsRemote;

    /// <summary>Output tokens per request, hidden reasoning included (<c>D</c>).</summary>
    public double Output;

    /// <summary>Prefix tokens <c>p</c>.</summary>
    public readonly double Prefix => CachedHbm + CachedDram + CachedLocalSsd + CachedRemote;

    /// <summary>Input tokens <c>u + p</c>.</summary>
    public readonly double Input => Uncached + Prefix;
}

/// <summary>Busy GPU-seconds per request by component (MODEL.md §3: <c>g_pf·(t_pf + Σ t_t) + g_dec·D·t_step/B</c>).</summary>
public struct RequestWork
{
    /// <summary>Prefill compute, GPU-s.</summary>
    public double Prefill;

    /// <summary>Loading the HBM-resident prefix, GPU-s.</summary>
    public double LoadHbm;

    /// <summary>Loading from DRAM, GPU-s.</summary>
    public double LoadDram;

    /// <summary>Loading from local SSD, GPU-s.</summary>
    public double LoadLocalSsd;

    /// <summary>Loading from the remote store, GPU-s.</summary>
    public double LoadRemote;

    /// <summary>Decode, GPU-s (the request's share of each batched step).</summary>
    public double Decode;

    /// <summary>Prefill→decode KV transfer wall time, s (network, not GPU time).</summary>
    public double TransferSeconds;

    /// <summary>KV bytes shipped prefill→decode.</summary>
    public double TransferBytes;

    /// <summary>All busy GPU-seconds.</summary>
    public readonly double Busy => Prefill + LoadHbm + LoadDram + LoadLocalSsd + LoadRemote + Decode;

    /// <summary>Adds <paramref name="w"/> × <paramref name="weight"/>.</summary>
    public void Add(in RequestWork w, double weight)
    {
        Prefill += w.Prefill * weight;
        LoadHbm += w.LoadHbm * weight;
        LoadDram += w.LoadDram * weight;
        LoadLocalSsd += w.LoadLocalSsd * weight;
        LoadRemote += w.LoadRemote * weight;
        Decode += w.Decode * weight;
        TransferSeconds += w.TransferSeconds * weight;
        TransferBytes += w.TransferBytes * weight;
    }
}

/// <summary>One decode step: its time and which roof bounds it.</summary>
/// <param name="Seconds">Step time, s.</param>
/// <param name="MemoryBound">True when reading weights and KV dominates; false when the matmuls do.</param>
public readonly record struct DecodeStep(double Seconds, bool MemoryBound);

/// <summary>
/// The predictive model of MODEL.md §3 for one deployment, with every catalog figure resolved once so an evaluation is a
/// few dozen floating-point operations (no allocation): prefill roofline with the attention term, KV load per tier versus
/// recompute (break-even bandwidth), disaggregated transfer, decode roofline with batch, busy GPU-seconds and energy.
/// </summary>
public sealed class ServingModel
{
    private readonly double _activeParams;
    private readonly double _weightBytes;
    private readonly double _layersTimesAttnWidth;
    private readonly double _gPf;
    private readonly double _gDec;
    private readonly double _batch;
    private readonly double _peakFlops;
    private readonly double _hbmBytesPerS;
    private readonly double _prefillFlopsPerS;
    private readonly double _decodeFlopsPerS;
    private readonly double _decodeBytesPerS;
    private readonly double _networkBytesPerS;
    private readonly double _hbmLoadBytesPerS;
    private readonly TierPhysics _dram;
    private readonly TierPhysics _ssd;
    private readonly TierPhysics _remote;

    /// <summary>Resolves the model for <paramref name="deployment"/> from its catalog entries.</summary>
    /// <exception cref="CatalogException">The deployment has no serving section, or its GPU lacks the precision.</exception>
    public ServingModel(DeploymentEntry deployment, ModelEntry model, HardwareEntry hardware)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(hardware);
        var serving = deployment.Serving
            ?? throw new CatalogException($"deployment '{deployment.Name}' has no serving section: the model needs gpu_type, gpus per instance, decode_batch and mfu/mbu (deploy/catalog/deployments.yaml)");
        if (serving.Precision is null || !hardware.PeakDenseTflops.TryGetValue(serving.Precision, out var tflops))
            throw new CatalogException($"hardware '{hardware.GpuType}' has no peak_dense_tflops for '{serving.Precision}' (deployment '{deployment.Name}')");
        Deployment = deployment;
        Model = model;
        Hardware = hardware;
        Serving = serving;
        KvBytesPerToken = model.EffectiveKvBytesPerToken();
        _activeParams = model.ActiveParamsB * 1e9;
        // Decode streams every resident weight once per step: for a MoE at serving batch sizes nearly every expert is hit.
        _weightBytes = model.TotalParamsB * 1e9 * model.WeightBytesPerElement;
        _layersTimesAttnWidth = (double)model.Layers * model.AttentionHeads * model.HeadDim;
        _gPf = serving.PrefillGpusPerInstance;
        _gDec = serving.DecodeGpusPerInstance;
        _batch = serving.DecodeBatch;
        _peakFlops = tflops * 1e12;
        _hbmBytesPerS = hardware.HbmTbPerS * 1e12;
        _prefillFlopsPerS = _gPf * _peakFlops * serving.PrefillMfu;
        _decodeFlopsPerS = _gDec * _peakFlops * serving.DecodeMfu;
        _decodeBytesPerS = _gDec * _hbmBytesPerS * serving.DecodeMbu;
        _networkBytesPerS = deployment.Network is { } n ? n.GbPerS * Units.BytesPerGb : double.PositiveInfinity;
        // An HBM-resident prefix is read at the instance's aggregate HBM bandwidth; no first-byte latency.
        _hbmLoadBytesPerS = _gPf * _hbmBytesPerS;
        _dram = TierPhysics.From(deployment.Tiers.Dram);
        _ssd = TierPhysics.From(deployment.Tiers.LocalSsd);
        _remote = TierPhysics.From(deployment.Tiers.Remote);
    }

    /// <summary>The deployment.</summary>
    public DeploymentEntry Deployment { get; }

    /// <summary>The model shape.</summary>
    public ModelEntry Model { get; }

    /// <summary>The GPU.</summary>
    public HardwareEntry Hardware { get; }

    /// <summary>The serving shape.</summary>
    public ServingEntry Serving { get; }

    /// <summary>KV bytes per token (<c>kvb = 2·L·H_kv·d_head·bytes_kv / compression</c>, or the catalog's explicit figure).</summary>
    public double KvBytesPerToken { get; }

    /// <summary>
    /// Prefill FLOPs for <paramref name="uncached"/> new tokens after a cached prefix of <paramref name="prefix"/> tokens:
    /// <c>F = 2·P_act·u + 2·L·d_attn·u·(2p + u)</c>. The first term is the dense matmuls (2 FLOPs per active parameter per
    /// token); the second is causal attention — each new token scores QKᵀ and reads V against the prefix and the new tokens
    /// before it, Σᵢ(p + i) ≈ u·p + u²/2 positions, 2 FLOPs × 2 matmuls × d_attn per position per layer.
    /// </summary>
    public double PrefillFlops(double uncached, double prefix) =>
        2.0 * _activeParams * uncached + 2.0 * _layersTimesAttnWidth * uncached * (2.0 * prefix + uncached);

    /// <summary>Prefill wall time of one instance: <c>t_pf = F / (g·Peak·MFU_pf)</c>, s.</summary>
    public double PrefillSeconds(double uncached, double prefix) => PrefillFlops(uncached, prefix) / _prefillFlopsPerS;

    /// <summary>
    /// Loading <paramref name="tokens"/> of prefix from <paramref name="tier"/>: <c>t_t = latency_t + C_t·kvb / BW_t</c>, s
    /// (0 for no tokens). HBM has no first-byte latency and is read at the instance's HBM bandwidth.
    /// </summary>
    public double TierLoadSeconds(KvTier tier, double tokens)
    {
        if (tokens <= 0) return 0;
        if (tier == KvTier.Hbm) return tokens * KvBytesPerToken / _hbmLoadBytesPerS;
        var t = TierOf(tier);
        return t.LatencySeconds + tokens * KvBytesPerToken / t.BytesPerSecond;
    }

    /// <summary>
    /// Seconds to recompute <paramref name="tokens"/> prefix tokens that follow <paramref name="before"/> tokens instead of
    /// loading them: their share of the prefill roofline, <c>t_pf(C_t, before)</c>.
    /// </summary>
    public double RecomputeSeconds(double tokens, double before) => PrefillSeconds(tokens, before);

    /// <summary>
    /// Break-even bandwidth of <paramref name="tier"/> for a prefix of <paramref name="tokens"/> after
    /// <paramref name="before"/> tokens, bytes/s: loading wins when <c>latency + C·kvb/BW &lt; t_recompute(C)</c>, i.e.
    /// <c>BW* = C·kvb / (t_recompute − latency)</c>; with latency 0 this is MODEL.md's <c>kvb / (recompute s per token)</c>.
    /// +∞ when the latency alone exceeds recomputing (no bandwidth makes the load worth it).
    /// </summary>
    public double BreakEvenBandwidth(KvTier tier, double tokens, double before)
    {
        if (tokens <= 0) return double.NaN;
        var latency = tier == KvTier.Hbm ? 0 : TierOf(tier).LatencySeconds;
        var slack = RecomputeSeconds(tokens, before) - latency;
        return slack > 0 ? tokens * KvBytesPerToken / slack : double.PositiveInfinity;
    }

    /// <summary>Disaggregated transfer of the whole context prefill→decode: <c>t_x = (u + p)·kvb / BW_net</c>, s (0 aggregated).</summary>
    public double TransferSeconds(double inputTokens) =>
        Serving.Disaggregated ? inputTokens * KvBytesPerToken / _networkBytesPerS : 0;

    /// <summary>
    /// One decode step for <paramref name="batch"/> sequences of mean context <paramref name="context"/>:
    /// <c>t_step = max((W + B·kvb·ctx) / (g·BW·MBU), 2·P_act·B / (g·Peak·MFU_dec))</c>. MODEL.md writes the memory term as
    /// <c>W/g + B·kvb·ctx</c> over one GPU's bandwidth; under tensor parallelism the KV heads are sharded like the weights,
    /// so both are divided by <c>g</c> here.
    /// </summary>
    public DecodeStep DecodeStepTime(double batch, double context)
    {
        var memory = (_weightBytes + batch * KvBytesPerToken * context) / _decodeBytesPerS;
        var compute = 2.0 * _activeParams * batch / _decodeFlopsPerS;
        return memory >= compute ? new DecodeStep(memory, true) : new DecodeStep(compute, false);
    }

    /// <summary>
    /// Batch size where the decode step turns compute-bound (the roofline's ridge) at <paramref name="context"/>:
    /// <c>W/(BW·MBU) + B·kvb·ctx/(BW·MBU) = 2·P_act·B/(Peak·MFU)</c> ⇒ <c>B* = W/(BW·MBU) / (2·P_act/(Peak·MFU) − kvb·ctx/(BW·MBU))</c>.
    /// +∞ when the KV term grows faster than compute (long contexts never leave the memory roof).
    /// </summary>
    public double CriticalBatch(double context)
    {
        var perSeqCompute = 2.0 * _activeParams / _decodeFlopsPerS;
        var perSeqMemory = KvBytesPerToken * context / _decodeBytesPerS;
        var denominator = perSeqCompute - perSeqMemory;
        return denominator > 0 ? _weightBytes / _decodeBytesPerS / denominator : double.PositiveInfinity;
    }

    /// <summary>Decode tokens per second of one instance at <paramref name="batch"/>: <c>B / t_step</c>.</summary>
    public double DecodeTokensPerSecond(double batch, double context) => batch / DecodeStepTime(batch, context).Seconds;

    /// <summary>
    /// Busy GPU-seconds per request of class <paramref name="c"/> at the catalog's decode batch: prefill and loads occupy
    /// the prefill instance (<c>g_pf</c> GPUs), decode holds 1/B of each step on <c>g_dec</c> GPUs. Decode context is the
    /// input plus half the output (the mean over the generated tokens).
    /// </summary>
    public RequestWork Evaluate(in RequestClass c)
    {
        var kvb = KvBytesPerToken;
        RequestWork w;
        w.Prefill = _gPf * PrefillFlops(c.Uncached, c.Prefix) / _prefillFlopsPerS;
        w.LoadHbm = c.CachedHbm > 0 ? _gPf * c.CachedHbm * kvb / _hbmLoadBytesPerS : 0;
        w.LoadDram = _gPf * _dram.Seconds(c.CachedDram, c.LoadsDram, kvb);
        w.LoadLocalSsd = _gPf * _ssd.Seconds(c.CachedLocalSsd, c.LoadsLocalSsd, kvb);
        w.LoadRemote = _gPf * _remote.Seconds(c.CachedRemote, c.LoadsRemote, kvb);
        var context = c.Uncached + c.Prefix + 0.5 * c.Output;
        var memory = (_weightBytes + _batch * kvb * context) / _decodeBytesPerS;
        var compute = 2.0 * _activeParams * _batch / _decodeFlopsPerS;
        w.Decode = _gDec * c.Output * Math.Max(memory, compute) / _batch;
        var input = c.Uncached + c.Prefix;
        w.TransferBytes = Serving.Disaggregated ? input * kvb : 0;
        w.TransferSeconds = Serving.Disaggregated ? w.TransferBytes / _networkBytesPerS : 0;
        return w;
    }

    /// <summary>
    /// IT energy of a pool over a window, J (MODEL.md §3): idle draw over the provisioned GPU time plus the dynamic range
    /// (TDP − idle) over the busy GPU time, plus the host's share per GPU; the facility multiplies by PUE.
    /// </summary>
    public double ItEnergyJoules(double provisionedGpuSeconds, double busyGpuSeconds) =>
        Hardware.IdleWatts * provisionedGpuSeconds + (Hardware.TdpWatts - Hardware.IdleWatts) * Math.Min(busyGpuSeconds, provisionedGpuSeconds)
        + Hardware.HostWattsPerGpu * provisionedGpuSeconds;

    private TierPhysics TierOf(KvTier tier) => tier switch
    {
        KvTier.Dram => _dram,
        KvTier.LocalSsd => _ssd,
        KvTier.Remote => _remote,
        _ => throw new ArgumentOutOfRangeException(nameof(tier), tier, "HBM has no tier entry"),
    };

    private readonly record struct TierPhysics(double BytesPerSecond, double LatencySeconds)
    {
        // A tier the deployment does not have serves nothing; if telemetry still reports hits from it they cost nothing
        // here (the decomposition then shows them as realized-only load time).
        public static TierPhysics From(TierEntry? t) => t is null
            ? new TierPhysics(double.PositiveInfinity, 0)
            : new TierPhysics(t.BandwidthGbPerS * Units.BytesPerGb, t.FirstByteLatencyMs / 1000.0);

        public double Seconds(double tokens, double loadShare, double kvb) =>
            tokens > 0 ? loadShare * LatencySeconds + tokens * kvb / BytesPerSecond : 0;
    }
}
