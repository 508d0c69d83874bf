using System.CommandLine;
using EfficiencyMonitor.Service.Configuration;
using EfficiencyMonitor.Storage.Migrations;
using Microsoft.Extensions.Logging;

namespace EfficiencyMonitor.Service.Cli;

/// <summary><c>efficiency-monitor migrate</c>: applies pending ClickHouse migrations.</summary>
internal static class MigrateCommand
{
    internal static readonly Option<string?> ClickHouseUrl = new("--clickhouse-url")
    {
        Description = "ClickHouse HTTP URL (default: ClickHouse:Url, or EM_CLICKHOUSE_URL).",
    };

    internal static readonly Option<string?> Database = new("--database")
    {
        Description = "Target database (default: ClickHouse:Database = efficiency).",
    };

    public static Command Create()
    {
        var command = new Command("migrate", "Apply the pending migrations of schemas/clickhouse and record the applied versions.")
        {
            ClickHouseUrl,
            Database,
        };
        command.SetAction((parse, cancellationToken) => CommandLine.GuardAsync(async () =>
        {
            var overrides = new Dictionary<string, string?>();
            if (parse.GetValue(ClickHouseUrl) is { Length: > 0 } url) overrides["ClickHouse:Url"] = url;
            if (parse.GetValue(Database) is { Length: > 0 } database) overrides["ClickHouse:Database"] = database;
            var options = ServiceConfiguration.ClickHouse(ServiceConfiguration.Build(overrides));
            using var logs = LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true));
            var report = await new MigrationRunner(options, logs.CreateLogger<MigrationRunner>()).ApplyAsync(cancellationToken);
            await Console.Out.WriteLineAsync($"database {options.Database}: {report.Applied.Count} applied, {report.AlreadyApplied.Count} already applied");
            return 0;
        }));
        return command;
    }
}
