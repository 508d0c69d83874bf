using System.Buffers;
using System.Globalization;
using System.Text.Json;

namespace EfficiencyMonitor.Benchmarks.Ingest;

/// <summary>
/// Deterministic, contract-valid <c>inference-requests</c> records (schema v1, fields in the contract's order, every tier
/// key present). Record <c>i</c> is a pure function of <c>i</c> and its <c>finished_at</c>, so the direct-insert method
/// can rebuild exactly the rows the topic holds without keeping the bytes around, and the expected sums are known.
/// </summary>
/// <remarks>
/// A record that carries every required field of the v1 contract is ~560-700 bytes of compact JSON (the field names
/// alone are ~350): the "~300 bytes" of the broker bench's ad-hoc record cannot hold the contract.
/// </remarks>
public sealed class RecordGenerator : IDisposable
{
    private static readonly string[] Tenants =
    [
        "acme-search", "globex-support", "initech-code", "umbrella/coding-agents", "hooli-chat", "stark-rnd",
        "wayne-analytics", "wonka-marketing", "tyrell-bio", "cyberdyne-ops", "soylent-docs", "aperture-labs",
        "massive-dynamic", "oscorp-legal", "vandelay-import", "pied-piper",
    ];

    private static readonly string[] Regions = ["us-east-1", "us-west-2", "eu-west-4", "ap-south-1"];

    private static readonly Deployment[] Deployments =
    [
        new("llama-70b-chat-prod", "meta-llama/Llama-3.1-70B-Instruct", "H100-SXM5-80GB", null, null, false),
        new("llama-8b-batch", "meta-llama/Llama-3.1-8B-Instruct", "L40S-48GB", null, null, false),
        new("qwen3-32b-chat", "Qwen/Qwen3-32B", "H100-SXM5-80GB", null, null, true),
        new("deepseek-v3-disagg", "deepseek-ai/DeepSeek-V3", "H200-SXM-141GB", "prefill-h200", "decode-h200", false),
        new("deepseek-r1-disagg", "deepseek-ai/DeepSeek-R1", "H200-SXM-141GB", "prefill-h200", "decode-h200", true),
        new("kimi-k2-agent", "moonshotai/Kimi-K2-Instruct", "H100-SXM5-80GB", "prefill-mi300x", "decode-h100", false),
    ];

    private readonly ArrayBufferWriter<byte> _buffer = new(1024);
    private readonly Utf8JsonWriter _writer;

    public RecordGenerator() => _writer = new Utf8JsonWriter(_buffer);

    /// <summary><c>input_tokens</c> of record <paramref name="index"/> (the zero-loss check sums these).</summary>
    public static long InputTokens(long index) => 256 + (long)(Mix(index, 1) % 12_000);

    /// <summary>Sum of <see cref="InputTokens"/> over records <c>[first, first+count)</c>.</summary>
    public static long SumInputTokens(long first, long count)
    {
        long sum = 0;
        for (var i = first; i < first + count; i++) sum += InputTokens(i);
        return sum;
    }

