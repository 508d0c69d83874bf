using System.Globalization;
using EfficiencyMonitor.Core.Catalog;

namespace EfficiencyMonitor.Core.Model;

/// <summary>What calibration fitted for one deployment.</summary>
/// <param name="Deployment">The deployment entry with the fitted serving fractions, tier bandwidths and plan.</param>
/// <param name="Windows">Windows used.</param>
/// <param name="Notes">What could not be fitted and why (kept at the previous value).</param>
public sealed record CalibrationResult(DeploymentEntry Deployment, int Windows, IReadOnlyList<string> Notes);

/// <summary>
/// Fits the model's achieved fractions, effective decode batch and effective tier bandwidths to production windows (MODEL.md §4.1) with a robust
/// ratio estimator: per window, the ratio of predicted to realized time (each a sum over the window's requests); across
/// windows, the median — one window disturbed by an incident or a burst of outliers cannot move the fit. Every fitted
/// quantity enters its time inversely (t ∝ 1/MFU, 1/MBU, 1/BW), so new = old × median(predicted / realized). The plan
/// (the baseline drift is measured against) is the calibration windows' mix, prices and utilization, with the calibrated
/// model's GPU-seconds per token.
/// </summary>
public static class Calibration
{
    /// <summary>Fits <paramref name="deployment"/> to <paramref name="windows"/>.</summary>
    /// <exception cref="CatalogException">No serving section, or no window with requests.</exception>
    public static CalibrationResult Fit(DeploymentEntry deployment, ModelEntry model, HardwareEntry hardware, FacilityEntry facility, IReadOnlyList<WindowObservation> windows)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        ArgumentNullException.ThrowIfNull(facility);
        ArgumentNullException.ThrowIfNull(windows);
        var usable = windows.Where(w => w.Requests > 0 && w.Classes.Count > 0).ToList();
        if (usable.Count == 0)
            throw new CatalogException($"deployment '{deployment.Name}': no window with requests in the calibration range; pick --from/--to where production ran");
        var notes = new List<string>();
        var serving = deployment.Serving ?? throw new CatalogException($"deployment '{deployment.Name}' has no serving section to calibrate");
        double gPf = serving.PrefillGpusPerInstance, gDec = serving.DecodeGpusPerInstance;
        double batch = serving.DecodeBatch;

        // Prefill: t ∝ 1/MFU.
        var current = new ServingModel(deployment, model, hardware);
        var prefillRatio = Median(usable, w => (Sum(current, w, x => x.Prefill), gPf * w.PrefillMs / 1000.0));
        if (prefillRatio is { } pr) serving = serving with { PrefillMfu = Clamp(serving.PrefillMfu * pr, "prefill_mfu", notes) };
        else notes.Add("prefill_mfu: no window with prefill time; kept");

        // Decode batch: request telemetry has per-token latency but not the concurrency, so the effective batch is the one
        // that reconciles the request timings with the GPUs' utilization telemetry: busy = g_pf·(prefill + loads) +
        // g_dec·decode / B  ⇒  B = g_dec·decode / (busy − g_pf·(prefill + loads)). Median over windows, whole sequences.
        var batchRatio = Median(usable, w =>
        {
            var prefillSide = gPf * (w.PrefillMs + w.LoadHbmMs + w.LoadDramMs + w.LoadLocalSsdMs + w.LoadRemoteMs) / 1000.0;
            return (gDec * w.DecodeMs / 1000.0 / batch, w.TelemetryBusyGpuSeconds - prefillSide);
        });
        if (batchRatio is { } br && double.IsFinite(br))
        {
            var fittedBatch = (int)Math.Clamp(Math.Round(batch * br), 1, 65536);
            if (fittedBatch != serving.DecodeBatch) notes.Add(string.Create(CultureInfo.InvariantCulture, $"decode_batch: {serving.DecodeBatch} -> {fittedBatch} (the concurrency that matches GPU utilization telemetry)"));
            serving = serving with { DecodeBatch = fittedBatch };
            batch = fittedBatch;
        }
        else
        {
            notes.Add("decode_batch: no window where GPU utilization telemetry exceeds the prefill-side time; kept");
        }

