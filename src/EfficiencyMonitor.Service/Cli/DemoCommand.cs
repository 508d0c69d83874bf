using System.CommandLine;
using ClickHouse.Driver.ADO;
using Dapper;
using EfficiencyMonitor.Service.Configuration;
using EfficiencyMonitor.Storage;
using EfficiencyMonitor.Storage.Migrations;
using Microsoft.Extensions.Logging;

namespace EfficiencyMonitor.Service.Cli;

/// <summary>
/// <c>efficiency-monitor demo</c>: the main job on the embedded default — sandbox up, migrations applied, endpoints
/// printed and a first query over the tables shown.
/// </summary>
internal static class DemoCommand
{
    private const string TablesSql = """
        SELECT name AS Name, engine AS Engine, toUInt64(ifNull(total_rows, 0)) AS TotalRows
        FROM system.tables
        WHERE database = {database:String}
        ORDER BY name
        """;

    internal static readonly Option<TimeSpan?> Duration = new("--duration")
    {
        Description = "Stop after this long (e.g. 30s, 00:05:00); default: run until Ctrl-C.",
        CustomParser = result => ParseDuration(result.Tokens.Single().Value, result),
    };

    public static Command Create()
    {
        var command = new Command("demo", "Run the main job on the embedded sandbox: engines up, migrations applied, endpoints and a first query printed.")
        {
            SandboxCommand.ClickHouseHttp,
            SandboxCommand.Kafka,
            SandboxCommand.Data,
            Duration,
        };
        command.SetAction((parse, cancellationToken) => CommandLine.GuardAsync(async () =>
        {
            await using var sandbox = await SandboxCommand.StartAsync(parse, cancellationToken);
            var options = ServiceConfiguration.ClickHouse(ServiceConfiguration.Build(new Dictionary<string, string?>
            {
                ["ClickHouse:Url"] = sandbox.ClickHouseUrl.ToString(),
            }));
            using var logs = LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true));
            var report = await new MigrationRunner(options, logs.CreateLogger<MigrationRunner>()).ApplyAsync(cancellationToken);
            await Console.Out.WriteLineAsync($"migrations: {report.Applied.Count} applied, {report.AlreadyApplied.Count} already applied");

            await using var connection = new ClickHouseConnection(options.ToConnectionString());
            var tables = (await connection.QueryAsync<TableRow>(new CommandDefinition(
                TablesSql, new { database = options.Database }, cancellationToken: cancellationToken))).ToList();
            await Console.Out.WriteLineAsync($"tables in {options.Database}:");
            await Console.Out.WriteLineAsync($"  {"table",-24} {"engine",-20} {"rows",12}");
            foreach (var table in tables)
            {
                await Console.Out.WriteLineAsync($"  {table.Name,-24} {table.Engine,-20} {table.TotalRows,12:N0}");
            }

            var duration = parse.GetValue(Duration);
            await Console.Out.WriteLineAsync(duration is { } d ? $"ready; stopping in {d.TotalSeconds:0}s (Ctrl-C to stop now)" : "ready; Ctrl-C to stop");
            await SandboxCommand.WaitForStopAsync(cancellationToken, duration);
            await Console.Out.WriteLineAsync("stopping");
            return 0;
        }));
        return command;
    }

    private static TimeSpan? ParseDuration(string value, System.CommandLine.Parsing.ArgumentResult result)
    {
        var trimmed = value.Trim();
        var (number, unit) = trimmed.Length > 0 && char.IsLetter(trimmed[^1]) ? (trimmed[..^1], trimmed[^1]) : (trimmed, '\0');
        if (unit != '\0' && double.TryParse(number, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var n) && n >= 0)
        {
            switch (unit)
            {
                case 's': return TimeSpan.FromSeconds(n);
                case 'm': return TimeSpan.FromMinutes(n);
                case 'h': return TimeSpan.FromHours(n);
            }
        }
        else if (TimeSpan.TryParse(trimmed, System.Globalization.CultureInfo.InvariantCulture, out var span) && span >= TimeSpan.Zero)
        {
            return span;
        }

        result.AddError($"--duration '{value}' is not a duration: use e.g. 30s, 5m, 1h or 00:05:00");
        return null;
    }

    private sealed record TableRow(string Name, string Engine, ulong TotalRows);
}
