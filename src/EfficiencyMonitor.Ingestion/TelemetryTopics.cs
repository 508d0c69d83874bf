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

    /// <summary>The row's event time (Unix ms): freshness, and the table partition (month) it lands in.</summary>
    long EventTimeUnixMs(in TRow row);

    /// <summary>Copies the row's arena-held ids from <paramref name="from"/> to <paramref name="to"/> (the row moves to another batch).</summary>
    void MoveIds(ref TRow row, Utf8Arena from, Utf8Arena to);
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

    /// <inheritdoc />
    public void MoveIds(ref InferenceRequestRow row, Utf8Arena from, Utf8Arena to)
    {
        ArgumentNullException.ThrowIfNull(from);
        ArgumentNullException.ThrowIfNull(to);
        row.RequestId = to.Append(from.GetSpan(row.RequestId));
        row.SessionId = row.SessionId.IsEmpty ? default : to.Append(from.GetSpan(row.SessionId));
        row.RetryOf = row.RetryOf.IsEmpty ? default : to.Append(from.GetSpan(row.RetryOf));
    }
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

    /// <inheritdoc />
    public void MoveIds(ref GpuPowerRow row, Utf8Arena from, Utf8Arena to)
    {
        // Power rows hold no arena slices: their names are interned strings.
    }
}
