using System.CommandLine;
using System.Globalization;
using ClickHouse.Driver.ADO;
using Confluent.Kafka;
using Dapper;
using EfficiencyMonitor.Service.Configuration;
using EfficiencyMonitor.Simulator.Generation;
using EfficiencyMonitor.Simulator.Output;
using EfficiencyMonitor.Simulator.Scenarios;

namespace EfficiencyMonitor.Service.Cli;

/// <summary>
/// <c>efficiency-monitor demo</c>: the main job on the embedded default — the sandbox's real engines, the service
/// (migrations, Kafka → ClickHouse ingestion, <c>/metrics</c>) and the simulator producing a scenario's traffic, then what
/// landed, read back from ClickHouse.
/// </summary>
internal static class DemoCommand
{
    private const string TablesSql = """
        SELECT name AS Name, engine AS Engine, toUInt64(ifNull(total_rows, 0)) AS TotalRows
        FROM system.tables
        WHERE database = @database AND NOT is_temporary AND engine NOT IN ('MaterializedView')
        ORDER BY name
        """;

    // Read from the per-minute rollups, as the jobs will: requests, success, tokens by kind and cache tier, TTFT.
    private const string DeploymentsSql = """
        SELECT
            deployment AS Deployment,
            sum(requests) AS Requests,
            sum(status_ok) / greatest(sum(requests), 1) AS OkShare,
            sum(input_tokens) AS InputTokens,
            sum(cached_hbm_tokens) / greatest(sum(input_tokens), 1) AS HbmShare,
            sum(cached_dram_tokens) / greatest(sum(input_tokens), 1) AS DramShare,
            (sum(cached_local_ssd_tokens) + sum(cached_remote_tokens)) / greatest(sum(input_tokens), 1) AS FlashRemoteShare,
            sum(output_tokens) AS OutputTokens,
            sum(reasoning_tokens) / greatest(sum(output_tokens), 1) AS ReasoningShare,
            toFloat64(quantilesTDigestMerge(0.5, 0.9, 0.99)(ttft_ms_quantiles)[1]) AS TtftP50Ms
        FROM inference_requests_1m
        GROUP BY deployment
        ORDER BY deployment
        """;

    private const string EnergySql = """
        SELECT deployment AS Deployment, uniqExact(gpu_uuid) AS Gpus, sum(power_watts_sum) / greatest(sum(samples), 1) AS MeanWatts
        FROM gpu_power_1m
        GROUP BY deployment
        ORDER BY deployment
        """;

    internal static readonly Option<TimeSpan?> Duration = new("--duration")
    {
        Description = "Stop after this long (e.g. 30s, 5m, 00:05:00); default: run until Ctrl-C.",
        CustomParser = result => ParseDuration(result.Tokens.Single().Value, result),
    };

    private static readonly Option<double> Rate = new("--rate")
    {
        Description = "Simulated request records per second.",
        DefaultValueFactory = _ => 200,
    };

    private static readonly Option<FileInfo?> Scenario = new("--scenario")
    {
        Description = "Scenario file (default: deploy/scenarios/default.yaml, or the copy shipped beside the binary).",
    };

    public static Command Create()
    {
        var command = new Command("demo", "Run the main job on the embedded sandbox: engines up, migrations applied, the service ingesting a simulated scenario, and what landed in ClickHouse printed.")
        {
            SandboxCommand.ClickHouseHttp,
            SandboxCommand.Kafka,
            SandboxCommand.Data,
            RunCommand.Urls,
            Duration,
            Rate,
            Scenario,
        };
        command.SetAction((parse, cancellationToken) => CommandLine.GuardAsync(() => RunAsync(parse, cancellationToken)));
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parse, CancellationToken cancellationToken)
    {
        var scenarioFile = parse.GetValue(Scenario)?.FullName ?? DefaultScenario();
        Scenario scenario;
        try
        {
            scenario = ScenarioLoader.LoadFile(scenarioFile);
        }
        catch (ScenarioException e)
        {
            await Console.Error.WriteLineAsync($"error: invalid scenario:\n  - {string.Join("\n  - ", e.Problems)}");
            return CommandLine.BadConfiguration;
        }

        // A fresh ClickHouse folder per demo unless --data says otherwise: the mock broker starts empty every time, and a
        // demo's numbers should describe this run.
        var runData = Path.Combine(Path.GetTempPath(), "efficiency-monitor-demo", TimeProvider.System.GetUtcNow().ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture));
        await using var sandbox = await SandboxCommand.StartAsync(parse, cancellationToken, runData);
        var overrides = new Dictionary<string, string?>
        {
            ["ClickHouse:Url"] = sandbox.ClickHouseUrl.ToString(),
            ["Kafka:BootstrapServers"] = sandbox.KafkaBootstrap,
        };
        var options = ServiceConfiguration.ClickHouse(ServiceConfiguration.Build(overrides));
        var urls = parse.GetValue(RunCommand.Urls)!;
        await using var service = ServiceHost.Build(urls, overrides);
        await service.StartAsync(cancellationToken); // applies migrations, starts the consumers
        await Console.Out.WriteLineAsync($"service: {string.Join(' ', service.Urls)} (/metrics, /healthz, /readyz)");

