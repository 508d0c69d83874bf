namespace EfficiencyMonitor.Core.Telemetry;

/// <summary>
/// One decoded <c>gpu-power</c> record (schema v1), reused across records to avoid allocation.
/// Names are interned strings; the timestamp is Unix milliseconds (UTC).
/// </summary>
public struct GpuPowerRow
{
    /// <summary>Contract version (always 1 for a decoded row).</summary>
    public int SchemaVersion { get; set; }

    /// <summary><c>node</c>.</summary>
    public string Node { get; set; }

    /// <summary><c>gpu_index</c> (0..1023).</summary>
    public int GpuIndex { get; set; }

    /// <summary><c>gpu_uuid</c>.</summary>
    public string GpuUuid { get; set; }

    /// <summary><c>gpu_type</c>.</summary>
    public string GpuType { get; set; }

    /// <summary><c>pool</c>.</summary>
    public string Pool { get; set; }

    /// <summary><c>deployment</c>.</summary>
    public string Deployment { get; set; }

    /// <summary><c>sampled_at</c> (Unix ms, UTC).</summary>
    public long SampledAtUnixMs { get; set; }

    /// <summary><c>power_watts</c> (W).</summary>
    public double PowerWatts { get; set; }

    /// <summary><c>energy_joules_total</c> (J, monotonic counter); <see langword="null"/> when the exporter lacks it.</summary>
    public double? EnergyJoulesTotal { get; set; }

    /// <summary><c>utilization</c> (0..1).</summary>
    public double Utilization { get; set; }

    /// <summary><c>memory_used_bytes</c> (bytes).</summary>
    public long MemoryUsedBytes { get; set; }
}
