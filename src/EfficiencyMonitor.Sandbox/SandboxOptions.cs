using System.Net;

namespace EfficiencyMonitor.Sandbox;

/// <summary>Where the embedded local stack listens and keeps its files.</summary>
public sealed record SandboxOptions
{
    /// <summary>Topics the sandbox creates at start, with their partition counts.</summary>
    public static readonly IReadOnlyDictionary<string, int> DefaultTopics = new Dictionary<string, int>
    {
        ["inference-requests"] = 16,
        ["gpu-power"] = 4,
        ["telemetry-dead-letter"] = 4,
    };

    /// <summary>ClickHouse-HTTP endpoint (loopback). Port 0 picks a free port.</summary>
    public IPEndPoint ClickHouseHttp { get; init; } = new(IPAddress.Loopback, 8123);

    /// <summary>Fixed Kafka bootstrap endpoint (loopback), forwarded to the mock cluster. Port 0 picks a free port.</summary>
    public IPEndPoint Kafka { get; init; } = new(IPAddress.Loopback, 9092);

    /// <summary>Persistent ClickHouse data folder.</summary>
    public string DataDirectory { get; init; } = Path.Combine(DefaultStateRoot, "data");

    /// <summary>Where the engine package is installed once and reused.</summary>
    public string CacheDirectory { get; init; } = Path.Combine(DefaultCacheRoot, "efficiency-monitor");

    /// <summary>Topics created at start.</summary>
    public IReadOnlyDictionary<string, int> Topics { get; init; } = DefaultTopics;

    /// <summary>Brokers in the mock cluster.</summary>
    public int KafkaBrokers { get; init; } = 1;

    private static string DefaultCacheRoot =>
        Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg
            ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");

    private static string DefaultStateRoot => Path.Combine(DefaultCacheRoot, "efficiency-monitor", "sandbox");

    /// <summary>Parses <c>host:port</c> (loopback only: the sandbox is never exposed).</summary>
    public static IPEndPoint ParseLoopbackEndpoint(string value, string optionName)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (!IPEndPoint.TryParse(value, out var endpoint) || endpoint.Port is < 0 or > 65535)
        {
            throw new SandboxException($"{optionName} '{value}' is not host:port: pass e.g. {optionName} 127.0.0.1:{(optionName.Contains("kafka", StringComparison.Ordinal) ? 9092 : 8123)}");
        }

        if (!IPAddress.IsLoopback(endpoint.Address))
        {
            throw new SandboxException($"{optionName} '{value}' is not a loopback address: the sandbox is for laptops and CI and binds 127.0.0.1 only");
        }

        return endpoint;
    }
}
