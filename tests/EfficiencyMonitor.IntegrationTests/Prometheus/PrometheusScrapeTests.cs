using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using EfficiencyMonitor.IntegrationTests.Accounting;
using EfficiencyMonitor.IntegrationTests.Deploy;
using EfficiencyMonitor.TestInfrastructure;
using Xunit.Abstractions;

namespace EfficiencyMonitor.IntegrationTests.Prometheus;

/// <summary>
/// The real service scraped by a real Prometheus server loading the shipped rule files: the target is up, the ingestion
/// and job series arrive under their contract names (units as suffixes), every rule expression and every dashboard
/// query evaluates without error, and every rule evaluates healthy.
/// </summary>
public sealed partial class PrometheusScrapeTests(ITestOutputHelper output)
{
    private const string Job = "efficiency-monitor";

    /// <summary>Series names the service must expose once it has ingested records and run its job.</summary>
    private static readonly string[] ExpectedSeries =
    [
        "em_ingest_records_total",
        "em_ingest_rejected_total",
        "em_ingest_batch_rows_bucket",
        "em_ingest_batch_rows_count",
        "em_ingest_insert_duration_seconds_bucket",
        "em_ingest_insert_duration_seconds_sum",
        "em_ingest_freshness_seconds_bucket",
        "em_ingest_lag",
        "em_jobs_run_duration_seconds_bucket",
        "em_jobs_run_duration_seconds_count",
        "em_jobs_windows_total",
        "em_jobs_lag_seconds",
    ];

