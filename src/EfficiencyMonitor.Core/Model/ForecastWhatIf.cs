using System.Globalization;
using EfficiencyMonitor.Core.Catalog;

namespace EfficiencyMonitor.Core.Model;

/// <summary>
/// A what-if change to a forecast and its deployment: hit-rate shifts per tier (in points), a reasoning-depth factor, a KV
/// compression ratio, another GPU type, disaggregated serving on or off. Applied to copies of the spec and catalog.
/// </summary>
public sealed record ForecastVariant
{
    /// <summary>Hit-rate change per tier, in points of input tokens (+10 = +0.10), applied to every class and clamped to 0..the room left.</summary>
    public IReadOnlyDictionary<KvTier, double> HitRatePoints { get; init; } = new Dictionary<KvTier, double>();

    /// <summary>Multiplies hidden reasoning tokens (output tokens change by the same number of tokens).</summary>
    public double? ReasoningFactor { get; init; }

    /// <summary>KV compression ratio replacing the model's (KV bytes per token scale by old ratio / new ratio).</summary>
    public double? KvCompression { get; init; }

    /// <summary>GPU type replacing the deployment's.</summary>
    public string? GpuType { get; init; }

    /// <summary>Disaggregated serving on or off.</summary>
    public bool? Disaggregated { get; init; }

    /// <summary>True when nothing changes.</summary>
    public bool IsEmpty => HitRatePoints.Count == 0 && ReasoningFactor is null && KvCompression is null && GpuType is null && Disaggregated is null;

