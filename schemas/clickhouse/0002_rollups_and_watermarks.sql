-- Per-minute rollups the jobs read instead of raw rows, and the ingest watermark that makes replays exactly-once.
-- Materialized views run inside the INSERT into the raw table, so a raw block and its rollup and watermark rows
-- land together, and a block deduplicated by insert_deduplication_token is skipped for the views too.

-- Highest Kafka offset stored per source partition (schemas/clickhouse/README.md, "Exactly-once effect").
CREATE TABLE IF NOT EXISTS {database}.ingest_watermarks
(
    source_table      LowCardinality(String),
    source_topic      LowCardinality(String),
    source_partition  UInt16,
    max_offset        SimpleAggregateFunction(max, UInt64),
    rows              SimpleAggregateFunction(sum, UInt64)
)
ENGINE = AggregatingMergeTree
ORDER BY (source_table, source_topic, source_partition);

CREATE MATERIALIZED VIEW IF NOT EXISTS {database}.inference_requests_watermark_mv TO {database}.ingest_watermarks AS
SELECT
    'inference_requests' AS source_table,
    source_topic,
    source_partition,
    max(source_offset) AS max_offset,
    count() AS rows
FROM {database}.inference_requests
GROUP BY source_topic, source_partition;

CREATE MATERIALIZED VIEW IF NOT EXISTS {database}.gpu_power_samples_watermark_mv TO {database}.ingest_watermarks AS
SELECT
    'gpu_power_samples' AS source_table,
    source_topic,
    source_partition,
    max(source_offset) AS max_offset,
    count() AS rows
FROM {database}.gpu_power_samples
GROUP BY source_topic, source_partition;

