using System.Diagnostics;
using System.Globalization;

namespace EfficiencyMonitor.Benchmarks.Ingest;

/// <summary>
/// CPU time and peak resident memory of this process over one measured window. Everything runs in one process (the
/// chDB engine, its HTTP endpoint, the mock broker, producers, consumers), so both figures are process-wide: they
/// include the engine's work, which is the point for (b)-(d), and the broker's.
/// </summary>
/// <remarks>
/// Peak RSS: writing <c>5</c> to <c>/proc/self/clear_refs</c> resets the kernel's high-water mark (<c>VmHWM</c>,
/// Linux &gt;= 4.0), so each window reports its own peak; where that is refused, the process-lifetime peak
/// (<see cref="Process.PeakWorkingSet64"/>) is reported instead and flagged.
/// </remarks>
public sealed class ProcessMeter
{
    private readonly TimeSpan _cpuAtStart;
    private readonly long _startTimestamp;

    private ProcessMeter(bool peakReset)
    {
        PeakIsPerWindow = peakReset;
        _cpuAtStart = Cpu();
        _startTimestamp = Stopwatch.GetTimestamp();
    }

    /// <summary>Whether the peak covers only this window (true) or the whole process life (false).</summary>
    public bool PeakIsPerWindow { get; }

    /// <summary>Collects garbage (so the previous window's leftovers do not count), resets the peak and starts the clocks.</summary>
    public static ProcessMeter Start()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        bool reset;
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            reset = true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            reset = false;
        }

        return new ProcessMeter(reset);
    }

    /// <summary>CPU seconds (user + system, all threads) since <see cref="Start"/>.</summary>
    public double CpuSeconds => (Cpu() - _cpuAtStart).TotalSeconds;

    /// <summary>Wall seconds since <see cref="Start"/>.</summary>
    public double WallSeconds => Stopwatch.GetElapsedTime(_startTimestamp).TotalSeconds;

    /// <summary>Peak resident set in bytes (see <see cref="PeakIsPerWindow"/>).</summary>
    public static long PeakRssBytes()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
            {
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                {
                    var kb = line["VmHWM:".Length..].Trim().Split(' ')[0];
                    return long.Parse(kb, CultureInfo.InvariantCulture) * 1024;
                }
            }
        }
        catch (IOException)
        {
        }

        using var process = Process.GetCurrentProcess();
        return process.PeakWorkingSet64;
    }

    private static TimeSpan Cpu()
    {
        using var process = Process.GetCurrentProcess();
        return process.TotalProcessorTime;
    }
}