    /// <summary>Writes record <paramref name="index"/> finishing at <paramref name="finishedAtMs"/>; the span is valid until the next call.</summary>
    public ReadOnlySpan<byte> Write(long index, long finishedAtMs, string requestIdPrefix = "req")
    {
        _buffer.ResetWrittenCount();
        _writer.Reset(_buffer);
        var w = _writer;
        var h = Mix(index, 0);
        var deployment = Deployments[(int)(h % (ulong)Deployments.Length)];
        var disaggregated = deployment.PrefillPool is not null;
        var status = ((h >> 8) % 100) switch { < 95 => "ok", < 97 => "error", < 99 => "timeout", _ => "cancelled" };

        var input = InputTokens(index);
        var hbm = input * (long)((h >> 16) % 60) / 100;
        var dram = disaggregated ? input * (long)((h >> 24) % 20) / 100 : 0;
        var ssd = deployment.Model.Contains("Kimi", StringComparison.Ordinal) ? input * (long)((h >> 28) % 10) / 100 : 0;
        var remote = 0L;
        var recomputed = (input - hbm - dram - ssd) * (long)((h >> 32) % 5) / 100;
        var output = status == "ok" ? 16 + (long)((h >> 36) % 1_500) : status == "timeout" ? (long)((h >> 36) % 40) : 0;
        var reasoning = deployment.Reasoning ? output * (long)((h >> 44) % 70) / 100 : 0;
        var queueMs = ((h >> 40) % 4_000) / 100.0;
        var prefillMs = 20 + (input / 50.0);
        var transferMs = disaggregated ? 5 + ((h >> 48) % 600) / 10.0 : 0;
        var decodeMs = output * (8 + ((h >> 52) % 40) / 4.0);
        var totalMs = (long)Math.Ceiling(queueMs + prefillMs + transferMs + decodeMs) + 1;
        var startedAt = finishedAtMs - totalMs;
        var firstTokenAt = startedAt + (long)Math.Ceiling(queueMs + prefillMs + transferMs);

        w.WriteStartObject();
        w.WriteNumber("schema_version"u8, 1);
        WriteId(w, "request_id"u8, requestIdPrefix, index, h);
        if ((h >> 56) % 3 == 0)
        {
            WriteId(w, "session_id"u8, "sess", index / 8, Mix(index / 8, 7));
        }

        w.WriteString("tenant"u8, Tenants[(int)((h >> 4) % (ulong)Tenants.Length)]);
        w.WriteString("deployment"u8, deployment.Name);
        w.WriteString("model"u8, deployment.Model);
        w.WriteString("serving_pattern"u8, disaggregated ? "disaggregated"u8 : "aggregated"u8);
        if (disaggregated)
        {
            w.WriteString("prefill_pool"u8, deployment.PrefillPool);
            w.WriteString("decode_pool"u8, deployment.DecodePool);
        }

        w.WriteString("gpu_type"u8, deployment.GpuType);
        w.WriteString("region"u8, Regions[(int)((h >> 12) % (ulong)Regions.Length)]);
        WriteTimestamp(w, "started_at"u8, startedAt);
        if (output > 0)
        {
            WriteTimestamp(w, "first_token_at"u8, firstTokenAt);
        }

        WriteTimestamp(w, "finished_at"u8, finishedAtMs);
        w.WriteNumber("input_tokens"u8, input);
        w.WriteStartObject("cached_input_tokens"u8);
        w.WriteNumber("hbm"u8, hbm);
        w.WriteNumber("dram"u8, dram);
        w.WriteNumber("local_ssd"u8, ssd);
        w.WriteNumber("remote"u8, remote);
        w.WriteEndObject();
        w.WriteNumber("recomputed_input_tokens"u8, recomputed);
        w.WriteNumber("output_tokens"u8, output);
        w.WriteNumber("reasoning_tokens"u8, reasoning);
        w.WriteNumber("queue_ms"u8, queueMs);
        w.WriteNumber("prefill_ms"u8, prefillMs);
        if (disaggregated)
        {
            w.WriteNumber("kv_transfer_ms"u8, transferMs);
        }

        w.WriteStartObject("kv_load_ms"u8);
        w.WriteNumber("hbm"u8, hbm > 0 ? 0.25 + (hbm / 20_000.0) : 0);
        w.WriteNumber("dram"u8, dram > 0 ? 2 + (dram / 2_000.0) : 0);
        w.WriteNumber("local_ssd"u8, ssd > 0 ? 10 + (ssd / 500.0) : 0);
        w.WriteNumber("remote"u8, 0);
        w.WriteEndObject();
        w.WriteNumber("decode_ms"u8, decodeMs);
        w.WriteNumber("kv_bytes_transferred"u8, disaggregated ? (input - hbm) * 160_000 : 0);
        w.WriteNumber("kv_compression_ratio"u8, disaggregated ? 1 + ((h >> 20) % 8) : 1);
        w.WriteString("status"u8, status);
        if ((h >> 60) % 4 == 0)
        {
            w.WriteNumber("quality_score"u8, ((h >> 2) % 100) / 100.0);
        }

        w.WriteEndObject();
        w.Flush();
        return _buffer.WrittenSpan;
    }

    public void Dispose() => _writer.Dispose();

    private static void WriteId(Utf8JsonWriter w, ReadOnlySpan<byte> name, string prefix, long index, ulong hash)
    {
        Span<char> id = stackalloc char[64];
        var ok = id.TryWrite(CultureInfo.InvariantCulture, $"{prefix}-{index:x10}-{(uint)(hash >> 3):x8}-{(ushort)(hash >> 41):x4}", out var length);
        w.WriteString(name, ok ? id[..length] : prefix);
    }

    private static void WriteTimestamp(Utf8JsonWriter w, ReadOnlySpan<byte> name, long unixMs)
    {
        Span<char> text = stackalloc char[32];
        DateTimeOffset.FromUnixTimeMilliseconds(unixMs).UtcDateTime
            .TryFormat(text, out var length, "yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
        w.WriteString(name, text[..length]);
    }

    /// <summary>SplitMix64 of (index, stream): cheap, well spread, reproducible.</summary>
    private static ulong Mix(long index, ulong stream)
    {
        var z = unchecked((ulong)index + (stream * 0x632BE59BD9B4E019UL) + 0x9E3779B97F4A7C15UL);
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        return z ^ (z >> 31);
    }

    private sealed record Deployment(string Name, string Model, string GpuType, string? PrefillPool, string? DecodePool, bool Reasoning);
}
