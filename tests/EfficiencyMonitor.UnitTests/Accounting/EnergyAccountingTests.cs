using EfficiencyMonitor.Core.Accounting;

namespace EfficiencyMonitor.UnitTests.Accounting;

public sealed class EnergyAccountingTests
{
    [Fact]
    public void ForGpu_CounterWithReset_CountsIncreaseAndFallsBackToTrapezoidAcrossTheReset()
    {
        // Window [0, 60 s). Lookback minute: last sample at -10 s, counter 1,000 J.
        // Minute 0: first sample at 0 s, counter 6,000 J; last at 50 s, counter 2,000 J (the exporter restarted: a reset).
        //           6 samples at 500 W each (ΣP = 3,000 W).
        // Bridge -10 s → 0 s:  counter 6,000 − 1,000                      =  5,000 J (counter)
        // Inside minute 0:     counter went backwards → trapezoid:
        //                      Δ = 50 s / (6 − 1) = 10 s; Δ·(ΣP − (P_first + P_last)/2) = 10 · (3,000 − 500) = 25,000 J
        // Total                                                            = 30,000 J
        var minutes = new[]
        {
            new GpuMinute("p", "OWNED", "g", -60_000, 6, 3000, 3, new PowerPoint(-60_000, 500, 0), new PowerPoint(-10_000, 500, 1_000)),
            new GpuMinute("p", "OWNED", "g", 0, 6, 3000, 3, new PowerPoint(0, 500, 6_000), new PowerPoint(50_000, 500, 2_000)),
        };

        var energy = EnergyAccounting.ForGpu(minutes, 0, 60_000, 300_000);

        Assert.Equal(30_000, energy.Joules, 9);
        Assert.Equal(1, energy.CounterSegments);
        Assert.Equal(1, energy.TrapezoidSegments);
    }

    [Fact]
    public void ForGpu_NoCounter_IntegratesPowerByTrapezoid()
    {
        // No counter anywhere (energy null). Lookback: last sample at -10 s, 100 W.
        // Minute 0: samples at 0,10,…,50 s with 100,200,300,400,500,600 W (ΣP = 2,100 W).
        // Bridge:   (100 + 100)/2 · 10 s                                 =  1,000 J
        // Inside:   Δ = 10 s; 10 · (2,100 − (100 + 600)/2) = 10 · 1,750  = 17,500 J
        //           (pairwise: 10 · (150 + 250 + 350 + 450 + 550)        = 17,500 J ✓)
        // Total                                                           = 18,500 J
        var minutes = new[]
        {
            new GpuMinute("p", "OWNED", "g", -60_000, 1, 100, 0, new PowerPoint(-10_000, 100, null), new PowerPoint(-10_000, 100, null)),
            new GpuMinute("p", "OWNED", "g", 0, 6, 2100, 0, new PowerPoint(0, 100, null), new PowerPoint(50_000, 600, null)),
        };

        var energy = EnergyAccounting.ForGpu(minutes, 0, 60_000, 300_000);

        Assert.Equal(18_500, energy.Joules, 9);
        Assert.Equal(0, energy.CounterSegments);
        Assert.Equal(2, energy.TrapezoidSegments);
    }

    [Fact]
    public void ForGpu_GapLongerThanLookback_DoesNotBridge()
    {
        // Previous sample 10 minutes before the window: the GPU was away; only the in-minute counter increase counts.
        // Inside minute 0: 6,000 → 8,500 J = 2,500 J.
        var minutes = new[]
        {
            new GpuMinute("p", "OWNED", "g", -600_000, 1, 500, 0, new PowerPoint(-600_000, 500, 1_000), new PowerPoint(-600_000, 500, 1_000)),
            new GpuMinute("p", "OWNED", "g", 0, 6, 3000, 0, new PowerPoint(0, 500, 6_000), new PowerPoint(50_000, 500, 8_500)),
        };

        Assert.Equal(2_500, EnergyAccounting.ForGpu(minutes, 0, 60_000, 300_000).Joules, 9);
    }

    [Fact]
    public void ForGpu_ConsecutiveWindows_SumToWholeHistory()
    {
        // Counter 0 → 1,000 J per minute, steady; two one-minute windows together equal the counter's total increase.
        var minutes = Enumerable.Range(0, 3).Select(i => AccountingTestData.Minute("p", "OWNED", "g", i * 60_000L, 100, i * 6_000.0)).ToList();

        var first = EnergyAccounting.ForGpu(minutes, 60_000, 120_000, 300_000).Joules;
        var second = EnergyAccounting.ForGpu(minutes, 120_000, 180_000, 300_000).Joules;

        // Last sample of minute 2 (counter 12,000 + 5,000 = 17,000) minus last of minute 0 (5,000) = 12,000 J.
        Assert.Equal(12_000, first + second, 9);
    }
}
