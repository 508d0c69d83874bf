using EfficiencyMonitor.Core.Catalog;
using EfficiencyMonitor.Core.Model;
using static EfficiencyMonitor.UnitTests.Model.ModelTestData;

namespace EfficiencyMonitor.UnitTests.Model;

/// <summary>
/// MODEL.md §4.1 calibration on windows generated from the model itself: a ServingModel built with known "true" figures
/// (prefill MFU 0.3, decode MBU 0.25, DRAM 30 GB/s) produces the realized timings; the fit starts from the catalog's
/// (MFU 0.5, MBU 0.6, 50 GB/s) and must land on the truth.
/// </summary>
public sealed class CalibrationTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);

    // Deterministic ±5 % noise per window; window 9 is an incident, every timing ×3.
    private static readonly double[] Noise = [1.00, 1.05, 0.95, 1.03, 0.97, 1.02, 0.98, 1.04, 0.96, 3.0];

    private static ServingEntry CatalogServing => Serving with { PrefillMfu = 0.5, DecodeMbu = 0.6, DecodeMfu = 0.5 };

    private static DeploymentEntry CatalogDeployment => Deployment(CatalogServing);

    private static DeploymentEntry TrueDeployment(double prefillMfu = 0.3)
    {
        var d = Deployment(Serving with { PrefillMfu = prefillMfu, DecodeMbu = 0.25, DecodeMfu = 0.5 });
        return d with { Tiers = d.Tiers with { Dram = d.Tiers.Dram! with { BandwidthGbPerS = 30 } } };
    }

    /// <summary>
    /// One window of 3 classes (counts, tokens and load shares from a seeded generator) with the realized times of the
    /// true model × <paramref name="noise"/>. Telemetry's ms are wall times: prefill and load ms = GPU-s · 1000 / g_pf
    /// (the instance's g_pf GPUs are held for that long); decode ms = GPU-s · 1000 · B / g_dec (the request held 1/B of
    /// each step on g_dec GPUs).
    /// </summary>
    internal static WindowObservation Window(ServingModel truth, int index, double noise)
    {
        var random = new Random(1000 + index);
        var classes = new RequestClass[3];
        for (var i = 0; i < classes.Length; i++)
        {
            classes[i] = new RequestClass
            {
                Count = 50 + random.Next(100),
                Uncached = 500 + random.Next(2500),
                CachedHbm = random.Next(500),
                CachedDram = 1000 + random.Next(3000),
                LoadsDram = 0.5 + 0.5 * random.NextDouble(),
                CachedLocalSsd = random.Next(1000),
                LoadsLocalSsd = 0.5 * random.NextDouble(),
                Output = 100 + random.Next(700),
            };
        }

        var work = default(RequestWork);
        foreach (var c in classes) work.Add(truth.Evaluate(c), c.Count);
        const double gPf = 8, gDec = 8, batch = 64;
        var requests = classes.Sum(c => c.Count);
        var provisioned = 300.0 * 64;
        return new WindowObservation
        {
            Start = Start.AddMinutes(5 * index),
            Seconds = 300,
            Requests = requests,
            Successes = Math.Floor(requests * (0.90 + 0.01 * (index % 5))),
            ProvisionedGpuSeconds = provisioned,
            FixedSpendUsd = provisioned * 4.2e-4,
            EnergySpendUsd = 1.5 + 0.1 * index,
            FacilityEnergyJoules = 6.0e7 + 1e6 * index,
            Classes = classes,
            InputTokens = classes.Sum(c => c.Count * c.Input),
            CachedHbmTokens = classes.Sum(c => c.Count * c.CachedHbm),
            CachedDramTokens = classes.Sum(c => c.Count * c.CachedDram),
            CachedLocalSsdTokens = classes.Sum(c => c.Count * c.CachedLocalSsd),
            CachedRemoteTokens = 0,
            OutputTokens = classes.Sum(c => c.Count * c.Output),
            ReasoningTokens = classes.Sum(c => c.Count * c.Output * 0.25),
            PrefillMs = work.Prefill * 1000 / gPf * noise,
            LoadHbmMs = work.LoadHbm * 1000 / gPf * noise,
            LoadDramMs = work.LoadDram * 1000 / gPf * noise,
            LoadLocalSsdMs = work.LoadLocalSsd * 1000 / gPf * noise,
            LoadRemoteMs = 0,
            DecodeMs = work.Decode * 1000 * batch / gDec * noise,
        };
    }

    private static List<WindowObservation> Windows(ServingModel truth, IReadOnlyList<double> noise) =>
        [.. noise.Select((n, i) => Window(truth, i, n))];

    [Fact]
    public void Fit_NoisyWindowsWithAnOutlier_RecoversTheTrueFiguresWithinThreePercent()
    {
        // Each fitted quantity enters its time inversely, so per window predicted/realized = (true/catalog)/noise, and
        // new = catalog × median. Sorted, the 10 windows' noise is 0.95 … 1.00, 1.02 … 1.05, 3.0: the median ratio is the
        // mean of 1/1.00 and 1/1.02 = 0.9902 of the truth — the ×3 outlier only occupies the lowest rank.
        // Prefill MFU: 0.5 · (0.3/0.5) · 0.9902 = 0.2971; decode MBU 0.6 · (0.25/0.6) · 0.9902 = 0.2475;
        // DRAM: the bandwidth part (load time − one 0.2 ms latency per loading request) gives 30 · 0.9902 ≈ 29.7 GB/s.
        var truth = new ServingModel(TrueDeployment(), Llama70B, H100);
        var windows = Windows(truth, Noise);

        var result = Calibration.Fit(CatalogDeployment, Llama70B, H100, Facility, windows);

        var serving = result.Deployment.Serving!;
        Near(0.3, serving.PrefillMfu, 0.03);
        Near(0.25, serving.DecodeMbu, 0.03);
        Near(30, result.Deployment.Tiers.Dram!.BandwidthGbPerS, 0.03);
        Near(7, result.Deployment.Tiers.LocalSsd!.BandwidthGbPerS, 0.03);
        // Memory-bound everywhere (B = 64 ≪ B*), so decode MFU is not touched; the remote tier saw no loads.
        Assert.Equal(0.5, serving.DecodeMfu);
        Assert.Equal(2.5, result.Deployment.Tiers.Remote!.BandwidthGbPerS);
        Assert.Contains(result.Notes, n => n.StartsWith("tiers.remote.bandwidth_gb_per_s", StringComparison.Ordinal));
        Assert.Equal(10, result.Windows);
        Assert.StartsWith("calibrated on 10 windows 2026-12-01T00:00Z..2026-12-01T00:50Z", serving.Source, StringComparison.Ordinal);

        // A pooled ratio (Σ predicted / Σ realized) would let the outlier drag the fit: here it is 0.815 of the truth.
        var clean = Windows(truth, [.. Noise.Select(_ => 1.0)]);
        var pooledRatio = clean.Sum(w => w.PrefillMs) / windows.Sum(w => w.PrefillMs);
        Assert.True(pooledRatio < 0.9, $"pooled ratio {pooledRatio}");
    }

    [Fact]
    public void Fit_UtilizationTelemetry_RecoversTheEffectiveDecodeBatch()
    {
        // Request timings carry per-token latency, not concurrency. The GPUs' utilization telemetry says how busy they
        // were: busy = g_pf·(prefill + loads) + g_dec·decode/B. Windows whose telemetry matches a true batch of 128 (the
        // catalog says 64) must fit 128: B = g_dec·decode / (busy − g_pf·(prefill + loads)) = 8·decode/(8·decode/128).
        var truth = new ServingModel(TrueDeployment(), Llama70B, H100);
        var windows = Windows(truth, [1, 1.02, 0.98, 1, 1.01]).Select(w => w with
        {
            TelemetryBusyGpuSeconds = (8 * (w.PrefillMs + w.LoadHbmMs + w.LoadDramMs + w.LoadLocalSsdMs + w.LoadRemoteMs) + 8 * w.DecodeMs / 128) / 1000,
        }).ToList();

        var result = Calibration.Fit(CatalogDeployment, Llama70B, H100, Facility, windows);

        Assert.Equal(128, result.Deployment.Serving!.DecodeBatch);
        Assert.Contains(result.Notes, n => n.StartsWith("decode_batch: 64 -> 128", StringComparison.Ordinal));
        // The plan's utilization is now the telemetry's (busy from timings at B = 128 equals the reported busy time).
        Near(windows.Sum(w => w.TelemetryBusyGpuSeconds) / windows.Sum(w => w.ProvisionedGpuSeconds), result.Deployment.Plan!.Utilization, 1e-9);
    }

    [Fact]
    public void Fit_NoiseFreeWindows_RecoversTheTruthExactly()
    {
        var truth = new ServingModel(TrueDeployment(), Llama70B, H100);

        var result = Calibration.Fit(CatalogDeployment, Llama70B, H100, Facility, Windows(truth, [1, 1, 1, 1, 1]));

        Near(0.3, result.Deployment.Serving!.PrefillMfu, 1e-9);
        Near(0.25, result.Deployment.Serving!.DecodeMbu, 1e-9);
        Near(30, result.Deployment.Tiers.Dram!.BandwidthGbPerS, 1e-9);
        Near(7, result.Deployment.Tiers.LocalSsd!.BandwidthGbPerS, 1e-9);
    }

    [Fact]
    public void Fit_Plan_IsThePooledWindowsMixWithTheCalibratedModel()
    {
        var truth = new ServingModel(TrueDeployment(), Llama70B, H100);
        var windows = Windows(truth, Noise);

        var result = Calibration.Fit(CatalogDeployment, Llama70B, H100, Facility, windows);

        var plan = result.Deployment.Plan!;
        double requests = windows.Sum(w => w.Requests), input = windows.Sum(w => w.InputTokens);
        Near(windows.Sum(w => w.Successes) / requests, plan.SuccessRate, 1e-12);
        // Realized utilization: (g_pf · (prefill + loads) ms + g_dec · decode ms / B) / 1000 over provisioned GPU-s.
        var busy = windows.Sum(w => 8 * (w.PrefillMs + w.LoadHbmMs + w.LoadDramMs + w.LoadLocalSsdMs + w.LoadRemoteMs) + 8 * w.DecodeMs / 64) / 1000;
        Near(busy / windows.Sum(w => w.ProvisionedGpuSeconds), plan.Utilization, 1e-12);
        Near(windows.Sum(w => w.CachedHbmTokens) / input, plan.HitRateHbm, 1e-12);
        Near(windows.Sum(w => w.CachedDramTokens) / input, plan.HitRateDram, 1e-12);
        Near(windows.Sum(w => w.CachedLocalSsdTokens) / input, plan.HitRateLocalSsd, 1e-12);
        Assert.Equal(0, plan.HitRateRemote);
        Near(input / requests, plan.InputTokens, 1e-12);
        Near(windows.Sum(w => w.OutputTokens) / requests, plan.OutputTokens, 1e-12);
        Near(requests / windows.Sum(w => w.Seconds), plan.RequestsPerSecond, 1e-12);
        Near(windows.Sum(w => w.FixedSpendUsd) / windows.Sum(w => w.ProvisionedGpuSeconds), plan.FixedUsdPerGpuSecond, 1e-12);

        // GPU-s per token are the calibrated model's on the pooled mix.
        var calibrated = new ServingModel(result.Deployment, Llama70B, H100);
        var predicted = default(RequestWork);
        foreach (var c in windows.SelectMany(w => w.Classes)) predicted.Add(calibrated.Evaluate(c), c.Count);
        Near(predicted.Prefill / windows.Sum(w => w.UncachedTokens), plan.PrefillGpuSecondsPerToken, 1e-12);
        Near(predicted.Decode / windows.Sum(w => w.OutputTokens), plan.DecodeGpuSecondsPerToken, 1e-12);
        Assert.Equal(result.Deployment.Serving!.Source, plan.Source);
    }

    [Fact]
    public void Fit_NoWindows_ThrowsCatalogExceptionNamingTheDeployment()
    {
        var e = Assert.Throws<CatalogException>(() => Calibration.Fit(CatalogDeployment, Llama70B, H100, Facility, []));
        Assert.Contains("llama-70b-chat-prod", e.Message, StringComparison.Ordinal);

        // Windows without requests do not count either.
        var idle = new WindowObservation { Start = Start, Seconds = 300, ProvisionedGpuSeconds = 19_200 };
        e = Assert.Throws<CatalogException>(() => Calibration.Fit(CatalogDeployment, Llama70B, H100, Facility, [idle]));
        Assert.Contains("llama-70b-chat-prod", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Fit_ProductionFasterThanTheRoofline_MfuCappedAtOneWithANote()
    {
        // Realized prefill as if MFU were 1.5: the fit 0.5 · 1.5/0.5 = 1.5 is impossible, so it is capped and noted.
        var truth = new ServingModel(TrueDeployment(prefillMfu: 1.5), Llama70B, H100);

        var result = Calibration.Fit(CatalogDeployment, Llama70B, H100, Facility, Windows(truth, [1, 1, 1]));

        Assert.Equal(1.0, result.Deployment.Serving!.PrefillMfu);
        Assert.Contains(result.Notes, n => n.StartsWith("prefill_mfu:", StringComparison.Ordinal) && n.Contains("fit 1.5", StringComparison.Ordinal) && n.Contains("capped at 1", StringComparison.Ordinal));
    }

    [Fact]
    public void Median_OddEvenAndSkipped()
    {
        // Ratios 1/2, 2/2, 3/2 (and a window with zero realized time, skipped): median 1; with a 4th (4/2) it is (1 + 1.5)/2.
        WindowObservation W(double ms) => new() { Start = Start, PrefillMs = ms };
        var three = new[] { W(1), W(2), W(3), W(0) };

        Assert.Equal(1.0, Calibration.Median(three, w => (w.PrefillMs, 2)));
        Assert.Equal(1.25, Calibration.Median([.. three, W(4)], w => (w.PrefillMs, 2)));
        Assert.Null(Calibration.Median([W(0)], w => (w.PrefillMs, 2)));
    }
}
