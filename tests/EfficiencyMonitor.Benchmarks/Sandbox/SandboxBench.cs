using System.Globalization;
using System.Net;
using EfficiencyMonitor.Benchmarks.Kafka;
using EfficiencyMonitor.Sandbox;

namespace EfficiencyMonitor.Benchmarks.Sandbox;

/// <summary>
/// <c>sandbox [--rows 1000000] [--messages 1000000] [--runs 3]</c>: what the embedded local stack does on this machine —
/// bulk-insert rows/s through ClickHouse.Driver into chDB, and produce / consume msgs/s on the mock broker.
/// </summary>
public static class SandboxBench
{
    /// <summary>Runs both measurements and prints medians and every run.</summary>
    public static async Task<int> MainAsync(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var rows = Option(args, "--rows", 1_000_000);
        var messages = Option(args, "--messages", 1_000_000);
        var runs = Option(args, "--runs", 3);
        var data = Path.Combine(Path.GetTempPath(), "em-bench-sandbox", Guid.NewGuid().ToString("N"));
        await using var sandbox = await SandboxHost.StartAsync(new SandboxOptions
        {
            ClickHouseHttp = new IPEndPoint(IPAddress.Loopback, 0),
            Kafka = new IPEndPoint(IPAddress.Loopback, 0),
            DataDirectory = data,
        }, Console.Out, CancellationToken.None);

        var insert = await SandboxInsertBench.RunAsync(sandbox.ClickHouseUrl, rows, runs, CancellationToken.None);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"insert: {rows:N0} rows via InsertBinaryAsync (RowBinary, default zstd), {runs} runs: median {insert.MedianRowsPerSecond:N0} rows/s; runs {string.Join(", ", insert.RunSeconds.Select(s => (rows / s).ToString("N0", CultureInfo.InvariantCulture)))} rows/s; count and sum verified"));
        var partitions = Math.Max(128, BrokerBench.MinimumPartitions(messages));
        var broker = await BrokerBench.RunAsync(sandbox.Kafka, sandbox.KafkaBootstrap, messages, partitions, runs, Console.Out);
        Console.WriteLine(broker);
        return 0;
    }

    private static int Option(string[] args, string name, int fallback)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1], CultureInfo.InvariantCulture) : fallback;
    }
}
