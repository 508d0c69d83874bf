using System.Globalization;
using ClickHouse.Driver;
using Dapper;
using EfficiencyMonitor.Core.Model;
using EfficiencyMonitor.Storage;

namespace EfficiencyMonitor.Jobs.Validation;

/// <summary>One <c>forecast_validation</c> row.</summary>
public sealed record ValidationRow
{
    /// <summary>'' for the calibrated baseline, else the forecast id.</summary>
    public required string ForecastId { get; init; }

    /// <summary>Window length, s.</summary>
    public required int WindowSeconds { get; init; }

    /// <summary>Deployment.</summary>
    public required string Deployment { get; init; }

    /// <summary>Window start.</summary>
    public required DateTimeOffset WindowStart { get; init; }

    /// <summary>Catalog version of the model and plan.</summary>
    public required string CatalogVersion { get; init; }

    /// <summary>Requests finished.</summary>
    public long Requests { get; init; }

    /// <summary>Successful outputs.</summary>
    public long SuccessfulOutputs { get; init; }

    /// <summary>Spend / successes as billed.</summary>
    public double? RealizedBill { get; init; }

    /// <summary>Realized work at the plan's utilization.</summary>
    public double? RealizedWork { get; init; }

    /// <summary>Model on the observed mix.</summary>
    public double? Model { get; init; }

    /// <summary>Plan.</summary>
    public double? Plan { get; init; }

    /// <summary>realized_work / model − 1.</summary>
    public double? ModelError { get; init; }

    /// <summary>realized_work / plan − 1.</summary>
    public double? DriftRatio { get; init; }

    /// <summary>ln(bill / realized_work): the utilization (and idle energy) difference from the plan.</summary>
    public double UtilizationLogRatio { get; init; }

    /// <summary>Per-factor log-ratios.</summary>
    public IReadOnlyDictionary<string, double> Factors { get; init; } = new Dictionary<string, double>();

    /// <summary>Largest factor.</summary>
    public string TopFactor { get; init; } = "";

    /// <summary>Human explanation.</summary>
    public string Explanation { get; init; } = "";

    /// <summary>Realized prefill GPU-s per uncached token.</summary>
    public double PrefillRealized { get; init; }

    /// <summary>Model prefill GPU-s per uncached token.</summary>
    public double PrefillPredicted { get; init; }

    /// <summary>Realized decode GPU-s per output token.</summary>
    public double DecodeRealized { get; init; }

    /// <summary>Model decode GPU-s per output token.</summary>
    public double DecodePredicted { get; init; }

    /// <summary>Realized KV load GPU-s per request.</summary>
    public double LoadRealized { get; init; }

    /// <summary>Model KV load GPU-s per request.</summary>
    public double LoadPredicted { get; init; }

    /// <summary>Realized facility J per token.</summary>
    public double EnergyRealized { get; init; }

    /// <summary>Model facility J per token.</summary>
    public double EnergyPredicted { get; init; }

    /// <summary>Output tokens per facility joule (null without energy).</summary>
    public double? OutputTokensPerJoule { get; init; }

    /// <summary>Realized utilization.</summary>
    public double UtilizationRealized { get; init; }

    /// <summary>Planned utilization.</summary>
    public double UtilizationPlanned { get; init; }

    /// <summary>Hit rates (HBM, DRAM, local SSD, remote).</summary>
    public IReadOnlyList<double> HitRates { get; init; } = [0, 0, 0, 0];

    /// <summary>Break-even bandwidth GB/s (DRAM, local SSD, remote); NaN without hits, +∞ never worth it.</summary>
    public IReadOnlyList<double> BreakEvenGbps { get; init; } = [double.NaN, double.NaN, double.NaN];

    /// <summary>Mean |model error| over the rolling windows.</summary>
    public double? RollingModelMape { get; init; }

    /// <summary>Mean |drift| over the rolling windows.</summary>
    public double? RollingPlanMape { get; init; }

    /// <summary>Mean drift over the rolling windows.</summary>
    public double? RollingPlanBias { get; init; }

    /// <summary>|drift| within the tolerance.</summary>
    public bool WithinTolerance { get; init; }
}