-- Requests per minute per deployment, model, tenant and pool (by finish time: a request counts when it ends).
CREATE TABLE IF NOT EXISTS {database}.inference_requests_1m
(
    minute                    DateTime('UTC'),
    deployment                LowCardinality(String),
    model                     LowCardinality(String),
    tenant                    LowCardinality(String),
    serving_pattern           Enum8('aggregated' = 1, 'disaggregated' = 2),
    prefill_pool              LowCardinality(String),
    decode_pool               LowCardinality(String),
    gpu_type                  LowCardinality(String),

    requests                  SimpleAggregateFunction(sum, UInt64),
    status_ok                 SimpleAggregateFunction(sum, UInt64),
    status_error              SimpleAggregateFunction(sum, UInt64),
    status_timeout            SimpleAggregateFunction(sum, UInt64),
    status_cancelled          SimpleAggregateFunction(sum, UInt64),
    status_filtered           SimpleAggregateFunction(sum, UInt64),
    accepted_false            SimpleAggregateFunction(sum, UInt64),
    retries                   SimpleAggregateFunction(sum, UInt64),

    input_tokens              SimpleAggregateFunction(sum, UInt64),
    cached_hbm_tokens         SimpleAggregateFunction(sum, UInt64),
    cached_dram_tokens        SimpleAggregateFunction(sum, UInt64),
    cached_local_ssd_tokens   SimpleAggregateFunction(sum, UInt64),
    cached_remote_tokens      SimpleAggregateFunction(sum, UInt64),
    recomputed_input_tokens   SimpleAggregateFunction(sum, UInt64),
    output_tokens             SimpleAggregateFunction(sum, UInt64),
    reasoning_tokens          SimpleAggregateFunction(sum, UInt64),
    kv_bytes_transferred      SimpleAggregateFunction(sum, UInt64),

    queue_ms                  SimpleAggregateFunction(sum, Float64),
    prefill_ms                SimpleAggregateFunction(sum, Float64),
    kv_transfer_ms            SimpleAggregateFunction(sum, Float64),
    kv_load_hbm_ms            SimpleAggregateFunction(sum, Float64),
    kv_load_dram_ms           SimpleAggregateFunction(sum, Float64),
    kv_load_local_ssd_ms      SimpleAggregateFunction(sum, Float64),
    kv_load_remote_ms         SimpleAggregateFunction(sum, Float64),
    decode_ms                 SimpleAggregateFunction(sum, Float64),

    -- Timing distributions (ms): time to first token, prefill, decode time per output token.
    ttft_ms_quantiles         AggregateFunction(quantilesTDigest(0.5, 0.9, 0.99), Float64),
    prefill_ms_quantiles      AggregateFunction(quantilesTDigest(0.5, 0.9, 0.99), Float32),
    decode_ms_per_token_q     AggregateFunction(quantilesTDigest(0.5, 0.9, 0.99), Float64)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(minute)
ORDER BY (deployment, model, tenant, prefill_pool, decode_pool, serving_pattern, gpu_type, minute);

CREATE MATERIALIZED VIEW IF NOT EXISTS {database}.inference_requests_1m_mv TO {database}.inference_requests_1m AS
SELECT
    toStartOfMinute(finished_at) AS minute,
    deployment, model, tenant, serving_pattern, prefill_pool, decode_pool, gpu_type,
    count() AS requests,
    countIf(status = 'ok') AS status_ok,
    countIf(status = 'error') AS status_error,
    countIf(status = 'timeout') AS status_timeout,
    countIf(status = 'cancelled') AS status_cancelled,
    countIf(status = 'filtered') AS status_filtered,
    countIf(accepted = false) AS accepted_false,
    countIf(retry_of != '') AS retries,
    sum(toUInt64(input_tokens)) AS input_tokens,
    sum(toUInt64(cached_hbm_tokens)) AS cached_hbm_tokens,
    sum(toUInt64(cached_dram_tokens)) AS cached_dram_tokens,
    sum(toUInt64(cached_local_ssd_tokens)) AS cached_local_ssd_tokens,
    sum(toUInt64(cached_remote_tokens)) AS cached_remote_tokens,
    sum(toUInt64(recomputed_input_tokens)) AS recomputed_input_tokens,
    sum(toUInt64(output_tokens)) AS output_tokens,
    sum(toUInt64(reasoning_tokens)) AS reasoning_tokens,
    sum(kv_bytes_transferred) AS kv_bytes_transferred,
    sum(toFloat64(queue_ms)) AS queue_ms,
    sum(toFloat64(prefill_ms)) AS prefill_ms,
    sum(toFloat64(kv_transfer_ms)) AS kv_transfer_ms,
    sum(toFloat64(kv_load_hbm_ms)) AS kv_load_hbm_ms,
    sum(toFloat64(kv_load_dram_ms)) AS kv_load_dram_ms,
    sum(toFloat64(kv_load_local_ssd_ms)) AS kv_load_local_ssd_ms,
    sum(toFloat64(kv_load_remote_ms)) AS kv_load_remote_ms,
    sum(toFloat64(decode_ms)) AS decode_ms,
    -- r.* names the raw columns: the sums above reuse their names as aliases.
    quantilesTDigestStateIf(0.5, 0.9, 0.99)(toFloat64(dateDiff('millisecond', r.started_at, r.first_token_at)), r.first_token_at IS NOT NULL) AS ttft_ms_quantiles,
    quantilesTDigestState(0.5, 0.9, 0.99)(r.prefill_ms) AS prefill_ms_quantiles,
    quantilesTDigestStateIf(0.5, 0.9, 0.99)(toFloat64(r.decode_ms) / r.output_tokens, r.output_tokens > 0) AS decode_ms_per_token_q
FROM {database}.inference_requests AS r
GROUP BY minute, deployment, model, tenant, serving_pattern, prefill_pool, decode_pool, gpu_type;

-- GPU power per minute per GPU: the spend job takes energy from the counter (first/last per minute, resets
-- handled there) and falls back to mean power × time when a GPU has no counter.
CREATE TABLE IF NOT EXISTS {database}.gpu_power_1m
(
    minute                 DateTime('UTC'),
    deployment             LowCardinality(String),
    pool                   LowCardinality(String),
    gpu_type               LowCardinality(String),
    node                   LowCardinality(String),
    gpu_uuid               LowCardinality(String),
    samples                SimpleAggregateFunction(sum, UInt64),
    power_watts_sum        SimpleAggregateFunction(sum, Float64),
    power_watts_max        SimpleAggregateFunction(max, Float32),
    utilization_sum        SimpleAggregateFunction(sum, Float64),
    first_sample           AggregateFunction(argMin, Tuple(DateTime64(3, 'UTC'), Float32, Nullable(Float64)), DateTime64(3, 'UTC')),
    last_sample            AggregateFunction(argMax, Tuple(DateTime64(3, 'UTC'), Float32, Nullable(Float64)), DateTime64(3, 'UTC'))
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(minute)
ORDER BY (deployment, pool, gpu_type, node, gpu_uuid, minute);

CREATE MATERIALIZED VIEW IF NOT EXISTS {database}.gpu_power_1m_mv TO {database}.gpu_power_1m AS
SELECT
    toStartOfMinute(sampled_at) AS minute,
    deployment, pool, gpu_type, node, gpu_uuid,
    count() AS samples,
    sum(toFloat64(power_watts)) AS power_watts_sum,
    max(power_watts) AS power_watts_max,
    sum(toFloat64(utilization)) AS utilization_sum,
    argMinState((sampled_at, power_watts, energy_joules_total), sampled_at) AS first_sample,
    argMaxState((sampled_at, power_watts, energy_joules_total), sampled_at) AS last_sample
FROM {database}.gpu_power_samples
GROUP BY minute, deployment, pool, gpu_type, node, gpu_uuid;
