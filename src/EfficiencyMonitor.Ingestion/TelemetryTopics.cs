using EfficiencyMonitor.Core.Telemetry;
using EfficiencyMonitor.Storage.Telemetry;

namespace EfficiencyMonitor.Ingestion;

/// <summary>What the pipeline needs to know about one telemetry topic: how to decode a record and how to store rows.</summary>
/// <typeparam name="TRow">The decoded row type.</typeparam>
public interface ITelemetryTopic<TRow> where TRow : struct
{
    /// <summary>Kafka topic.</summary>
    string Topic { get; }

    /// <summary>Encoder of the raw table the rows go to.</summary>
    IRowBinaryEncoder<TRow> Encoder { get; }

    /// <summary>Decodes one record into <paramref name="batch"/>'s pending row.</summary>
    DecodeResult Decode(ReadOnlySpan<byte> utf8Json, DateTimeOffset now, TelemetryBatch<TRow> batch);

    /// <summary>The row's event time (Unix ms), for freshness.</summary>
    long EventTimeUnixMs(in TRow row);
}

/// <summary>The <c>inference-requests</c> topic into <c>inference_requests</c>.</summary>
public sealed class InferenceRequestsTopic(string topic, TelemetryDecoderOptions decoderOptions) : ITelemetryTopic<InferenceRequestRow>
{
    private readonly InferenceRequestDecoder _decoder = new(decoderOptions);

    /// <inheritdoc />
    public string Topic => topic;

    /// <inheritdoc />
    public IRowBinaryEncoder<InferenceRequestRow> Encoder { get; } = new InferenceRequestEncoder();

    /// <inheritdoc />
    public DecodeResult Decode(ReadOnlySpan<byte> utf8Json, DateTimeOffset now, TelemetryBatch<InferenceRequestRow> batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        return _decoder.Decode(utf8Json, now, batch.Arena, ref batch.Pending);
    }

    /// <inheritdoc />
    public long EventTimeUnixMs(in InferenceRequestRow row) => row.FinishedAtUnixMs;
}

/// <summary>The <c>gpu-power</c> topic into <c>gpu_power_samples</c>.</summary>
public sealed class GpuPowerTopic(string topic, TelemetryDecoderOptions decoderOptions) : ITelemetryTopic<GpuPowerRow>
{
    private readonly GpuPowerDecoder _decoder = new(decoderOptions);

    /// <inheritdoc />
    public string Topic => topic;

    /// <inheritdoc />
    public IRowBinaryEncoder<GpuPowerRow> Encoder { get; } = new GpuPowerEncoder();

    /// <inheritdoc />
    public DecodeResult Decode(ReadOnlySpan<byte> utf8Json, DateTimeOffset now, TelemetryBatch<GpuPowerRow> batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        return _decoder.Decode(utf8Json, now, ref batch.Pending);
    }

    /// <inheritdoc />
    public long EventTimeUnixMs(in GpuPowerRow row) => row.SampledAtUnixMs;
}
