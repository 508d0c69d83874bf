using ClickHouse.Driver;
using ClickHouse.Driver.ADO;
using Dapper;

namespace EfficiencyMonitor.Storage.Telemetry;

/// <summary>
/// Writes telemetry batches into the raw tables and reads the ingest watermarks (the highest stored offset per source
/// partition) that let a restarted consumer skip what an earlier, crashed one already stored.
/// </summary>
public sealed class TelemetryStore(ClickHouseClient client, ClickHouseOptions options)
{
    private const string WatermarksSql = """
        SELECT source_partition AS Partition, max(max_offset) AS MaxOffset
        FROM {0}.ingest_watermarks
        WHERE source_table = @table AND source_topic = @topic
        GROUP BY source_partition
        """;

    /// <summary>
    /// Encodes <paramref name="batch"/> (once) and inserts it as one RowBinary block with its deduplication token, so a
    /// retry of the same batch after a lost response stores it once — in the raw table and in every materialized view.
    /// </summary>
    public async Task InsertAsync<TRow>(IRowBinaryEncoder<TRow> encoder, TelemetryBatch<TRow> batch, CancellationToken cancellationToken)
        where TRow : struct
    {
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.Count == 0) return;
        if (batch.Encoded.Length == 0) encoder.Encode(batch);

        var sql = $"INSERT INTO {options.Database}.{encoder.Table} ({encoder.Columns}) FORMAT RowBinary";
        var queryOptions = new QueryOptions
        {
            CustomSettings = new Dictionary<string, object>
            {
                ["insert_deduplication_token"] = batch.DeduplicationToken(),
                ["insert_deduplicate"] = 1,
                ["deduplicate_blocks_in_dependent_materialized_views"] = 1,
                // One batch must stay one block: deduplication and the watermark both work per block.
                ["max_insert_block_size"] = Math.Max(batch.Count, 1_048_576),
                ["min_insert_block_size_rows"] = 0,
                ["min_insert_block_size_bytes"] = 0,
            },
        };
        var payload = batch.Encoded.Written;
        using var response = await client.PostStreamAsync(
            sql,
            (stream, ct) => stream.WriteAsync(payload, ct).AsTask(),
            false,
            cancellationToken,
            queryOptions);
        response.EnsureSuccessStatusCode();
    }

    /// <summary>Highest stored offset per partition of <paramref name="topic"/> in <paramref name="table"/>.</summary>
    public async Task<IReadOnlyDictionary<int, long>> ReadWatermarksAsync(string table, string topic, CancellationToken cancellationToken)
    {
        await using var connection = client.CreateConnection();
        var rows = await connection.QueryAsync<(ushort Partition, ulong MaxOffset)>(new CommandDefinition(
            string.Format(System.Globalization.CultureInfo.InvariantCulture, WatermarksSql, options.Database),
            new { table, topic },
            cancellationToken: cancellationToken));
        return rows.ToDictionary(r => (int)r.Partition, r => (long)r.MaxOffset);
    }
}
