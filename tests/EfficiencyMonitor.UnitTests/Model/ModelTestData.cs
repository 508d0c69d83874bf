using EfficiencyMonitor.Core.Catalog;
using EfficiencyMonitor.Core.Model;

namespace EfficiencyMonitor.UnitTests.Model;

/// <summary>
/// The checked-in catalog's figures for Llama-3.1-70B on H100 SXM (deploy/catalog/models.yaml, hardware.yaml), written out
/// here so every expected number in the model tests can be worked by hand from them.
/// </summary>
internal static class ModelTestData
{
    public static readonly DateTimeOffset Epoch = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);

    // config.json of Llama-3.1-70B-Instruct: 70.6 B parameters (dense), 80 layers, 64 heads, 8 KV heads, head_dim 128, BF16.
    public static ModelEntry Llama70B => new()
    {
        Name = "meta-llama/Llama-3.1-70B-Instruct", EffectiveFrom = Epoch, Source = "test",
        TotalParamsB = 70.6, ActiveParamsB = 70.6, Layers = 80, AttentionHeads = 64, KvHeads = 8, HeadDim = 128,
        WeightBytesPerElement = 2, KvBytesPerElement = 2, KvCompressionRatio = 1,
    };

    // H100 SXM5: 989 TFLOP/s dense BF16, 3.35 TB/s HBM3, 700 W TDP, 90 W idle, 300 W host share per GPU.
    public static HardwareEntry H100 => new()
    {
        GpuType = "H100-SXM5-80GB", EffectiveFrom = Epoch, Source = "test",
        PeakDenseTflops = new Dictionary<string, double> { ["bf16"] = 989, ["fp8"] = 1979 },
        HbmGb = 80, HbmTbPerS = 3.35, TdpWatts = 700, IdleWatts = 90, HostWattsPerGpu = 300,
        Ownership = new OwnershipTerms { UsdPerGpu = 40_000, AmortizationYears = 4, MaintenanceFractionPerYear = 0.08 },
    };

    public static FacilityEntry Facility => new() { Name = "dc", EffectiveFrom = Epoch, Pue = 1.3, UsdPerKwh = 0.08, SpaceCoolingUsdPerKwMonth = 150 };

    // g_pf = g_dec = 8 (one HGX node per instance), B = 64, prefill MFU 0.4, decode MBU 0.6, decode MFU 0.5.
    public static ServingEntry Serving => new()
    {
        GpuType = "H100-SXM5-80GB", Precision = "bf16", Disaggregated = false,
        PrefillGpusPerInstance = 8, DecodeGpusPerInstance = 8, DecodeBatch = 64,
        PrefillMfu = 0.4, DecodeMbu = 0.6, DecodeMfu = 0.5, Source = "test",
    };

    // The tiers of llama-70b-chat-prod (deploy/catalog/deployments.yaml): DRAM 50 GB/s 0.2 ms, local SSD 7 GB/s 1 ms,
    // remote 2.5 GB/s 4 ms; the network of the disaggregated deployments, 50 GB/s.
    public static DeploymentEntry Deployment(ServingEntry? serving = null, bool network = false) => new()
    {
        Name = "llama-70b-chat-prod", EffectiveFrom = Epoch, Model = "meta-llama/Llama-3.1-70B-Instruct", Facility = "dc",
        Tiers = new TierSet
        {
            Dram = new TierEntry { ProvisionedGb = 24_000, UsdPerGbMonth = 2.0, BandwidthGbPerS = 50, FirstByteLatencyMs = 0.2 },
            LocalSsd = new TierEntry { ProvisionedGb = 96_000, UsdPerGbMonth = 0.08, BandwidthGbPerS = 7, FirstByteLatencyMs = 1 },
            Remote = new TierEntry { ProvisionedGb = 20_000, UsdPerGbMonth = 0.10, BandwidthGbPerS = 2.5, FirstByteLatencyMs = 4 },
        },
        Network = network ? new NetworkEntry { GbPerS = 50, UsdPerGb = 0.002 } : null,
        Serving = serving ?? Serving,
    };

    public static ServingModel Build(ServingEntry? serving = null, bool network = false) =>
        new(Deployment(serving, network), Llama70B, H100);

    /// <summary>Relative closeness (the figures span 1e-6 … 1e14, so absolute digits mean nothing).</summary>
    public static void Near(double expected, double actual, double relative = 1e-12)
    {
        var scale = Math.Max(Math.Abs(expected), Math.Abs(actual));
        Assert.True(Math.Abs(expected - actual) <= relative * scale, $"expected {expected:R}, actual {actual:R} (relative tolerance {relative:R})");
    }
}
