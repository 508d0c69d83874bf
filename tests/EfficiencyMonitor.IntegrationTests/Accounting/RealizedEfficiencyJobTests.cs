using System.Diagnostics.Metrics;
using ClickHouse.Driver;
using ClickHouse.Driver.ADO;
using Dapper;
using EfficiencyMonitor.Core.Catalog;
using EfficiencyMonitor.Jobs;
using EfficiencyMonitor.Jobs.Catalog;
using EfficiencyMonitor.Jobs.Efficiency;
using EfficiencyMonitor.Simulator.Generation;
using EfficiencyMonitor.Simulator.Scenarios;
using EfficiencyMonitor.Storage;
using EfficiencyMonitor.Storage.Migrations;
using EfficiencyMonitor.TestInfrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Xunit.Abstractions;

namespace EfficiencyMonitor.IntegrationTests.Accounting;

/// <summary>
/// 30 simulated minutes of the default scenario inserted through the real store, the job run on the real engine, and
/// every 5-minute window checked against an independent computation straight from the raw tables.
/// </summary>
public sealed class RealizedEfficiencyJobTests(ITestOutputHelper output)
{
    private const int Window = 300;

    internal sealed record Setup(ClickHouseOptions Options, ClickHouseClient Client, ClickHouseConnection Connection, DateTimeOffset Start, LoadedCatalog Catalog);

    internal static async Task<Setup> SetUpAsync()
    {
        var endpoints = await TestEngines.GetAsync();
        var options = new ClickHouseOptions { Url = endpoints.ClickHouseUrl.ToString(), Database = $"spend_{Guid.NewGuid():N}"[..20] };
        await new MigrationRunner(options, NullLogger<MigrationRunner>.Instance).ApplyAsync(CancellationToken.None);
        var client = new ClickHouseClient(options.ToConnectionString());
        var connection = new ClickHouseConnection(options.ToConnectionString());
        await connection.OpenAsync();

        // Recent event times (raw tables drop rows older than their TTL on arrival), aligned on the hour.
        var now = TimeProvider.System.GetUtcNow();
        var start = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, 0, 0, TimeSpan.Zero).AddHours(-3);
        var scenario = ScenarioLoader.LoadFile(Path.Combine(ServiceProcess.RepositoryRoot, "deploy", "scenarios", "default.yaml"));
        var generator = new TraceGenerator(scenario, new GeneratorOptions { Rate = 10, Seed = 5, Start = start, Duration = TimeSpan.FromMinutes(30) });
        await SimulatedTelemetry.InsertAsync(client, options, generator.Generate(), now);

