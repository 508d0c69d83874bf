using EfficiencyMonitor.Core.Model;
using static EfficiencyMonitor.UnitTests.Model.ModelTestData;

namespace EfficiencyMonitor.UnitTests.Model;

/// <summary>MODEL.md §4.1: the realized and model profiles of one window, and the drift between them.</summary>
public sealed class WindowProfileBuilderTests
{
    [Fact]
    public void Build_WindowProducedByTheModel_RealizedEqualsModelComponentByComponent()
    {
        // Timings converted back exactly as telemetry reports them (prefill/load ms = GPU-s·1000/g_pf, decode ms =
        // GPU-s·1000·B/g_dec): the realized busy GPU-s per component must equal the model's, so the drift is zero but
        // for energy (the model's energy is the roofline's, the realized is the meter's).
        var model = Build();
        var window = CalibrationTests.Window(model, 3, 1.0);

        var profiles = WindowProfileBuilder.Build(model, window, pue: 1.3);

        var (r, m) = (profiles.Realized, profiles.Model);
        foreach (var (realized, predicted) in new[] { (r.Prefill, m.Prefill), (r.LoadHbm, m.LoadHbm), (r.LoadDram, m.LoadDram), (r.LoadLocalSsd, m.LoadLocalSsd), (r.Decode, m.Decode) })
        {
            Near(predicted.Tokens, realized.Tokens, 1e-12);
            Near(predicted.GpuSecondsPerToken, realized.GpuSecondsPerToken, 1e-12);
        }

        Near(m.BusyGpuSecondsPerRequest, r.BusyGpuSecondsPerRequest, 1e-12);
        Near(m.Utilization, profiles.RealizedUtilization, 1e-12);
        Near(window.Successes / window.Requests, r.SuccessRate, 1e-15);
        Near(window.CachedDramTokens / window.InputTokens, r.HitRate(KvTier.Dram), 1e-15);

        var drift = DriftDecomposition.Decompose(r, m, profiles.RealizedUtilization);
        foreach (var factor in DriftFactor.All.Where(f => f != DriftFactor.Energy))
            Assert.True(Math.Abs(drift.Factors[factor]) < 1e-12, $"{factor} = {drift.Factors[factor]}");
    }

    [Fact]
    public void Build_DecodeTwelvePercentSlowerThanTheModel_DriftSaysSo()
    {
        var model = Build();
        var window = CalibrationTests.Window(model, 3, 1.0);
        var slow = window with { DecodeMs = window.DecodeMs * 1.12 };

        var profiles = WindowProfileBuilder.Build(model, slow, pue: 1.3);
        var drift = DriftDecomposition.Decompose(profiles.Realized, profiles.Model with { EnergyUsdPerBusyGpuSecond = profiles.Realized.EnergyUsdPerBusyGpuSecond }, profiles.RealizedUtilization);

        Near(Math.Log(1.12), Math.Log(profiles.Realized.Decode.GpuSecondsPerToken / profiles.Model.Decode.GpuSecondsPerToken), 1e-12);
        Assert.Equal(DriftFactor.DecodeSpeed, drift.TopFactor);
        Assert.Contains("decode 12% slower", drift.Explanation, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_EnergyPerTokenAndBreakEven()
    {
        // Predicted facility energy = IT energy(provisioned, predicted busy) × PUE, per input + output token;
        // realized = the window's facility joules per token. Break-even per tier for the window's mean prefix.
        var model = Build();
        var window = CalibrationTests.Window(model, 5, 1.0);

        var profiles = WindowProfileBuilder.Build(model, window, pue: 1.3);

        var busy = default(RequestWork);
        foreach (var c in window.Classes) busy.Add(model.Evaluate(c), c.Count);
        var tokens = window.InputTokens + window.OutputTokens;
        Near(model.ItEnergyJoules(window.ProvisionedGpuSeconds, busy.Busy) * 1.3 / tokens, profiles.PredictedEnergyJoulesPerToken, 1e-12);
        Near(window.FacilityEnergyJoules / tokens, profiles.RealizedEnergyJoulesPerToken, 1e-12);
        Assert.Equal(3, profiles.BreakEvenBytesPerSecond.Count);
        var n = window.Requests;
        var meanPrefix = (window.CachedHbmTokens + window.CachedDramTokens + window.CachedLocalSsdTokens) / n;
        Near(model.BreakEvenBandwidth(KvTier.Dram, window.CachedDramTokens / n, meanPrefix - window.CachedDramTokens / n), profiles.BreakEvenBytesPerSecond[0], 1e-12);
        Assert.True(double.IsNaN(profiles.BreakEvenBytesPerSecond[2]));
    }
}
