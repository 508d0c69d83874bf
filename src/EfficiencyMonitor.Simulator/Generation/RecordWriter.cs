using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace EfficiencyMonitor.Simulator.Generation;

/// <summary>Field values of one <c>inference-requests</c> record (schema v1).</summary>
internal sealed record RequestFields
{
    public required string RequestId { get; init; }
    public string? SessionId { get; init; }
    public required string Tenant { get; init; }
    public required string Deployment { get; init; }
    public required string Model { get; init; }
    public required string ServingPattern { get; init; }
    public string? PrefillPool { get; init; }
    public string? DecodePool { get; init; }
    public required string GpuType { get; init; }
    public required string Region { get; init; }
    public long StartedAtMs { get; init; }
    public long? FirstTokenAtMs { get; init; }
    public long FinishedAtMs { get; init; }
    public int InputTokens { get; init; }
    public long CachedHbm { get; init; }
    public long CachedDram { get; init; }
    public long CachedLocalSsd { get; init; }
    public long CachedRemote { get; init; }
    public long RecomputedInputTokens { get; init; }
    public int OutputTokens { get; init; }
    public int ReasoningTokens { get; init; }
    public double QueueMs { get; init; }
    public double PrefillMs { get; init; }
    public double? KvTransferMs { get; init; }
    public double LoadHbm { get; init; }
    public double LoadDram { get; init; }
    public double LoadLocalSsd { get; init; }
    public double LoadRemote { get; init; }
    public double DecodeMs { get; init; }
    public long KvBytesTransferred { get; init; }
    public double KvCompressionRatio { get; init; }
    public required string Status { get; init; }
    public double? QualityScore { get; init; }
    public bool? Accepted { get; init; }
}

/// <summary>Field values of one <c>gpu-power</c> record (schema v1).</summary>
internal sealed record PowerFields
{
    public required string Node { get; init; }
    public int GpuIndex { get; init; }
    public required string GpuUuid { get; init; }
    public required string GpuType { get; init; }
    public required string Pool { get; init; }
    public required string Deployment { get; init; }
    public long SampledAtMs { get; init; }
    public double PowerWatts { get; init; }
    public double? EnergyJoulesTotal { get; init; }
    public double Utilization { get; init; }
    public long MemoryUsedBytes { get; init; }
}

