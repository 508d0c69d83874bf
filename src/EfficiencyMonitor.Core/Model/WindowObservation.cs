namespace EfficiencyMonitor.Core.Model;

/// <summary>
/// What production did in one window of one deployment, as the model validation needs it: the request classes (the
/// observed mix), the token and timing sums, and the realized spend split into fixed and energy parts.
/// </summary>
public sealed record WindowObservation
{
    /// <summary>Window start (UTC).</summary>
    public DateTimeOffset Start { get; init; }

    /// <summary>Window length, s.</summary>
    public double Seconds { get; init; }

    /// <summary>Requests finished.</summary>
    public double Requests { get; init; }

    /// <summary>Successful outputs (success policy applied).</summary>
    public double Successes { get; init; }

    /// <summary>Provisioned GPU-seconds (GPUs that reported power × T).</summary>
    public double ProvisionedGpuSeconds { get; init; }

    /// <summary>Busy GPU-seconds as the GPUs' own utilization telemetry reports them (mean utilization × provisioned).</summary>
    public double TelemetryBusyGpuSeconds { get; init; }

    /// <summary>Realized spend other than energy (capacity, space, tiers, network), USD.</summary>
    public double FixedSpendUsd { get; init; }

    /// <summary>Realized energy spend, USD.</summary>
    public double EnergySpendUsd { get; init; }

    /// <summary>Facility energy (IT × PUE), J.</summary>
    public double FacilityEnergyJoules { get; init; }

    /// <summary>The observed mix as classes of similar requests.</summary>
    public IReadOnlyList<RequestClass> Classes { get; init; } = [];

    /// <summary>Input tokens (cached included).</summary>
    public double InputTokens { get; init; }

    /// <summary>Tokens served from HBM.</summary>
    public double CachedHbmTokens { get; init; }

    /// <summary>Tokens served from DRAM.</summary>
    public double CachedDramTokens { get; init; }

    /// <summary>Tokens served from local SSD.</summary>
    public double CachedLocalSsdTokens { get; init; }

    /// <summary>Tokens served from the remote store.</summary>
    public double CachedRemoteTokens { get; init; }

    /// <summary>Output tokens (reasoning included).</summary>
    public double OutputTokens { get; init; }

    /// <summary>Hidden reasoning tokens.</summary>
    public double ReasoningTokens { get; init; }

    /// <summary>Prefill time, ms.</summary>
    public double PrefillMs { get; init; }

    /// <summary>KV load from HBM, ms.</summary>
    public double LoadHbmMs { get; init; }

    /// <summary>KV load from DRAM, ms.</summary>
    public double LoadDramMs { get; init; }

    /// <summary>KV load from local SSD, ms.</summary>
    public double LoadLocalSsdMs { get; init; }

    /// <summary>KV load from the remote store, ms.</summary>
    public double LoadRemoteMs { get; init; }

    /// <summary>Decode time, ms.</summary>
    public double DecodeMs { get; init; }

    /// <summary>Uncached input tokens.</summary>
    public double UncachedTokens => InputTokens - CachedHbmTokens - CachedDramTokens - CachedLocalSsdTokens - CachedRemoteTokens;
}

/// <summary>The three sides of one window's comparison and the figures reported beside them.</summary>
/// <param name="Realized">Production as observed (busy GPU time from the request timings).</param>
/// <param name="Model">The model on the observed mix.</param>
/// <param name="RealizedUtilization">Realized busy / provisioned GPU time.</param>
/// <param name="PredictedEnergyJoulesPerToken">Model facility energy per (input + output) token, J.</param>
/// <param name="RealizedEnergyJoulesPerToken">Realized facility energy per token, J.</param>
/// <param name="BreakEvenBytesPerSecond">Break-even bandwidth per tier (DRAM, local SSD, remote) for the window's mean prefix, bytes/s (NaN without hits).</param>
public sealed record WindowProfiles(
    EfficiencyProfile Realized, EfficiencyProfile Model, double RealizedUtilization, double PredictedEnergyJoulesPerToken, double RealizedEnergyJoulesPerToken,
    IReadOnlyList<double> BreakEvenBytesPerSecond);

/// <summary>Builds the realized and model profiles of a window (MODEL.md §4.1: the model fed the observed mix).</summary>
public static class WindowProfileBuilder
{
    /// <summary>
    /// Realized busy GPU-seconds come from the request timings: prefill and loads hold the prefill instance
    /// (<c>g_pf</c> GPUs for their duration), decode holds 1/B of each step on <c>g_dec</c> GPUs — request telemetry does
    /// not carry the batch, so the catalog's <c>decode_batch</c> is used on both sides.
    /// </summary>
    /// <param name="model">The deployment's model.</param>
    /// <param name="w">The window.</param>
    /// <param name="pue">Facility PUE (predicted energy = IT energy × PUE).</param>
    public static WindowProfiles Build(ServingModel model, WindowObservation w, double pue)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(w);
        var s = model.Serving;
        double gPf = s.PrefillGpusPerInstance, gDec = s.DecodeGpusPerInstance, batch = s.DecodeBatch;
        var n = w.Requests;

