using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using EfficiencyMonitor.IntegrationTests.Deploy;
using YamlDotNet.RepresentationModel;

namespace EfficiencyMonitor.IntegrationTests.Dashboards;

/// <summary>
/// Static checks of the Grafana dashboards: they parse, have unique uids, every panel and query variable uses a data source
/// provisioned by <c>deploy/grafana/provisioning/datasources/datasources.yml</c>, every target has SQL or PromQL, and every
/// variable a query uses is defined. The SQL itself runs on a real engine in <see cref="DashboardSqlTests"/>.
/// </summary>
public sealed partial class DashboardFileTests
{
    private static readonly string[] Expected = ["fleet-efficiency.json", "forecast-vs-production.json", "ingestion-health.json", "kv-cache-tiers.json"];

    private static Dictionary<string, string> ProvisionedDataSources()
    {
        var path = Path.Combine(DeployFiles.DeployDir, "grafana", "provisioning", "datasources", "datasources.yml");
        var sources = (YamlSequenceNode)DeployFiles.LoadYaml(path).Child("datasources")!;
        return sources.ToDictionary(s => s.Child("uid").Scalar()!, s => s.Child("type").Scalar()!, StringComparer.Ordinal);
    }

    public static TheoryData<string> Files() => new(Expected);

    [Fact]
    public void DashboardsFolder_HoldsTheFourDashboards()
    {
        Assert.Equal(Expected, DashboardFiles.Paths().Select(Path.GetFileName));
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Dashboard_ParsesWithUidTitleTagsAndSchemaVersion(string file)
    {
        var dashboard = DashboardFiles.Load(file);
        Assert.Matches("^[a-z0-9-]{1,40}$", DashboardFiles.Str(dashboard, "uid") ?? "");
        Assert.False(string.IsNullOrWhiteSpace(DashboardFiles.Str(dashboard, "title")));
        Assert.Contains("efficiency-monitor", (dashboard["tags"] as JsonArray ?? []).Select(t => t?.GetValue<string>()));
        Assert.InRange(dashboard["schemaVersion"]!.GetValue<int>(), 36, 41);
        Assert.Null(dashboard["id"]); // provisioned dashboards are identified by uid; a stored id would clash between instances

        var panels = DashboardFiles.Panels(dashboard).ToList();
        Assert.True(panels.Count >= 5, $"{file}: only {panels.Count} panels");
        var ids = (dashboard["panels"] as JsonArray)!.OfType<JsonObject>().Select(p => p["id"]!.GetValue<int>()).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.All(panels, p =>
        {
            Assert.False(string.IsNullOrWhiteSpace(DashboardFiles.Str(p, "title")), $"{file}: a panel has no title");
            Assert.True(p["gridPos"] is JsonObject { Count: 4 }, $"{file} / {DashboardFiles.Str(p, "title")}: no gridPos");
        });
        var titles = panels.Select(p => DashboardFiles.Str(p, "title")).ToList();
        Assert.Equal(titles.Count, titles.Distinct().Count());
    }

    [Fact]
    public void Dashboards_HaveUniqueUidsAndTitles()
    {
        var dashboards = DashboardFiles.Paths().Select(DashboardFiles.Load).ToList();
        var uids = dashboards.Select(d => DashboardFiles.Str(d, "uid")).ToList();
        Assert.Equal(uids.Count, uids.Distinct().Count());
        var titles = dashboards.Select(d => DashboardFiles.Str(d, "title")).ToList();
        Assert.Equal(titles.Count, titles.Distinct().Count());
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void EveryPanelAndVariable_UsesAProvisionedDataSource(string file)
    {
        var provisioned = ProvisionedDataSources();
        Assert.Equal(DashboardFiles.ClickHouseType, provisioned["clickhouse"]);
        Assert.Equal(DashboardFiles.PrometheusType, provisioned["prometheus"]);
        var dashboard = DashboardFiles.Load(file);
        var problems = new List<string>();

        void Check(string what, string? type, string? uid)
        {
            if (uid is null || !provisioned.TryGetValue(uid, out var provisionedType)) problems.Add($"{what}: data source uid '{uid}' is not provisioned");
            else if (type != provisionedType) problems.Add($"{what}: data source type '{type}', provisioned as '{provisionedType}'");
        }

        foreach (var panel in DashboardFiles.Panels(dashboard))
        {
            var title = DashboardFiles.Str(panel, "title");
            var (type, uid) = DashboardFiles.DataSource(panel);
            Check(title!, type, uid);
            var targets = DashboardFiles.Targets(panel).ToList();
            if (targets.Count == 0) problems.Add($"{title}: no targets");
            foreach (var target in targets)
            {
                var (targetType, targetUid) = DashboardFiles.DataSource(panel, target);
                Check($"{title} / {DashboardFiles.Str(target, "refId")}", targetType, targetUid);
            }
        }

        foreach (var variable in DashboardFiles.Variables(dashboard).Where(v => DashboardFiles.Str(v, "type") == "query"))
        {
            var ds = variable["datasource"] as JsonObject;
            Check($"variable {DashboardFiles.Str(variable, "name")}", ds is null ? null : DashboardFiles.Str(ds, "type"), ds is null ? null : DashboardFiles.Str(ds, "uid"));
        }

        Assert.Empty(problems);
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void EveryTarget_HasRawSqlOrExpr(string file)
    {
        var dashboard = DashboardFiles.Load(file);
        var problems = new List<string>();
        foreach (var panel in DashboardFiles.Panels(dashboard))
        {
            var refIds = new HashSet<string>(StringComparer.Ordinal);
            foreach (var target in DashboardFiles.Targets(panel))
            {
                var what = $"{DashboardFiles.Str(panel, "title")} / {DashboardFiles.Str(target, "refId")}";
                if (!refIds.Add(DashboardFiles.Str(target, "refId") ?? "")) problems.Add($"{what}: duplicate or missing refId");
                switch (DashboardFiles.DataSource(panel, target).Type)
                {
                    case DashboardFiles.ClickHouseType:
                        if (string.IsNullOrWhiteSpace(DashboardFiles.Str(target, "rawSql"))) problems.Add($"{what}: no rawSql");
                        if (DashboardFiles.Str(target, "editorType") != "sql") problems.Add($"{what}: editorType is not 'sql'");
                        var format = target["format"]?.GetValue<int>();
                        var queryType = DashboardFiles.Str(target, "queryType");
                        if (!(format == 0 && queryType == "timeseries") && !(format == 1 && queryType == "table"))
                        {
                            problems.Add($"{what}: format {format} / queryType {queryType} (expected 0/timeseries or 1/table)");
                        }

                        break;
                    case DashboardFiles.PrometheusType:
                        if (string.IsNullOrWhiteSpace(DashboardFiles.Str(target, "expr"))) problems.Add($"{what}: no expr");
                        break;
                    default:
                        problems.Add($"{what}: unexpected data source");
                        break;
                }
            }
        }

        Assert.Empty(problems);
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void VariablesUsedByQueries_AreDefined(string file)
    {
        var dashboard = DashboardFiles.Load(file);
        var defined = DashboardFiles.Variables(dashboard).Select(v => DashboardFiles.Str(v, "name")!).ToHashSet(StringComparer.Ordinal);
        var texts = DashboardFiles.Panels(dashboard)
            .SelectMany(p => DashboardFiles.Targets(p).Select(t => DashboardFiles.Str(t, "rawSql") ?? DashboardFiles.Str(t, "expr") ?? "")
                .Append(DashboardFiles.Str(p, "title") ?? "")
                .Append(DashboardFiles.Str(p, "repeat") is { } r ? "$" + r : ""));
        var used = texts.SelectMany(t => UsedVariableRegex().Matches(t).Select(m => m.Groups[1].Value)).ToHashSet(StringComparer.Ordinal);
        Assert.Empty(used.Except(defined));
        Assert.Contains("deployment", defined);
    }

    [Fact]
    public void PromQlExpressions_CoverTheServiceMetrics_WithVariablesReplaced()
    {
        var expressions = DashboardFiles.PromQlExpressions();
        Assert.All(expressions, e => Assert.DoesNotContain("$", e.Expr, StringComparison.Ordinal));
        var all = string.Join('\n', expressions.Select(e => e.Expr));
        foreach (var metric in new[]
                 {
                     "em_efficiency_drift_ratio", "em_efficiency_drift_contribution", "em_forecast_mape", "em_ingest_records_total",
                     "em_ingest_rejected_total", "em_ingest_lag", "em_ingest_freshness_seconds_bucket", "em_ingest_insert_failures_total",
                     "em_jobs_lag_seconds", "em_jobs_last_success_timestamp_seconds",
                 })
        {
            Assert.Contains(metric, all, StringComparison.Ordinal);
        }

        Assert.Contains(expressions, e => e.Expr.Contains("deployment=~\".*\"", StringComparison.Ordinal));
        Assert.Contains(expressions, e => e.Expr.Contains("[5m]", StringComparison.Ordinal));
        Assert.Equal("rate(x{deployment=~\".*\"}[5m])", DashboardFiles.ToEvaluable("rate(x{deployment=~\"${deployment}\"}[$__rate_interval])"));
    }

    [Fact]
    public void ClickHouseQueries_CoverEveryDashboardWithSqlPanels()
    {
        var queries = DashboardFiles.ClickHouseQueries();
        Assert.Equal(Expected, queries.Select(q => q.File).Distinct().Order(StringComparer.Ordinal));
        Assert.All(queries, q => Assert.False(string.IsNullOrWhiteSpace(q.Sql), q.ToString()));
        Assert.True(queries.Count >= 40, $"only {queries.Count} ClickHouse queries");
    }

    [Fact]
    public void HelmChartDashboards_AreCopiesOfTheDashboards()
    {
        var copies = Path.Combine(DeployFiles.ChartDir, "files", "dashboards");
        Assert.Equal(Expected, System.IO.Directory.GetFiles(copies, "*.json").Select(Path.GetFileName).Order(StringComparer.Ordinal));
        foreach (var file in Expected)
        {
            Assert.True(File.ReadAllBytes(Path.Combine(DashboardFiles.Directory, file)).SequenceEqual(File.ReadAllBytes(Path.Combine(copies, file))),
                $"deploy/helm/efficiency-monitor/files/dashboards/{file} differs from dashboards/{file}: cp dashboards/*.json deploy/helm/efficiency-monitor/files/dashboards/");
        }

        var template = File.ReadAllText(Path.Combine(DeployFiles.ChartDir, "templates", "grafana-dashboards.yaml"));
        Assert.Contains("(.Files.Glob \"files/dashboards/*.json\").AsConfig", template, StringComparison.Ordinal);
        Assert.Equal("false", DeployFiles.LoadYaml(Path.Combine(DeployFiles.ChartDir, "values.yaml")).Child("grafanaDashboards").Child("enabled").Scalar());
    }

    [ToolFact("promtool", "prometheus")]
    public async Task PromQlExpressions_ParseWithPromtool()
    {
        // Each expression as a recording rule: `promtool check rules` parses every expr (evaluation is the Prometheus tests' job).
        var expressions = DashboardFiles.PromQlExpressions();
        var rules = new System.Text.StringBuilder("groups:\n  - name: dashboards\n    rules:\n");
        for (var i = 0; i < expressions.Count; i++)
        {
            rules.Append(System.Globalization.CultureInfo.InvariantCulture, $"      - record: dashboard:expr_{i}\n        expr: |\n          {expressions[i].Expr}\n");
        }

        var path = Path.Combine(Path.GetTempPath(), $"em-dashboard-promql-{Guid.NewGuid():N}.yml");
        await File.WriteAllTextAsync(path, rules.ToString());
        try
        {
            var (exitCode, output) = await DeployFiles.RunAsync("promtool", "check", "rules", path);
            Assert.True(exitCode == 0, $"promtool check rules failed ({exitCode}):\n{output}\n{rules}");
            Assert.Contains($"{expressions.Count} rules found", output, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [GeneratedRegex(@"\$\{?([A-Za-z][A-Za-z0-9_]*)")]
    private static partial Regex UsedVariableRegex();
}