        var duration = parse.GetValue(Duration);
        var rate = parse.GetValue(Rate);
        var generator = new TraceGenerator(scenario, new GeneratorOptions
        {
            Rate = rate,
            Seed = 1,
            Start = TimeProvider.System.GetUtcNow(),
            Duration = duration,
        });
        await Console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"simulating scenario '{scenario.Name}' at {rate}/s {(duration is { } d ? $"for {d.TotalSeconds:0}s" : "until Ctrl-C")}: {scenario.Deployments.Count} deployments, {scenario.Workloads.Count} workload classes, {scenario.Incidents.Count} incidents"));
        using (var producer = new ProducerBuilder<string, byte[]>(KafkaPump.DefaultConfig(sandbox.KafkaBootstrap)).Build())
        {
            var lastShown = TimeSpan.Zero;
            var result = await new KafkaPump(producer, new PumpOptions(), TimeProvider.System).RunAsync(generator.Generate(), progress =>
            {
                if (progress.Elapsed - lastShown < TimeSpan.FromSeconds(5)) return;
                lastShown = progress.Elapsed;
                Console.Out.WriteLine(progress.Format());
            }, cancellationToken);
            await Console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"sent {result.Produced:N0} records ({generator.RequestCount:N0} requests), {result.Delivered:N0} acknowledged"));
        }

        // Let the last batch land (batches are inserted at least every second), then read back.
        using var readTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await Task.Delay(TimeSpan.FromSeconds(3), CancellationToken.None);
        await PrintSummaryAsync(options, readTimeout.Token);

        await Console.Out.WriteLineAsync("stopping");
        await service.StopAsync(CancellationToken.None);
        return 0;
    }

    private static async Task PrintSummaryAsync(Storage.ClickHouseOptions options, CancellationToken cancellationToken)
    {
        await using var connection = new ClickHouseConnection(options.ToConnectionString());
        var tables = (await connection.QueryAsync<TableRow>(new CommandDefinition(TablesSql, new { database = options.Database }, cancellationToken: cancellationToken))).ToList();
        await Console.Out.WriteLineAsync($"tables in {options.Database}:");
        await Console.Out.WriteLineAsync($"  {"table",-28} {"engine",-24} {"rows",12}");
        foreach (var table in tables)
        {
            await Console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  {table.Name,-28} {table.Engine,-24} {table.TotalRows,12:N0}"));
        }

        var deployments = (await connection.QueryAsync<DeploymentRow>(new CommandDefinition(DeploymentsSql, cancellationToken: cancellationToken))).ToList();
        await Console.Out.WriteLineAsync("per deployment (from the per-minute rollups):");
        await Console.Out.WriteLineAsync($"  {"deployment",-28} {"requests",9} {"ok",6} {"input tok",12} {"hbm",6} {"dram",6} {"ssd+rem",8} {"output tok",11} {"reason",7} {"ttft p50",9}");
        foreach (var d in deployments)
        {
            await Console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"  {d.Deployment,-28} {d.Requests,9:N0} {d.OkShare,6:P0} {d.InputTokens,12:N0} {d.HbmShare,6:P0} {d.DramShare,6:P0} {d.FlashRemoteShare,8:P0} {d.OutputTokens,11:N0} {d.ReasoningShare,7:P0} {d.TtftP50Ms,7:N0}ms"));
        }

        var energy = (await connection.QueryAsync<EnergyRow>(new CommandDefinition(EnergySql, cancellationToken: cancellationToken))).ToList();
        foreach (var e in energy)
        {
            await Console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  {e.Deployment,-28} {e.Gpus,4} GPUs reporting, mean {e.MeanWatts:N0} W per sample"));
        }
    }

    private static string DefaultScenario()
    {
        var inRepository = Path.Combine("deploy", "scenarios", "default.yaml");
        return File.Exists(inRepository) ? Path.GetFullPath(inRepository) : Path.Combine(AppContext.BaseDirectory, "scenarios", "default.yaml");
    }

    private static TimeSpan? ParseDuration(string value, System.CommandLine.Parsing.ArgumentResult result)
    {
        var trimmed = value.Trim();
        var (number, unit) = trimmed.Length > 0 && char.IsLetter(trimmed[^1]) ? (trimmed[..^1], trimmed[^1]) : (trimmed, '\0');
        if (unit != '\0' && double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var n) && n >= 0)
        {
            switch (unit)
            {
                case 's': return TimeSpan.FromSeconds(n);
                case 'm': return TimeSpan.FromMinutes(n);
                case 'h': return TimeSpan.FromHours(n);
            }
        }
        else if (TimeSpan.TryParse(trimmed, CultureInfo.InvariantCulture, out var span) && span >= TimeSpan.Zero)
        {
            return span;
        }

        result.AddError($"--duration '{value}' is not a duration: use e.g. 30s, 5m, 1h or 00:05:00");
        return null;
    }

    private sealed record TableRow(string Name, string Engine, ulong TotalRows);

    private sealed record DeploymentRow(string Deployment, ulong Requests, double OkShare, ulong InputTokens, double HbmShare, double DramShare,
        double FlashRemoteShare, ulong OutputTokens, double ReasoningShare, double TtftP50Ms);

    private sealed record EnergyRow(string Deployment, ulong Gpus, double MeanWatts);
}
