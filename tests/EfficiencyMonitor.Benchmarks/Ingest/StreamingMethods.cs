using System.Globalization;

namespace EfficiencyMonitor.Benchmarks.Ingest;

/// <summary>A method that consumes a topic into <c>inference_requests</c> in the background until stopped: (c) and (d).</summary>
public interface IStreamingMethod
{
    /// <summary>Short label for the report.</summary>
    string Name { get; }

    /// <summary>Starts consuming <see cref="BenchContext.Topic"/>; disposing the handle stops it and surfaces its errors.</summary>
    Task<IAsyncDisposable> StartAsync(BenchContext context, ClickHouseSql sql, CancellationToken cancellationToken);

    /// <summary>What the method reports about itself when it stalls (errors, assignments), for the message.</summary>
    Task<string> DiagnoseAsync(BenchContext context, ClickHouseSql sql, CancellationToken cancellationToken);

    /// <summary>
    /// Waits until the method consumes every partition in a stable group (used before paced production, so a late
    /// rebalance is not measured as freshness); returns a line describing what was waited for.
    /// </summary>
    Task<string> WaitReadyAsync(BenchContext context, ClickHouseSql sql, CancellationToken cancellationToken);

    /// <summary>Whether the consumer has its partitions (polled while waiting for rows; the throughput counts from then).</summary>
    Task<bool> IsAssignedAsync(BenchContext context, ClickHouseSql sql, CancellationToken cancellationToken);

    /// <summary>Set when the method has failed on its own (the bench stops waiting).</summary>
    Exception? Failure { get; }
}

/// <summary>
/// (c) ClickHouse's own Kafka table engine inside the embedded chDB, with a materialized view <c>TO inference_requests</c>.
/// </summary>
/// <remarks>
/// <para>The Kafka table reads <c>JSONEachRow</c> into typed columns: the nested per-tier objects as named <c>Tuple</c>s
/// (JSON objects map onto named tuples), timestamps as <c>DateTime64(3)</c> with <c>date_time_input_format='best_effort'</c>
/// (RFC 3339 with <c>T</c> and <c>Z</c>), enums as strings that the view's insert casts to <c>Enum8</c>. The view flattens
/// the tuples into the raw table's columns and takes <c>_topic/_partition/_offset</c> for the source columns; absent optional
/// fields get the column defaults (empty string, 0, NULL), as the decoder stores them.</para>
/// <para>It is created through the sandbox's HTTP endpoint, i.e. on a short-lived chDB connection that is closed right after
/// the DDL: consumption runs in the engine's background threads, which live as long as the engine (the sandbox's primary
/// connection), not the connection that created the table — no <c>session_id</c> is needed.</para>
/// </remarks>
public sealed class KafkaEngineMethod(IngestOptions options) : IStreamingMethod
{
    public string Name => "(c) ClickHouse Kafka engine + MV";

    public Exception? Failure => null;

    public string Settings => string.Format(
        CultureInfo.InvariantCulture,
        "kafka_format='JSONEachRow', kafka_num_consumers={0}, kafka_thread_per_consumer={1}, kafka_max_block_size={2}, kafka_poll_max_batch_size={2}, kafka_flush_interval_ms={3}, date_time_input_format='best_effort'",
        options.KafkaConsumers,
        options.KafkaConsumers > 1 ? 1 : 0,
        options.KafkaBlockRows,
        options.KafkaFlushMs);

    public async Task<IAsyncDisposable> StartAsync(BenchContext context, ClickHouseSql sql, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(sql);
        var db = context.ClickHouse.Database;
        await sql.QueryAsync($"""
            CREATE TABLE {db}.kafka_inference_requests
            (
                schema_version          UInt8,
                request_id              String,
                session_id              String,
                retry_of                String,
                tenant                  String,
                deployment              String,
                model                   String,
                serving_pattern         String,
                prefill_pool            String,
                decode_pool             String,
                gpu_type                String,
                region                  String,
                started_at              DateTime64(3, 'UTC'),
                first_token_at          Nullable(DateTime64(3, 'UTC')),
                finished_at             DateTime64(3, 'UTC'),
                input_tokens            UInt32,
                cached_input_tokens     Tuple(hbm UInt32, dram UInt32, local_ssd UInt32, remote UInt32),
                recomputed_input_tokens UInt32,
                output_tokens           UInt32,
                reasoning_tokens        UInt32,
                queue_ms                Float32,
                prefill_ms              Float32,
                kv_transfer_ms          Float32,
                kv_load_ms              Tuple(hbm Float32, dram Float32, local_ssd Float32, remote Float32),
                decode_ms               Float32,
                kv_bytes_transferred    UInt64,
                kv_compression_ratio    Float32,
                status                  String,
                quality_score           Nullable(Float32),
                accepted                Nullable(Bool)
            )
            ENGINE = Kafka
            SETTINGS kafka_broker_list = '{context.KafkaBootstrap}',
                     kafka_topic_list = '{context.Topic}',
                     kafka_group_name = '{context.ConsumerGroup}',
                     {Settings}
            """, cancellationToken);
        await sql.QueryAsync($"""
            CREATE MATERIALIZED VIEW {db}.kafka_inference_requests_mv TO {db}.inference_requests AS
            SELECT schema_version, request_id, session_id, retry_of, tenant, deployment, model, serving_pattern,
                   prefill_pool, decode_pool, gpu_type, region, started_at, first_token_at, finished_at, input_tokens,
                   cached_input_tokens.hbm AS cached_hbm_tokens, cached_input_tokens.dram AS cached_dram_tokens,
                   cached_input_tokens.local_ssd AS cached_local_ssd_tokens, cached_input_tokens.remote AS cached_remote_tokens,
                   recomputed_input_tokens, output_tokens, reasoning_tokens, queue_ms, prefill_ms, kv_transfer_ms,
                   kv_load_ms.hbm AS kv_load_hbm_ms, kv_load_ms.dram AS kv_load_dram_ms,
                   kv_load_ms.local_ssd AS kv_load_local_ssd_ms, kv_load_ms.remote AS kv_load_remote_ms,
                   decode_ms, kv_bytes_transferred, kv_compression_ratio, status, quality_score, accepted,
                   _topic AS source_topic, _partition AS source_partition, _offset AS source_offset
            FROM {db}.kafka_inference_requests
            """, cancellationToken);
        return new Handle(sql, db);
    }

