using EfficiencyMonitor.Core.Catalog;

namespace EfficiencyMonitor.Core.Model;

/// <summary>One component of busy GPU time per request: tokens it handles per request × GPU-seconds per such token.</summary>
/// <param name="Tokens">Tokens per request (uncached input for prefill, tokens served from the tier for a load, output for decode).</param>
/// <param name="GpuSecondsPerToken">Busy GPU-seconds per token.</param>
public readonly record struct ComponentWork(double Tokens, double GpuSecondsPerToken)
{
    /// <summary>GPU-seconds per request.</summary>
    public double GpuSeconds => Tokens * GpuSecondsPerToken;

    /// <summary>From a total of GPU-seconds and tokens over <paramref name="requests"/> requests.</summary>
    public static ComponentWork FromTotals(double gpuSeconds, double tokens, double requests) =>
        new(requests > 0 ? tokens / requests : 0, tokens > 0 ? gpuSeconds / tokens : 0);
}

/// <summary>
/// Spend per successful output written as the product of MODEL.md §4 — busy GPU-s per request (a sum of components, each
/// tokens × GPU-s per token) × $ per busy GPU-s at a utilization × requests per success — for one side of a comparison:
/// production as observed, the model on the observed mix, or a plan.
/// </summary>
public sealed record EfficiencyProfile
{
    /// <summary>Requests (the window's, or the plan's weight).</summary>
    public double Requests { get; init; }

    /// <summary>Successful outputs / requests.</summary>
    public double SuccessRate { get; init; }

    /// <summary>Input tokens per request (cached included).</summary>
    public double InputTokens { get; init; }

    /// <summary>Hidden reasoning tokens per request (informational: they are part of <see cref="Decode"/>'s tokens).</summary>
    public double ReasoningTokens { get; init; }

    /// <summary>Prefill of uncached input.</summary>
    public ComponentWork Prefill { get; init; }

    /// <summary>Loads from HBM.</summary>
    public ComponentWork LoadHbm { get; init; }

    /// <summary>Loads from DRAM.</summary>
    public ComponentWork LoadDram { get; init; }

    /// <summary>Loads from local SSD.</summary>
    public ComponentWork LoadLocalSsd { get; init; }

    /// <summary>Loads from the remote store.</summary>
    public ComponentWork LoadRemote { get; init; }

    /// <summary>Decode of output tokens.</summary>
    public ComponentWork Decode { get; init; }

    /// <summary>Capacity, space, tiers and network per provisioned GPU-second, USD.</summary>
    public double FixedUsdPerGpuSecond { get; init; }

    /// <summary>Facility energy per busy GPU-second, USD.</summary>
    public double EnergyUsdPerBusyGpuSecond { get; init; }

    /// <summary>Busy / provisioned GPU time (the plan's, or as observed).</summary>
    public double Utilization { get; init; }

    /// <summary>Busy GPU-seconds per request.</summary>
    public double BusyGpuSecondsPerRequest =>
        Prefill.GpuSeconds + LoadHbm.GpuSeconds + LoadDram.GpuSeconds + LoadLocalSsd.GpuSeconds + LoadRemote.GpuSeconds + Decode.GpuSeconds;

    /// <summary>Input share served from each tier and uncached (the prefill-side token shares).</summary>
    public double HitRate(KvTier tier) => InputTokens > 0 ? TokensOf(tier) / InputTokens : 0;

    /// <summary>
    /// Spend per successful output with the fleet run at <paramref name="utilization"/>:
    /// <c>busy/request × (fixed $/GPU-s ÷ utilization + energy $/busy GPU-s) ÷ success rate</c>; null without success.
    /// </summary>
    public double? SpendPerSuccess(double utilization)
    {
        if (!(SuccessRate > 0) || !(utilization > 0)) return null;
        return BusyGpuSecondsPerRequest * (FixedUsdPerGpuSecond / utilization + EnergyUsdPerBusyGpuSecond) / SuccessRate;
    }

    /// <summary>The profile of a stored plan.</summary>
    public static EfficiencyProfile FromPlan(WorkloadPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var input = plan.InputTokens;
        var uncached = Math.Max(0, 1 - plan.HitRateHbm - plan.HitRateDram - plan.HitRateLocalSsd - plan.HitRateRemote);
        return new EfficiencyProfile
        {
            Requests = 1,
            SuccessRate = plan.SuccessRate,
            InputTokens = input,
            ReasoningTokens = plan.ReasoningTokens,
            Prefill = new(input * uncached, plan.PrefillGpuSecondsPerToken),
            LoadHbm = new(input * plan.HitRateHbm, plan.LoadHbmGpuSecondsPerToken),
            LoadDram = new(input * plan.HitRateDram, plan.LoadDramGpuSecondsPerToken),
            LoadLocalSsd = new(input * plan.HitRateLocalSsd, plan.LoadLocalSsdGpuSecondsPerToken),
            LoadRemote = new(input * plan.HitRateRemote, plan.LoadRemoteGpuSecondsPerToken),
            Decode = new(plan.OutputTokens, plan.DecodeGpuSecondsPerToken),
            FixedUsdPerGpuSecond = plan.FixedUsdPerGpuSecond,
            EnergyUsdPerBusyGpuSecond = plan.EnergyUsdPerBusyGpuSecond,
            Utilization = plan.Utilization,
        };
    }

    /// <summary>This profile as a plan (what <c>calibrate</c> stores).</summary>
    public WorkloadPlan ToPlan(string source, double requestsPerSecond) => new()
    {
        Source = source,
        RequestsPerSecond = requestsPerSecond,
        SuccessRate = SuccessRate,
        Utilization = Utilization,
        InputTokens = InputTokens,
        OutputTokens = Decode.Tokens,
        ReasoningTokens = Math.Min(ReasoningTokens, Decode.Tokens),
        HitRateHbm = HitRate(KvTier.Hbm),
        HitRateDram = HitRate(KvTier.Dram),
        HitRateLocalSsd = HitRate(KvTier.LocalSsd),
        HitRateRemote = HitRate(KvTier.Remote),
        PrefillGpuSecondsPerToken = Prefill.GpuSecondsPerToken,
        LoadHbmGpuSecondsPerToken = LoadHbm.GpuSecondsPerToken,
        LoadDramGpuSecondsPerToken = LoadDram.GpuSecondsPerToken,
        LoadLocalSsdGpuSecondsPerToken = LoadLocalSsd.GpuSecondsPerToken,
        LoadRemoteGpuSecondsPerToken = LoadRemote.GpuSecondsPerToken,
        DecodeGpuSecondsPerToken = Decode.GpuSecondsPerToken,
        FixedUsdPerGpuSecond = FixedUsdPerGpuSecond,
        EnergyUsdPerBusyGpuSecond = EnergyUsdPerBusyGpuSecond,
    };

    private double TokensOf(KvTier tier) => tier switch
    {
        KvTier.Hbm => LoadHbm.Tokens,
        KvTier.Dram => LoadDram.Tokens,
        KvTier.LocalSsd => LoadLocalSsd.Tokens,
        _ => LoadRemote.Tokens,
    };
}
