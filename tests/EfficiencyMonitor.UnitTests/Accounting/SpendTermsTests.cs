using EfficiencyMonitor.Core.Accounting;
using EfficiencyMonitor.Core.Catalog;
using static EfficiencyMonitor.UnitTests.Accounting.AccountingTestData;

namespace EfficiencyMonitor.UnitTests.Accounting;

public sealed class SpendTermsTests
{
    private const double Tolerance = 1e-12;

    [Fact]
    public void CapacityUsd_Ownership_AmortizesPriceAndMaintenancePerGpuSecond()
    {
        // $40,000 · (1 + 0.08 · 4) = $52,800 over 4 · 365.25 · 86,400 = 126,230,400 s.
        // 8 GPUs · 300 s = 2,400 GPU-s → 52,800 · 2,400 / 126,230,400 = $1.003878...
        Assert.Equal(52_800.0 * 2_400 / 126_230_400, RealizedSpend.CapacityUsd(Owned, 8, 300), Tolerance);
    }

    [Fact]
    public void CapacityUsd_Rental_ChargesHourlyPricePerGpuSecond()
    {
        // $3.60/h = $0.001/GPU-s; 8 GPUs · 300 s = 2,400 GPU-s → $2.40.
        Assert.Equal(2.40, RealizedSpend.CapacityUsd(Rented, 8, 300), Tolerance);
    }

    [Fact]
    public void EnergyUsd_AppliesPueThenPrice()
    {
        // IT energy 36,000,000 J = 10 kWh; × PUE 1.5 = 15 kWh facility; × $0.10 = $1.50.
        Assert.Equal(1.50, RealizedSpend.EnergyUsd(Facility, 36_000_000, Start), Tolerance);
    }

    [Fact]
    public void EnergyUsd_TimeOfUse_PricesAtTheWindowsBand()
    {
        // 09:00 UTC falls in the 08–16 band at $0.20: 10 kWh × PUE 1.5 × $0.20 = $3.00.
        var facility = Facility with
        {
            UsdPerKwh = null,
            TimeOfUse = [new TimeOfUseBand { FromHour = 0, ToHour = 8, UsdPerKwh = 0.05 }, new TimeOfUseBand { FromHour = 8, ToHour = 24, UsdPerKwh = 0.20 }],
        };

        Assert.Equal(3.00, RealizedSpend.EnergyUsd(facility, 36_000_000, Start), Tolerance);
    }

    [Fact]
    public void HostEnergyJoules_HostWattsTimesProvisionedGpuTime()
    {
        // 300 W · 8 GPUs · 300 s = 720,000 J.
        Assert.Equal(720_000, RealizedSpend.HostEnergyJoules(Owned, 8, 300), Tolerance);
    }

    [Fact]
    public void SpaceUsd_ProvisionedKilowattsTimesMonthlyRate()
    {
        // 8 GPUs · (700 + 300) W = 8 kW; × $200/kW-month × 300 s / 2,629,800 s per month = 480,000 / 2,629,800 = $0.182523...
        Assert.Equal(8.0 * 200 * 300 / 2_629_800, RealizedSpend.SpaceUsd(Owned, Facility, 8, 300), Tolerance);
    }

    [Fact]
    public void TierUsd_ProvisionedGbTimesMonthlyRate()
    {
        // DRAM 1,000 GB × $2/GB-month × 300 s / 2,629,800 s = 600,000 / 2,629,800 = $0.228154...; an absent tier costs 0.
        Assert.Equal(1_000.0 * 2 * 300 / 2_629_800, RealizedSpend.TierUsd(Deployment(true).Tiers.Dram, 300), Tolerance);
        Assert.Equal(0, RealizedSpend.TierUsd(null, 300));
    }

