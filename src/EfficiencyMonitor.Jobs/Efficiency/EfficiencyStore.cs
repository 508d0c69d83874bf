using System.Globalization;
using ClickHouse.Driver;
using Dapper;
using EfficiencyMonitor.Core.Accounting;
using EfficiencyMonitor.Storage;

namespace EfficiencyMonitor.Jobs.Efficiency;

/// <summary>Reads a window's rollups and writes <c>efficiency_windows</c>. Every read is bounded by the window (plus the power lookback).</summary>
public sealed class EfficiencyStore(ClickHouseClient client, ClickHouseOptions options)
{
    private const string PowerSql = """
        SELECT Pool, GpuType, GpuUuid, MinuteMs, Samples, PowerSum, UtilSum,
               toInt64(toUnixTimestamp64Milli(f.1)) AS FirstMs, toFloat64(f.2) AS FirstW, f.3 AS FirstJ,
               toInt64(toUnixTimestamp64Milli(l.1)) AS LastMs, toFloat64(l.2) AS LastW, l.3 AS LastJ
        FROM
        (
            SELECT pool AS Pool, gpu_type AS GpuType, gpu_uuid AS GpuUuid, toInt64(toUnixTimestamp(minute)) * 1000 AS MinuteMs,
                   toInt64(sum(samples)) AS Samples, sum(power_watts_sum) AS PowerSum, sum(utilization_sum) AS UtilSum,
                   argMinMerge(first_sample) AS f, argMaxMerge(last_sample) AS l
            FROM {0}.gpu_power_1m
            WHERE deployment = @deployment AND minute >= toDateTime(@fromS, 'UTC') AND minute < toDateTime(@toS, 'UTC')
            GROUP BY pool, gpu_type, gpu_uuid, minute
        )
        ORDER BY GpuUuid, MinuteMs
        """;

    private const string RequestsSql = """
        SELECT tenant AS Tenant, model AS Model, prefill_pool AS PrefillPool, decode_pool AS DecodePool,
               toInt64(sum(requests)) AS Requests, toInt64(sum(input_tokens)) AS InputTokens,
               toInt64(sum(cached_hbm_tokens)) AS CachedHbmTokens, toInt64(sum(cached_dram_tokens)) AS CachedDramTokens,
               toInt64(sum(cached_local_ssd_tokens)) AS CachedLocalSsdTokens, toInt64(sum(cached_remote_tokens)) AS CachedRemoteTokens,
               toInt64(sum(output_tokens)) AS OutputTokens, toInt64(sum(reasoning_tokens)) AS ReasoningTokens,
               toInt64(sum(kv_bytes_transferred)) AS KvBytesTransferred,
               sum(prefill_ms) AS PrefillMs, sum(kv_load_hbm_ms) AS KvLoadHbmMs, sum(kv_load_dram_ms) AS KvLoadDramMs,
               sum(kv_load_local_ssd_ms) AS KvLoadLocalSsdMs, sum(kv_load_remote_ms) AS KvLoadRemoteMs, sum(decode_ms) AS DecodeMs
        FROM {0}.inference_requests_1m
        WHERE deployment = @deployment AND minute >= toDateTime(@fromS, 'UTC') AND minute < toDateTime(@toS, 'UTC')
        GROUP BY tenant, model, prefill_pool, decode_pool
        ORDER BY tenant, model, prefill_pool, decode_pool
        """;

    private const string OutcomesSql = """
        SELECT tenant AS Tenant, model AS Model, toString(status) AS Status, toInt32(accepted_flag) AS AcceptedFlag,
               toInt32(quality_centile) AS QualityCentile, toInt64(sum(requests)) AS Requests
        FROM {0}.inference_outcomes_1m
        WHERE deployment = @deployment AND minute >= toDateTime(@fromS, 'UTC') AND minute < toDateTime(@toS, 'UTC')
        GROUP BY tenant, model, status, accepted_flag, quality_centile
        """;

