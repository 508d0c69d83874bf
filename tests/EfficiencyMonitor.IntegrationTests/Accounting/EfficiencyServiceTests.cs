using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Dapper;
using EfficiencyMonitor.TestInfrastructure;
using Xunit.Abstractions;

namespace EfficiencyMonitor.IntegrationTests.Accounting;

/// <summary>
/// The real binary: <c>run</c> with the Quartz job computing windows over simulated history, <c>GET /api/efficiency</c>,
/// the job metrics on <c>/metrics</c>, and the <c>report</c> and <c>catalog list</c> verbs against the same database.
/// </summary>
public sealed partial class EfficiencyServiceTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Run_SimulatedHistory_JobFillsApiMetricsAndReport()
    {
        var s = await RealizedEfficiencyJobTests.SetUpAsync();
        await using var connection = s.Connection;
        using var client = s.Client;
        var endpoints = await TestEngines.GetAsync();
        var environment = new Dictionary<string, string>
        {
            ["EM_CLICKHOUSE_URL"] = endpoints.ClickHouseUrl.ToString(),
            ["EM_KAFKA_BOOTSTRAP"] = endpoints.KafkaBootstrap,
            ["EM_ClickHouse__Database"] = s.Options.Database,
            ["EM_Kafka__GroupId"] = $"g-{s.Options.Database}",
            ["EM_Jobs__Interval"] = "00:00:01",
        };
        await using var service = ServiceProcess.Start(["run", "--urls", "http://127.0.0.1:0"], environment);
        await service.WaitForOutputAsync("Now listening on: ", TimeSpan.FromSeconds(60));
        using var http = new HttpClient { BaseAddress = new Uri(ListeningOn().Match(service.Stdout).Groups[1].Value) };
        var from = s.Start.ToString("O");
        var to = s.Start.AddHours(1).ToString("O");

        // The job catches up on the 30 simulated minutes (3 deployments × 6+ five-minute windows).
        JsonElement rows = default;
        var deadline = TimeProvider.System.GetUtcNow() + TimeSpan.FromSeconds(120);
        while (TimeProvider.System.GetUtcNow() < deadline)
        {
            using var json = JsonDocument.Parse(await http.GetStringAsync(new Uri($"/api/efficiency?window=5m&allocations=false&from={Uri.EscapeDataString(from)}&to={Uri.EscapeDataString(to)}", UriKind.Relative)));
            rows = json.RootElement.GetProperty("rows").Clone();
            if (rows.GetArrayLength() >= 18) break;
            await Task.Delay(500);
        }

        Assert.True(rows.GetArrayLength() >= 18, $"{rows.GetArrayLength()} rows; service output:\n{service.Stdout}\n{service.Stderr}");
        var first = rows[0];
        Assert.True(first.GetProperty("spend_usd").GetDouble() > 0);
        Assert.Equal("2026.12.3", first.GetProperty("catalog_version").GetString());
        Assert.True(first.TryGetProperty("spend_per_success_usd", out _));

        var bad = await http.GetAsync(new Uri("/api/efficiency?window=fortnight&from=yesterday", UriKind.Relative));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        using (var problems = JsonDocument.Parse(await bad.Content.ReadAsStringAsync()))
            Assert.Equal(2, problems.RootElement.GetProperty("problems").GetArrayLength());

        // Forecasts over HTTP: create from a forecast file, list, show; unknown → 404; invalid → 400 listing the problems.
        var yaml = await File.ReadAllTextAsync(Path.Combine(ServiceProcess.RepositoryRoot, "deploy", "forecasts", "llama-chat-2027q1.yaml"));
        using (var created = await http.PostAsync(new Uri("/api/forecasts", UriKind.Relative), new StringContent(yaml)))
        {
            var body = await created.Content.ReadAsStringAsync();
            Assert.True(created.StatusCode == HttpStatusCode.Created, body);
            using var doc = JsonDocument.Parse(body);
            var id = doc.RootElement.GetProperty("forecast").GetProperty("forecast_id").GetString()!;
            Assert.True(doc.RootElement.GetProperty("evaluation").GetProperty("spend_per_success_usd").GetDouble() > 0, body);
            Assert.Contains(id, await http.GetStringAsync(new Uri("/api/forecasts", UriKind.Relative)), StringComparison.Ordinal);
            using var shown = JsonDocument.Parse(await http.GetStringAsync(new Uri($"/api/forecasts/{id}", UriKind.Relative)));
            Assert.Equal(id, shown.RootElement.GetProperty("forecast").GetProperty("forecast_id").GetString());
        }

        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync(new Uri("/api/forecasts/no-such-forecast", UriKind.Relative))).StatusCode);
        using (var invalid = await http.PostAsync(new Uri("/api/forecasts", UriKind.Relative), new StringContent("name: x\ndeployment: llama-70b-chat-prod\n")))
        {
            Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
            using var problems = JsonDocument.Parse(await invalid.Content.ReadAsStringAsync());
            Assert.True(problems.RootElement.GetProperty("problems").GetArrayLength() >= 2);
        }

        // The duration is recorded when a run ends (the first one is still catching up when the rows appear).
        var metrics = "";
        for (var wait = TimeProvider.System.GetUtcNow() + TimeSpan.FromSeconds(60); TimeProvider.System.GetUtcNow() < wait; await Task.Delay(500))
        {
            metrics = await http.GetStringAsync(new Uri("/metrics", UriKind.Relative));
            if (metrics.Contains("em_jobs_run_duration_seconds", StringComparison.Ordinal)) break;
        }

        Assert.Contains("em_jobs_windows_total", metrics, StringComparison.Ordinal);
        Assert.Contains("em_jobs_lag_seconds", metrics, StringComparison.Ordinal);
        Assert.Contains("em_jobs_run_duration_seconds", metrics, StringComparison.Ordinal);

        await using var report = ServiceProcess.Start(["report", "--window", "5m", "--from", from, "--to", to, "--deployment", "deepseek-v3-agent", "--by-tenant"], environment);
        Assert.Equal(0, await report.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        output.WriteLine(report.Stdout);
        Assert.Contains("deepseek-v3-agent", report.Stdout, StringComparison.Ordinal);
        Assert.Contains("umbrella-coding / deepseek-ai/DeepSeek-V3", report.Stdout, StringComparison.Ordinal);
        Assert.Contains("$/ok output", report.Stdout, StringComparison.Ordinal);

        await using var list = ServiceProcess.Start(["catalog", "list"], environment);
        Assert.Equal(0, await list.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains("2026.12.3", list.Stdout, StringComparison.Ordinal);

        // Calibrate on the simulated half hour: a new catalog version with the fitted figures and the plan; a range
        // without data is refused with the reason.
        var calibrateTo = s.Start.AddMinutes(30).ToString("O");
        await using var calibrate = ServiceProcess.Start(["calibrate", "--from", from, "--to", calibrateTo, "--deployment", "llama-70b-chat-prod", "--new-version", "2026.12.3-cal-test"], environment);
        Assert.True(await calibrate.WaitForExitAsync(TimeSpan.FromSeconds(60)) == 0, calibrate.Stdout + calibrate.Stderr);
        output.WriteLine(calibrate.Stdout);
        Assert.Contains("llama-70b-chat-prod: ", calibrate.Stdout, StringComparison.Ordinal);
        Assert.Contains("prefill MFU", calibrate.Stdout, StringComparison.Ordinal);
        Assert.Contains("per successful output", calibrate.Stdout, StringComparison.Ordinal);
        Assert.Contains("stored catalog version 2026.12.3-cal-test", calibrate.Stdout, StringComparison.Ordinal);
        var stored = await connection.ExecuteScalarAsync<string>($"SELECT content FROM {s.Options.Database}.catalog_versions FINAL WHERE version = '2026.12.3-cal-test'");
        Assert.Contains("\"plan\"", stored, StringComparison.Ordinal);

        var empty = s.Start.AddDays(-2).ToString("O");
        await using var none = ServiceProcess.Start(["calibrate", "--from", empty, "--to", s.Start.AddDays(-1).ToString("O"), "--deployment", "llama-70b-chat-prod"], environment);
        Assert.Equal(2, await none.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains("no realized window with requests", none.Stdout + none.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_KilledDuringCatchUpAndRestarted_SameRowsAsOneUninterruptedComputation()
    {
        var s = await RealizedEfficiencyJobTests.SetUpAsync();
        await using var connection = s.Connection;
        using var client = s.Client;
        var endpoints = await TestEngines.GetAsync();
        var environment = new Dictionary<string, string>
        {
            ["EM_CLICKHOUSE_URL"] = endpoints.ClickHouseUrl.ToString(),
            ["EM_KAFKA_BOOTSTRAP"] = endpoints.KafkaBootstrap,
            ["EM_ClickHouse__Database"] = s.Options.Database,
            ["EM_Kafka__GroupId"] = $"g-{s.Options.Database}",
            ["EM_Jobs__Interval"] = "00:00:01",
        };
        var db = s.Options.Database;
        var windowsSql = $"SELECT count() FROM {db}.efficiency_windows FINAL WHERE tenant = ''";

        // SIGKILL as soon as the first windows are stored (the catch-up of ~3 h of windows is still running).
        await using (var first = ServiceProcess.Start(["run", "--urls", "http://127.0.0.1:0"], environment))
        {
            var deadline = TimeProvider.System.GetUtcNow() + TimeSpan.FromSeconds(90);
            while (await connection.ExecuteScalarAsync<ulong>(windowsSql) == 0 && TimeProvider.System.GetUtcNow() < deadline) await Task.Delay(20);
            first.Signal(9);
            await first.WaitForExitAsync(TimeSpan.FromSeconds(30));
        }

        var atKill = await connection.ExecuteScalarAsync<ulong>(windowsSql);
        var progressAtKill = await connection.ExecuteScalarAsync<ulong>($"SELECT count() FROM {db}.efficiency_progress");
        output.WriteLine($"killed with {atKill} deployment-windows stored, {progressAtKill} progress marks");
        Assert.True(atKill > 0);

        // Restart; wait until both window lengths are caught up to the end of the simulated traffic (:30 → window :30–:35).
        const string doneSql = "SELECT count() FROM (SELECT window_seconds, deployment, max(done_until) AS d FROM {0}.efficiency_progress GROUP BY ALL HAVING d >= toDateTime(@endS, 'UTC'))";
        var endS = s.Start.AddMinutes(35).ToUnixTimeSeconds();
        await using (var second = ServiceProcess.Start(["run", "--urls", "http://127.0.0.1:0"], environment))
        {
            var deadline = TimeProvider.System.GetUtcNow() + TimeSpan.FromSeconds(120);
            while (await connection.ExecuteScalarAsync<ulong>(string.Format(System.Globalization.CultureInfo.InvariantCulture, doneSql, db), new { endS }) < 6
                   && TimeProvider.System.GetUtcNow() < deadline)
            {
                await Task.Delay(250);
            }

            second.Signal(15);
            await second.WaitForExitAsync(TimeSpan.FromSeconds(60));
        }

        var afterRestart = await SnapshotAsync(connection, db, s.Start.AddHours(1).ToUnixTimeSeconds());

        // Reference: the same database recomputed in one uninterrupted run.
        await connection.ExecuteAsync($"TRUNCATE TABLE {db}.efficiency_windows");
        await connection.ExecuteAsync($"TRUNCATE TABLE {db}.efficiency_progress");
        using var toolkit = new EfficiencyMonitor.Jobs.EfficiencyToolkit(s.Options, new EfficiencyMonitor.Jobs.JobsOptions(), TimeProvider.System,
            Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance);
        await toolkit.Runner.RunOnceAsync(CancellationToken.None);
        var reference = await SnapshotAsync(connection, db, s.Start.AddHours(1).ToUnixTimeSeconds());

        Assert.NotEmpty(reference);
        Assert.Equal(reference, afterRestart);
    }

    // Every column but computed_at, for the windows that hold the simulated traffic.
    private static async Task<string> SnapshotAsync(global::ClickHouse.Driver.ADO.ClickHouseConnection connection, string db, long endS)
    {
        var rows = await Dapper.SqlMapper.QueryAsync(connection,
            $"SELECT * EXCEPT (computed_at) FROM {db}.efficiency_windows FINAL WHERE window_start < toDateTime(@endS, 'UTC') ORDER BY window_seconds, deployment, window_start, tenant, model",
            new { endS });
        return string.Join('\n', rows.Select(r => string.Join('\t', ((IDictionary<string, object?>)r).Values.Select(v => Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture)))));
    }

    [GeneratedRegex(@"Now listening on: (http://\S+)")]
    private static partial Regex ListeningOn();
}
