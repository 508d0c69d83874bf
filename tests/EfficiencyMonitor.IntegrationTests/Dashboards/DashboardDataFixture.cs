using System.Diagnostics;
using System.Diagnostics.Metrics;
using ClickHouse.Driver;
using ClickHouse.Driver.ADO;
using Dapper;
using EfficiencyMonitor.Core.Telemetry;
using EfficiencyMonitor.Jobs;
using EfficiencyMonitor.Jobs.Catalog;
using EfficiencyMonitor.Jobs.Efficiency;
using EfficiencyMonitor.Simulator.Generation;
using EfficiencyMonitor.Simulator.Scenarios;
using EfficiencyMonitor.Storage;
using EfficiencyMonitor.Storage.Migrations;
using EfficiencyMonitor.Storage.Telemetry;
using EfficiencyMonitor.TestInfrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace EfficiencyMonitor.IntegrationTests.Dashboards;

/// <summary>
/// A database the dashboards' SQL runs on, built once per test class: 30 minutes of the default scenario
/// (<c>deploy/scenarios/default.yaml</c>, low rate) ending ~10 minutes ago, inserted through the real store (rollups and
/// watermarks are the materialized views of that insert), the catalog stored, the realized-efficiency job run (5-minute and
/// 1-hour windows), and placeholder forecast validation rows (<see cref="SeedForecastValidationAsync"/>).
/// </summary>
public sealed class DashboardDataFixture : IAsyncLifetime
{
    /// <summary>The deployment the dashboards' <c>$deployment</c> variable is set to.</summary>
    public const string Deployment = "llama-70b-chat-prod";

    /// <summary>The id of the stored forecast seeded by <see cref="SeedForecastValidationAsync"/>.</summary>
    public const string ForecastId = "fc-dashboards-placeholder";

    private const double Rate = 5;
    private static readonly TimeSpan Duration = TimeSpan.FromMinutes(30);

    private ClickHouseClient? _client;
    private ClickHouseConnection? _connection;

    /// <summary>The database's options (its name is unique to this fixture).</summary>
    public ClickHouseOptions Options { get; private set; } = new();

    /// <summary>An open connection to the database (the default database of every statement).</summary>
    public ClickHouseConnection Connection => _connection ?? throw new InvalidOperationException("not initialized");

    /// <summary>Event time of the first simulated request.</summary>
    public DateTimeOffset DataStart { get; private set; }

    /// <summary>Event time the simulation stopped starting requests.</summary>
    public DateTimeOffset DataEnd { get; private set; }

    /// <summary>The dashboard time range the tests use (covers the data and its ingest times).</summary>
    public (DateTimeOffset From, DateTimeOffset To) Range { get; private set; }

    /// <summary>Every deployment with efficiency windows.</summary>
    public IReadOnlyList<string> Deployments { get; private set; } = [];

    /// <summary>What building the data took, per step.</summary>
    public string Timings { get; private set; } = "";