    /// <summary>One line naming the changes.</summary>
    public string Describe()
    {
        var parts = new List<string>();
        foreach (var (tier, points) in HitRatePoints.OrderBy(kv => kv.Key))
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"{ModelFigures.TierName(tier)} hit rate {points:+0.##;-0.##} points"));
        if (ReasoningFactor is { } r) parts.Add(string.Create(CultureInfo.InvariantCulture, $"reasoning ×{r:0.###}"));
        if (KvCompression is { } k) parts.Add(string.Create(CultureInfo.InvariantCulture, $"KV compression {k:0.###}x"));
        if (GpuType is { } g) parts.Add($"GPU {g}");
        if (Disaggregated is { } d) parts.Add(d ? "disaggregated" : "aggregated");
        return parts.Count == 0 ? "no change" : string.Join(", ", parts);
    }

    /// <summary>The spec and catalog with the changes applied to the entries effective at <paramref name="at"/>.</summary>
    /// <exception cref="ForecastException">A change that cannot be applied (unknown GPU, bad factor…), every problem listed.</exception>
    public (ForecastSpec Spec, CostCatalog Catalog) Apply(ForecastSpec spec, CostCatalog catalog, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(catalog);
        var problems = new List<string>();
        if (ReasoningFactor is { } rf && (!double.IsFinite(rf) || rf < 0 || rf > 1000))
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"--reasoning-factor: {rf} is out of range 0..1000; fix: give a multiplier, e.g. 1.5"));
        if (KvCompression is { } kc && (!double.IsFinite(kc) || kc < 1 || kc > 1000))
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"--kv-compression: {kc} is out of range 1..1000; fix: give a ratio ≥ 1, e.g. 2"));
        foreach (var (tier, points) in HitRatePoints)
        {
            if (!double.IsFinite(points) || Math.Abs(points) > 100)
                problems.Add(string.Create(CultureInfo.InvariantCulture, $"--hit-rate {ModelFigures.TierName(tier)}: {points} is out of range -100..+100 points; fix: e.g. dram=+10"));
        }

        var classes = spec.Classes.Select(c =>
        {
            var h = c.HitRates ?? new ForecastHitRates();
            foreach (var (tier, points) in HitRatePoints.OrderBy(kv => kv.Key))
            {
                var room = 1 - (h.Total - h.Of(tier));
                h = h.With(tier, Math.Clamp(h.Of(tier) + points / 100.0, 0, Math.Max(0, room)));
            }

            var output = c.OutputTokens;
            var reasoning = c.ReasoningTokens;
            if (ReasoningFactor is { } f && double.IsFinite(f) && f >= 0)
            {
                output = Math.Max(0, output - reasoning + reasoning * f);
                reasoning *= f;
            }

            return c with { HitRates = h, OutputTokens = output, ReasoningTokens = reasoning };
        }).ToList();

        var deployments = catalog.Deployments.ToList();
        var models = catalog.Models.ToList();
        var di = deployments.FindIndex(d => d.Name == spec.Deployment && d.EffectiveFrom <= at && (d.EffectiveTo is null || at < d.EffectiveTo));
        if (di < 0)
        {
            problems.Add($"catalog {catalog.Version}: no deployments entry '{spec.Deployment}' effective at {at:O}; fix: use one of {string.Join(", ", catalog.Deployments.Select(d => d.Name).Distinct())}");
        }
        else
        {
            var dep = deployments[di];
            if (dep.Serving is { } serving)
            {
                if (GpuType is { } gpu)
                {
                    var hw = CostCatalog.EffectiveAt(catalog.Hardware.Where(h => h.GpuType == gpu), at);
                    if (hw is null)
                        problems.Add($"--gpu-type: '{gpu}' is not in catalog {catalog.Version}'s hardware; fix: use one of {string.Join(", ", catalog.Hardware.Select(h => h.GpuType).Distinct())}");
                    else if (!hw.PeakDenseTflops.ContainsKey(serving.Precision))
                        problems.Add($"--gpu-type: '{gpu}' has no peak_dense_tflops for the deployment's precision '{serving.Precision}'; fix: pick a GPU with {serving.Precision}, or add it to hardware.yaml");
                    serving = serving with { GpuType = gpu };
                }

                if (Disaggregated is { } disaggregated)
                {
                    if (disaggregated && dep.Network is null)
                        problems.Add($"--disaggregated true: deployment '{dep.Name}' has no network to ship KV between pools; fix: add network: {{ gb_per_s, usd_per_gb }} to the deployment in the catalog");
                    serving = serving with { Disaggregated = disaggregated };
                }

                deployments[di] = dep with { Serving = serving };
            }

            if (KvCompression is { } ratio && double.IsFinite(ratio) && ratio >= 1)
            {
                var mi = models.FindIndex(m => m.Name == dep.Model && m.EffectiveFrom <= at && (m.EffectiveTo is null || at < m.EffectiveTo));
                if (mi >= 0)
                {
                    var m = models[mi];
                    var old = m.KvCompressionRatio > 0 ? m.KvCompressionRatio : 1;
                    models[mi] = m with { KvCompressionRatio = ratio, KvBytesPerToken = m.KvBytesPerToken * old / ratio };
                }
            }
        }

        if (problems.Count > 0) throw new ForecastException(problems);
        return (spec with { Classes = classes }, catalog with { Deployments = deployments, Models = models });
    }
}

/// <summary>Derived figures of a model shape (MODEL.md §3), optionally on a GPU: what <c>forecast what-if --model</c> prints.</summary>
public sealed record ModelFigureSet
{
    /// <summary>Model name.</summary>
    public required string Model { get; init; }

    /// <summary>KV element type the figures assume (<c>catalog</c> when the catalog's).</summary>
    public required string KvDtype { get; init; }

    /// <summary>KV bytes per token.</summary>
    public double KvBytesPerToken { get; init; }

    /// <summary>Dense FLOPs per token, <c>2·P_act</c>.</summary>
    public double DenseFlopsPerToken { get; init; }

    /// <summary>Weights, bytes (<c>P_total × bytes per weight</c>).</summary>
    public double WeightBytes { get; init; }

    /// <summary>Per context length (tokens): attention FLOPs per token <c>4·L·d_attn·ctx</c>, KV bytes of one sequence and, on a GPU, the critical decode batch.</summary>
    public required IReadOnlyList<ContextFigures> Contexts { get; init; }

    /// <summary>GPU type the batch figures are for (null without one).</summary>
    public string? GpuType { get; init; }

    /// <summary>Where the MFU/MBU of the batch figures come from.</summary>
    public string? EfficiencySource { get; init; }
}

