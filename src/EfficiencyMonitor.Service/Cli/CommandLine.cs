using System.CommandLine;
using EfficiencyMonitor.Sandbox;
using Microsoft.Extensions.Options;

namespace EfficiencyMonitor.Service.Cli;

/// <summary>The verbs of <c>efficiency-monitor</c>. Exit codes: 0 done, 1 failed, 2 bad configuration or arguments.</summary>
public static class CommandLine
{
    /// <summary>Exit code of a run that failed.</summary>
    public const int Failed = 1;

    /// <summary>Exit code of a bad setting or argument.</summary>
    public const int BadConfiguration = 2;

    /// <summary>Builds the root command with every verb.</summary>
    public static RootCommand Build()
    {
        var root = new RootCommand(
            "EfficiencyMonitor: realized vs predicted spend per successful output for LLM inference fleets.\n" +
            "Endpoints come from appsettings.json, EM_Section__Key variables, and EM_CLICKHOUSE_URL / EM_KAFKA_BOOTSTRAP.");
        root.Subcommands.Add(SandboxCommand.Create());
        root.Subcommands.Add(MigrateCommand.Create());
        root.Subcommands.Add(DemoCommand.Create());
        root.Subcommands.Add(RunCommand.Create());
        root.Subcommands.Add(SimulateCommand.Create());
        root.Subcommands.Add(ReplayCommand.Create());
        root.Subcommands.Add(CatalogCommand.Create());
        root.Subcommands.Add(ReportCommand.Create());
        root.Subcommands.Add(RepriceCommand.Create());
        root.Subcommands.Add(CalibrateCommand.Create());
        root.Subcommands.Add(ForecastCommand.Create());
        return root;
    }

    /// <summary>Runs a verb body, turning the failures a user can fix into one clear line and an exit code.</summary>
    internal static async Task<int> GuardAsync(Func<Task<int>> body)
    {
        try
        {
            return await body();
        }
        catch (OptionsValidationException e)
        {
            await Console.Error.WriteLineAsync("error: invalid configuration:");
            foreach (var failure in e.Failures)
            {
                await Console.Error.WriteLineAsync($"  - {failure}");
            }

            return BadConfiguration;
        }
        catch (SandboxException e)
        {
            await Console.Error.WriteLineAsync($"error: {e.Message}");
            return Failed;
        }
        catch (OperationCanceledException)
        {
            return 0;
        }
        catch (HttpRequestException e)
        {
            await Console.Error.WriteLineAsync($"error: ClickHouse is unreachable ({e.Message}): start it (e.g. `efficiency-monitor sandbox`) or set EM_CLICKHOUSE_URL");
            return Failed;
        }
    }
}