    [Fact]
    public void NetworkUsd_KvBytesTimesPricePerGb()
    {
        // 5·10^9 bytes = 5 GB × $0.01 = $0.05; no network entry (aggregated) → 0.
        Assert.Equal(0.05, RealizedSpend.NetworkUsd(new NetworkEntry { GbPerS = 50, UsdPerGb = 0.01 }, 5_000_000_000), Tolerance);
        Assert.Equal(0, RealizedSpend.NetworkUsd(null, 5_000_000_000));
    }

    [Fact]
    public void Compute_OneRentedGpuOneMinute_EveryTermMatchesHandArithmetic()
    {
        // One rented GPU, window = one minute [09:00, 09:01), constant 400 W, counter 0 → 20,000 J inside the minute
        // and a bridge from the lookback sample at 08:59:50 (counter −4,000 J relative) of 4,000 J: GPU energy 24,000 J.
        var startMs = Start.ToUnixTimeMilliseconds();
        var power = new[]
        {
            new GpuMinute("pool", "RENTED", "g1", startMs - 60_000, 1, 400, 0.5, new PowerPoint(startMs - 10_000, 400, 96_000), new PowerPoint(startMs - 10_000, 400, 96_000)),
            new GpuMinute("pool", "RENTED", "g1", startMs, 6, 2_400, 3, new PowerPoint(startMs, 400, 100_000), new PowerPoint(startMs + 50_000, 400, 120_000)),
        };
        var input = new WindowInput
        {
            Deployment = "dep", Start = Start, End = Start.AddMinutes(1), Power = power,
            Requests = [new RequestAggregate { Tenant = "t", Model = "m", Requests = 2, InputTokens = 1_000, OutputTokens = 500, PrefillMs = 100, DecodeMs = 900 }],
            Outcomes = [new OutcomeAggregate("t", "m", "ok", null, -1, 2)],
        };

        var total = RealizedSpend.Compute(input, Pricing(withNetwork: false), 300_000).Total;

        // capacity: $0.001/GPU-s × 60 s                          = $0.06
        Assert.Equal(0.06, total.Spend.Capacity, Tolerance);
        // energy:   GPU 24,000 J + host 300 W × 60 s = 18,000 J → 42,000 J × PUE 1.5 = 63,000 J = 0.0175 kWh × $0.10 = $0.00175
        Assert.Equal(24_000, total.GpuEnergyJoules, 9);
        Assert.Equal(63_000, total.FacilityEnergyJoules, 9);
        Assert.Equal(0.00175, total.Spend.Energy, Tolerance);
        // space:    1 kW × $200 × 60 / 2,629,800
        Assert.Equal(200.0 * 60 / 2_629_800, total.Spend.Space, Tolerance);
        // tiers:    DRAM 1,000 × 2 × 60 / 2,629,800; SSD 10,000 × 0.1 × 60 / 2,629,800; no remote tier
        Assert.Equal(2_000.0 * 60 / 2_629_800, total.Spend.TierDram, Tolerance);
        Assert.Equal(1_000.0 * 60 / 2_629_800, total.Spend.TierLocalSsd, Tolerance);
        Assert.Equal(0, total.Spend.TierRemote);
        // S / N with N = 2; $/M output = S / 500 × 10^6; output tokens per facility joule = 500 / 63,000.
        var s = total.Spend.Total;
        Assert.Equal(s / 2, total.SpendPerSuccess!.Value, Tolerance);
        Assert.Equal(s / 500 * 1e6, total.UsdPerMillionOutputTokens!.Value, 1e-9);
        Assert.Equal(s / 1_500 * 1e6, total.UsdPerMillionTotalTokens!.Value, 1e-9);
        Assert.Equal(500.0 / 63_000, total.OutputTokensPerJoule!.Value, Tolerance);
        Assert.Equal(2 / (63_000 / 3.6e6), total.SuccessesPerKwh!.Value, 1e-9);
        Assert.Equal(0.5, total.Utilization, Tolerance);
        Assert.Equal(1, total.Gpus);
        Assert.False(total.NoSuccess);
    }
}