/// <summary>
/// Reads what the validation needs (the realized window from <c>efficiency_windows</c>, the observed mix from the raw
/// requests) and writes <c>forecast_validation</c> and <c>forecast_progress</c>.
/// </summary>
public sealed class ValidationStore(ClickHouseClient client, ClickHouseOptions options)
{
    // Classes: requests bucketed by half-octaves of input, prefix and output, so the nonlinear attention and decode
    // context terms are evaluated near each request's own size (a few hundred classes per window at most).
    private const string ClassesSql = """
        SELECT toFloat64(count()) AS Count,
               avg(input_tokens - cached_hbm_tokens - cached_dram_tokens - cached_local_ssd_tokens - cached_remote_tokens) AS Uncached,
               avg(cached_hbm_tokens) AS CachedHbm, avg(cached_dram_tokens) AS CachedDram,
               avg(cached_local_ssd_tokens) AS CachedLocalSsd, avg(cached_remote_tokens) AS CachedRemote,
               avg(cached_dram_tokens > 0) AS LoadsDram, avg(cached_local_ssd_tokens > 0) AS LoadsLocalSsd, avg(cached_remote_tokens > 0) AS LoadsRemote,
               avg(output_tokens) AS Output
        FROM {0}.inference_requests
        WHERE deployment = @deployment AND finished_at >= toDateTime(@fromS, 'UTC') AND finished_at < toDateTime(@toS, 'UTC')
        GROUP BY floor(log2(input_tokens + 1) * 2), floor(log2(cached_hbm_tokens + cached_dram_tokens + cached_local_ssd_tokens + cached_remote_tokens + 1) * 2),
                 floor(log2(output_tokens + 1) * 2)
        """;

    private const string SumsSql = """
        SELECT toFloat64(count()) AS Requests, toFloat64(sum(input_tokens)) AS InputTokens,
               toFloat64(sum(cached_hbm_tokens)) AS CachedHbmTokens, toFloat64(sum(cached_dram_tokens)) AS CachedDramTokens,
               toFloat64(sum(cached_local_ssd_tokens)) AS CachedLocalSsdTokens, toFloat64(sum(cached_remote_tokens)) AS CachedRemoteTokens,
               toFloat64(sum(output_tokens)) AS OutputTokens, toFloat64(sum(reasoning_tokens)) AS ReasoningTokens,
               sum(toFloat64(prefill_ms)) AS PrefillMs, sum(toFloat64(kv_load_hbm_ms)) AS LoadHbmMs, sum(toFloat64(kv_load_dram_ms)) AS LoadDramMs,
               sum(toFloat64(kv_load_local_ssd_ms)) AS LoadLocalSsdMs, sum(toFloat64(kv_load_remote_ms)) AS LoadRemoteMs, sum(toFloat64(decode_ms)) AS DecodeMs
        FROM {0}.inference_requests
        WHERE deployment = @deployment AND finished_at >= toDateTime(@fromS, 'UTC') AND finished_at < toDateTime(@toS, 'UTC')
        """;

    private const string WindowSql = """
        SELECT toInt64(toUnixTimestamp(window_start)) AS StartS, catalog_version AS CatalogVersion,
               toFloat64(successful_outputs) AS Successes, provisioned_gpu_seconds AS ProvisionedGpuSeconds, busy_gpu_seconds AS TelemetryBusyGpuSeconds,
               spend_usd - cost_energy_usd AS FixedSpendUsd, cost_energy_usd AS EnergySpendUsd, facility_energy_j AS FacilityEnergyJoules,
               spend_usd AS SpendUsd
        FROM {0}.efficiency_windows FINAL
        WHERE window_seconds = @w AND deployment = @deployment AND tenant = '' AND model = ''
          AND window_start >= toDateTime(@fromS, 'UTC') AND window_start < toDateTime(@toS, 'UTC')
        ORDER BY window_start
        """;

    private const string ProgressSql = """
        SELECT deployment AS Deployment, toInt64(toUnixTimestamp(max(done_until))) AS DoneS
        FROM {0}.forecast_progress WHERE forecast_id = @forecastId AND window_seconds = @w GROUP BY deployment
        """;

