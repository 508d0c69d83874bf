using System.Text.Json;
using System.Text.RegularExpressions;

namespace EfficiencyMonitor.IntegrationTests.Prometheus;

/// <summary>One PromQL query of a Grafana dashboard, with Grafana's variables replaced so Prometheus can evaluate it.</summary>
/// <param name="File">Dashboard file, relative to the repository root.</param>
/// <param name="Panel">Title of the panel holding the target.</param>
/// <param name="Expr">The target's <c>expr</c> as written.</param>
/// <param name="Query">The expression with the variables substituted.</param>
internal sealed record DashboardQuery(string File, string Panel, string Expr, string Query);

/// <summary>Reads every Prometheus target <c>expr</c> of the Grafana dashboards (<c>dashboards/*.json</c>).</summary>
internal static partial class DashboardQueries
{
    /// <summary>Every PromQL target of every dashboard under <paramref name="directory"/>; empty when it does not exist.</summary>
    public static IReadOnlyList<DashboardQuery> Load(string directory, string root)
    {
        if (!Directory.Exists(directory)) return [];
        var queries = new List<DashboardQuery>();
        foreach (var file in Directory.EnumerateFiles(directory, "*.json", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            using var json = JsonDocument.Parse(File.ReadAllText(file));
            Walk(json.RootElement, Path.GetRelativePath(root, file), panel: "", inheritedDatasource: null, queries);
        }

        return queries;
    }

    /// <summary>
    /// Replaces Grafana's variables: interval macros by 5m (<c>$__interval_ms</c> by 300000, <c>$__range_s</c> by 300),
    /// every dashboard variable (<c>$deployment</c>, <c>${deployment}</c>, <c>${deployment:regex}</c>, <c>[[deployment]]</c>)
    /// by <c>.*</c>, the match-everything regex used in label matchers.
    /// </summary>
    public static string Substitute(string expr)
    {
        var result = IntervalMsRegex().Replace(expr, "300000");
        result = RangeSecondsRegex().Replace(result, "300");
        result = IntervalRegex().Replace(result, "5m");
        return VariableRegex().Replace(result, ".*");
    }

    private static void Walk(JsonElement element, string file, string panel, string? inheritedDatasource, List<DashboardQuery> queries)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var title = element.TryGetProperty("title", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : panel;
                var datasource = DatasourceType(element) ?? inheritedDatasource;
                if (element.TryGetProperty("targets", out var targets) && targets.ValueKind == JsonValueKind.Array)
                {
                    foreach (var target in targets.EnumerateArray())
                    {
                        if (target.ValueKind != JsonValueKind.Object) continue;
                        if (!target.TryGetProperty("expr", out var expr) || expr.ValueKind != JsonValueKind.String) continue;
                        var type = DatasourceType(target) ?? datasource;
                        if (type is not null && !type.Equals("prometheus", StringComparison.OrdinalIgnoreCase)) continue;
                        if (target.TryGetProperty("hide", out var hide) && hide.ValueKind == JsonValueKind.True) continue;
                        var text = expr.GetString()!;
                        if (string.IsNullOrWhiteSpace(text)) continue;
                        queries.Add(new DashboardQuery(file, title, text, Substitute(text)));
                    }
                }

                foreach (var property in element.EnumerateObject())
                {
                    if (property.NameEquals("targets")) continue;
                    Walk(property.Value, file, title, datasource, queries);
                }

                break;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray()) Walk(item, file, panel, inheritedDatasource, queries);
                break;
        }
    }

    /// <summary>The <c>datasource.type</c> of a panel or target (a plain string datasource is a name: unknown type).</summary>
    private static string? DatasourceType(JsonElement element) =>
        element.TryGetProperty("datasource", out var ds) && ds.ValueKind == JsonValueKind.Object
            && ds.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String
            ? type.GetString()
            : null;

    [GeneratedRegex(@"\$\{?__interval_ms\}?")]
    private static partial Regex IntervalMsRegex();

    [GeneratedRegex(@"\$\{?__range_s\}?")]
    private static partial Regex RangeSecondsRegex();

    [GeneratedRegex(@"\$\{?__(rate_interval|interval|range)\}?")]
    private static partial Regex IntervalRegex();

    [GeneratedRegex(@"\$\{[A-Za-z_][A-Za-z0-9_]*(:[A-Za-z]+)?\}|\$[A-Za-z_][A-Za-z0-9_]*|\[\[[A-Za-z_][A-Za-z0-9_]*(:[A-Za-z]+)?\]\]")]
    private static partial Regex VariableRegex();
}