        // Tiers: the bandwidth part of the load time (time minus one first-byte latency per loading request) ∝ 1/BW.
        var tiers = deployment.Tiers;
        tiers = tiers with
        {
            Dram = FitTier(tiers.Dram, "dram", c => (c.CachedDram, c.LoadsDram), w => w.LoadDramMs),
            LocalSsd = FitTier(tiers.LocalSsd, "local_ssd", c => (c.CachedLocalSsd, c.LoadsLocalSsd), w => w.LoadLocalSsdMs),
            Remote = FitTier(tiers.Remote, "remote", c => (c.CachedRemote, c.LoadsRemote), w => w.LoadRemoteMs),
        };

        // Decode: scale the roof that binds most of the predicted decode time; repeat, since a scale can move classes
        // across the ridge.
        for (var i = 0; i < 3; i++)
        {
            current = new ServingModel(deployment with { Serving = serving, Tiers = tiers }, model, hardware);
            var b = batch;
            var ratio = Median(usable, w => (Sum(current, w, x => x.Decode), gDec * w.DecodeMs / 1000.0 / b));
            if (ratio is not { } dr)
            {
                notes.Add("decode_mbu/mfu: no window with decode time; kept");
                break;
            }

            var memoryShare = MemoryBoundShare(current, usable);
            serving = memoryShare >= 0.5
                ? serving with { DecodeMbu = Clamp(serving.DecodeMbu * dr, "decode_mbu", notes) }
                : serving with { DecodeMfu = Clamp(serving.DecodeMfu * dr, "decode_mfu", notes) };
            if (Math.Abs(dr - 1) < 1e-4) break;
        }

        var from = usable.Min(w => w.Start);
        var to = usable.Max(w => w.Start.AddSeconds(w.Seconds));
        serving = serving with { Source = string.Create(CultureInfo.InvariantCulture, $"calibrated on {usable.Count} windows {from:yyyy-MM-ddTHH:mm}Z..{to:yyyy-MM-ddTHH:mm}Z (median ratio estimator)") };
        var fitted = deployment with { Serving = serving, Tiers = tiers };
        var calibrated = new ServingModel(fitted, model, hardware);

        // Plan: the calibration windows pooled into one observation, profiled with the calibrated model.
        var pooled = Pool(usable);
        var profiles = WindowProfileBuilder.Build(calibrated, pooled, facility.Pue);
        var plan = profiles.Model with { Utilization = profiles.RealizedUtilization, EnergyUsdPerBusyGpuSecond = profiles.Realized.EnergyUsdPerBusyGpuSecond };
        if (plan.Utilization > 1)
            notes.Add(string.Create(CultureInfo.InvariantCulture,
                $"busy GPU time from the request timings is {plan.Utilization:0.##}x the provisioned time: the instances batch more than decode_batch {batch} (or overlap prefills); raise decode_batch to the real concurrency"));
        var seconds = usable.Sum(w => w.Seconds);
        fitted = fitted with { Plan = plan.ToPlan(serving.Source, seconds > 0 ? pooled.Requests / seconds : 0) };
        return new CalibrationResult(fitted, usable.Count, notes);

