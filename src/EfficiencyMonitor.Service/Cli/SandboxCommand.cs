using System.CommandLine;
using EfficiencyMonitor.Sandbox;

namespace EfficiencyMonitor.Service.Cli;

/// <summary><c>efficiency-monitor sandbox</c>: the embedded local stack, for laptops and CI.</summary>
internal static class SandboxCommand
{
    internal const string Warning =
        "For laptops and CI only, never production: the Kafka broker is librdkafka's in-memory mock (5 MiB per partition, " +
        "older data silently dropped beyond that; no TLS/SASL) and ClickHouse is the embedded chDB engine behind a loopback endpoint.";

    internal static readonly Option<string> ClickHouseHttp = new("--clickhouse-http")
    {
        Description = "Loopback host:port of the ClickHouse HTTP endpoint (port 0 = any free port).",
        DefaultValueFactory = _ => "127.0.0.1:8123",
    };

    internal static readonly Option<string> Kafka = new("--kafka")
    {
        Description = "Loopback host:port of the fixed Kafka bootstrap (port 0 = any free port).",
        DefaultValueFactory = _ => "127.0.0.1:9092",
    };

    internal static readonly Option<string?> Data = new("--data")
    {
        Description = "Folder for persistent ClickHouse data (default: ~/.cache/efficiency-monitor/sandbox/data).",
    };

    public static Command Create()
    {
        var command = new Command("sandbox", "Run the embedded local stack: real ClickHouse engine (chDB) over HTTP and a Kafka-protocol mock broker. " + Warning)
        {
            ClickHouseHttp,
            Kafka,
            Data,
        };
        command.SetAction((parse, cancellationToken) => CommandLine.GuardAsync(async () =>
        {
            await using var sandbox = await StartAsync(parse, cancellationToken);
            await Console.Out.WriteLineAsync("ready; Ctrl-C to stop");
            await WaitForStopAsync(cancellationToken);
            await Console.Out.WriteLineAsync("stopping");
            return 0;
        }));
        return command;
    }

    /// <summary>Starts the sandbox from the verb's options and prints its endpoints.</summary>
    internal static async Task<SandboxHost> StartAsync(ParseResult parse, CancellationToken cancellationToken, string? defaultDataDirectory = null)
    {
        var options = new SandboxOptions
        {
            ClickHouseHttp = SandboxOptions.ParseLoopbackEndpoint(parse.GetValue(ClickHouseHttp)!, "--clickhouse-http"),
            Kafka = SandboxOptions.ParseLoopbackEndpoint(parse.GetValue(Kafka)!, "--kafka"),
        };
        if (parse.GetValue(Data) is { Length: > 0 } data)
        {
            options = options with { DataDirectory = Path.GetFullPath(data) };
        }
        else if (defaultDataDirectory is not null)
        {
            options = options with { DataDirectory = defaultDataDirectory };
        }

        await Console.Out.WriteLineAsync($"sandbox: {Warning}");
        var sandbox = await SandboxHost.StartAsync(options, Console.Out, cancellationToken);
        await Console.Out.WriteLineAsync($"clickhouse-http: {sandbox.ClickHouseUrl}");
        await Console.Out.WriteLineAsync($"kafka-bootstrap: {sandbox.KafkaBootstrap}");
        await Console.Out.WriteLineAsync($"topics: {string.Join(' ', options.Topics.Select(t => $"{t.Key}({t.Value})"))}");
        await Console.Out.WriteLineAsync($"data: {options.DataDirectory}");
        return sandbox;
    }

    /// <summary>Waits for Ctrl-C / SIGTERM (the token) or the optional duration.</summary>
    internal static async Task WaitForStopAsync(CancellationToken cancellationToken, TimeSpan? duration = null)
    {
        try
        {
            await Task.Delay(duration ?? Timeout.InfiniteTimeSpan, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // Ctrl-C or SIGTERM: fall through to a clean shutdown.
        }
    }
}
