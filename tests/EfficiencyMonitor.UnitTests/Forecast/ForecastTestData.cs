using EfficiencyMonitor.Core.Catalog;
using EfficiencyMonitor.Core.Model;

namespace EfficiencyMonitor.UnitTests.Forecast;

/// <summary>A small hand-built catalog (one deployment, two GPUs) and specs for the planner tests.</summary>
internal static class ForecastTestData
{
    public static readonly DateTimeOffset At = new(2027, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public static CostCatalog Catalog(bool withTiers = true, bool disaggregated = false) => new()
    {
        Version = "t.1",
        Hardware =
        [
            new HardwareEntry
            {
                GpuType = "G1", EffectiveFrom = At.AddYears(-3), Source = "test", PeakDenseTflops = new Dictionary<string, double> { ["bf16"] = 1000, ["fp8"] = 2000 },
                HbmGb = 80, HbmTbPerS = 3, TdpWatts = 700, IdleWatts = 100, HostWattsPerGpu = 200, Rental = new RentalTerms { UsdPerGpuHour = 3.6 },
            },
            new HardwareEntry
            {
                GpuType = "G2", EffectiveFrom = At.AddYears(-3), Source = "test", PeakDenseTflops = new Dictionary<string, double> { ["bf16"] = 2000 },
                HbmGb = 192, HbmTbPerS = 6, TdpWatts = 1000, IdleWatts = 150, HostWattsPerGpu = 200, Rental = new RentalTerms { UsdPerGpuHour = 7.2 },
            },
        ],
        Models =
        [
            new ModelEntry
            {
                Name = "m70", EffectiveFrom = At.AddYears(-3), TotalParamsB = 70, ActiveParamsB = 70, Layers = 80, AttentionHeads = 64, KvHeads = 8, HeadDim = 128,
                WeightBytesPerElement = 2, KvBytesPerElement = 2,
            },
        ],
        Facilities = [new FacilityEntry { Name = "dc", EffectiveFrom = At.AddYears(-3), Pue = 1.25, UsdPerKwh = 0.1, SpaceCoolingUsdPerKwMonth = 150 }],
        Deployments =
        [
            new DeploymentEntry
            {
                Name = "d", EffectiveFrom = At.AddYears(-3), Model = "m70", Facility = "dc",
                Tiers = withTiers
                    ? new TierSet
                    {
                        Dram = new TierEntry { ProvisionedGb = 1000, UsdPerGbMonth = 2, BandwidthGbPerS = 50, FirstByteLatencyMs = 0.2 },
                        LocalSsd = new TierEntry { ProvisionedGb = 10000, UsdPerGbMonth = 0.1, BandwidthGbPerS = 5, FirstByteLatencyMs = 1 },
                    }
                    : new TierSet(),
                Network = disaggregated ? new NetworkEntry { GbPerS = 50, UsdPerGb = 0.01 } : null,
                Serving = new ServingEntry
                {
                    GpuType = "G1", Precision = "bf16", Disaggregated = disaggregated, PrefillGpusPerInstance = 4, DecodeGpusPerInstance = 4, DecodeBatch = 32,
                    PrefillMfu = 0.4, DecodeMbu = 0.6, DecodeMfu = 0.4,
                },
            },
        ],
        SuccessPolicies = [new SuccessPolicyEntry { EffectiveFrom = At.AddYears(-3) }],
    };

    public static ForecastSpec Spec(params ForecastClass[] classes) => new()
    {
        Name = "test plan",
        Deployment = "d",
        Horizon = new ForecastHorizon { From = At, To = At.AddMonths(3) },
        RequestsPerSecond = 10,
        SuccessRate = 0.9,
        Utilization = 0.5,
        Classes = classes.Length > 0 ? classes : [new ForecastClass { Share = 1, InputTokens = 2000, OutputTokens = 400 }],
    };
}