/// <summary>Figures at one context length.</summary>
/// <param name="Tokens">Context, tokens.</param>
/// <param name="AttentionFlopsPerToken">Attention FLOPs per token at that context (<c>4·L·d_attn·ctx</c>).</param>
/// <param name="KvBytesPerSequence">KV cache of one sequence, bytes.</param>
/// <param name="CriticalBatch">Decode batch where the step turns compute-bound (null without a GPU, +∞ when never).</param>
public sealed record ContextFigures(double Tokens, double AttentionFlopsPerToken, double KvBytesPerSequence, double? CriticalBatch);

/// <summary>Model-shape arithmetic shared by the planner and <c>forecast what-if --model</c>.</summary>
public static class ModelFigures
{
    /// <summary>Contexts the figures are printed at.</summary>
    public static readonly IReadOnlyList<double> Contexts = [1024, 8192, 32768, 131072];

    /// <summary>Bytes per element of a KV dtype name (fp32, fp16, bf16, fp8, int8, int4), or null when unknown.</summary>
    public static double? BytesPerElement(string dtype) => dtype.ToLowerInvariant() switch
    {
        "fp32" => 4,
        "fp16" or "bf16" => 2,
        "fp8" or "int8" => 1,
        "int4" or "fp4" => 0.5,
        _ => null,
    };

    /// <summary>The model with its KV cache stored in <paramref name="bytesPerElement"/>-byte elements (an explicit per-token figure scales with it).</summary>
    public static ModelEntry WithKvBytesPerElement(ModelEntry model, double bytesPerElement)
    {
        ArgumentNullException.ThrowIfNull(model);
        var old = model.KvBytesPerElement > 0 ? model.KvBytesPerElement : bytesPerElement;
        return model with { KvBytesPerElement = bytesPerElement, KvBytesPerToken = model.KvBytesPerToken * bytesPerElement / old };
    }

    /// <summary>Attention FLOPs per token at context <paramref name="context"/>: <c>4·L·d_attn·ctx</c> (QKᵀ and ·V, 2 FLOPs per multiply-add).</summary>
    public static double AttentionFlopsPerToken(ModelEntry model, double context)
    {
        ArgumentNullException.ThrowIfNull(model);
        return 4.0 * model.Layers * model.AttentionHeads * model.HeadDim * context;
    }

    /// <summary>FLOPs per token at context <paramref name="context"/>: <c>2·P_act + 4·L·d_attn·ctx</c>.</summary>
    public static double FlopsPerToken(ModelEntry model, double context)
    {
        ArgumentNullException.ThrowIfNull(model);
        return 2.0 * model.ActiveParamsB * 1e9 + AttentionFlopsPerToken(model, context);
    }

    /// <summary>Tier name as in files and columns.</summary>
    public static string TierName(KvTier tier) => tier switch
    {
        KvTier.Hbm => "hbm",
        KvTier.Dram => "dram",
        KvTier.LocalSsd => "local_ssd",
        _ => "remote",
    };

    /// <summary>Parses a tier name (hbm, dram, local_ssd/ssd, remote).</summary>
    public static KvTier? ParseTier(string name) => name.ToLowerInvariant().Replace('-', '_') switch
    {
        "hbm" or "g1" => KvTier.Hbm,
        "dram" or "g2" => KvTier.Dram,
        "local_ssd" or "ssd" or "g3" => KvTier.LocalSsd,
        "remote" or "g4" => KvTier.Remote,
        _ => null,
    };

