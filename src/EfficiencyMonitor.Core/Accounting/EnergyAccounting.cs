namespace EfficiencyMonitor.Core.Accounting;

/// <summary>Energy a GPU used in a window, and how it was measured.</summary>
/// <param name="Joules">GPU energy, J.</param>
/// <param name="CounterSegments">Segments measured by the energy counter.</param>
/// <param name="TrapezoidSegments">Segments estimated from power samples (no counter, or a counter reset).</param>
public readonly record struct GpuEnergy(double Joules, int CounterSegments, int TrapezoidSegments);

/// <summary>
/// GPU energy from the per-minute rollup (MODEL.md §2, "Energy"). A GPU's samples form a sequence; energy between two
/// consecutive samples is the counter's increase, or — when either sample has no counter or the counter went backwards
/// (a reset: the counter cannot say what was used across it) — the trapezoid <c>(P_a + P_b)/2 · Δt</c>. A segment
/// belongs to the window that contains its later sample, so consecutive windows add up to the whole history.
/// <para>
/// The rollup keeps the first and last sample of each minute plus the count and sum of power. Inside a minute, the
/// counter's increase is <c>E_last − E_first</c> (the counter telescopes) and the trapezoid over n evenly spaced samples
/// is <c>Δ·(ΣP − (P_first + P_last)/2)</c> with <c>Δ = (t_last − t_first)/(n − 1)</c> — exact for the fixed-interval
/// sampling DCGM exporters use.
/// </para>
/// </summary>
public static class EnergyAccounting
{
    /// <summary>
    /// Energy of one GPU in <c>[startMs, endMs)</c> from its minutes sorted by time. Minutes before the window supply the
    /// last sample before it; a gap to it longer than <paramref name="maxGapMs"/> is not bridged (the GPU was away).
    /// </summary>
    public static GpuEnergy ForGpu(IReadOnlyList<GpuMinute> minutes, long startMs, long endMs, long maxGapMs)
    {
        ArgumentNullException.ThrowIfNull(minutes);
        double joules = 0;
        int counter = 0, trapezoid = 0;
        PowerPoint? previous = null;
        foreach (var m in minutes)
        {
            if (m.MinuteUnixMs >= endMs) break;
            var inWindow = m.MinuteUnixMs >= startMs;
            if (inWindow)
            {
                if (previous is { } prev && m.First.UnixMs - prev.UnixMs <= maxGapMs && m.First.UnixMs > prev.UnixMs)
                {
                    Add(Segment(prev, m.First, null), ref joules, ref counter, ref trapezoid);
                }

                if (m.Samples >= 2 && m.Last.UnixMs > m.First.UnixMs)
                {
                    Add(Segment(m.First, m.Last, m), ref joules, ref counter, ref trapezoid);
                }
            }

            previous = m.Last;
        }

        return new GpuEnergy(joules, counter, trapezoid);
    }

    private static void Add((double Joules, bool Counter) segment, ref double joules, ref int counter, ref int trapezoid)
    {
        joules += segment.Joules;
        if (segment.Counter) counter++;
        else trapezoid++;
    }

    /// <summary>Energy between <paramref name="a"/> and <paramref name="b"/>; <paramref name="inside"/> is the minute when both are its first and last sample.</summary>
    private static (double Joules, bool Counter) Segment(PowerPoint a, PowerPoint b, GpuMinute? inside)
    {
        if (a.EnergyJoules is { } ea && b.EnergyJoules is { } eb && eb >= ea) return (eb - ea, true);
        var seconds = (b.UnixMs - a.UnixMs) / 1000.0;
        if (inside is { Samples: > 2 } m)
        {
            var step = seconds / (m.Samples - 1);
            return (step * (m.PowerWattsSum - (a.PowerWatts + b.PowerWatts) / 2), false);
        }

        return ((a.PowerWatts + b.PowerWatts) / 2 * seconds, false);
    }
}