        TierEntry? FitTier(TierEntry? tier, string name, Func<RequestClass, (double Tokens, double Share)> pick, Func<WindowObservation, double> loadMs)
        {
            if (tier is null) return null;
            var kvb = current.KvBytesPerToken;
            var bw = tier.BandwidthGbPerS * Units.BytesPerGb;
            var latency = tier.FirstByteLatencyMs / 1000.0;
            var ratio = Median(usable, w =>
            {
                double bytesPart = 0, latencyPart = 0;
                foreach (var c in w.Classes)
                {
                    var (tokens, share) = pick(c);
                    if (tokens <= 0) continue;
                    bytesPart += c.Count * tokens * kvb / bw;
                    latencyPart += c.Count * share * latency;
                }

                return (bytesPart, loadMs(w) / 1000.0 - latencyPart);
            });
            if (ratio is not { } r)
            {
                notes.Add($"tiers.{name}.bandwidth_gb_per_s: no window with loads above the first-byte latency; kept");
                return tier;
            }

            return tier with { BandwidthGbPerS = tier.BandwidthGbPerS * r };
        }
    }

    /// <summary>Sums windows into one observation (classes concatenated).</summary>
    public static WindowObservation Pool(IReadOnlyList<WindowObservation> windows)
    {
        ArgumentNullException.ThrowIfNull(windows);
        return new WindowObservation
        {
            Start = windows.Min(w => w.Start),
            Seconds = windows.Sum(w => w.Seconds),
            Requests = windows.Sum(w => w.Requests),
            Successes = windows.Sum(w => w.Successes),
            ProvisionedGpuSeconds = windows.Sum(w => w.ProvisionedGpuSeconds),
            TelemetryBusyGpuSeconds = windows.Sum(w => w.TelemetryBusyGpuSeconds),
            FixedSpendUsd = windows.Sum(w => w.FixedSpendUsd),
            EnergySpendUsd = windows.Sum(w => w.EnergySpendUsd),
            FacilityEnergyJoules = windows.Sum(w => w.FacilityEnergyJoules),
            Classes = [.. windows.SelectMany(w => w.Classes)],
            InputTokens = windows.Sum(w => w.InputTokens),
            CachedHbmTokens = windows.Sum(w => w.CachedHbmTokens),
            CachedDramTokens = windows.Sum(w => w.CachedDramTokens),
            CachedLocalSsdTokens = windows.Sum(w => w.CachedLocalSsdTokens),
            CachedRemoteTokens = windows.Sum(w => w.CachedRemoteTokens),
            OutputTokens = windows.Sum(w => w.OutputTokens),
            ReasoningTokens = windows.Sum(w => w.ReasoningTokens),
            PrefillMs = windows.Sum(w => w.PrefillMs),
            LoadHbmMs = windows.Sum(w => w.LoadHbmMs),
            LoadDramMs = windows.Sum(w => w.LoadDramMs),
            LoadLocalSsdMs = windows.Sum(w => w.LoadLocalSsdMs),
            LoadRemoteMs = windows.Sum(w => w.LoadRemoteMs),
            DecodeMs = windows.Sum(w => w.DecodeMs),
        };
    }

    /// <summary>Median over windows of predicted / realized, skipping windows where either is not positive; null when none qualifies.</summary>
    public static double? Median(IEnumerable<WindowObservation> windows, Func<WindowObservation, (double Predicted, double Realized)> pair)
    {
        ArgumentNullException.ThrowIfNull(windows);
        ArgumentNullException.ThrowIfNull(pair);
        var ratios = windows.Select(pair).Where(x => x.Predicted > 0 && x.Realized > 0).Select(x => x.Predicted / x.Realized).Order().ToList();
        if (ratios.Count == 0) return null;
        var mid = ratios.Count / 2;
        return ratios.Count % 2 == 1 ? ratios[mid] : (ratios[mid - 1] + ratios[mid]) / 2;
    }

    private static double Sum(ServingModel model, WindowObservation w, Func<RequestWork, double> component)
    {
        double total = 0;
        foreach (var c in w.Classes) total += component(model.Evaluate(c)) * c.Count;
        return total;
    }

    private static double MemoryBoundShare(ServingModel model, IReadOnlyList<WindowObservation> windows)
    {
        double memory = 0, all = 0;
        foreach (var c in windows.SelectMany(w => w.Classes))
        {
            var step = model.DecodeStepTime(model.Serving.DecodeBatch, c.Input + 0.5 * c.Output);
            var t = step.Seconds * c.Output * c.Count;
            all += t;
            if (step.MemoryBound) memory += t;
        }

        return all > 0 ? memory / all : 1;
    }

    private static double Clamp(double value, string name, List<string> notes)
    {
        if (value <= 1) return value;
        notes.Add(string.Create(CultureInfo.InvariantCulture, $"{name}: production is faster than the roofline allows (fit {value:0.###}); capped at 1 — check the hardware or model entry"));
        return 1;
    }
}
