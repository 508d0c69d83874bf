-- Spend accounting (issue 5, MODEL.md §1-2): catalog versions, a per-minute outcome rollup the success policy is
-- evaluated on, the computed efficiency windows, and the job's progress. Re-runnable: every statement is IF NOT EXISTS.

-- One row per catalog version: the validated catalog as canonical JSON. Rows record which version priced them; a
-- reprice reads the old version back from here.
CREATE TABLE IF NOT EXISTS {database}.catalog_versions
(
    version      String,
    checksum     String,
    description  String,
    source       String,
    content      String CODEC(ZSTD(3)),
    loaded_at    DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(loaded_at)
ORDER BY version;

-- Outcomes per minute with the detail a success policy needs (status, user acceptance, quality at 0.01 resolution):
-- the policy is versioned in the catalog, so the rollup keeps the facts, not a verdict. accepted_flag: -1 not reported,
-- 0 rejected, 1 accepted. quality_centile: floor(score * 100) (+1e-6 absorbs Float32 rounding of e.g. 0.29), -1 without a score.
CREATE TABLE IF NOT EXISTS {database}.inference_outcomes_1m
(
    minute           DateTime('UTC'),
    deployment       LowCardinality(String),
    model            LowCardinality(String),
    tenant           LowCardinality(String),
    status           Enum8('ok' = 1, 'error' = 2, 'timeout' = 3, 'cancelled' = 4, 'filtered' = 5),
    accepted_flag    Int8,
    quality_centile  Int16,
    requests         SimpleAggregateFunction(sum, UInt64)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(minute)
ORDER BY (deployment, minute, model, tenant, status, accepted_flag, quality_centile);

CREATE MATERIALIZED VIEW IF NOT EXISTS {database}.inference_outcomes_1m_mv TO {database}.inference_outcomes_1m AS
SELECT
    toStartOfMinute(r.finished_at) AS minute,
    r.deployment AS deployment, r.model AS model, r.tenant AS tenant, r.status AS status,
    toInt8(multiIf(r.accepted IS NULL, -1, assumeNotNull(r.accepted), 1, 0)) AS accepted_flag,
    toInt16(if(r.quality_score IS NULL, -1, floor(toFloat64(assumeNotNull(r.quality_score)) * 100 + 1e-6))) AS quality_centile,
    count() AS requests
FROM {database}.inference_requests AS r
GROUP BY minute, deployment, model, tenant, status, accepted_flag, quality_centile;

-- Realized efficiency per window: one deployment row (tenant = model = '') and one row per tenant/model allocation.
-- ReplacingMergeTree keyed by the window: a rerun or a recompute after late data replaces, never duplicates (read FINAL).
-- input_requests / input_power_samples are the rollup counts the row was computed from; a change means late data.
CREATE TABLE IF NOT EXISTS {database}.efficiency_windows
(
    window_seconds               UInt32,
    deployment                   LowCardinality(String),
    window_start                 DateTime('UTC'),
    tenant                       LowCardinality(String),
    model                        LowCardinality(String),
    catalog_version              LowCardinality(String),

    cost_capacity_usd            Float64,
    cost_energy_usd              Float64,
    cost_space_usd               Float64,
    cost_tier_dram_usd           Float64,
    cost_tier_local_ssd_usd      Float64,
    cost_tier_remote_usd         Float64,
    cost_network_usd             Float64,
    spend_usd                    Float64,

    gpus                         UInt32,
    provisioned_gpu_seconds      Float64,
    busy_gpu_seconds             Float64,
    utilization                  Float64,
    gpu_energy_j                 Float64,
    host_energy_j                Float64,
    facility_energy_j            Float64,
    counter_segments             UInt32,
    trapezoid_segments           UInt32,

    busy_ms                      Float64,
    requests                     UInt64,
    successful_outputs           UInt64,
    input_tokens                 UInt64,
    output_tokens                UInt64,
    reasoning_tokens             UInt64,
    cached_tokens                UInt64,
    kv_bytes_transferred         UInt64,

    spend_per_success_usd        Nullable(Float64),
    usd_per_m_output_tokens      Nullable(Float64),
    usd_per_m_total_tokens       Nullable(Float64),
    output_tokens_per_joule      Nullable(Float64),
    successes_per_kwh            Nullable(Float64),
    no_success                   Bool,

    cache_value_hbm_usd          Float64,
    cache_value_dram_usd         Float64,
    cache_value_local_ssd_usd    Float64,
    cache_value_remote_usd       Float64,
    recompute_usd_per_token      Float64,
    note                         String,

    input_requests               UInt64,
    input_power_samples          UInt64,
    computed_at                  DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(computed_at)
PARTITION BY toYYYYMM(window_start)
ORDER BY (window_seconds, deployment, window_start, tenant, model);

-- Windows closed so far per window length and deployment (catch-up resumes from here after downtime).
CREATE TABLE IF NOT EXISTS {database}.efficiency_progress
(
    window_seconds  UInt32,
    deployment      LowCardinality(String),
    done_until      DateTime('UTC'),
    updated_at      DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY (window_seconds, deployment);
