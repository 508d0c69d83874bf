using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using EfficiencyMonitor.TestInfrastructure;

namespace EfficiencyMonitor.IntegrationTests.Cli;

public sealed partial class SandboxVerbTests
{
    private static readonly TimeSpan Startup = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Sandbox_Started_PrintsEndpointsServesPingAndStopsCleanlyOnSigterm()
    {
        var data = Path.Combine(Path.GetTempPath(), "em-sandbox-verb", Guid.NewGuid().ToString("N"));
        await using var sandbox = ServiceProcess.Start(["sandbox", "--clickhouse-http", "127.0.0.1:0", "--kafka", "127.0.0.1:0", "--data", data]);
        await sandbox.WaitForOutputAsync("ready", Startup);

        Assert.Contains("never production", sandbox.Stdout, StringComparison.Ordinal);
        var url = ClickHouseLine().Match(sandbox.Stdout).Groups[1].Value;
        var kafka = KafkaLine().Match(sandbox.Stdout).Groups[1].Value;
        Assert.StartsWith("http://127.0.0.1:", url, StringComparison.Ordinal);
        Assert.StartsWith("127.0.0.1:", kafka, StringComparison.Ordinal);
        Assert.Contains("inference-requests(16)", sandbox.Stdout, StringComparison.Ordinal);

        using var http = new HttpClient();
        Assert.Equal("Ok.\n", await http.GetStringAsync(new Uri(new Uri(url), "ping")));
        Assert.Equal("2\n", await http.GetStringAsync(new Uri(url + "?query=SELECT%201%2B1")));

        sandbox.Signal(15);
        var exit = await sandbox.WaitForExitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(0, exit);
        Assert.Contains("stopping", sandbox.Stdout, StringComparison.Ordinal);
        Assert.True(Directory.Exists(data), "ClickHouse data persists under --data");
    }

    [Fact]
    public async Task Sandbox_KafkaPortTaken_OneLineErrorNamingCauseAndFix()
    {
        using var holder = new TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        var port = ((IPEndPoint)holder.LocalEndpoint).Port;

        await using var sandbox = ServiceProcess.Start(["sandbox", "--clickhouse-http", "127.0.0.1:0", "--kafka", $"127.0.0.1:{port}"]);
        var exit = await sandbox.WaitForExitAsync(Startup);

        Assert.Equal(1, exit);
        var errorLines = sandbox.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var error = Assert.Single(errorLines);
        Assert.StartsWith("error: ", error, StringComparison.Ordinal);
        Assert.Contains($"127.0.0.1:{port}", error, StringComparison.Ordinal);
        Assert.Contains("in use", error, StringComparison.Ordinal);
        Assert.Contains("--kafka", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sandbox_NonLoopbackAddress_Refused()
    {
        await using var sandbox = ServiceProcess.Start(["sandbox", "--kafka", "0.0.0.0:9092"]);
        Assert.Equal(1, await sandbox.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("not a loopback address", sandbox.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Demo_DurationCutsTheReplay_IngestsWhatWasSentSaysWhyNoReportAndExits()
    {
        var data = Path.Combine(Path.GetTempPath(), "em-demo-verb", Guid.NewGuid().ToString("N"));
        await using var demo = ServiceProcess.Start(["demo", "--clickhouse-http", "127.0.0.1:0", "--kafka", "127.0.0.1:0", "--urls", "http://127.0.0.1:0", "--data", data, "--duration", "4s", "--rate", "100"]);
        var exit = await demo.WaitForExitAsync(Startup);

        Assert.True(exit == 0, $"exit {exit}\nstdout:\n{demo.Stdout}\nstderr:\n{demo.Stderr}");
        Assert.Contains("clickhouse-http: http://127.0.0.1:", demo.Stdout, StringComparison.Ordinal);
        Assert.Contains("replaying scenario 'demo'", demo.Stdout, StringComparison.Ordinal);
        Assert.Contains("--duration reached during the replay", demo.Stdout, StringComparison.Ordinal);
        Assert.Contains("too few to calibrate", demo.Stdout, StringComparison.Ordinal);
        var sent = RequestsSent().Match(demo.Stdout);
        Assert.True(sent.Success, demo.Stdout);
        var requests = long.Parse(sent.Groups[1].Value.Replace(",", "", StringComparison.Ordinal), System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(requests > 100, $"only {requests} requests simulated");
        // Every simulated request landed: the raw table's row count printed equals what was sent.
        var stored = RawRows().Match(demo.Stdout);
        Assert.True(stored.Success, demo.Stdout);
        Assert.Equal(requests, long.Parse(stored.Groups[1].Value.Replace(",", "", StringComparison.Ordinal), System.Globalization.CultureInfo.InvariantCulture));
        Assert.Contains("per deployment (from the per-minute rollups):", demo.Stdout, StringComparison.Ordinal);
        Assert.Contains("llama-70b-chat-prod", demo.Stdout, StringComparison.Ordinal);
        Assert.Contains("stopping", demo.Stdout, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"sent [\d,]+ records \(([\d,]+) requests\)")]
    private static partial Regex RequestsSent();

    [GeneratedRegex(@"inference_requests\s+MergeTree\s+([\d,]+)")]
    private static partial Regex RawRows();

    [GeneratedRegex(@"clickhouse-http: (\S+)")]
    private static partial Regex ClickHouseLine();

    [GeneratedRegex(@"kafka-bootstrap: (\S+)")]
    private static partial Regex KafkaLine();
}
