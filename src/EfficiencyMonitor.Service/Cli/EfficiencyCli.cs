using System.CommandLine;
using System.Globalization;
using EfficiencyMonitor.Core.Catalog;
using EfficiencyMonitor.Jobs;
using EfficiencyMonitor.Service.Configuration;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace EfficiencyMonitor.Service.Cli;

/// <summary>What the verbs that talk to ClickHouse share (migrate, catalog, report, reprice): endpoint options, the toolkit, catalog errors.</summary>
internal static class EfficiencyCli
{
    public static Option<string?> ClickHouseUrl() => new("--clickhouse-url") { Description = "ClickHouse HTTP URL (default: ClickHouse:Url, or EM_CLICKHOUSE_URL)." };

    public static Option<string?> Database() => new("--database") { Description = "Database (default: ClickHouse:Database = efficiency)." };

    public static Option<string> Window() => new("--window") { Description = "Window length: 5m, 1h (or seconds).", DefaultValueFactory = _ => "5m" };

    public static Option<string?> Deployment() => new("--deployment") { Description = "Only this deployment." };

    /// <summary>Configuration plus a verb's <c>--clickhouse-url</c> / <c>--database</c>, and the validated ClickHouse options.</summary>
    public static (IConfigurationRoot Configuration, Storage.ClickHouseOptions ClickHouse) ClickHouse(ParseResult parse, Option<string?> url, Option<string?> database)
    {
        ArgumentNullException.ThrowIfNull(parse);
        var overrides = new Dictionary<string, string?>();
        if (parse.GetValue(url) is { Length: > 0 } u) overrides["ClickHouse:Url"] = u;
        if (parse.GetValue(database) is { Length: > 0 } d) overrides["ClickHouse:Database"] = d;
        var configuration = ServiceConfiguration.Build(overrides);
        return (configuration, ServiceConfiguration.ClickHouse(configuration));
    }

    /// <summary>Builds the toolkit from configuration plus the verb's endpoint options.</summary>
    public static EfficiencyToolkit Toolkit(ParseResult parse, Option<string?> url, Option<string?> database, ILoggerFactory loggers)
    {
        var (configuration, clickHouse) = ClickHouse(parse, url, database);
        var jobs = configuration.GetSection(JobsOptions.SectionName).Get<JobsOptions>() ?? new JobsOptions();
        return new EfficiencyToolkit(clickHouse, jobs, TimeProvider.System, loggers);
    }

    /// <summary>Prints a catalog's problems (one per line) and returns the bad-configuration exit code.</summary>
    public static async Task<int> ReportAsync(CatalogException e)
    {
        await Console.Error.WriteLineAsync("error: the catalog cannot be used:");
        foreach (var problem in e.Problems) await Console.Error.WriteLineAsync($"  - {problem}");
        return CommandLine.BadConfiguration;
    }

    /// <summary>
    /// Parses a required <c>--from</c>/<c>--to</c> pair (ISO-8601, UTC assumed); every problem is added to
    /// <paramref name="problems"/> and the pair is null then.
    /// </summary>
    public static (DateTimeOffset From, DateTimeOffset To)? Range(ParseResult parse, Option<string> from, Option<string> to, List<string> problems)
    {
        ArgumentNullException.ThrowIfNull(parse);
        ArgumentNullException.ThrowIfNull(problems);
        var fromTime = Time(parse.GetValue(from));
        var toTime = Time(parse.GetValue(to));
        if (fromTime is null) problems.Add($"--from '{parse.GetValue(from)}' is not an ISO-8601 time (e.g. 2026-12-01T00:00:00Z)");
        if (toTime is null) problems.Add($"--to '{parse.GetValue(to)}' is not an ISO-8601 time");
        if (fromTime >= toTime) problems.Add("--from must be before --to");
        return fromTime < toTime ? (fromTime.Value, toTime.Value) : null;
    }

    /// <summary>Parses an ISO-8601 time (UTC assumed).</summary>
    public static DateTimeOffset? Time(string? text) =>
        text is { Length: > 0 } && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t) ? t : null;
}
