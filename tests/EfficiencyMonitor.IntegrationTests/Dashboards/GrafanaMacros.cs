using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace EfficiencyMonitor.IntegrationTests.Dashboards;

/// <summary>
/// Expands what Grafana and the ClickHouse data source plugin (grafana-clickhouse-datasource v4) substitute in a
/// panel's <c>rawSql</c> before ClickHouse sees it, so the dashboards' SQL can run on a real engine in tests:
/// <list type="bullet">
/// <item><c>$__timeFilter(expr)</c> → <c>expr &gt;= toDateTime(from) AND expr &lt;= toDateTime(to)</c> (Unix seconds),</item>
/// <item><c>$__fromTime</c> / <c>$__toTime</c> → <c>toDateTime(from)</c> / <c>toDateTime(to)</c>,</item>
/// <item><c>$__interval_s</c> → the panel interval in whole seconds (at least 1),</item>
/// <item>template variables: <c>$name</c>, <c>${name}</c>, <c>${name:singlequote}</c> (<c>'a','b'</c>), <c>${name:sqlstring}</c> (<c>'a','b'</c>, <c>'</c> doubled),
/// <c>${name:csv}</c>, <c>${name:regex}</c>.</item>
/// </list>
/// Anything else that looks like a macro or variable is an error, so a dashboard cannot use a macro the tests do not know.
/// </summary>
public sealed partial class GrafanaMacros
{
    private readonly long _from;
    private readonly long _to;
    private readonly int _intervalSeconds;
    private readonly IReadOnlyDictionary<string, IReadOnlyList<string>> _variables;

    /// <summary>Creates an expander for a time range, panel interval and variable values.</summary>
    /// <param name="from">Start of the dashboard time range.</param>
    /// <param name="to">End of the dashboard time range.</param>
    /// <param name="intervalSeconds">The panel interval (<c>$__interval_s</c>).</param>
    /// <param name="variables">Each template variable's selected values (several for a multi-value selection).</param>
    public GrafanaMacros(DateTimeOffset from, DateTimeOffset to, int intervalSeconds, IReadOnlyDictionary<string, IReadOnlyList<string>> variables)
    {
        ArgumentNullException.ThrowIfNull(variables);
        _from = from.ToUnixTimeSeconds();
        _to = to.ToUnixTimeSeconds();
        _intervalSeconds = Math.Max(intervalSeconds, 1);
        _variables = variables;
    }

    /// <summary>The SQL with every macro and variable expanded.</summary>
    /// <exception cref="InvalidOperationException">An unknown macro, an unknown variable, or unbalanced parentheses.</exception>
    public string Expand(string sql)
    {
        ArgumentNullException.ThrowIfNull(sql);
        var text = ExpandTimeFilters(sql);
        text = text.Replace("$__fromTime", Seconds(_from), StringComparison.Ordinal)
            .Replace("$__toTime", Seconds(_to), StringComparison.Ordinal)
            .Replace("$__interval_s", _intervalSeconds.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);

        text = VariableRegex().Replace(text, m =>
        {
            var name = m.Groups["braced"].Success ? m.Groups["braced"].Value : m.Groups["plain"].Value;
            if (name.StartsWith("__", StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"macro ${name} is not supported by the ClickHouse data source or by GrafanaMacros");
            }

            if (!_variables.TryGetValue(name, out var values))
            {
                throw new InvalidOperationException($"template variable ${name} has no value (known: {string.Join(", ", _variables.Keys)})");
            }

            var format = m.Groups["format"].Success ? m.Groups["format"].Value : null;
            return Format(name, values, format);
        });

        var leftover = LeftoverRegex().Match(text);
        if (leftover.Success) throw new InvalidOperationException($"unexpanded '{leftover.Value}' in:\n{text}");
        return text;
    }

    private static string Seconds(long unix) => $"toDateTime({unix.ToString(CultureInfo.InvariantCulture)})";

    private static string Format(string name, IReadOnlyList<string> values, string? format) => format switch
    {
        // Grafana: singlequote escapes ' as \', sqlstring doubles it.
        "singlequote" => string.Join(',', values.Select(v => "'" + v.Replace("'", "\\'", StringComparison.Ordinal) + "'")),
        "sqlstring" => string.Join(',', values.Select(v => "'" + v.Replace("'", "''", StringComparison.Ordinal) + "'")),
        "csv" => string.Join(',', values),
        "regex" => values.Count == 1 ? Regex.Escape(values[0]) : "(" + string.Join('|', values.Select(Regex.Escape)) + ")",
        null or "raw" when values.Count == 1 => values[0],
        null => throw new InvalidOperationException($"${name} has {values.Count} values: use ${{{name}:singlequote}} in SQL"),
        _ => throw new InvalidOperationException($"variable format '{format}' of ${name} is not supported by GrafanaMacros"),
    };

    private string ExpandTimeFilters(string sql)
    {
        const string Macro = "$__timeFilter(";
        var result = new StringBuilder(sql.Length + 64);
        var position = 0;
        while (true)
        {
            var start = sql.IndexOf(Macro, position, StringComparison.Ordinal);
            if (start < 0) break;
            result.Append(sql, position, start - position);
            var open = start + Macro.Length;
            var depth = 1;
            var i = open;
            for (; i < sql.Length && depth > 0; i++)
            {
                if (sql[i] == '(') depth++;
                else if (sql[i] == ')') depth--;
            }

            if (depth != 0) throw new InvalidOperationException($"unbalanced $__timeFilter( at {start}");
            var column = sql[open..(i - 1)].Trim();
            if (column.Length == 0) throw new InvalidOperationException($"$__timeFilter() without a column at {start}");
            result.Append(CultureInfo.InvariantCulture, $"{column} >= {Seconds(_from)} AND {column} <= {Seconds(_to)}");
            position = i;
        }

        result.Append(sql, position, sql.Length - position);
        return result.ToString();
    }

    // $name or ${name} or ${name:format}; $__ macros are matched too so unknown ones are reported.
    [GeneratedRegex(@"\$(?:\{(?<braced>[A-Za-z_][A-Za-z0-9_]*)(?::(?<format>[a-z]+))?\}|(?<plain>[A-Za-z_][A-Za-z0-9_]*))")]
    private static partial Regex VariableRegex();

    [GeneratedRegex(@"\$\{?[A-Za-z_]")]
    private static partial Regex LeftoverRegex();
}