    /// <summary>Expands macros and variables with the test time range, a 60 s interval, and the given deployments.</summary>
    /// <param name="deployments">The selected deployments.</param>
    /// <param name="windowSeconds">The <c>$window</c> selection; with 3600 the range starts an hour earlier, at the hourly window.</param>
    public GrafanaMacros Macros(IReadOnlyList<string> deployments, int windowSeconds = 300) =>
        new(windowSeconds == 300 ? Range.From : Range.From.AddHours(-1), Range.To, 60, new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal)
        {
            ["deployment"] = deployments,
            ["window"] = [windowSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)],
            ["forecast"] = ["baseline"],
        });

    /// <inheritdoc />
    public async Task InitializeAsync()
    {
        var clock = Stopwatch.StartNew();
        var timings = new List<string>();
        void Step(string name)
        {
            timings.Add($"{name} {clock.Elapsed.TotalSeconds:F1}s");
            clock.Restart();
        }

        var endpoints = await TestEngines.GetAsync();
        Options = new ClickHouseOptions { Url = endpoints.ClickHouseUrl.ToString(), Database = $"dash_{Guid.NewGuid():N}"[..20] };
        await new MigrationRunner(Options, NullLogger<MigrationRunner>.Instance).ApplyAsync(CancellationToken.None);
        _client = new ClickHouseClient(Options.ToConnectionString());
        _connection = new ClickHouseConnection(Options.ToConnectionString(Options.Database));
        await _connection.OpenAsync();
        Step("engine+migrations");

        // Recent event times (raw tables drop rows older than their TTL), ending early enough that the longest simulated
        // request (reasoning: minutes of decode) still finishes before now (records from the future are rejected).
        var now = TimeProvider.System.GetUtcNow();
        var aligned = DateTimeOffset.FromUnixTimeSeconds(now.ToUnixTimeSeconds() / 300 * 300);
        DataStart = aligned - Duration - TimeSpan.FromMinutes(10);
        DataEnd = DataStart + Duration;
        await InsertSimulatedTelemetryAsync(now);
        Step("simulate+insert");

        var catalog = CatalogFiles.LoadDirectory(Path.Combine(ServiceProcess.RepositoryRoot, "deploy", "catalog"));
        await new CatalogStore(_client, Options, TimeProvider.System).AddAsync(catalog, CancellationToken.None);

        // The job as scheduled, its clock an hour past the data so the 1-hour window holding it is closed too.
        var jobTime = new FixedTime(DataEnd.AddMinutes(65));
        var jobs = new JobsOptions { MaxCatchUp = TimeSpan.FromDays(1), WindowMinutes = [5, 60] };
        var meters = new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>();
        var runner = new RealizedEfficiencyRunner(
            new EfficiencyStore(_client, Options), new CatalogStore(_client, Options, jobTime), Microsoft.Extensions.Options.Options.Create(jobs), jobTime,
            new JobsMetrics(meters), NullLogger<RealizedEfficiencyRunner>.Instance);
        var summary = await runner.RunOnceAsync(CancellationToken.None);
        if (summary.Computed == 0 || summary.Failed > 0) throw new InvalidOperationException($"realized-efficiency job: {summary}");
        Step($"efficiency job ({summary.Computed} windows)");

        await SeedForecastValidationAsync(_connection);
        Step("forecast validation seed");

        Deployments = (await _connection.QueryAsync<string>("SELECT DISTINCT toString(deployment) FROM efficiency_windows ORDER BY 1")).ToList();
        if (!Deployments.Contains(Deployment)) throw new InvalidOperationException($"no windows for {Deployment}: {string.Join(", ", Deployments)}");
        Range = (DataStart.AddMinutes(-10), now.AddMinutes(10));
        Timings = string.Join(", ", timings);
    }

    /// <summary>
    /// PLACEHOLDER for the forecast-validation job (<c>ForecastValidationRunner</c> in EfficiencyMonitor.Jobs, being written
    /// on another branch): fills <c>forecast_validation</c> for the calibrated baseline (<c>forecast_id = ''</c>) on every
    /// deployment and for one stored forecast (<see cref="ForecastId"/>, a <c>forecasts</c> row) on <see cref="Deployment"/>,
    /// plus <c>forecast_progress</c>, from the simulated <c>efficiency_windows</c> with an INSERT … SELECT. The numbers are
    /// representative in shape only (factors are deterministic pseudo-random log-ratios in ±0.05 that sum to
    /// log(1 + drift); the model error is within ±10%; MAPE and bias are rolling over 12 windows). Replace the body with a
    /// run of the real runner once it is merged; the dashboards' SQL tests then exercise its output unchanged.
    /// </summary>
    public static async Task SeedForecastValidationAsync(ClickHouseConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var parameters = new { forecast = ForecastId, deployment = Deployment };
        await connection.ExecuteAsync("""
            INSERT INTO forecasts (forecast_id, name, deployment, catalog_version, horizon_from, horizon_to, tolerance, scenario, created_at)
            SELECT @forecast, 'Dashboard test forecast (placeholder)', @deployment, any(catalog_version), min(window_start),
                   max(window_start) + INTERVAL 1 HOUR, 0.1, 'null', now64(3)
            FROM efficiency_windows FINAL
            WHERE deployment = @deployment AND tenant = '' AND model = ''
            """, parameters);

        await connection.ExecuteAsync("""
            INSERT INTO forecast_validation
            (
                forecast_id, window_seconds, deployment, window_start, catalog_version, requests, successful_outputs,
                realized_bill_spend_per_success_usd, realized_work_spend_per_success_usd, model_spend_per_success_usd, plan_spend_per_success_usd,
                model_error, efficiency_drift_ratio, utilization_log_ratio, factors, top_factor, explanation,
                prefill_s_per_token_realized, prefill_s_per_token_predicted, decode_s_per_token_realized, decode_s_per_token_predicted,
                kv_load_s_realized, kv_load_s_predicted, energy_j_per_token_realized, energy_j_per_token_predicted,
                utilization_realized, utilization_planned, hit_rate_hbm, hit_rate_dram, hit_rate_local_ssd, hit_rate_remote,
                break_even_gbps_dram, break_even_gbps_local_ssd, break_even_gbps_remote,
                rolling_model_mape, rolling_plan_mape, rolling_plan_bias, within_tolerance, computed_at
            )
            SELECT
                fid, window_seconds, deployment, window_start, catalog_version, requests, successful_outputs,
                bill, work, work * (1 + model_err), work / exp(arraySum(vals)),
                model_err, drift, log(utilization / 0.5), mapFromArrays(keys, vals), top,
                concat(top, ' explains most of the gap (log-ratio ', toString(round(vals[indexOf(keys, top)], 4)), '); placeholder row'),
                busy_gpu_seconds / greatest(input_tokens, 1), busy_gpu_seconds / greatest(input_tokens, 1) / (1 + model_err),
                busy_gpu_seconds / greatest(output_tokens, 1), busy_gpu_seconds / greatest(output_tokens, 1) / (1 + model_err),
                cached_tokens * 1e-6, cached_tokens * 1e-6 / (1 + model_err),
                facility_energy_j / greatest(output_tokens, 1), facility_energy_j / greatest(output_tokens, 1) / (1 + model_err),
                utilization, 0.5,
                hit * 0.7, hit * 0.2, hit * 0.07, hit * 0.03,
                60 * (1 + model_err), 60 * (1 + model_err), 60 * (1 + model_err),
                avg(abs(model_err)) OVER w, avg(abs(drift)) OVER w, avg(drift) OVER w,
                abs(drift) <= 0.1, now64(3)
            FROM
            (
                SELECT
                    *,
                    fid,
                    ['price', 'energy', 'success_rate', 'input_length', 'output_length', 'cache_hit_mix', 'prefill_speed', 'kv_load_speed', 'decode_speed'] AS keys,
                    arrayMap(i -> (toInt64(cityHash64(deployment, window_start, window_seconds, fid, i) % 2001) - 1000) / 20000.0, range(9)) AS vals,
                    keys[indexOf(arrayMap(v -> abs(v), vals), arrayMax(arrayMap(v -> abs(v), vals)))] AS top,
                    exp(arraySum(vals)) - 1 AS drift,
                    (toInt64(cityHash64(deployment, window_start, window_seconds, fid, 'model') % 2001) - 1000) / 10000.0 AS model_err,
                    assumeNotNull(spend_per_success_usd) AS bill,
                    assumeNotNull(spend_per_success_usd) * utilization / 0.5 AS work,
                    cached_tokens / greatest(input_tokens, 1) AS hit
                FROM efficiency_windows FINAL
                ARRAY JOIN ['', @forecast] AS fid
                WHERE tenant = '' AND model = '' AND successful_outputs > 0 AND utilization > 0 AND (fid = '' OR deployment = @deployment)
            )
            WINDOW w AS (PARTITION BY fid, window_seconds, deployment ORDER BY window_start ROWS BETWEEN 11 PRECEDING AND CURRENT ROW)
            """, parameters);

        await connection.ExecuteAsync("""
            INSERT INTO forecast_progress (forecast_id, window_seconds, deployment, done_until, updated_at)
            SELECT toString(forecast_id), window_seconds, deployment, max(window_start) + window_seconds, now64(3)
            FROM forecast_validation FINAL
            GROUP BY forecast_id, window_seconds, deployment
            """);
    }

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        if (_connection is not null)
        {
            try
            {
                await _connection.ExecuteAsync($"DROP DATABASE IF EXISTS {Options.Database}");
            }
            catch (ClickHouseServerException)
            {
                // Best effort: the sandbox's data directory is temporary anyway.
            }

            await _connection.DisposeAsync();
        }

        _client?.Dispose();
    }

    private async Task InsertSimulatedTelemetryAsync(DateTimeOffset now)
    {
        var scenario = ScenarioLoader.LoadFile(Path.Combine(ServiceProcess.RepositoryRoot, "deploy", "scenarios", "default.yaml"));
        var generator = new TraceGenerator(scenario, new GeneratorOptions { Rate = Rate, Seed = 7, Start = DataStart, Duration = Duration });
        var store = new TelemetryStore(_client!, Options);
        using var requests = new TelemetryBatch<InferenceRequestRow>("inference-requests", 1 << 16);
        using var power = new TelemetryBatch<GpuPowerRow>("gpu-power", 1 << 16);
        var requestDecoder = new InferenceRequestDecoder();
        var powerDecoder = new GpuPowerDecoder();
        long requestCount = 0, powerCount = 0;
        foreach (var record in generator.Generate())
        {
            var json = record.Payload.Span;
            if (record.Topic == TraceTopic.InferenceRequests)
            {
                var decoded = requestDecoder.Decode(json, now, requests.Arena, ref requests.Pending);
                if (!decoded.IsSuccess) throw new InvalidOperationException($"simulated request rejected: {decoded}");
                // 16 partitions as the real topic, offsets increasing per partition (the watermark table shows them).
                requests.Add((int)(requestCount % 16), requestCount / 16, json.Length, 0);
                requestCount++;
            }
            else
            {
                var decoded = powerDecoder.Decode(json, now, ref power.Pending);
                if (!decoded.IsSuccess) throw new InvalidOperationException($"simulated power sample rejected: {decoded}");
                power.Add((int)(powerCount % 4), powerCount / 4, json.Length, 0);
                powerCount++;
            }
        }

        await store.InsertAsync(new InferenceRequestEncoder(), requests, CancellationToken.None);
        await store.InsertAsync(new GpuPowerEncoder(), power, CancellationToken.None);
    }

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