/// <summary>
/// Writes records as compact JSON in the contract's field order (schemas/telemetry/README.md, "Producer notes": the
/// decoder then needs one name comparison per field). Durations are rounded to microseconds, timestamps to milliseconds.
/// </summary>
internal sealed class RecordWriter
{
    private static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = true };
    private readonly ArrayBufferWriter<byte> _buffer = new(1024);
    private readonly Utf8JsonWriter _json;

    public RecordWriter()
    {
        _json = new Utf8JsonWriter(_buffer, Options);
    }

    public byte[] WriteRequest(RequestFields r)
    {
        var w = Begin();
        w.WriteNumber("schema_version"u8, 1);
        w.WriteString("request_id"u8, r.RequestId);
        if (r.SessionId is not null)
        {
            w.WriteString("session_id"u8, r.SessionId);
        }

        w.WriteString("tenant"u8, r.Tenant);
        w.WriteString("deployment"u8, r.Deployment);
        w.WriteString("model"u8, r.Model);
        w.WriteString("serving_pattern"u8, r.ServingPattern);
        if (r.PrefillPool is not null)
        {
            w.WriteString("prefill_pool"u8, r.PrefillPool);
        }

        if (r.DecodePool is not null)
        {
            w.WriteString("decode_pool"u8, r.DecodePool);
        }

        w.WriteString("gpu_type"u8, r.GpuType);
        w.WriteString("region"u8, r.Region);
        Timestamp(w, "started_at"u8, r.StartedAtMs);
        if (r.FirstTokenAtMs is { } first)
        {
            Timestamp(w, "first_token_at"u8, first);
        }

        Timestamp(w, "finished_at"u8, r.FinishedAtMs);
        w.WriteNumber("input_tokens"u8, r.InputTokens);
        w.WriteStartObject("cached_input_tokens"u8);
        w.WriteNumber("hbm"u8, r.CachedHbm);
        w.WriteNumber("dram"u8, r.CachedDram);
        w.WriteNumber("local_ssd"u8, r.CachedLocalSsd);
        w.WriteNumber("remote"u8, r.CachedRemote);
        w.WriteEndObject();
        w.WriteNumber("recomputed_input_tokens"u8, r.RecomputedInputTokens);
        w.WriteNumber("output_tokens"u8, r.OutputTokens);
        w.WriteNumber("reasoning_tokens"u8, r.ReasoningTokens);
        w.WriteNumber("queue_ms"u8, Ms(r.QueueMs));
        w.WriteNumber("prefill_ms"u8, Ms(r.PrefillMs));
        if (r.KvTransferMs is { } transfer)
        {
            w.WriteNumber("kv_transfer_ms"u8, Ms(transfer));
        }

        w.WriteStartObject("kv_load_ms"u8);
        w.WriteNumber("hbm"u8, Ms(r.LoadHbm));
        w.WriteNumber("dram"u8, Ms(r.LoadDram));
        w.WriteNumber("local_ssd"u8, Ms(r.LoadLocalSsd));
        w.WriteNumber("remote"u8, Ms(r.LoadRemote));
        w.WriteEndObject();
        w.WriteNumber("decode_ms"u8, Ms(r.DecodeMs));
        w.WriteNumber("kv_bytes_transferred"u8, r.KvBytesTransferred);
        w.WriteNumber("kv_compression_ratio"u8, r.KvCompressionRatio);
        w.WriteString("status"u8, r.Status);
        if (r.QualityScore is { } quality)
        {
            w.WriteNumber("quality_score"u8, quality);
        }

        if (r.Accepted is { } accepted)
        {
            w.WriteBoolean("accepted"u8, accepted);
        }

        return End();
    }

    public byte[] WritePower(PowerFields p)
    {
        var w = Begin();
        w.WriteNumber("schema_version"u8, 1);
        w.WriteString("node"u8, p.Node);
        w.WriteNumber("gpu_index"u8, p.GpuIndex);
        w.WriteString("gpu_uuid"u8, p.GpuUuid);
        w.WriteString("gpu_type"u8, p.GpuType);
        w.WriteString("pool"u8, p.Pool);
        w.WriteString("deployment"u8, p.Deployment);
        Timestamp(w, "sampled_at"u8, p.SampledAtMs);
        w.WriteNumber("power_watts"u8, p.PowerWatts);
        if (p.EnergyJoulesTotal is { } energy)
        {
            w.WriteNumber("energy_joules_total"u8, energy);
        }

        w.WriteNumber("utilization"u8, p.Utilization);
        w.WriteNumber("memory_used_bytes"u8, p.MemoryUsedBytes);
        return End();
    }

    /// <summary>RFC 3339 UTC with exactly three fractional digits, e.g. <c>2025-06-01T11:58:03.120Z</c>.</summary>
    internal static void Timestamp(Utf8JsonWriter w, ReadOnlySpan<byte> name, long unixMs)
    {
        Span<byte> text = stackalloc byte[32];
        var dt = DateTimeOffset.FromUnixTimeMilliseconds(unixMs).UtcDateTime;
        dt.TryFormat(text, out var written, "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fff'Z'", System.Globalization.CultureInfo.InvariantCulture);
        w.WriteString(name, text[..written]);
    }

    /// <summary>Formats like <see cref="Timestamp"/>, as a string.</summary>
    internal static string FormatTimestamp(long unixMs) =>
        DateTimeOffset.FromUnixTimeMilliseconds(unixMs).UtcDateTime.ToString("yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fff'Z'", System.Globalization.CultureInfo.InvariantCulture);

    private static double Ms(double value) => Math.Round(Math.Clamp(value, 0, 86_400_000), 3);

    private Utf8JsonWriter Begin()
    {
        _buffer.ResetWrittenCount();
        _json.Reset(_buffer);
        _json.WriteStartObject();
        return _json;
    }

    private byte[] End()
    {
        _json.WriteEndObject();
        _json.Flush();
        return _buffer.WrittenSpan.ToArray();
    }
}
