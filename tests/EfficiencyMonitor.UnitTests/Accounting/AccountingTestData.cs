using EfficiencyMonitor.Core.Accounting;
using EfficiencyMonitor.Core.Catalog;

namespace EfficiencyMonitor.UnitTests.Accounting;

/// <summary>Small catalog entries with round numbers, so every expected figure can be worked by hand.</summary>
internal static class AccountingTestData
{
    public static readonly DateTimeOffset Start = new(2026, 12, 1, 9, 0, 0, TimeSpan.Zero);
    public static readonly DateTimeOffset Epoch = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);

    // Owned: $40,000, 4 years, 8 %/year maintenance.
    public static HardwareEntry Owned => new()
    {
        GpuType = "OWNED", EffectiveFrom = Epoch, Source = "test", TdpWatts = 700, IdleWatts = 90, HostWattsPerGpu = 300, HbmGb = 80, HbmTbPerS = 3.35,
        Ownership = new OwnershipTerms { UsdPerGpu = 40_000, AmortizationYears = 4, MaintenanceFractionPerYear = 0.08 },
    };

    // Rented: $3.60 per GPU-hour = $0.001 per GPU-second.
    public static HardwareEntry Rented => new()
    {
        GpuType = "RENTED", EffectiveFrom = Epoch, Source = "test", TdpWatts = 700, IdleWatts = 100, HostWattsPerGpu = 300, HbmGb = 141, HbmTbPerS = 4.8,
        Rental = new RentalTerms { UsdPerGpuHour = 3.6 },
    };

    public static FacilityEntry Facility => new()
    {
        Name = "dc", EffectiveFrom = Epoch, Pue = 1.5, UsdPerKwh = 0.10, SpaceCoolingUsdPerKwMonth = 200,
    };

    public static DeploymentEntry Deployment(bool withNetwork) => new()
    {
        Name = "dep", EffectiveFrom = Epoch, Model = "m", Facility = "dc",
        Tiers = new TierSet
        {
            Dram = new TierEntry { ProvisionedGb = 1000, UsdPerGbMonth = 2, BandwidthGbPerS = 50, FirstByteLatencyMs = 0.2 },
            LocalSsd = new TierEntry { ProvisionedGb = 10_000, UsdPerGbMonth = 0.1, BandwidthGbPerS = 7, FirstByteLatencyMs = 1 },
        },
        Network = withNetwork ? new NetworkEntry { GbPerS = 50, UsdPerGb = 0.01 } : null,
    };

    public static ModelEntry Model => new()
    {
        Name = "m", EffectiveFrom = Epoch, TotalParamsB = 70, ActiveParamsB = 70, Layers = 80, AttentionHeads = 64, KvHeads = 8, HeadDim = 128,
        WeightBytesPerElement = 2, KvBytesPerElement = 2,
    };

    public static ResolvedPricing Pricing(bool withNetwork = true, SuccessPolicyEntry? policy = null) => new(
        "test-1",
        Deployment(withNetwork),
        Facility,
        Model,
        new Dictionary<string, HardwareEntry> { ["OWNED"] = Owned, ["RENTED"] = Rented },
        policy ?? new SuccessPolicyEntry { EffectiveFrom = Epoch });

    /// <summary>A GPU minute at constant <paramref name="watts"/>, samples every 10 s from the minute start, counter rising accordingly.</summary>
    public static GpuMinute Minute(string pool, string type, string uuid, long minuteMs, double watts, double counterAtStart, double utilization = 0.5)
    {
        // 6 samples at +0..+50 s: counter rises watts × 10 J per step.
        return new GpuMinute(pool, type, uuid, minuteMs, 6, watts * 6, utilization * 6,
            new PowerPoint(minuteMs, watts, counterAtStart), new PowerPoint(minuteMs + 50_000, watts, counterAtStart + watts * 50));
    }
}
