using System.CommandLine;
using EfficiencyMonitor.Jobs.Efficiency;
using Microsoft.Extensions.Logging;

namespace EfficiencyMonitor.Service.Cli;

/// <summary><c>efficiency-monitor reprice --from --to [--catalog-version]</c>: recomputes stored windows with a catalog version.</summary>
internal static class RepriceCommand
{
    public static Command Create()
    {
        var url = EfficiencyCli.ClickHouseUrl();
        var database = EfficiencyCli.Database();
        var deployment = EfficiencyCli.Deployment();
        var from = new Option<string>("--from") { Description = "Start, ISO-8601 UTC.", Required = true };
        var to = new Option<string>("--to") { Description = "End, ISO-8601 UTC.", Required = true };
        var version = new Option<string?>("--catalog-version") { Description = "Catalog version to price with (default: the newest stored)." };
        var windows = new Option<string>("--window") { Description = "Window lengths, comma-separated (5m,1h).", DefaultValueFactory = _ => "5m,1h" };
        var command = new Command("reprice", "Recompute the windows in [--from, --to) with a catalog version (e.g. after a price change); rows are replaced, never duplicated.")
        {
            url, database, deployment, from, to, version, windows,
        };
        command.SetAction((parse, cancellationToken) => CommandLine.GuardAsync(async () =>
        {
            var problems = new List<string>();
            var range = EfficiencyCli.Range(parse, from, to, problems);
            var lengths = parse.GetValue(windows)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(EfficiencyQuery.ParseWindow).ToList();
            if (lengths.Count == 0 || lengths.Any(l => l is null)) problems.Add($"--window '{parse.GetValue(windows)}' is not a list of window lengths (e.g. 5m,1h)");
            if (problems.Count > 0)
            {
                foreach (var p in problems) await Console.Error.WriteLineAsync($"error: {p}");
                return CommandLine.BadConfiguration;
            }

            using var logs = LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true));
            using var toolkit = EfficiencyCli.Toolkit(parse, url, database, logs);
            var catalog = await toolkit.Catalogs.GetAsync(parse.GetValue(version), cancellationToken);
            if (catalog is null)
            {
                await Console.Error.WriteLineAsync($"error: catalog version '{parse.GetValue(version) ?? "(newest)"}' is not stored: see `efficiency-monitor catalog list`");
                return CommandLine.BadConfiguration;
            }

            foreach (var seconds in lengths)
            {
                var done = await toolkit.Runner.RepriceAsync(seconds!.Value, range!.Value.From, range!.Value.To, catalog.Catalog, parse.GetValue(deployment), cancellationToken);
                await Console.Out.WriteLineAsync($"{seconds / 60}-minute windows: {done} repriced with catalog {catalog.Catalog.Version}");
            }

            return 0;
        }));
        return command;
    }
}