    [Fact]
    public async Task RealService_ScrapedByRealPrometheus_RulesAndDashboardQueriesEvaluate()
    {
        var binary = PrometheusServer.FindBinary();
        Assert.True(binary is not null,
            $"the Prometheus server binary is missing ({PrometheusServer.DebianBinary}, not on PATH either): apt-get install -y prometheus (.ci/run installs it)");

        // Simulated history in a fresh database (the job computes windows from it) and topics of our own.
        var setup = await RealizedEfficiencyJobTests.SetUpAsync();
        await using var connection = setup.Connection;
        using var client = setup.Client;
        var endpoints = await TestEngines.GetAsync();
        var requests = await TestEngines.CreateTopicAsync("prom-req", 4);
        var power = await TestEngines.CreateTopicAsync("prom-pow", 2);
        var deadLetters = await TestEngines.CreateTopicAsync("prom-dlq", 2);
        await using var service = ServiceProcess.Start(["run", "--urls", "http://127.0.0.1:0"], new Dictionary<string, string>
        {
            ["EM_CLICKHOUSE_URL"] = endpoints.ClickHouseUrl.ToString(),
            ["EM_KAFKA_BOOTSTRAP"] = endpoints.KafkaBootstrap,
            ["EM_ClickHouse__Database"] = setup.Options.Database,
            ["EM_Kafka__RequestsTopic"] = requests,
            ["EM_Kafka__PowerTopic"] = power,
            ["EM_Kafka__DeadLetterTopic"] = deadLetters,
            ["EM_Kafka__GroupId"] = $"g-{setup.Options.Database}",
            ["EM_Ingestion__BatchMaxDelay"] = "00:00:00.200",
            ["EM_Jobs__Interval"] = "00:00:01",
        });
        await service.WaitForOutputAsync("Now listening on: ", TimeSpan.FromSeconds(60));
        var serviceUrl = new Uri(ListeningOn().Match(service.Stdout).Groups[1].Value);

        const int valid = 200;
        const int bad = 5;
        var now = TimeProvider.System.GetUtcNow();
        using (var producer = TelemetryRecords.CreateProducer(endpoints.KafkaBootstrap))
        {
            TelemetryRecords.ProduceAll(producer, requests, 4,
                Enumerable.Range(0, valid).Select(i => TelemetryRecords.Request("prom", i, now))
                    .Concat(Enumerable.Range(0, bad).Select(_ => "{\"schema_version\":1"u8.ToArray())));
        }

        var ruleFiles = DeployFiles.RuleFiles;
        await using var prometheus = await PrometheusServer.StartAsync(binary!, Job, $"{serviceUrl.Host}:{serviceUrl.Port}", ruleFiles);
        try
        {
            // 1. The target is up.
            await WaitForAsync("up{job=\"efficiency-monitor\"} == 1", async () =>
            {
                var result = (await prometheus.QueryAsync($"up{{job=\"{Job}\"}} == 1")).GetProperty("data").GetProperty("result");
                return result.GetArrayLength() == 1;
            }, TimeSpan.FromSeconds(60), () => TargetsAsync(prometheus));

            // 2. The ingestion and job series arrive under their contract names.
            HashSet<string> names = [];
            await WaitForAsync("the em_ingest_* and em_jobs_* series", async () =>
            {
                names = (await prometheus.GetAsync("api/v1/label/__name__/values")).EnumerateArray().Select(n => n.GetString()!).ToHashSet(StringComparer.Ordinal);
                return ExpectedSeries.All(names.Contains)
                       && await ValueAsync(prometheus, $"em_ingest_records_total{{topic=\"{requests}\",outcome=\"stored\"}}") == valid;
            }, TimeSpan.FromSeconds(120), () => Task.FromResult($"missing: {string.Join(", ", ExpectedSeries.Where(n => !names.Contains(n)))}; have: {string.Join(", ", names.Where(n => n.StartsWith("em_", StringComparison.Ordinal)))}\nservice:\n{Tail(service.Stdout)}\n{Tail(service.Stderr)}"));
            var em = names.Where(n => n.StartsWith("em_", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();
            output.WriteLine($"em_* series names ({em.Count}): {string.Join(", ", em)}");
            Assert.All(em, n => Assert.Matches("^em_(ingest|jobs|efficiency|forecast)_[a-z0-9_]+$", n));
            // Units are suffixes: durations and ages in seconds, never milliseconds or a bare "duration".
            Assert.DoesNotContain(em, n => n.Contains("_milliseconds", StringComparison.Ordinal) || Regex.IsMatch(n, "_duration(_bucket|_sum|_count)?$"));
            Assert.Equal(bad, await ValueAsync(prometheus, $"em_ingest_rejected_total{{topic=\"{requests}\",reason=\"malformed_json\"}}"));
            Assert.Equal(1, await ValueAsync(prometheus, $"count(em_jobs_run_duration_seconds_count{{job=\"{Job}\"}} > 0)"));

            // The jobs' last-success gauge names its job in `job_name`, beside Prometheus' own job="efficiency-monitor".
            if (names.Contains("em_jobs_last_success_timestamp_seconds"))
            {
                Assert.Equal(0, await ValueAsync(prometheus, $"count(em_jobs_last_success_timestamp_seconds{{job!=\"{Job}\"}}) or vector(0)"));
                Assert.True(await ValueAsync(prometheus, "count(em_jobs_last_success_timestamp_seconds{job_name!=\"\"})") >= 1);
            }

            // 3. Every expression of every rule file evaluates.
            var failures = new List<string>();
            var rules = ruleFiles.SelectMany(f => DeployFiles.Rules(f).Select(r => (File: Path.GetFileName(f), Rule: r))).ToList();
            foreach (var (file, rule) in rules)
            {
                var name = rule.Child("alert").Scalar() ?? rule.Child("record").Scalar();
                var answer = await prometheus.QueryAsync(rule.Child("expr").Scalar()!);
                if (answer.GetProperty("status").GetString() != "success") failures.Add($"{file} {name}: {answer}");
            }

            Assert.True(rules.Count >= 18, $"only {rules.Count} rules found");
            Assert.True(failures.Count == 0, "rule expressions Prometheus rejects:\n" + string.Join('\n', failures));
            output.WriteLine($"{rules.Count} rule expressions of {ruleFiles.Count} files evaluated");

            // 4. Every dashboard query evaluates (dashboards/ may not exist in every branch yet).
            var dashboards = Path.Combine(DeployFiles.Root, "dashboards");
            var queries = DashboardQueries.Load(dashboards, DeployFiles.Root);
            foreach (var query in queries)
            {
                var answer = await prometheus.QueryAsync(query.Query);
                if (answer.GetProperty("status").GetString() != "success") failures.Add($"{query.File} \"{query.Panel}\": {query.Expr}\n  as {query.Query}\n  -> {answer}");
            }

            Assert.True(failures.Count == 0, "dashboard queries Prometheus rejects:\n" + string.Join('\n', failures));
            output.WriteLine(Directory.Exists(dashboards)
                ? $"{queries.Count} dashboard queries of {Directory.GetFiles(dashboards, "*.json", SearchOption.AllDirectories).Length} files evaluated"
                : "dashboards/ does not exist in this branch: no dashboard query to evaluate");

            // 5. Prometheus loaded every rule and evaluates each without error, and the recording rules see our data.
            await WaitForAsync("every rule evaluated once", async () => (await RuleStatesAsync(prometheus)).All(r => r.Health != "unknown"),
                TimeSpan.FromSeconds(30), async () => string.Join('\n', (await RuleStatesAsync(prometheus)).Select(r => r.ToString())));
            var states = await RuleStatesAsync(prometheus);
            Assert.Equal(rules.Count, states.Count);
            Assert.All(states, s => Assert.True(s.Health == "ok", $"{s.Name}: {s.Health} {s.LastError}"));
            await WaitForAsync("topic:em_ingest_lag:sum of the test topic", async () =>
                    (await prometheus.QueryAsync($"topic:em_ingest_lag:sum{{topic=\"{requests}\"}}")).GetProperty("data").GetProperty("result").GetArrayLength() == 1,
                TimeSpan.FromSeconds(30), () => Task.FromResult("no lag series for the test topic"));
        }
        finally
        {
            output.WriteLine("prometheus log:\n" + Tail(prometheus.Output));
        }
    }

    [Fact]
    public void DashboardQueries_ReadNestedPrometheusTargetsAndReplaceGrafanaVariables()
    {
        var directory = Directory.CreateTempSubdirectory("em-dashboards-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(directory, "a.json"), """
                {
                  "title": "A",
                  "panels": [
                    { "title": "Rate", "datasource": { "type": "prometheus", "uid": "prom" },
                      "targets": [ { "expr": "sum by (topic) (rate(em_ingest_records_total{deployment=~\"$deployment\"}[$__rate_interval]))" } ] },
                    { "title": "Row", "type": "row", "panels": [
                      { "title": "Nested", "targets": [ { "expr": "em_efficiency_drift_ratio{deployment=~\"${deployment}\"}[$__interval]", "datasource": { "type": "prometheus" } } ] }
                    ] },
                    { "title": "SQL", "datasource": { "type": "grafana-clickhouse-datasource" }, "targets": [ { "rawSql": "SELECT 1", "expr": "not promql" } ] },
                    { "title": "Hidden", "targets": [ { "expr": "up", "hide": true }, { "expr": "" } ] },
                    { "title": "Formats", "targets": [ { "expr": "x{d=~\"${deployment:regex}\",t=~\"[[tenant]]\"} offset $__range_s" } ] }
                  ]
                }
                """);
            var queries = DashboardQueries.Load(directory, directory);
            Assert.Equal(
                [
                    "sum by (topic) (rate(em_ingest_records_total{deployment=~\".*\"}[5m]))",
                    "em_efficiency_drift_ratio{deployment=~\".*\"}[5m]",
                    "x{d=~\".*\",t=~\".*\"} offset 300",
                ],
                queries.Select(q => q.Query));
            Assert.Equal(["Rate", "Nested", "Formats"], queries.Select(q => q.Panel));
            Assert.All(queries, q => Assert.Equal("a.json", q.File));
            Assert.Empty(DashboardQueries.Load(Path.Combine(directory, "missing"), directory));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private sealed record RuleState(string Name, string Health, string LastError);

    private static async Task<List<RuleState>> RuleStatesAsync(PrometheusServer prometheus)
    {
        var data = await prometheus.GetAsync("api/v1/rules");
        return data.GetProperty("groups").EnumerateArray()
            .SelectMany(g => g.GetProperty("rules").EnumerateArray())
            .Select(r => new RuleState(
                r.GetProperty("name").GetString()!,
                r.GetProperty("health").GetString()!,
                r.TryGetProperty("lastError", out var e) ? e.GetString() ?? "" : ""))
            .ToList();
    }

    private static async Task<string> TargetsAsync(PrometheusServer prometheus)
    {
        var data = await prometheus.GetAsync("api/v1/targets");
        return "targets: " + data.GetProperty("activeTargets").ToString() + "\nprometheus log:\n" + Tail(prometheus.Output);
    }

    /// <summary>The value of a single-series instant query, NaN when the result is empty.</summary>
    private static async Task<double> ValueAsync(PrometheusServer prometheus, string promql)
    {
        var answer = await prometheus.QueryAsync(promql);
        Assert.True(answer.GetProperty("status").GetString() == "success", $"{promql}: {answer}");
        var result = answer.GetProperty("data").GetProperty("result");
        if (result.GetArrayLength() == 0) return double.NaN;
        return double.Parse(result[0].GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture);
    }

    private static async Task WaitForAsync(string what, Func<Task<bool>> condition, TimeSpan timeout, Func<Task<string>> explain)
    {
        var deadline = TimeProvider.System.GetUtcNow() + timeout;
        while (!await condition())
        {
            if (TimeProvider.System.GetUtcNow() > deadline) Assert.Fail($"{what}: not reached within {timeout.TotalSeconds:F0} s. {await explain()}");
            await Task.Delay(500);
        }
    }

    private static string Tail(string text) => text.Length <= 4000 ? text : text[^4000..];

    [GeneratedRegex(@"Now listening on: (http://\S+)")]
    private static partial Regex ListeningOn();
}
