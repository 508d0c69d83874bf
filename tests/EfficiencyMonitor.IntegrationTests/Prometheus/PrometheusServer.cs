using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace EfficiencyMonitor.IntegrationTests.Prometheus;

/// <summary>
/// A real Prometheus server (Debian's <c>prometheus</c> package) as a child process: a generated configuration that scrapes
/// one target every second and loads rule files, storage in a temporary directory, the HTTP API on a free loopback port.
/// Disposing kills its process tree and deletes the directory.
/// </summary>
internal sealed class PrometheusServer : IAsyncDisposable
{
    /// <summary>Where Debian installs the server; PATH is searched as well.</summary>
    public const string DebianBinary = "/usr/bin/prometheus";

    private readonly Process _process;
    private readonly string _directory;
    private readonly StringBuilder _output = new();
    private readonly object _gate = new();

    private PrometheusServer(Process process, string directory, Uri baseAddress)
    {
        _process = process;
        _directory = directory;
        Http = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };
    }

    /// <summary>Client of the server's HTTP API.</summary>
    public HttpClient Http { get; }

    /// <summary>The server's log so far.</summary>
    public string Output { get { lock (_gate) return _output.ToString(); } }

    /// <summary>The server binary, or null when the package is not installed.</summary>
    public static string? FindBinary() =>
        File.Exists(DebianBinary)
            ? DebianBinary
            : (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
                .Select(dir => Path.Combine(dir, "prometheus"))
                .FirstOrDefault(File.Exists);

    /// <summary>Starts the server scraping <paramref name="target"/> (host:port) as job <paramref name="job"/> and waits until it is ready.</summary>
    public static async Task<PrometheusServer> StartAsync(string binary, string job, string target, IEnumerable<string> ruleFiles)
    {
        var directory = Directory.CreateTempSubdirectory("em-prometheus-").FullName;
        var config = new StringBuilder()
            .AppendLine("global:")
            .AppendLine("  scrape_interval: 1s")
            .AppendLine("  scrape_timeout: 1s")
            .AppendLine("  evaluation_interval: 1s")
            .AppendLine("rule_files:");
        foreach (var file in ruleFiles) config.AppendLine(CultureInfo.InvariantCulture, $"  - {JsonSerializer.Serialize(file)}");
        config
            .AppendLine("scrape_configs:")
            .AppendLine(CultureInfo.InvariantCulture, $"  - job_name: {JsonSerializer.Serialize(job)}")
            .AppendLine("    metrics_path: /metrics")
            .AppendLine("    static_configs:")
            .AppendLine(CultureInfo.InvariantCulture, $"      - targets: [{JsonSerializer.Serialize(target)}]");
        var configPath = Path.Combine(directory, "prometheus.yml");
        await File.WriteAllTextAsync(configPath, config.ToString());

        var port = FreePort();
        var info = new ProcessStartInfo(binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = directory,
        };
        foreach (var argument in new[]
                 {
                     $"--config.file={configPath}",
                     $"--storage.tsdb.path={Path.Combine(directory, "data")}",
                     $"--web.listen-address=127.0.0.1:{port}",
                     "--storage.tsdb.retention.time=1h",
                     "--log.level=warn",
                 })
        {
            info.ArgumentList.Add(argument);
        }

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var server = new PrometheusServer(process, directory, new Uri($"http://127.0.0.1:{port}/"));
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (server._gate) server._output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (server._gate) server._output.AppendLine(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            var deadline = TimeProvider.System.GetUtcNow() + TimeSpan.FromSeconds(60);
            while (true)
            {
                if (process.HasExited) throw new InvalidOperationException($"prometheus exited with {process.ExitCode}:\n{server.Output}");
                if (TimeProvider.System.GetUtcNow() > deadline) throw new TimeoutException($"prometheus not ready within 60 s:\n{server.Output}");
                try
                {
                    using var ready = await server.Http.GetAsync(new Uri("-/ready", UriKind.Relative));
                    if (ready.StatusCode == HttpStatusCode.OK) return server;
                }
                catch (HttpRequestException)
                {
                    // Not listening yet.
                }

                await Task.Delay(200);
            }
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// <c>POST /api/v1/query</c>: the parsed answer, whatever its status (<c>success</c>, or <c>error</c> with
    /// <c>errorType</c> and <c>error</c>).
    /// </summary>
    public async Task<JsonElement> QueryAsync(string promql)
    {
        using var content = new FormUrlEncodedContent([new("query", promql)]);
        using var response = await Http.PostAsync(new Uri("api/v1/query", UriKind.Relative), content);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.Clone();
    }

    /// <summary>The <c>data</c> of a successful <c>GET</c> on the API.</summary>
    public async Task<JsonElement> GetAsync(string path)
    {
        using var json = JsonDocument.Parse(await Http.GetStringAsync(new Uri(path, UriKind.Relative)));
        Assert.Equal("success", json.RootElement.GetProperty("status").GetString());
        return json.RootElement.GetProperty("data").Clone();
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                await _process.WaitForExitAsync(timeout.Token);
            }
        }
        finally
        {
            _process.Dispose();
            try
            {
                Directory.Delete(_directory, recursive: true);
            }
            catch (IOException)
            {
                // Best effort: a temp directory left behind is harmless.
            }
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
