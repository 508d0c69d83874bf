using System.CommandLine;
using EfficiencyMonitor.Core.Catalog;
using EfficiencyMonitor.Jobs.Catalog;
using Microsoft.Extensions.Logging;

namespace EfficiencyMonitor.Service.Cli;

/// <summary><c>efficiency-monitor catalog check|add|list</c>: validate catalog files, store them as a version, list versions.</summary>
internal static class CatalogCommand
{
    public static Command Create()
    {
        var command = new Command("catalog", "Cost catalog (hardware, models, facilities, deployments, success policy): check files, add a version, list versions.");
        command.Subcommands.Add(Check());
        command.Subcommands.Add(Add());
        command.Subcommands.Add(List());
        return command;
    }

    private static Argument<string> Directory() => new("directory") { Description = "Catalog directory (*.yaml).", DefaultValueFactory = _ => "deploy/catalog" };

    private static Command Check()
    {
        var directory = Directory();
        var command = new Command("check", "Validate the catalog files without storing them (every problem listed as file:line:column: path: problem; fix).") { directory };
        command.SetAction((parse, _) => CommandLine.GuardAsync(async () =>
        {
            try
            {
                var loaded = CatalogFiles.LoadDirectory(parse.GetValue(directory)!);
                await Console.Out.WriteLineAsync($"catalog {loaded.Catalog.Version} is valid: {loaded.Catalog.Hardware.Count} hardware, {loaded.Catalog.Models.Count} models, " +
                    $"{loaded.Catalog.Facilities.Count} facilities, {loaded.Catalog.Deployments.Count} deployments, {loaded.Catalog.SuccessPolicies.Count} success policies (sha256 {loaded.Checksum[..12]})");
                return 0;
            }
            catch (CatalogException e)
            {
                return await EfficiencyCli.ReportAsync(e);
            }
        }));
        return command;
    }

    private static Command Add()
    {
        var directory = Directory();
        var url = EfficiencyCli.ClickHouseUrl();
        var database = EfficiencyCli.Database();
        var command = new Command("add", "Validate the catalog files and store them in ClickHouse as a new version (refused if the version exists with other content).") { directory, url, database };
        command.SetAction((parse, cancellationToken) => CommandLine.GuardAsync(async () =>
        {
            using var logs = LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true));
            using var toolkit = EfficiencyCli.Toolkit(parse, url, database, logs);
            try
            {
                var loaded = CatalogFiles.LoadDirectory(parse.GetValue(directory)!);
                var stored = await toolkit.Catalogs.AddAsync(loaded, cancellationToken);
                await Console.Out.WriteLineAsync(stored
                    ? $"catalog {loaded.Catalog.Version} stored (sha256 {loaded.Checksum[..12]}); reprice history with `efficiency-monitor reprice --from … --to … --catalog-version {loaded.Catalog.Version}`"
                    : $"catalog {loaded.Catalog.Version} already stored with the same content");
                return 0;
            }
            catch (CatalogException e)
            {
                return await EfficiencyCli.ReportAsync(e);
            }
        }));
        return command;
    }

    private static Command List()
    {
        var url = EfficiencyCli.ClickHouseUrl();
        var database = EfficiencyCli.Database();
        var command = new Command("list", "List the stored catalog versions, oldest first (the newest prices new windows unless Jobs:CatalogVersion pins one).") { url, database };
        command.SetAction((parse, cancellationToken) => CommandLine.GuardAsync(async () =>
        {
            using var logs = LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true));
            using var toolkit = EfficiencyCli.Toolkit(parse, url, database, logs);
            var versions = await toolkit.Catalogs.ListAsync(cancellationToken);
            if (versions.Count == 0) await Console.Out.WriteLineAsync("no catalog stored: run `efficiency-monitor catalog add deploy/catalog`");
            foreach (var v in versions)
                await Console.Out.WriteLineAsync($"{v.Version,-16} {v.LoadedAt:yyyy-MM-dd HH:mm:ss}Z  sha256 {v.Checksum[..12]}  {v.Source}  {v.Description}");
            return 0;
        }));
        return command;
    }
}