    private const string FingerprintSql = """
        SELECT StartS, toInt64(sum(Requests)) AS Requests, toInt64(sum(Samples)) AS Samples
        FROM
        (
            SELECT intDiv(toInt64(toUnixTimestamp(minute)), @w) * @w AS StartS, sum(requests) AS Requests, toUInt64(0) AS Samples
            FROM {0}.inference_requests_1m
            WHERE deployment = @deployment AND minute >= toDateTime(@fromS, 'UTC') AND minute < toDateTime(@toS, 'UTC')
            GROUP BY StartS
            UNION ALL
            SELECT intDiv(toInt64(toUnixTimestamp(minute)), @w) * @w AS StartS, toUInt64(0) AS Requests, sum(samples) AS Samples
            FROM {0}.gpu_power_1m
            WHERE deployment = @deployment AND minute >= toDateTime(@fromS, 'UTC') AND minute < toDateTime(@toS, 'UTC')
            GROUP BY StartS
        )
        GROUP BY StartS
        """;

    private const string StoredFingerprintSql = """
        SELECT toInt64(toUnixTimestamp(window_start)) AS StartS, toInt64(input_requests) AS Requests, toInt64(input_power_samples) AS Samples
        FROM {0}.efficiency_windows FINAL
        WHERE window_seconds = @w AND deployment = @deployment AND tenant = '' AND model = ''
          AND window_start >= toDateTime(@fromS, 'UTC') AND window_start < toDateTime(@toS, 'UTC')
        """;

    private const string DiscoverSql = """
        SELECT deployment AS Deployment, toInt64(toUnixTimestamp(min(minute))) AS FirstS
        FROM
        (
            SELECT deployment, minute FROM {0}.gpu_power_1m WHERE minute >= toDateTime(@fromS, 'UTC')
            UNION ALL
            SELECT deployment, minute FROM {0}.inference_requests_1m WHERE minute >= toDateTime(@fromS, 'UTC')
        )
        GROUP BY deployment
        ORDER BY deployment
        """;

    private const string LastDataSql = """
        SELECT toInt64(toUnixTimestamp(max(m)))
        FROM
        (
            SELECT max(minute) AS m FROM {0}.gpu_power_1m WHERE deployment = @deployment AND minute >= toDateTime(@fromS, 'UTC')
            UNION ALL
            SELECT max(minute) AS m FROM {0}.inference_requests_1m WHERE deployment = @deployment AND minute >= toDateTime(@fromS, 'UTC')
        )
        """;

    private const string ProgressSql = """
        SELECT deployment AS Deployment, toInt64(toUnixTimestamp(max(done_until))) AS DoneS
        FROM {0}.efficiency_progress WHERE window_seconds = @w GROUP BY deployment
        """;

    private const string SaveProgressSql = """
        INSERT INTO {0}.efficiency_progress (window_seconds, deployment, done_until, updated_at)
        VALUES (@w, @deployment, toDateTime(@doneS, 'UTC'), fromUnixTimestamp64Milli(@nowMs, 'UTC'))
        """;

    /// <summary>Columns of <c>efficiency_windows</c> in the order <see cref="WriteAsync"/> sends them.</summary>
    internal static readonly string[] Columns =
    [
        "window_seconds", "deployment", "window_start", "tenant", "model", "catalog_version",
        "cost_capacity_usd", "cost_energy_usd", "cost_space_usd", "cost_tier_dram_usd", "cost_tier_local_ssd_usd", "cost_tier_remote_usd", "cost_network_usd", "spend_usd",
        "gpus", "provisioned_gpu_seconds", "busy_gpu_seconds", "utilization", "gpu_energy_j", "host_energy_j", "facility_energy_j", "counter_segments", "trapezoid_segments",
        "busy_ms", "requests", "successful_outputs", "input_tokens", "output_tokens", "reasoning_tokens", "cached_tokens", "kv_bytes_transferred",
        "spend_per_success_usd", "usd_per_m_output_tokens", "usd_per_m_total_tokens", "output_tokens_per_joule", "successes_per_kwh", "no_success",
        "cache_value_hbm_usd", "cache_value_dram_usd", "cache_value_local_ssd_usd", "cache_value_remote_usd", "recompute_usd_per_token", "note",
        "input_requests", "input_power_samples", "computed_at",
    ];