    private const string RealizedProgressSql = """
        SELECT deployment AS Deployment, toInt64(toUnixTimestamp(max(done_until))) AS DoneS
        FROM {0}.efficiency_progress WHERE window_seconds = @w GROUP BY deployment
        """;

    private const string FirstWindowSql = """
        SELECT toInt64(toUnixTimestamp(min(window_start))) FROM {0}.efficiency_windows FINAL
        WHERE window_seconds = @w AND deployment = @deployment AND tenant = '' AND window_start >= toDateTime(@fromS, 'UTC')
        """;

    // Validated windows whose realized row was recomputed after validation (late data): validated again.
    private const string StaleSql = """
        SELECT toInt64(toUnixTimestamp(min(e.window_start)))
        FROM
        (
            SELECT window_start, computed_at FROM {0}.efficiency_windows FINAL
            WHERE window_seconds = @w AND deployment = @deployment AND tenant = '' AND model = ''
              AND window_start >= toDateTime(@fromS, 'UTC') AND window_start < toDateTime(@toS, 'UTC')
        ) AS e
        LEFT JOIN
        (
            SELECT window_start, computed_at FROM {0}.forecast_validation FINAL
            WHERE forecast_id = @forecastId AND window_seconds = @w AND deployment = @deployment
              AND window_start >= toDateTime(@fromS, 'UTC') AND window_start < toDateTime(@toS, 'UTC')
        ) AS v ON e.window_start = v.window_start
        WHERE e.computed_at > v.computed_at
        """;

    private const string SaveProgressSql = """
        INSERT INTO {0}.forecast_progress (forecast_id, window_seconds, deployment, done_until, updated_at)
        VALUES (@forecastId, @w, @deployment, toDateTime(@doneS, 'UTC'), fromUnixTimestamp64Milli(@nowMs, 'UTC'))
        """;

    private const string RecentErrorsSql = """
        SELECT model_error AS ModelError, efficiency_drift_ratio AS DriftRatio
        FROM {0}.forecast_validation FINAL
        WHERE forecast_id = @forecastId AND window_seconds = @w AND deployment = @deployment AND window_start < toDateTime(@beforeS, 'UTC')
        ORDER BY window_start DESC
        LIMIT @limit
        """;

    private static readonly string[] Columns =
    [
        "forecast_id", "window_seconds", "deployment", "window_start", "catalog_version", "requests", "successful_outputs",
        "realized_bill_spend_per_success_usd", "realized_work_spend_per_success_usd", "model_spend_per_success_usd", "plan_spend_per_success_usd",
        "model_error", "efficiency_drift_ratio", "utilization_log_ratio", "factors", "top_factor", "explanation",
        "prefill_s_per_token_realized", "prefill_s_per_token_predicted", "decode_s_per_token_realized", "decode_s_per_token_predicted",
        "kv_load_s_realized", "kv_load_s_predicted", "energy_j_per_token_realized", "energy_j_per_token_predicted",
        "utilization_realized", "utilization_planned", "hit_rate_hbm", "hit_rate_dram", "hit_rate_local_ssd", "hit_rate_remote",
        "break_even_gbps_dram", "break_even_gbps_local_ssd", "break_even_gbps_remote",
        "rolling_model_mape", "rolling_plan_mape", "rolling_plan_bias", "within_tolerance", "computed_at",
    ];

