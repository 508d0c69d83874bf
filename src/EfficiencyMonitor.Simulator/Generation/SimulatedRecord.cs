using EfficiencyMonitor.Core.Telemetry;

namespace EfficiencyMonitor.Simulator.Generation;

/// <summary>The topic a record belongs to.</summary>
public enum TraceTopic
{
    /// <summary><c>inference-requests</c>.</summary>
    InferenceRequests,

    /// <summary><c>gpu-power</c>.</summary>
    GpuPower,
}

/// <summary>One generated telemetry record: the Kafka message value (one JSON object, UTF-8) with its key and event time.</summary>
/// <param name="Topic">Topic it belongs to.</param>
/// <param name="Key">Kafka key: <c>session_id</c>, else <c>request_id</c>; <c>gpu_uuid</c> for power samples.</param>
/// <param name="EventTimeUnixMs">Latest timestamp in the record (<c>finished_at</c> or <c>sampled_at</c>): when it is emitted.</param>
/// <param name="Payload">The record's JSON bytes (no trailing newline).</param>
/// <param name="IntendedReason">For a deliberately bad record (<c>--invalid-rate</c>), the reason the decoder must give; null for valid records.</param>
public readonly record struct SimulatedRecord(TraceTopic Topic, string Key, long EventTimeUnixMs, ReadOnlyMemory<byte> Payload, RejectReason? IntendedReason);

/// <summary>What to generate.</summary>
public sealed record GeneratorOptions
{
    /// <summary>Mean request records per second of event time (the diurnal shape modulates it around this mean).</summary>
    public double Rate { get; init; } = 100;

    /// <summary>Seed: the same seed, scenario and options give byte-identical output.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>Event time of the run's start (the simulated clock's anchor).</summary>
    public required DateTimeOffset Start { get; init; }

    /// <summary>Stop after this many request records (null = no limit).</summary>
    public long? Count { get; init; }

    /// <summary>Stop after this much event time (null = no limit).</summary>
    public TimeSpan? Duration { get; init; }

    /// <summary>Share of request records deliberately made invalid (0-1), each with one of the contract's reasons.</summary>
    public double InvalidRate { get; init; }

    /// <summary>Emit gpu-power samples (default true).</summary>
    public bool PowerSamples { get; init; } = true;

    /// <summary>Checks the options; returns every problem.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (!(Rate is > 0 and <= 10_000_000))
        {
            problems.Add($"--rate {Rate} must be above 0 and at most 10000000 records/s");
        }

        if (Count is < 0)
        {
            problems.Add($"--count {Count} must not be negative");
        }

        if (Duration is { } d && d <= TimeSpan.Zero)
        {
            problems.Add($"--duration {d} must be positive");
        }

        if (!(InvalidRate is >= 0 and <= 1))
        {
            problems.Add($"--invalid-rate {InvalidRate} must be between 0 and 1");
        }

        return problems;
    }
}
