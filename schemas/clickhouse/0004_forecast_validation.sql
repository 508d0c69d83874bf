-- Predictive model validation (issue 6, MODEL.md §3-4): stored forecasts and, per window, the model and the plan
-- against production. Re-runnable: every statement is IF NOT EXISTS.

-- Forecasts: a planned workload (mix, fleet, catalog version) over a horizon, validated as its windows close.
-- scenario is the forecast file as canonical JSON; the job re-evaluates it with the catalog version it names.
CREATE TABLE IF NOT EXISTS {database}.forecasts
(
    forecast_id      String,
    name             String,
    deployment       LowCardinality(String),
    catalog_version  LowCardinality(String),
    horizon_from     DateTime('UTC'),
    horizon_to       DateTime('UTC'),
    tolerance        Float64,
    scenario         String CODEC(ZSTD(3)),
    created_at       DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(created_at)
ORDER BY forecast_id;

-- One row per (forecast, window length, deployment, window). forecast_id = '' is the deployment's calibrated baseline
-- (the plan stored with the catalog version); other ids are stored forecasts. ReplacingMergeTree: read FINAL.
--   realized_bill_*   spend / successful outputs as billed (efficiency_windows).
--   realized_work_*   the window's busy GPU time priced at the plan's utilization: what its work costs on a fleet sized
--                     as planned. efficiency_drift_ratio compares this with the plan, so a slower or heavier workload
--                     shows even on a fixed fleet; utilization_log_ratio reconciles it with the bill.
--   model_*           the model on the window's observed mix (model accuracy, MODEL.md §4.1).
--   plan_*            the plan (baseline or forecast) evaluated by the model (§4.2).
--   factors           per-factor log-ratios of realized_work / plan; they sum to log(1 + efficiency_drift_ratio).
CREATE TABLE IF NOT EXISTS {database}.forecast_validation
(
    forecast_id                         LowCardinality(String),
    window_seconds                      UInt32,
    deployment                          LowCardinality(String),
    window_start                        DateTime('UTC'),
    catalog_version                     LowCardinality(String),

    requests                            UInt64,
    successful_outputs                  UInt64,
    realized_bill_spend_per_success_usd Nullable(Float64),
    realized_work_spend_per_success_usd Nullable(Float64),
    model_spend_per_success_usd         Nullable(Float64),
    plan_spend_per_success_usd          Nullable(Float64),
    model_error                         Nullable(Float64),
    efficiency_drift_ratio              Nullable(Float64),
    utilization_log_ratio               Float64,
    factors                             Map(LowCardinality(String), Float64),
    top_factor                          LowCardinality(String),
    explanation                         String,

    prefill_s_per_token_realized        Float64,
    prefill_s_per_token_predicted       Float64,
    decode_s_per_token_realized         Float64,
    decode_s_per_token_predicted        Float64,
    kv_load_s_realized                  Float64,
    kv_load_s_predicted                 Float64,
    energy_j_per_token_realized         Float64,
    energy_j_per_token_predicted        Float64,
    utilization_realized                Float64,
    utilization_planned                 Float64,
    hit_rate_hbm                        Float64,
    hit_rate_dram                       Float64,
    hit_rate_local_ssd                  Float64,
    hit_rate_remote                     Float64,
    break_even_gbps_dram                Float64,
    break_even_gbps_local_ssd           Float64,
    break_even_gbps_remote              Float64,

    rolling_model_mape                  Nullable(Float64),
    rolling_plan_mape                   Nullable(Float64),
    rolling_plan_bias                   Nullable(Float64),
    within_tolerance                    Bool,
    computed_at                         DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(computed_at)
PARTITION BY toYYYYMM(window_start)
ORDER BY (forecast_id, window_seconds, deployment, window_start);

-- Windows validated so far per forecast, window length and deployment.
CREATE TABLE IF NOT EXISTS {database}.forecast_progress
(
    forecast_id     String,
    window_seconds  UInt32,
    deployment      LowCardinality(String),
    done_until      DateTime('UTC'),
    updated_at      DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY (forecast_id, window_seconds, deployment);