        var predicted = default(RequestWork);
        foreach (var c in w.Classes) predicted.Add(model.Evaluate(c), c.Count);

        var realizedBusy = (gPf * (w.PrefillMs + w.LoadHbmMs + w.LoadDramMs + w.LoadLocalSsdMs + w.LoadRemoteMs) + gDec * w.DecodeMs / batch) / 1000.0;
        var usdPerFacilityJoule = w.FacilityEnergyJoules > 0 ? w.EnergySpendUsd / w.FacilityEnergyJoules : 0;
        var predictedJoules = model.ItEnergyJoules(w.ProvisionedGpuSeconds, predicted.Busy) * pue;
        var successRate = n > 0 ? w.Successes / n : 0;
        var fixedRate = w.ProvisionedGpuSeconds > 0 ? w.FixedSpendUsd / w.ProvisionedGpuSeconds : 0;
        var realizedUtilization = w.ProvisionedGpuSeconds > 0 ? realizedBusy / w.ProvisionedGpuSeconds : 0;

        var realized = new EfficiencyProfile
        {
            Requests = n,
            SuccessRate = successRate,
            InputTokens = n > 0 ? w.InputTokens / n : 0,
            ReasoningTokens = n > 0 ? w.ReasoningTokens / n : 0,
            Prefill = ComponentWork.FromTotals(gPf * w.PrefillMs / 1000.0, w.UncachedTokens, n),
            LoadHbm = ComponentWork.FromTotals(gPf * w.LoadHbmMs / 1000.0, w.CachedHbmTokens, n),
            LoadDram = ComponentWork.FromTotals(gPf * w.LoadDramMs / 1000.0, w.CachedDramTokens, n),
            LoadLocalSsd = ComponentWork.FromTotals(gPf * w.LoadLocalSsdMs / 1000.0, w.CachedLocalSsdTokens, n),
            LoadRemote = ComponentWork.FromTotals(gPf * w.LoadRemoteMs / 1000.0, w.CachedRemoteTokens, n),
            Decode = ComponentWork.FromTotals(gDec * w.DecodeMs / 1000.0 / batch, w.OutputTokens, n),
            FixedUsdPerGpuSecond = fixedRate,
            EnergyUsdPerBusyGpuSecond = realizedBusy > 0 ? w.EnergySpendUsd / realizedBusy : 0,
            Utilization = realizedUtilization,
        };
        var modelProfile = realized with
        {
            Prefill = ComponentWork.FromTotals(predicted.Prefill, w.UncachedTokens, n),
            LoadHbm = ComponentWork.FromTotals(predicted.LoadHbm, w.CachedHbmTokens, n),
            LoadDram = ComponentWork.FromTotals(predicted.LoadDram, w.CachedDramTokens, n),
            LoadLocalSsd = ComponentWork.FromTotals(predicted.LoadLocalSsd, w.CachedLocalSsdTokens, n),
            LoadRemote = ComponentWork.FromTotals(predicted.LoadRemote, w.CachedRemoteTokens, n),
            Decode = ComponentWork.FromTotals(predicted.Decode, w.OutputTokens, n),
            EnergyUsdPerBusyGpuSecond = predicted.Busy > 0 ? predictedJoules * usdPerFacilityJoule / predicted.Busy : 0,
            Utilization = w.ProvisionedGpuSeconds > 0 ? predicted.Busy / w.ProvisionedGpuSeconds : 0,
        };

        var tokens = w.InputTokens + w.OutputTokens;
        var meanPrefix = n > 0 ? (w.CachedHbmTokens + w.CachedDramTokens + w.CachedLocalSsdTokens + w.CachedRemoteTokens) / n : 0;
        double BreakEven(KvTier tier, double tierTokens) => tierTokens > 0 ? model.BreakEvenBandwidth(tier, tierTokens / n, Math.Max(0, meanPrefix - tierTokens / n)) : double.NaN;
        return new WindowProfiles(
            realized, modelProfile, realizedUtilization,
            tokens > 0 ? predictedJoules / tokens : 0,
            tokens > 0 ? w.FacilityEnergyJoules / tokens : 0,
            [BreakEven(KvTier.Dram, w.CachedDramTokens), BreakEven(KvTier.LocalSsd, w.CachedLocalSsdTokens), BreakEven(KvTier.Remote, w.CachedRemoteTokens)]);
    }
}