    /// <summary>Realized windows of <paramref name="deployment"/> in <c>[fromS, toS)</c>, with the observed mix of each.</summary>
    public async Task<IReadOnlyList<(WindowObservation Observation, string CatalogVersion, double SpendUsd)>> ReadWindowsAsync(
        string deployment, int w, long fromS, long toS, CancellationToken cancellationToken)
    {
        await using var connection = client.CreateConnection();
        var windows = await connection.QueryAsync<WindowRow>(new CommandDefinition(Sql(WindowSql), new { deployment, w, fromS, toS }, cancellationToken: cancellationToken));
        var result = new List<(WindowObservation, string, double)>();
        foreach (var win in windows)
        {
            var args = new { deployment, fromS = win.StartS, toS = win.StartS + w };
            var sums = await connection.QuerySingleAsync<SumsRow>(new CommandDefinition(Sql(SumsSql), args, cancellationToken: cancellationToken));
            var classes = await connection.QueryAsync<ClassRow>(new CommandDefinition(Sql(ClassesSql), args, cancellationToken: cancellationToken));
            result.Add((new WindowObservation
            {
                Start = DateTimeOffset.FromUnixTimeSeconds(win.StartS),
                Seconds = w,
                Requests = sums.Requests,
                Successes = win.Successes,
                ProvisionedGpuSeconds = win.ProvisionedGpuSeconds,
                TelemetryBusyGpuSeconds = win.TelemetryBusyGpuSeconds,
                FixedSpendUsd = win.FixedSpendUsd,
                EnergySpendUsd = win.EnergySpendUsd,
                FacilityEnergyJoules = win.FacilityEnergyJoules,
                Classes = [.. classes.Select(c => new RequestClass
                {
                    Count = c.Count, Uncached = c.Uncached, CachedHbm = c.CachedHbm, CachedDram = c.CachedDram, CachedLocalSsd = c.CachedLocalSsd,
                    CachedRemote = c.CachedRemote, LoadsDram = c.LoadsDram, LoadsLocalSsd = c.LoadsLocalSsd, LoadsRemote = c.LoadsRemote, Output = c.Output,
                })],
                InputTokens = sums.InputTokens,
                CachedHbmTokens = sums.CachedHbmTokens,
                CachedDramTokens = sums.CachedDramTokens,
                CachedLocalSsdTokens = sums.CachedLocalSsdTokens,
                CachedRemoteTokens = sums.CachedRemoteTokens,
                OutputTokens = sums.OutputTokens,
                ReasoningTokens = sums.ReasoningTokens,
                PrefillMs = sums.PrefillMs,
                LoadHbmMs = sums.LoadHbmMs,
                LoadDramMs = sums.LoadDramMs,
                LoadLocalSsdMs = sums.LoadLocalSsdMs,
                LoadRemoteMs = sums.LoadRemoteMs,
                DecodeMs = sums.DecodeMs,
            }, win.CatalogVersion, win.SpendUsd));
        }

        return result;
    }

    /// <summary>Validation progress per deployment for <paramref name="forecastId"/>.</summary>
    public Task<IReadOnlyDictionary<string, long>> ReadProgressAsync(string forecastId, int w, CancellationToken cancellationToken) =>
        ProgressAsync(ProgressSql, new { forecastId, w }, cancellationToken);

    /// <summary>Realized-efficiency progress per deployment (validation never passes it).</summary>
    public Task<IReadOnlyDictionary<string, long>> ReadRealizedProgressAsync(int w, CancellationToken cancellationToken) =>
        ProgressAsync(RealizedProgressSql, new { w }, cancellationToken);

    /// <summary>First realized window at or after <paramref name="fromS"/>, or null.</summary>
    public async Task<long?> FirstWindowAsync(string deployment, int w, long fromS, CancellationToken cancellationToken)
    {
        await using var connection = client.CreateConnection();
        var first = await connection.ExecuteScalarAsync<long?>(new CommandDefinition(Sql(FirstWindowSql), new { deployment, w, fromS }, cancellationToken: cancellationToken));
        return first is > 0 ? first : null;
    }

    /// <summary>First window in <c>[fromS, toS)</c> whose realized row is newer than its validation, or null.</summary>
    public async Task<long?> StaleFromAsync(string forecastId, string deployment, int w, long fromS, long toS, CancellationToken cancellationToken)
    {
        await using var connection = client.CreateConnection();
        var first = await connection.ExecuteScalarAsync<long?>(new CommandDefinition(Sql(StaleSql), new { forecastId, deployment, w, fromS, toS }, cancellationToken: cancellationToken));
        return first is > 0 ? first : null;
    }

    /// <summary>Saves progress.</summary>
    public async Task SaveProgressAsync(string forecastId, string deployment, int w, long doneS, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = client.CreateConnection();
        await connection.ExecuteAsync(new CommandDefinition(Sql(SaveProgressSql),
            new { forecastId, w, deployment, doneS, nowMs = now.ToUnixTimeMilliseconds() }, cancellationToken: cancellationToken));
    }