        var catalog = CatalogFiles.LoadDirectory(Path.Combine(ServiceProcess.RepositoryRoot, "deploy", "catalog"));
        await new CatalogStore(client, options, TimeProvider.System).AddAsync(catalog, CancellationToken.None);
        return new Setup(options, client, connection, start, catalog);
    }

    private static RealizedEfficiencyRunner Runner(Setup setup, TimeProvider time, int maxWindows = 2000)
    {
        var jobs = new JobsOptions { MaxWindowsPerRun = maxWindows, MaxCatchUp = TimeSpan.FromDays(1), WindowMinutes = [5, 60] };
        var meters = new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>();
        return new RealizedEfficiencyRunner(
            new EfficiencyStore(setup.Client, setup.Options), new CatalogStore(setup.Client, setup.Options, time), Options.Create(jobs), time,
            new JobsMetrics(meters), NullLogger<RealizedEfficiencyRunner>.Instance);
    }

    // Independent of the rollups and of Core: energy per consecutive pair of raw samples (counter increase, trapezoid
    // when the counter is missing or went backwards), segment assigned to the window of its later sample.
    private const string RawEnergySql = """
        SELECT deployment AS Deployment, toInt64(intDiv(toUnixTimestamp(sampled_at), 300) * 300) AS StartS, gpu_type AS GpuType,
               toInt64(uniqExact(gpu_uuid)) AS Gpus, sum(seg) AS Joules
        FROM
        (
            SELECT deployment, gpu_type, gpu_uuid, sampled_at,
                   if(rn = 1 OR dt > 300, 0, if(e IS NOT NULL AND pe IS NOT NULL AND assumeNotNull(e) >= assumeNotNull(pe), assumeNotNull(e) - assumeNotNull(pe), (p + pp) / 2 * dt)) AS seg
            FROM
            (
                SELECT deployment, gpu_type, gpu_uuid, sampled_at, energy_joules_total AS e, toFloat64(power_watts) AS p,
                       lagInFrame(energy_joules_total) OVER w AS pe, lagInFrame(toFloat64(power_watts)) OVER w AS pp,
                       dateDiff('millisecond', lagInFrame(sampled_at) OVER w, sampled_at) / 1000.0 AS dt, row_number() OVER w AS rn
                FROM {0}.gpu_power_samples
                WINDOW w AS (PARTITION BY gpu_uuid ORDER BY sampled_at ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
            )
        )
        GROUP BY Deployment, StartS, GpuType
        """;

    private const string RawRequestsSql = """
        SELECT deployment AS Deployment, toInt64(intDiv(toUnixTimestamp(finished_at), 300) * 300) AS StartS,
               toInt64(count()) AS Requests, toInt64(countIf(status = 'ok' AND (accepted IS NULL OR assumeNotNull(accepted)))) AS Successes,
               toInt64(sum(output_tokens)) AS OutputTokens, toInt64(sum(kv_bytes_transferred)) AS KvBytes
        FROM {0}.inference_requests GROUP BY Deployment, StartS
        """;

    private const string StoredSql = """
        SELECT deployment AS Deployment, toInt64(toUnixTimestamp(window_start)) AS StartS, tenant AS Tenant, model AS Model,
               spend_usd AS Spend, cost_capacity_usd AS Capacity, cost_energy_usd AS Energy, cost_space_usd AS Space,
               cost_tier_dram_usd + cost_tier_local_ssd_usd + cost_tier_remote_usd AS Tiers, cost_network_usd AS Network,
               toInt64(gpus) AS Gpus, gpu_energy_j AS GpuJoules, toInt64(requests) AS Requests, toInt64(successful_outputs) AS Successes,
               toInt64(output_tokens) AS OutputTokens, catalog_version AS CatalogVersion
        FROM {0}.efficiency_windows FINAL WHERE window_seconds = @w ORDER BY Deployment, StartS, Tenant, Model
        """;

    private const string SnapshotSql = """
        SELECT * EXCEPT (computed_at) FROM {0}.efficiency_windows FINAL ORDER BY window_seconds, deployment, window_start, tenant, model
        """;

    private sealed record EnergyRow(string Deployment, long StartS, string GpuType, long Gpus, double Joules);

    private sealed record RequestRow(string Deployment, long StartS, long Requests, long Successes, long OutputTokens, long KvBytes);

    private sealed record StoredRow(string Deployment, long StartS, string Tenant, string Model, double Spend, double Capacity, double Energy, double Space,
        double Tiers, double Network, long Gpus, double GpuJoules, long Requests, long Successes, long OutputTokens, string CatalogVersion);

    private static string Sql(Setup s, string format) => string.Format(System.Globalization.CultureInfo.InvariantCulture, format, s.Options.Database);

    private static async Task<string> SnapshotAsync(Setup s)
    {
        var rows = await s.Connection.QueryAsync(Sql(s, SnapshotSql));
        return string.Join('\n', rows.Select(r => string.Join('\t', ((IDictionary<string, object?>)r).Values.Select(v => Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture)))));
    }

    private static void Close(double expected, double actual, string what)
    {
        var scale = Math.Max(Math.Abs(expected), 1e-12);
        Assert.True(Math.Abs(expected - actual) <= 1e-9 * scale, $"{what}: expected {expected:R}, job {actual:R}");
    }

    [Fact]
    public async Task RunOnce_ThirtySimulatedMinutes_MatchesIndependentSqlOverRawTables()
    {
        var s = await SetUpAsync();
        await using var _ = s.Connection;
        using var __ = s.Client;
        var time = new ManualTime(s.Start.AddMinutes(65));

        var summary = await Runner(s, time).RunOnceAsync(CancellationToken.None);

        output.WriteLine($"run: {summary}");
        Assert.Equal(0, summary.Failed);
        var stored = (await s.Connection.QueryAsync<StoredRow>(Sql(s, StoredSql), new { w = Window })).ToList();
        var totals = stored.Where(r => r.Tenant == "").ToDictionary(r => (r.Deployment, r.StartS));
        var energy = (await s.Connection.QueryAsync<EnergyRow>(Sql(s, RawEnergySql))).ToList();
        var requests = (await s.Connection.QueryAsync<RequestRow>(Sql(s, RawRequestsSql))).ToDictionary(r => (r.Deployment, r.StartS));
        var catalog = s.Catalog.Catalog;
        var checkedWindows = 0;
        foreach (var group in energy.GroupBy(e => (e.Deployment, e.StartS)))
        {
            var (deployment, startS) = group.Key;
            Assert.True(totals.TryGetValue(group.Key, out var row), $"no row for {deployment} {startS}");
            var at = DateTimeOffset.FromUnixTimeSeconds(startS);
            var pricing = catalog.Resolve(deployment, at, group.Select(g => g.GpuType));
            double capacity = 0, hostJ = 0, space = 0, gpuJ = 0;
            long gpus = 0;
            foreach (var g in group)
            {
                var hw = pricing.Hardware[g.GpuType];
                gpus += g.Gpus;
                gpuJ += g.Joules;
                capacity += g.Gpus * Window * hw.CapacityUsdPerGpuSecond();
                hostJ += g.Gpus * Window * hw.HostWattsPerGpu;
                space += g.Gpus * (hw.TdpWatts + hw.HostWattsPerGpu) / 1000 * pricing.Facility.SpaceCoolingUsdPerKwMonth * Window / Units.SecondsPerMonth;
            }

            var energyUsd = (gpuJ + hostJ) * pricing.Facility.Pue / 3.6e6 * pricing.Facility.EnergyUsdPerKwhAt(at);
            var t = pricing.Deployment.Tiers;
            var tiers = new[] { t.Dram, t.LocalSsd, t.Remote }.Sum(x => x is null ? 0 : x.ProvisionedGb * x.UsdPerGbMonth * Window / Units.SecondsPerMonth);
            var req = requests.GetValueOrDefault(group.Key) ?? new RequestRow(deployment, startS, 0, 0, 0, 0);
            var network = pricing.Deployment.Network is { } n ? req.KvBytes / 1e9 * n.UsdPerGb : 0;

            Assert.Equal(gpus, row.Gpus);
            Close(gpuJ, row.GpuJoules, $"{deployment} {at:t} GPU energy");
            Close(capacity, row.Capacity, $"{deployment} {at:t} capacity");
            Close(energyUsd, row.Energy, $"{deployment} {at:t} energy");
            Close(space, row.Space, $"{deployment} {at:t} space");
            Close(tiers, row.Tiers, $"{deployment} {at:t} tiers");
            Close(network, row.Network, $"{deployment} {at:t} network");
            Close(capacity + energyUsd + space + tiers + network, row.Spend, $"{deployment} {at:t} spend");
            Assert.Equal(req.Requests, row.Requests);
            Assert.Equal(req.Successes, row.Successes);
            Assert.Equal(req.OutputTokens, row.OutputTokens);
            Assert.Equal(s.Catalog.Catalog.Version, row.CatalogVersion);

            // Conservation in the stored rows.
            var allocated = stored.Where(r => r.Deployment == deployment && r.StartS == startS && r.Tenant != "").Sum(r => r.Spend);
            Close(row.Spend, allocated, $"{deployment} {at:t} allocations");
            checkedWindows++;
        }

        output.WriteLine($"{checkedWindows} deployment-windows equal the raw-table computation");
        Assert.True(checkedWindows >= 15, $"only {checkedWindows} windows checked");
        var hourly = await s.Connection.ExecuteScalarAsync<ulong>(Sql(s, "SELECT count() FROM {0}.efficiency_windows FINAL WHERE window_seconds = 3600 AND tenant = ''"));
        Assert.True(hourly >= 3);
    }

    [Fact]
    public async Task RunOnce_RerunAndRestartAfterPartialRun_IdenticalTableContents()
    {
        var s = await SetUpAsync();
        await using var _ = s.Connection;
        using var __ = s.Client;
        var time = new ManualTime(s.Start.AddMinutes(65));
        await Runner(s, time).RunOnceAsync(CancellationToken.None);
        var first = await SnapshotAsync(s);

        // Same time again: nothing new to do, nothing duplicated.
        var again = await Runner(s, time).RunOnceAsync(CancellationToken.None);
        Assert.Equal(0, again.Computed);
        Assert.Equal(first, await SnapshotAsync(s));

        // Start over and stop after two windows (a killed run), then restart: the same table.
        await s.Connection.ExecuteAsync(Sql(s, "TRUNCATE TABLE {0}.efficiency_windows"));
        await s.Connection.ExecuteAsync(Sql(s, "TRUNCATE TABLE {0}.efficiency_progress"));
        var partial = await Runner(s, time, maxWindows: 2).RunOnceAsync(CancellationToken.None);
        Assert.True(partial.Computed > 0);
        await Runner(s, time).RunOnceAsync(CancellationToken.None);
        var restarted = await SnapshotAsync(s);

        Assert.Equal(first, restarted);
        var duplicates = await s.Connection.ExecuteScalarAsync<ulong>(Sql(s,
            "SELECT count() FROM (SELECT window_seconds, deployment, window_start, tenant, model, count() AS c FROM {0}.efficiency_windows FINAL GROUP BY ALL HAVING c > 1)"));
        Assert.Equal(0UL, duplicates);
    }

    [Fact]
    public async Task RunOnce_LateRecordsForAnOldWindow_RecomputesThatWindowWithoutDuplicates()
    {
        var s = await SetUpAsync();
        await using var _ = s.Connection;
        using var __ = s.Client;
        var time = new ManualTime(s.Start.AddMinutes(65));
        await Runner(s, time).RunOnceAsync(CancellationToken.None);
        var window = s.Start.AddMinutes(10);
        const string deployment = "llama-70b-chat-prod";
        const string countSql = "SELECT toInt64(successful_outputs) FROM {0}.efficiency_windows FINAL WHERE window_seconds = 300 AND deployment = @deployment AND window_start = toDateTime(@startS, 'UTC') AND tenant = ''";
        var before = await s.Connection.ExecuteScalarAsync<long>(Sql(s, countSql), new { deployment, startS = window.ToUnixTimeSeconds() });
        var rowsBefore = await s.Connection.ExecuteScalarAsync<ulong>(Sql(s, "SELECT count() FROM {0}.efficiency_windows FINAL"));

        // 40 late successful requests finishing in that window (copies of real ones with new ids).
        await s.Connection.ExecuteAsync(Sql(s, """
            INSERT INTO {0}.inference_requests
            SELECT * REPLACE (concat(request_id, '-late') AS request_id)
            FROM {0}.inference_requests
            WHERE deployment = @deployment AND finished_at >= toDateTime(@startS, 'UTC') AND finished_at < toDateTime(@startS + 300, 'UTC')
              AND status = 'ok' AND (accepted IS NULL OR assumeNotNull(accepted))
            ORDER BY request_id LIMIT 40
            """), new { deployment, startS = window.ToUnixTimeSeconds() });
        time.Now = time.Now.AddMinutes(1);

        var summary = await Runner(s, time).RunOnceAsync(CancellationToken.None);

        Assert.True(summary.Recomputed >= 2, $"recomputed {summary.Recomputed}"); // the 5-minute window and its hour
        var after = await s.Connection.ExecuteScalarAsync<long>(Sql(s, countSql), new { deployment, startS = window.ToUnixTimeSeconds() });
        Assert.Equal(before + 40, after);
        var rowsAfter = await s.Connection.ExecuteScalarAsync<ulong>(Sql(s, "SELECT count() FROM {0}.efficiency_windows FINAL"));
        Assert.Equal(rowsBefore, rowsAfter);
    }
}
