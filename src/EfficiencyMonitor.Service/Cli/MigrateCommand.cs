using System.CommandLine;
using EfficiencyMonitor.Storage.Migrations;
using Microsoft.Extensions.Logging;

namespace EfficiencyMonitor.Service.Cli;

/// <summary><c>efficiency-monitor migrate</c>: applies pending ClickHouse migrations.</summary>
internal static class MigrateCommand
{
    private static readonly Option<string?> ClickHouseUrl = EfficiencyCli.ClickHouseUrl();

    private static readonly Option<string?> Database = EfficiencyCli.Database();

    public static Command Create()
    {
        var command = new Command("migrate", "Apply the pending migrations of schemas/clickhouse and record the applied versions.")
        {
            ClickHouseUrl,
            Database,
        };
        command.SetAction((parse, cancellationToken) => CommandLine.GuardAsync(async () =>
        {
            var (_, options) = EfficiencyCli.ClickHouse(parse, ClickHouseUrl, Database);
            using var logs = LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true));
            var report = await new MigrationRunner(options, logs.CreateLogger<MigrationRunner>()).ApplyAsync(cancellationToken);
            await Console.Out.WriteLineAsync($"database {options.Database}: {report.Applied.Count} applied, {report.AlreadyApplied.Count} already applied");
            return 0;
        }));
        return command;
    }
}
