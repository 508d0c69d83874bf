namespace EfficiencyMonitor.Core.Telemetry;

/// <summary>How prefill and decode were placed (<c>serving_pattern</c>). Values match the ClickHouse Enum8 codes; 0 is never stored.</summary>
public enum ServingPattern : byte
{
    /// <summary>Not set (a default row); never the value of a decoded row.</summary>
    Unspecified = 0,

    /// <summary>Prefill and decode ran on the same workers (<c>aggregated</c>).</summary>
    Aggregated = 1,

    /// <summary>Prefill ran on a prefill pool and the KV cache moved to a decode pool (<c>disaggregated</c>).</summary>
    Disaggregated = 2,
}

/// <summary>Outcome of a request (<c>status</c>). Values match the ClickHouse Enum8 codes; 0 is never stored.</summary>
public enum RequestStatus : byte
{
    /// <summary>Not set (a default row); never the value of a decoded row.</summary>
    Unspecified = 0,

    /// <summary>Completed (<c>ok</c>); the only status that counts as a successful output.</summary>
    Ok = 1,

    /// <summary>Server or model failure (<c>error</c>).</summary>
    Error = 2,

    /// <summary>Deadline exceeded (<c>timeout</c>).</summary>
    Timeout = 3,

    /// <summary>The client went away (<c>cancelled</c>).</summary>
    Cancelled = 4,

    /// <summary>Blocked by a safety or policy filter (<c>filtered</c>).</summary>
    Filtered = 5,
}

/// <summary>Token counts by KV cache tier (tokens). Tiers follow Dynamo's G1-G4.</summary>
/// <param name="Hbm">GPU memory (G1).</param>
/// <param name="Dram">CPU memory (G2).</param>
/// <param name="LocalSsd">Local flash (G3).</param>
/// <param name="Remote">Shared/remote storage (G4).</param>
public readonly record struct KvTierTokens(int Hbm, int Dram, int LocalSsd, int Remote)
{
    /// <summary>Sum over all tiers (tokens); a long, since four int counts can exceed int.</summary>
    public long Total => (long)Hbm + Dram + LocalSsd + Remote;
}

/// <summary>Durations by KV cache tier (milliseconds). Tiers follow Dynamo's G1-G4.</summary>
/// <param name="Hbm">GPU memory (G1).</param>
/// <param name="Dram">CPU memory (G2).</param>
/// <param name="LocalSsd">Local flash (G3).</param>
/// <param name="Remote">Shared/remote storage (G4).</param>
public readonly record struct KvTierMilliseconds(double Hbm, double Dram, double LocalSsd, double Remote)
{
    /// <summary>Sum over all tiers (milliseconds).</summary>
    public double Total => Hbm + Dram + LocalSsd + Remote;
}