    /// <summary>Reads the window <c>[fromS, toS)</c> of <paramref name="deployment"/>; power from <paramref name="powerFromS"/> (lookback).</summary>
    public async Task<WindowInput> ReadWindowAsync(string deployment, long fromS, long toS, long powerFromS, CancellationToken cancellationToken)
    {
        await using var connection = client.CreateConnection();
        var power = await connection.QueryAsync<PowerRow>(new CommandDefinition(Sql(PowerSql), new { deployment, fromS = powerFromS, toS }, cancellationToken: cancellationToken));
        var requests = await connection.QueryAsync<RequestAggregate>(new CommandDefinition(Sql(RequestsSql), new { deployment, fromS, toS }, cancellationToken: cancellationToken));
        var outcomes = await connection.QueryAsync<OutcomeRow>(new CommandDefinition(Sql(OutcomesSql), new { deployment, fromS, toS }, cancellationToken: cancellationToken));
        return new WindowInput
        {
            Deployment = deployment,
            Start = DateTimeOffset.FromUnixTimeSeconds(fromS),
            End = DateTimeOffset.FromUnixTimeSeconds(toS),
            Power = [.. power.Select(p => new GpuMinute(p.Pool, p.GpuType, p.GpuUuid, p.MinuteMs, p.Samples, p.PowerSum, p.UtilSum,
                new PowerPoint(p.FirstMs, p.FirstW, p.FirstJ), new PowerPoint(p.LastMs, p.LastW, p.LastJ)))],
            Requests = [.. requests],
            Outcomes = [.. outcomes.Select(o => new OutcomeAggregate(o.Tenant, o.Model, o.Status, o.AcceptedFlag < 0 ? null : o.AcceptedFlag == 1, o.QualityCentile, o.Requests))],
        };
    }

    /// <summary>Rollup counts (requests, power samples) per window start in <c>[fromS, toS)</c>.</summary>
    public async Task<IReadOnlyDictionary<long, (long Requests, long Samples)>> ReadFingerprintsAsync(string deployment, int w, long fromS, long toS, bool stored, CancellationToken cancellationToken)
    {
        await using var connection = client.CreateConnection();
        var rows = await connection.QueryAsync<FingerprintRow>(new CommandDefinition(
            Sql(stored ? StoredFingerprintSql : FingerprintSql), new { deployment, w, fromS, toS }, cancellationToken: cancellationToken));
        return rows.ToDictionary(r => r.StartS, r => (r.Requests, r.Samples));
    }

    /// <summary>Deployments with rollup data since <paramref name="fromS"/>, with their first minute.</summary>
    public async Task<IReadOnlyList<(string Deployment, long FirstS)>> DiscoverAsync(long fromS, CancellationToken cancellationToken)
    {
        await using var connection = client.CreateConnection();
        var rows = await connection.QueryAsync<DiscoverRow>(new CommandDefinition(Sql(DiscoverSql), new { fromS }, cancellationToken: cancellationToken));
        return [.. rows.Select(r => (r.Deployment, r.FirstS))];
    }

    /// <summary>Start (Unix s) of the last rollup minute of <paramref name="deployment"/> at or after <paramref name="fromS"/>; null when none.</summary>
    public async Task<long?> LastDataAsync(string deployment, long fromS, CancellationToken cancellationToken)
    {
        await using var connection = client.CreateConnection();
        var last = await connection.ExecuteScalarAsync<long>(new CommandDefinition(Sql(LastDataSql), new { deployment, fromS }, cancellationToken: cancellationToken));
        return last >= fromS ? last : null;
    }

