namespace EfficiencyMonitor.Core.Telemetry;

/// <summary>
/// One decoded <c>inference-requests</c> record (schema v1), reused across records to avoid allocation.
/// Ids are slices of the batch's <see cref="Utf8Arena"/>; names are interned strings; timestamps are Unix milliseconds (UTC).
/// Optional fields are <see langword="null"/> (or an empty slice) when absent.
/// </summary>
public struct InferenceRequestRow
{
    /// <summary>Contract version (always 1 for a decoded row).</summary>
    public int SchemaVersion { get; set; }

    /// <summary><c>request_id</c>, UTF-8 bytes in the arena.</summary>
    public Utf8Slice RequestId { get; set; }

    /// <summary><c>session_id</c> in the arena; empty when absent.</summary>
    public Utf8Slice SessionId { get; set; }

    /// <summary><c>retry_of</c> in the arena; empty when absent.</summary>
    public Utf8Slice RetryOf { get; set; }

    /// <summary><c>tenant</c>.</summary>
    public string Tenant { get; set; }

    /// <summary><c>deployment</c>.</summary>
    public string Deployment { get; set; }

    /// <summary><c>model</c>.</summary>
    public string Model { get; set; }

    /// <summary><c>serving_pattern</c>.</summary>
    public ServingPattern ServingPattern { get; set; }

    /// <summary><c>prefill_pool</c>; <see langword="null"/> when absent (aggregated only).</summary>
    public string? PrefillPool { get; set; }

    /// <summary><c>decode_pool</c>; <see langword="null"/> when absent (aggregated only).</summary>
    public string? DecodePool { get; set; }

    /// <summary><c>gpu_type</c>.</summary>
    public string GpuType { get; set; }

    /// <summary><c>region</c>.</summary>
    public string Region { get; set; }

    /// <summary><c>started_at</c> (Unix ms, UTC).</summary>
    public long StartedAtUnixMs { get; set; }

    /// <summary><c>first_token_at</c> (Unix ms, UTC); <see langword="null"/> when no token was produced.</summary>
    public long? FirstTokenAtUnixMs { get; set; }

    /// <summary><c>finished_at</c> (Unix ms, UTC).</summary>
    public long FinishedAtUnixMs { get; set; }

    /// <summary><c>input_tokens</c> (tokens).</summary>
    public int InputTokens { get; set; }

    /// <summary><c>cached_input_tokens</c> by tier (tokens).</summary>
    public KvTierTokens CachedInputTokens { get; set; }

    /// <summary><c>recomputed_input_tokens</c> (tokens).</summary>
    public int RecomputedInputTokens { get; set; }

    /// <summary><c>output_tokens</c> (tokens), reasoning included.</summary>
    public int OutputTokens { get; set; }

    /// <summary><c>reasoning_tokens</c> (tokens).</summary>
    public int ReasoningTokens { get; set; }

    /// <summary><c>queue_ms</c> (milliseconds).</summary>
    public double QueueMs { get; set; }

    /// <summary><c>prefill_ms</c> (milliseconds).</summary>
    public double PrefillMs { get; set; }

    /// <summary><c>kv_transfer_ms</c> (milliseconds); <see langword="null"/> when absent (aggregated only).</summary>
    public double? KvTransferMs { get; set; }

    /// <summary><c>kv_load_ms</c> by tier (milliseconds).</summary>
    public KvTierMilliseconds KvLoadMs { get; set; }

    /// <summary><c>decode_ms</c> (milliseconds).</summary>
    public double DecodeMs { get; set; }

    /// <summary><c>kv_bytes_transferred</c> (bytes).</summary>
    public long KvBytesTransferred { get; set; }

    /// <summary><c>kv_compression_ratio</c> (dimensionless, &gt;= 1).</summary>
    public double KvCompressionRatio { get; set; }

    /// <summary><c>status</c>.</summary>
    public RequestStatus Status { get; set; }

    /// <summary><c>quality_score</c> (0..1); <see langword="null"/> when not judged.</summary>
    public double? QualityScore { get; set; }

    /// <summary><c>accepted</c>; <see langword="null"/> when unknown.</summary>
    public bool? Accepted { get; set; }
}
