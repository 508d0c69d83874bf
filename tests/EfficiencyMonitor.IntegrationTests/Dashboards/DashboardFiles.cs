using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using EfficiencyMonitor.TestInfrastructure;

namespace EfficiencyMonitor.IntegrationTests.Dashboards;

/// <summary>One SQL query of a dashboard: a ClickHouse panel target, or a template variable's query.</summary>
/// <param name="File">Dashboard file name, e.g. <c>fleet-efficiency.json</c>.</param>
/// <param name="Panel">Panel title, or <c>variable $name</c> for a template variable.</param>
/// <param name="RefId">Target refId (<c>A</c>, <c>B</c>…); <c>var</c> for a variable.</param>
/// <param name="Sql">The raw SQL, macros and variables not expanded.</param>
/// <param name="Format">The plugin's format: 0 time series, 1 table; null for a variable.</param>
/// <param name="Repeat">The variable the panel repeats by (Grafana runs it once per selected value), or null.</param>
public sealed record DashboardSql(string File, string Panel, string RefId, string Sql, int? Format, string? Repeat = null)
{
    /// <inheritdoc />
    public override string ToString() => $"{File} / {Panel} / {RefId}";
}

/// <summary>
/// The Grafana dashboards under <c>dashboards/</c> at the repository root, and what their panels query: ClickHouse SQL
/// (run on a real engine by <see cref="DashboardSqlTests"/>) and PromQL (<see cref="PromQlExpressions"/>, evaluated by the
/// Prometheus tests).
/// </summary>
public static partial class DashboardFiles
{
    /// <summary>Data source type of the Grafana ClickHouse plugin.</summary>
    public const string ClickHouseType = "grafana-clickhouse-datasource";

    /// <summary>Data source type of Prometheus.</summary>
    public const string PrometheusType = "prometheus";

    /// <summary>The <c>dashboards/</c> folder.</summary>
    public static string Directory => Path.Combine(ServiceProcess.RepositoryRoot, "dashboards");

    /// <summary>Full paths of the dashboard JSON files, sorted.</summary>
    public static IReadOnlyList<string> Paths() =>
        System.IO.Directory.GetFiles(Directory, "*.json").Order(StringComparer.Ordinal).ToList();

    /// <summary>A dashboard file parsed (by file name or full path).</summary>
    public static JsonObject Load(string file)
    {
        var path = Path.IsPathRooted(file) ? file : Path.Combine(Directory, file);
        return JsonNode.Parse(File.ReadAllText(path))?.AsObject() ?? throw new InvalidDataException($"{path} is not a JSON object");
    }

    /// <summary>Every panel of a dashboard except rows, including panels nested in collapsed rows.</summary>
    public static IEnumerable<JsonObject> Panels(JsonObject dashboard)
    {
        ArgumentNullException.ThrowIfNull(dashboard);
        foreach (var panel in (dashboard["panels"] as JsonArray ?? []).OfType<JsonObject>())
        {
            if (Str(panel, "type") == "row")
            {
                foreach (var nested in (panel["panels"] as JsonArray ?? []).OfType<JsonObject>()) yield return nested;
            }
            else
            {
                yield return panel;
            }
        }
    }

    /// <summary>The targets of a panel.</summary>
    public static IEnumerable<JsonObject> Targets(JsonObject panel)
    {
        ArgumentNullException.ThrowIfNull(panel);
        return (panel["targets"] as JsonArray ?? []).OfType<JsonObject>();
    }

    /// <summary>The template variables of a dashboard.</summary>
    public static IEnumerable<JsonObject> Variables(JsonObject dashboard)
    {
        ArgumentNullException.ThrowIfNull(dashboard);
        return (dashboard["templating"]?["list"] as JsonArray ?? []).OfType<JsonObject>();
    }

    /// <summary>The data source of a target (its own, else its panel's), as (type, uid).</summary>
    public static (string? Type, string? Uid) DataSource(JsonObject panel, JsonObject? target = null)
    {
        ArgumentNullException.ThrowIfNull(panel);
        var ds = target?["datasource"] as JsonObject ?? panel["datasource"] as JsonObject;
        return (ds is null ? null : Str(ds, "type"), ds is null ? null : Str(ds, "uid"));
    }

    /// <summary>Every ClickHouse query of every dashboard: panel targets and query variables.</summary>
    public static IReadOnlyList<DashboardSql> ClickHouseQueries()
    {
        var queries = new List<DashboardSql>();
        foreach (var path in Paths())
        {
            var file = Path.GetFileName(path);
            var dashboard = Load(path);
            foreach (var variable in Variables(dashboard).Where(v => Str(v, "type") == "query"))
            {
                if ((variable["datasource"] as JsonObject) is { } ds && Str(ds, "type") == ClickHouseType)
                {
                    var sql = variable["query"] is JsonObject q ? Str(q, "rawSql") : Str(variable, "query");
                    queries.Add(new DashboardSql(file, $"variable ${Str(variable, "name")}", "var", sql ?? "", null));
                }
            }

            foreach (var panel in Panels(dashboard))
            {
                foreach (var target in Targets(panel))
                {
                    if (DataSource(panel, target).Type != ClickHouseType) continue;
                    var format = target["format"] is JsonValue f && f.TryGetValue<int>(out var n) ? n : (int?)null;
                    queries.Add(new DashboardSql(file, Str(panel, "title") ?? "(untitled)", Str(target, "refId") ?? "?", Str(target, "rawSql") ?? "", format, Str(panel, "repeat")));
                }
            }
        }

        return queries;
    }

    /// <summary>
    /// Every PromQL expression of every dashboard as (dashboard file, panel title, expr), ready to evaluate: Grafana's
    /// interval variables (<c>$__rate_interval</c>, <c>$__interval</c>, <c>$__range</c>) become <c>5m</c>, and template
    /// variables (<c>$deployment</c>, <c>${deployment}</c>, used in <c>=~</c> matchers) become <c>.*</c>.
    /// </summary>
    public static IReadOnlyList<(string File, string Panel, string Expr)> PromQlExpressions()
    {
        var expressions = new List<(string, string, string)>();
        foreach (var path in Paths())
        {
            var dashboard = Load(path);
            foreach (var panel in Panels(dashboard))
            {
                foreach (var target in Targets(panel))
                {
                    if (DataSource(panel, target).Type != PrometheusType || Str(target, "expr") is not { Length: > 0 } expr) continue;
                    expressions.Add((Path.GetFileName(path), Str(panel, "title") ?? "(untitled)", ToEvaluable(expr)));
                }
            }
        }

        return expressions;
    }

    /// <summary>A dashboard PromQL expression with Grafana's variables replaced (see <see cref="PromQlExpressions"/>).</summary>
    public static string ToEvaluable(string expr)
    {
        ArgumentNullException.ThrowIfNull(expr);
        var text = IntervalRegex().Replace(expr, "5m");
        return PromVariableRegex().Replace(text, ".*");
    }

    /// <summary>A string property of a JSON object, or null.</summary>
    public static string? Str(JsonObject node, string name)
    {
        ArgumentNullException.ThrowIfNull(node);
        return node[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
    }

    [GeneratedRegex(@"\$(?:\{)?__(?:rate_interval|interval|range)(?:_ms|_s)?\}?")]
    private static partial Regex IntervalRegex();

    [GeneratedRegex(@"\$(?:\{[A-Za-z_][A-Za-z0-9_]*(?::[a-z]+)?\}|[A-Za-z_][A-Za-z0-9_]*)")]
    private static partial Regex PromVariableRegex();
}