    /// <summary>
    /// Figures of <paramref name="modelName"/> in <paramref name="catalog"/> at <paramref name="at"/>, with the KV cache in
    /// <paramref name="kvDtype"/> when given, and the critical decode batch on <paramref name="gpuType"/> (or the GPU of a
    /// deployment serving the model). MFU/MBU come from such a deployment's serving section, else the ideal roofline (1.0).
    /// </summary>
    /// <exception cref="ForecastException">Unknown model, GPU or dtype.</exception>
    public static ModelFigureSet For(CostCatalog catalog, string modelName, string? kvDtype, string? gpuType, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        var problems = new List<string>();
        var model = CostCatalog.EffectiveAt(catalog.Models.Where(m => m.Name == modelName), at)
            ?? CostCatalog.EffectiveAt(catalog.Models.Where(m => m.Name.EndsWith("/" + modelName, StringComparison.OrdinalIgnoreCase) || string.Equals(m.Name, modelName, StringComparison.OrdinalIgnoreCase)), at);
        if (model is null)
            problems.Add($"--model: '{modelName}' is not in catalog {catalog.Version}; fix: use one of {string.Join(", ", catalog.Models.Select(m => m.Name).Distinct())}");
        double? bytes = null;
        if (kvDtype is not null)
        {
            bytes = BytesPerElement(kvDtype);
            if (bytes is null) problems.Add($"--kv-dtype: '{kvDtype}' is unknown; fix: use fp16, bf16, fp8, int8 or int4");
        }

        var serving = model is null ? null : catalog.Deployments.Where(d => d.Model == model.Name && d.Serving is not null && d.EffectiveFrom <= at && (d.EffectiveTo is null || at < d.EffectiveTo))
            .Select(d => d.Serving).FirstOrDefault();
        var gpu = gpuType ?? serving?.GpuType;
        HardwareEntry? hardware = null;
        if (gpu is not null)
        {
            hardware = CostCatalog.EffectiveAt(catalog.Hardware.Where(h => h.GpuType == gpu), at);
            if (hardware is null) problems.Add($"--gpu-type: '{gpu}' is not in catalog {catalog.Version}'s hardware; fix: use one of {string.Join(", ", catalog.Hardware.Select(h => h.GpuType).Distinct())}");
        }

        if (problems.Count > 0) throw new ForecastException(problems);
        var m = bytes is { } b ? WithKvBytesPerElement(model!, b) : model!;
        ServingModel? sm = null;
        string? source = null;
        if (hardware is not null)
        {
            var precision = serving is not null && hardware.PeakDenseTflops.ContainsKey(serving.Precision) ? serving.Precision
                : hardware.PeakDenseTflops.ContainsKey("bf16") ? "bf16" : hardware.PeakDenseTflops.Keys.First();
            var ideal = serving is null;
            var entry = new ServingEntry
            {
                GpuType = hardware.GpuType,
                Precision = precision,
                PrefillGpusPerInstance = serving?.PrefillGpusPerInstance ?? 8,
                DecodeGpusPerInstance = serving?.DecodeGpusPerInstance ?? 8,
                DecodeBatch = serving?.DecodeBatch ?? 64,
                PrefillMfu = ideal ? 1 : serving!.PrefillMfu,
                DecodeMbu = ideal ? 1 : serving!.DecodeMbu,
                DecodeMfu = ideal ? 1 : serving!.DecodeMfu,
            };
            source = ideal
                ? $"ideal roofline ({precision}, MFU = MBU = 1): no deployment serves the model"
                : string.Create(CultureInfo.InvariantCulture, $"{precision}, decode MBU {entry.DecodeMbu:0.###}, MFU {entry.DecodeMfu:0.###} from the deployment serving the model");
            var deployment = new DeploymentEntry { Name = "(what-if)", EffectiveFrom = at, Model = m.Name, Facility = "(what-if)", Serving = entry };
            sm = new ServingModel(deployment, m, hardware);
        }

        var kvb = m.EffectiveKvBytesPerToken();
        return new ModelFigureSet
        {
            Model = m.Name,
            KvDtype = kvDtype?.ToLowerInvariant() ?? "catalog",
            KvBytesPerToken = kvb,
            DenseFlopsPerToken = 2.0 * m.ActiveParamsB * 1e9,
            WeightBytes = m.TotalParamsB * 1e9 * m.WeightBytesPerElement,
            Contexts = [.. Contexts.Select(ctx => new ContextFigures(ctx, AttentionFlopsPerToken(m, ctx), kvb * ctx, sm?.CriticalBatch(ctx)))],
            GpuType = hardware?.GpuType,
            EfficiencySource = source,
        };
    }
}
