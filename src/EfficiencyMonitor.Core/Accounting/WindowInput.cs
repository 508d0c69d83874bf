namespace EfficiencyMonitor.Core.Accounting;

/// <summary>One power sample as the per-minute rollup keeps it (first or last of a minute).</summary>
/// <param name="UnixMs">Sample time, Unix ms (UTC).</param>
/// <param name="PowerWatts">Instantaneous power, W.</param>
/// <param name="EnergyJoules">Monotonic energy counter, J; null when the exporter has none.</param>
public readonly record struct PowerPoint(long UnixMs, double PowerWatts, double? EnergyJoules);

/// <summary>One GPU's samples in one minute (<c>gpu_power_1m</c>).</summary>
/// <param name="Pool">Pool.</param>
/// <param name="GpuType">GPU type (catalog key).</param>
/// <param name="GpuUuid">GPU identity.</param>
/// <param name="MinuteUnixMs">Start of the minute, Unix ms.</param>
/// <param name="Samples">Samples in the minute.</param>
/// <param name="PowerWattsSum">Sum of the samples' power, W.</param>
/// <param name="UtilizationSum">Sum of the samples' utilization (0..1 each).</param>
/// <param name="First">First sample of the minute.</param>
/// <param name="Last">Last sample of the minute.</param>
public sealed record GpuMinute(
    string Pool, string GpuType, string GpuUuid, long MinuteUnixMs, long Samples, double PowerWattsSum, double UtilizationSum, PowerPoint First, PowerPoint Last);

/// <summary>Finished requests of one tenant/model/pool combination in the window (sums of <c>inference_requests_1m</c>).</summary>
public sealed record RequestAggregate
{
    /// <summary>Tenant.</summary>
    public required string Tenant { get; init; }

    /// <summary>Model.</summary>
    public required string Model { get; init; }

    /// <summary>Prefill pool ('' for aggregated serving).</summary>
    public string PrefillPool { get; init; } = "";

    /// <summary>Decode pool ('' for aggregated serving).</summary>
    public string DecodePool { get; init; } = "";

    /// <summary>Requests finished.</summary>
    public long Requests { get; init; }

    /// <summary>Input tokens (cached ones included).</summary>
    public long InputTokens { get; init; }

    /// <summary>Input tokens served from HBM.</summary>
    public long CachedHbmTokens { get; init; }

    /// <summary>Input tokens served from DRAM.</summary>
    public long CachedDramTokens { get; init; }

    /// <summary>Input tokens served from local SSD.</summary>
    public long CachedLocalSsdTokens { get; init; }

    /// <summary>Input tokens served from the remote store.</summary>
    public long CachedRemoteTokens { get; init; }

    /// <summary>Output tokens (hidden reasoning included).</summary>
    public long OutputTokens { get; init; }

    /// <summary>Hidden reasoning tokens (subset of output).</summary>
    public long ReasoningTokens { get; init; }

    /// <summary>KV bytes shipped prefill→decode.</summary>
    public long KvBytesTransferred { get; init; }

    /// <summary>Prefill time, ms.</summary>
    public double PrefillMs { get; init; }

    /// <summary>KV load time from HBM, ms.</summary>
    public double KvLoadHbmMs { get; init; }

    /// <summary>KV load time from DRAM, ms.</summary>
    public double KvLoadDramMs { get; init; }

    /// <summary>KV load time from local SSD, ms.</summary>
    public double KvLoadLocalSsdMs { get; init; }

    /// <summary>KV load time from the remote store, ms.</summary>
    public double KvLoadRemoteMs { get; init; }

    /// <summary>Decode time, ms.</summary>
    public double DecodeMs { get; init; }

    /// <summary>Prefill-side busy time: prefill plus KV loads (MODEL.md §3: <c>g_pf·(t_pf + Σ t_t)</c>), ms.</summary>
    public double PrefillSideMs => PrefillMs + KvLoadHbmMs + KvLoadDramMs + KvLoadLocalSsdMs + KvLoadRemoteMs;

    /// <summary>All busy time, ms.</summary>
    public double BusyMs => PrefillSideMs + DecodeMs;
}

/// <summary>Requests of one tenant/model with one outcome (status, accepted flag, quality hundredth).</summary>
/// <param name="Tenant">Tenant.</param>
/// <param name="Model">Model.</param>
/// <param name="Status">Status (<c>ok</c>, <c>error</c>, …).</param>
/// <param name="Accepted">User acceptance; null when not reported.</param>
/// <param name="QualityCentile">⌊quality_score·100⌋, or -1 when no score.</param>
/// <param name="Requests">Requests with this outcome.</param>
public sealed record OutcomeAggregate(string Tenant, string Model, string Status, bool? Accepted, int QualityCentile, long Requests);

/// <summary>Everything the accounting needs about one window of one deployment.</summary>
public sealed record WindowInput
{
    /// <summary>Deployment.</summary>
    public required string Deployment { get; init; }

    /// <summary>Window start (inclusive), UTC.</summary>
    public required DateTimeOffset Start { get; init; }

    /// <summary>Window end (exclusive), UTC.</summary>
    public required DateTimeOffset End { get; init; }

    /// <summary>
    /// Power minutes of the window, plus minutes before it (the lookback) that supply each GPU's last sample before the
    /// window, so the segment across the boundary is counted in the window where it ends.
    /// </summary>
    public IReadOnlyList<GpuMinute> Power { get; init; } = [];

    /// <summary>Requests finished in the window.</summary>
    public IReadOnlyList<RequestAggregate> Requests { get; init; } = [];

    /// <summary>Outcomes of the requests finished in the window.</summary>
    public IReadOnlyList<OutcomeAggregate> Outcomes { get; init; } = [];

    /// <summary>Window length, s.</summary>
    public double Seconds => (End - Start).TotalSeconds;
}