    public async Task<string> DiagnoseAsync(BenchContext context, ClickHouseSql sql, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(sql);
        try
        {
            var text = await sql.QueryAsync($"""
                SELECT consumer_id, length(assignments.partition_id) AS assigned, num_messages_read, num_commits,
                       arrayStringConcat(arrayMap(e -> splitByChar('\n', e)[1], arraySlice(exceptions.text, -3)), ' | ') AS errors
                FROM system.kafka_consumers WHERE database = '{context.ClickHouse.Database}'
                """, cancellationToken);
            return text.Length == 0 ? "system.kafka_consumers has no consumer for the table" : "system.kafka_consumers: " + text.Trim().Replace("\n", "; ", StringComparison.Ordinal);
        }
        catch (InvalidOperationException ex)
        {
            return ex.Message;
        }
    }

    public async Task<string> WaitReadyAsync(BenchContext context, ClickHouseSql sql, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(sql);
        // With several consumers the group can form in two steps (one member first, the second joining later), and a
        // classic-protocol rebalance on the mock waits out the session timeout (~45 s, LOCAL_STACK.md): wait for every
        // partition to be assigned and the assignment to hold for 3 s.
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var stableSince = TimeSpan.MinValue;
        while (watch.Elapsed < TimeSpan.FromSeconds(120))
        {
            var n = await sql.NumbersAsync(
                $"SELECT sum(length(assignments.partition_id)), count() FROM system.kafka_consumers WHERE database = '{context.ClickHouse.Database}'",
                cancellationToken);
            if (n.Length > 0 && (long)n[0] == context.Partitions)
            {
                if (stableSince == TimeSpan.MinValue) stableSince = watch.Elapsed;
                if (watch.Elapsed - stableSince >= TimeSpan.FromSeconds(3))
                {
                    return string.Create(CultureInfo.InvariantCulture, $"all {context.Partitions} partitions assigned to {n[1]} consumers after {watch.Elapsed.TotalSeconds:N1} s");
                }
            }
            else
            {
                stableSince = TimeSpan.MinValue;
            }

            await Task.Delay(200, cancellationToken);
        }

        return "partitions not all assigned after 120 s; " + await DiagnoseAsync(context, sql, cancellationToken);
    }

    public async Task<bool> IsAssignedAsync(BenchContext context, ClickHouseSql sql, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(sql);
        var n = await sql.NumbersAsync(
            $"SELECT sum(length(assignments.partition_id)) FROM system.kafka_consumers WHERE database = '{context.ClickHouse.Database}'",
            cancellationToken);
        return n.Length > 0 && n[0] > 0;
    }

    private sealed class Handle(ClickHouseSql sql, string db) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            // The view first: detaching it stops the consumers' inserts; dropping the Kafka table closes the consumers.
            await sql.QueryAsync($"DROP VIEW IF EXISTS {db}.kafka_inference_requests_mv SYNC");
            await sql.QueryAsync($"DROP TABLE IF EXISTS {db}.kafka_inference_requests SYNC");
        }
    }
}

/// <summary>(d) the project's pipeline, run through the <see cref="PipelineUnderTest.Run"/> seam.</summary>
public sealed class PipelineMethod(Func<BenchContext, CancellationToken, Task> pipeline) : IStreamingMethod
{
    private Task? _running;

    public string Name => "(d) EfficiencyMonitor pipeline";

    public Exception? Failure => _running is { IsFaulted: true } task ? task.Exception?.GetBaseException() : null;

    public Task<IAsyncDisposable> StartAsync(BenchContext context, ClickHouseSql sql, CancellationToken cancellationToken)
    {
        var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _running = Task.Run(() => pipeline(context, stop.Token), CancellationToken.None);
        return Task.FromResult<IAsyncDisposable>(new Handle(_running, stop));
    }

    public Task<string> DiagnoseAsync(BenchContext context, ClickHouseSql sql, CancellationToken cancellationToken) =>
        Task.FromResult(_running is null ? "not started" : $"pipeline task {_running.Status}");

    public Task<string> WaitReadyAsync(BenchContext context, ClickHouseSql sql, CancellationToken cancellationToken) =>
        Task.FromResult("warm-up rows visible");

    public Task<bool> IsAssignedAsync(BenchContext context, ClickHouseSql sql, CancellationToken cancellationToken) =>
        Task.FromResult(context?.AssignedAtTimestamp > 0);

    private sealed class Handle(Task running, CancellationTokenSource stop) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await stop.CancelAsync();
            try
            {
                await running.WaitAsync(TimeSpan.FromSeconds(60));
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
            }
            finally
            {
                stop.Dispose();
            }
        }
    }
}