    /// <summary>The model errors and drifts of up to <paramref name="limit"/> windows before <paramref name="beforeS"/>, newest first.</summary>
    public async Task<IReadOnlyList<(double? ModelError, double? Drift)>> ReadRecentAsync(string forecastId, string deployment, int w, long beforeS, int limit, CancellationToken cancellationToken)
    {
        await using var connection = client.CreateConnection();
        var rows = await connection.QueryAsync<RecentRow>(new CommandDefinition(Sql(RecentErrorsSql), new { forecastId, deployment, w, beforeS, limit }, cancellationToken: cancellationToken));
        return [.. rows.Select(r => (r.ModelError, r.DriftRatio))];
    }

    /// <summary>Writes rows in one insert (ReplacingMergeTree: a recompute replaces).</summary>
    public async Task WriteAsync(IReadOnlyList<ValidationRow> rows, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (rows.Count == 0) return;
        var data = rows.Select(r => new object?[]
        {
            r.ForecastId, (uint)r.WindowSeconds, r.Deployment, r.WindowStart.UtcDateTime, r.CatalogVersion, (ulong)r.Requests, (ulong)r.SuccessfulOutputs,
            Finite(r.RealizedBill), Finite(r.RealizedWork), Finite(r.Model), Finite(r.Plan), Finite(r.ModelError), Finite(r.DriftRatio), Zero(r.UtilizationLogRatio),
            r.Factors.ToDictionary(kv => kv.Key, kv => Zero(kv.Value)), r.TopFactor, r.Explanation,
            Zero(r.PrefillRealized), Zero(r.PrefillPredicted), Zero(r.DecodeRealized), Zero(r.DecodePredicted), Zero(r.LoadRealized), Zero(r.LoadPredicted),
            Zero(r.EnergyRealized), Zero(r.EnergyPredicted), Zero(r.UtilizationRealized), Zero(r.UtilizationPlanned),
            r.HitRates[0], r.HitRates[1], r.HitRates[2], r.HitRates[3], r.BreakEvenGbps[0], r.BreakEvenGbps[1], r.BreakEvenGbps[2],
            Finite(r.RollingModelMape), Finite(r.RollingPlanMape), Finite(r.RollingPlanBias), r.WithinTolerance, now.UtcDateTime,
        }).ToList();
        await client.InsertBinaryAsync($"{options.Database}.forecast_validation", Columns, data, cancellationToken: cancellationToken);
    }

    private static double? Finite(double? v) => v is { } x && double.IsFinite(x) ? x : null;

    private static double Zero(double v) => double.IsFinite(v) ? v : 0;

    private async Task<IReadOnlyDictionary<string, long>> ProgressAsync(string sql, object args, CancellationToken cancellationToken)
    {
        await using var connection = client.CreateConnection();
        var rows = await connection.QueryAsync<ProgressRow>(new CommandDefinition(Sql(sql), args, cancellationToken: cancellationToken));
        return rows.ToDictionary(r => r.Deployment, r => r.DoneS, StringComparer.Ordinal);
    }

    private string Sql(string template) => string.Format(CultureInfo.InvariantCulture, template, options.Database);

    private sealed record WindowRow(long StartS, string CatalogVersion, double Successes, double ProvisionedGpuSeconds, double TelemetryBusyGpuSeconds, double FixedSpendUsd, double EnergySpendUsd, double FacilityEnergyJoules, double SpendUsd);

    private sealed record SumsRow(
        double Requests, double InputTokens, double CachedHbmTokens, double CachedDramTokens, double CachedLocalSsdTokens, double CachedRemoteTokens,
        double OutputTokens, double ReasoningTokens, double PrefillMs, double LoadHbmMs, double LoadDramMs, double LoadLocalSsdMs, double LoadRemoteMs, double DecodeMs);

    private sealed record ClassRow(
        double Count, double Uncached, double CachedHbm, double CachedDram, double CachedLocalSsd, double CachedRemote,
        double LoadsDram, double LoadsLocalSsd, double LoadsRemote, double Output);

    private sealed record ProgressRow(string Deployment, long DoneS);

    private sealed record RecentRow(double? ModelError, double? DriftRatio);
}