    /// <summary>End of the last completed window per deployment for window length <paramref name="w"/>.</summary>
    public async Task<IReadOnlyDictionary<string, long>> ReadProgressAsync(int w, CancellationToken cancellationToken)
    {
        await using var connection = client.CreateConnection();
        var rows = await connection.QueryAsync<ProgressRow>(new CommandDefinition(Sql(ProgressSql), new { w }, cancellationToken: cancellationToken));
        return rows.ToDictionary(r => r.Deployment, r => r.DoneS, StringComparer.Ordinal);
    }

    /// <summary>Records that windows of <paramref name="deployment"/> are done until <paramref name="doneS"/>.</summary>
    public async Task SaveProgressAsync(string deployment, int w, long doneS, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = client.CreateConnection();
        await connection.ExecuteAsync(new CommandDefinition(Sql(SaveProgressSql), new { w = (uint)w, deployment, doneS, nowMs = now.ToUnixTimeMilliseconds() }, cancellationToken: cancellationToken));
    }

    /// <summary>Writes one window's rows (one insert: replaces an earlier computation of the same window).</summary>
    public async Task WriteAsync(WindowResult result, long inputRequests, long inputSamples, DateTimeOffset computedAt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(result);
        var rows = result.Allocations.Prepend(result.Total).Select(r => ToColumns(r, inputRequests, inputSamples, computedAt.UtcDateTime)).ToList();
        await client.InsertBinaryAsync($"{options.Database}.efficiency_windows", Columns, rows, new InsertOptions(), cancellationToken);
    }

    private static object[] ToColumns(EfficiencyRow r, long inputRequests, long inputSamples, DateTime computedAt) =>
    [
        (uint)r.WindowSeconds, r.Deployment, r.WindowStart.UtcDateTime, r.Tenant, r.Model, r.CatalogVersion,
        r.Spend.Capacity, r.Spend.Energy, r.Spend.Space, r.Spend.TierDram, r.Spend.TierLocalSsd, r.Spend.TierRemote, r.Spend.Network, r.Spend.Total,
        (uint)r.Gpus, r.ProvisionedGpuSeconds, r.BusyGpuSeconds, r.Utilization, r.GpuEnergyJoules, r.HostEnergyJoules, r.FacilityEnergyJoules,
        (uint)r.CounterSegments, (uint)r.TrapezoidSegments,
        r.BusyMs, (ulong)r.Requests, (ulong)r.SuccessfulOutputs, (ulong)r.InputTokens, (ulong)r.OutputTokens, (ulong)r.ReasoningTokens, (ulong)r.CachedTokens, (ulong)r.KvBytesTransferred,
        Nullable(r.SpendPerSuccess), Nullable(r.UsdPerMillionOutputTokens), Nullable(r.UsdPerMillionTotalTokens), Nullable(r.OutputTokensPerJoule), Nullable(r.SuccessesPerKwh), r.NoSuccess,
        r.CacheValue.Hbm, r.CacheValue.Dram, r.CacheValue.LocalSsd, r.CacheValue.Remote, r.RecomputeUsdPerToken, r.Note,
        (ulong)inputRequests, (ulong)inputSamples, computedAt,
    ];

    private static object Nullable(double? value) => value is { } v ? v : DBNull.Value;

    private string Sql(string format) => string.Format(CultureInfo.InvariantCulture, format, options.Database);

    private sealed record PowerRow(string Pool, string GpuType, string GpuUuid, long MinuteMs, long Samples, double PowerSum, double UtilSum,
        long FirstMs, double FirstW, double? FirstJ, long LastMs, double LastW, double? LastJ);

    private sealed record OutcomeRow(string Tenant, string Model, string Status, int AcceptedFlag, int QualityCentile, long Requests);

    private sealed record FingerprintRow(long StartS, long Requests, long Samples);

    private sealed record DiscoverRow(string Deployment, long FirstS);

    private sealed record ProgressRow(string Deployment, long DoneS);
}
