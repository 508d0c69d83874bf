-- Raw telemetry, one row per Kafka record, for the contract in schemas/telemetry (schema_version 1).
-- Placeholders: {database} (ClickHouse:Database), {raw_retention_days} (ClickHouse:RawRetentionDays).
-- Re-runnable: every statement is IF NOT EXISTS.
--
-- Types: DateTime64(3,'UTC') for event times (ms precision, as produced); LowCardinality for the dimensions
-- (tenants, deployments, models, pools: hundreds of values, not millions); T64/Delta codecs for counters and
-- monotonic times. Partitioned by month: an insert writes one part per partition it touches, so coarse partitions
-- keep nearly every insert a single, atomic part (README.md, "Exactly-once effect").
-- non_replicated_deduplication_window keeps the hashes of recent inserted blocks, so an insert retried with the
-- same insert_deduplication_token is a no-op (the exactly-once mechanism: schemas/clickhouse/README.md).

CREATE TABLE IF NOT EXISTS {database}.inference_requests
(
    schema_version           UInt8,
    request_id               String                     CODEC(ZSTD(1)),
    session_id               String                     CODEC(ZSTD(1)),
    retry_of                 String                     CODEC(ZSTD(1)),
    tenant                   LowCardinality(String),
    deployment               LowCardinality(String),
    model                    LowCardinality(String),
    serving_pattern          Enum8('aggregated' = 1, 'disaggregated' = 2),
    prefill_pool             LowCardinality(String),
    decode_pool              LowCardinality(String),
    gpu_type                 LowCardinality(String),
    region                   LowCardinality(String),

    started_at               DateTime64(3, 'UTC')       CODEC(DoubleDelta, ZSTD(1)),
    first_token_at           Nullable(DateTime64(3, 'UTC')),
    finished_at              DateTime64(3, 'UTC')       CODEC(DoubleDelta, ZSTD(1)),

    input_tokens             UInt32                     CODEC(T64, ZSTD(1)),
    cached_hbm_tokens        UInt32                     CODEC(T64, ZSTD(1)),
    cached_dram_tokens       UInt32                     CODEC(T64, ZSTD(1)),
    cached_local_ssd_tokens  UInt32                     CODEC(T64, ZSTD(1)),
    cached_remote_tokens     UInt32                     CODEC(T64, ZSTD(1)),
    recomputed_input_tokens  UInt32                     CODEC(T64, ZSTD(1)),
    output_tokens            UInt32                     CODEC(T64, ZSTD(1)),
    reasoning_tokens         UInt32                     CODEC(T64, ZSTD(1)),

    queue_ms                 Float32                    CODEC(ZSTD(1)),
    prefill_ms               Float32                    CODEC(ZSTD(1)),
    kv_transfer_ms           Float32                    CODEC(ZSTD(1)),   -- 0 for aggregated serving
    kv_load_hbm_ms           Float32                    CODEC(ZSTD(1)),
    kv_load_dram_ms          Float32                    CODEC(ZSTD(1)),
    kv_load_local_ssd_ms     Float32                    CODEC(ZSTD(1)),
    kv_load_remote_ms        Float32                    CODEC(ZSTD(1)),
    decode_ms                Float32                    CODEC(ZSTD(1)),

    kv_bytes_transferred     UInt64                     CODEC(T64, ZSTD(1)),
    kv_compression_ratio     Float32                    CODEC(ZSTD(1)),

    status                   Enum8('ok' = 1, 'error' = 2, 'timeout' = 3, 'cancelled' = 4, 'filtered' = 5),
    quality_score            Nullable(Float32),
    accepted                 Nullable(Bool),

    -- Where the row came from: the ingest watermark (0002) is built from these, and an operator can find the record.
    source_topic             LowCardinality(String),
    source_partition         UInt16,
    source_offset            UInt64                     CODEC(Delta, ZSTD(1)),
    ingested_at              DateTime64(3, 'UTC')       DEFAULT now64(3) CODEC(DoubleDelta, ZSTD(1))
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(finished_at)
ORDER BY (deployment, model, tenant, finished_at, request_id)
TTL toDateTime(finished_at) + INTERVAL {raw_retention_days} DAY
SETTINGS non_replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS {database}.gpu_power_samples
(
    schema_version           UInt8,
    node                     LowCardinality(String),
    gpu_index                UInt16,
    gpu_uuid                 LowCardinality(String),
    gpu_type                 LowCardinality(String),
    pool                     LowCardinality(String),
    deployment               LowCardinality(String),
    sampled_at               DateTime64(3, 'UTC')       CODEC(DoubleDelta, ZSTD(1)),
    power_watts              Float32                    CODEC(ZSTD(1)),
    -- DCGM-style monotonic counter; NULL when the exporter has none (spend falls back to the trapezoid over power).
    energy_joules_total      Nullable(Float64),
    utilization              Float32                    CODEC(ZSTD(1)),
    memory_used_bytes        UInt64                     CODEC(T64, ZSTD(1)),

    source_topic             LowCardinality(String),
    source_partition         UInt16,
    source_offset            UInt64                     CODEC(Delta, ZSTD(1)),
    ingested_at              DateTime64(3, 'UTC')       DEFAULT now64(3) CODEC(DoubleDelta, ZSTD(1))
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(sampled_at)
ORDER BY (deployment, pool, gpu_uuid, sampled_at)
TTL toDateTime(sampled_at) + INTERVAL {raw_retention_days} DAY
SETTINGS non_replicated_deduplication_window = 10000;
