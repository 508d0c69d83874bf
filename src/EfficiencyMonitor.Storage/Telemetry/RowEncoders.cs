using EfficiencyMonitor.Core.Telemetry;

namespace EfficiencyMonitor.Storage.Telemetry;

/// <summary>Encodes decoded rows of one topic as RowBinary for one raw table.</summary>
/// <typeparam name="TRow">The decoded row type.</typeparam>
public interface IRowBinaryEncoder<TRow> where TRow : struct
{
    /// <summary>Raw table name (without database).</summary>
    string Table { get; }

    /// <summary>The column list, in the order <see cref="Encode"/> writes values.</summary>
    string Columns { get; }

    /// <summary>Writes every row of <paramref name="batch"/> to its <see cref="TelemetryBatch{TRow}.Encoded"/> buffer.</summary>
    void Encode(TelemetryBatch<TRow> batch);
}

/// <summary>RowBinary for <c>inference_requests</c> (schemas/clickhouse/0001_raw_tables.sql).</summary>
public sealed class InferenceRequestEncoder : IRowBinaryEncoder<InferenceRequestRow>
{
    /// <inheritdoc />
    public string Table => "inference_requests";

    /// <inheritdoc />
    public string Columns =>
        "schema_version, request_id, session_id, retry_of, tenant, deployment, model, serving_pattern, prefill_pool, decode_pool, gpu_type, region, " +
        "started_at, first_token_at, finished_at, input_tokens, cached_hbm_tokens, cached_dram_tokens, cached_local_ssd_tokens, cached_remote_tokens, " +
        "recomputed_input_tokens, output_tokens, reasoning_tokens, queue_ms, prefill_ms, kv_transfer_ms, kv_load_hbm_ms, kv_load_dram_ms, " +
        "kv_load_local_ssd_ms, kv_load_remote_ms, decode_ms, kv_bytes_transferred, kv_compression_ratio, status, quality_score, accepted, " +
        "source_topic, source_partition, source_offset";

    /// <inheritdoc />
    public void Encode(TelemetryBatch<InferenceRequestRow> batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var b = batch.Encoded;
        var arena = batch.Arena;
        for (var i = 0; i < batch.Count; i++)
        {
            ref readonly var r = ref batch[i];
            b.WriteByte((byte)r.SchemaVersion);
            b.WriteString(arena.GetSpan(r.RequestId));
            b.WriteString(arena.GetSpan(r.SessionId));
            b.WriteString(arena.GetSpan(r.RetryOf));
            b.WriteString(r.Tenant);
            b.WriteString(r.Deployment);
            b.WriteString(r.Model);
            b.WriteByte((byte)r.ServingPattern); // Enum8 values equal the Core enum's (1 aggregated, 2 disaggregated)
            b.WriteString(r.PrefillPool);
            b.WriteString(r.DecodePool);
            b.WriteString(r.GpuType);
            b.WriteString(r.Region);
            b.WriteInt64(r.StartedAtUnixMs);
            WriteNullableInt64(b, r.FirstTokenAtUnixMs);
            b.WriteInt64(r.FinishedAtUnixMs);
            b.WriteUInt32((uint)r.InputTokens);
            b.WriteUInt32((uint)r.CachedInputTokens.Hbm);
            b.WriteUInt32((uint)r.CachedInputTokens.Dram);
            b.WriteUInt32((uint)r.CachedInputTokens.LocalSsd);
            b.WriteUInt32((uint)r.CachedInputTokens.Remote);
            b.WriteUInt32((uint)r.RecomputedInputTokens);
            b.WriteUInt32((uint)r.OutputTokens);
            b.WriteUInt32((uint)r.ReasoningTokens);
            b.WriteFloat32((float)r.QueueMs);
            b.WriteFloat32((float)r.PrefillMs);
            b.WriteFloat32((float)(r.KvTransferMs ?? 0)); // aggregated serving has no transfer: stored as 0
            b.WriteFloat32((float)r.KvLoadMs.Hbm);
            b.WriteFloat32((float)r.KvLoadMs.Dram);
            b.WriteFloat32((float)r.KvLoadMs.LocalSsd);
            b.WriteFloat32((float)r.KvLoadMs.Remote);
            b.WriteFloat32((float)r.DecodeMs);
            b.WriteUInt64((ulong)r.KvBytesTransferred);
            b.WriteFloat32((float)r.KvCompressionRatio);
            b.WriteByte((byte)r.Status); // Enum8 values equal the Core enum's (1 ok … 5 filtered)
            if (r.QualityScore is { } quality)
            {
                b.WriteByte(0);
                b.WriteFloat32((float)quality);
            }
            else
            {
                b.WriteByte(1);
            }

            if (r.Accepted is { } accepted)
            {
                b.WriteByte(0);
                b.WriteByte(accepted ? (byte)1 : (byte)0);
            }
            else
            {
                b.WriteByte(1);
            }

            b.WriteString(batch.Topic);
            b.WriteUInt16((ushort)batch.PartitionAt(i));
            b.WriteUInt64((ulong)batch.OffsetAt(i));
        }
    }

    private static void WriteNullableInt64(RowBinaryBuffer b, long? value)
    {
        if (value is { } v)
        {
            b.WriteByte(0);
            b.WriteInt64(v);
        }
        else
        {
            b.WriteByte(1);
        }
    }
}

/// <summary>RowBinary for <c>gpu_power_samples</c> (schemas/clickhouse/0001_raw_tables.sql).</summary>
public sealed class GpuPowerEncoder : IRowBinaryEncoder<GpuPowerRow>
{
    /// <inheritdoc />
    public string Table => "gpu_power_samples";

    /// <inheritdoc />
    public string Columns =>
        "schema_version, node, gpu_index, gpu_uuid, gpu_type, pool, deployment, sampled_at, power_watts, energy_joules_total, utilization, " +
        "memory_used_bytes, source_topic, source_partition, source_offset";

    /// <inheritdoc />
    public void Encode(TelemetryBatch<GpuPowerRow> batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var b = batch.Encoded;
        for (var i = 0; i < batch.Count; i++)
        {
            ref readonly var r = ref batch[i];
            b.WriteByte((byte)r.SchemaVersion);
            b.WriteString(r.Node);
            b.WriteUInt16((ushort)r.GpuIndex);
            b.WriteString(r.GpuUuid);
            b.WriteString(r.GpuType);
            b.WriteString(r.Pool);
            b.WriteString(r.Deployment);
            b.WriteInt64(r.SampledAtUnixMs);
            b.WriteFloat32((float)r.PowerWatts);
            if (r.EnergyJoulesTotal is { } energy)
            {
                b.WriteByte(0);
                b.WriteFloat64(energy);
            }
            else
            {
                b.WriteByte(1);
            }

            b.WriteFloat32((float)r.Utilization);
            b.WriteUInt64((ulong)r.MemoryUsedBytes);
            b.WriteString(batch.Topic);
            b.WriteUInt16((ushort)batch.PartitionAt(i));
            b.WriteUInt64((ulong)batch.OffsetAt(i));
        }
    }
}
