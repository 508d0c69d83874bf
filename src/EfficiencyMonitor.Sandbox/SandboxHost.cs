using EfficiencyMonitor.Sandbox.ClickHouse;
using EfficiencyMonitor.Sandbox.Kafka;

namespace EfficiencyMonitor.Sandbox;

/// <summary>
/// The embedded local stack: the real ClickHouse engine (chDB) behind a ClickHouse-HTTP endpoint and librdkafka's
/// mock Kafka cluster behind a fixed bootstrap port. For laptops and CI only: the broker keeps data in memory with
/// 5 MiB per partition, silently dropping older data beyond that; never use it in production.
/// </summary>
public sealed class SandboxHost : IAsyncDisposable
{
    private readonly ChdbEngine _engine;
    private readonly TcpForwarder _forwarder;
    private bool _disposed;

    private SandboxHost(ChdbEngine engine, ClickHouseHttpServer clickHouse, MockKafkaCluster kafka, TcpForwarder forwarder)
    {
        _engine = engine;
        ClickHouse = clickHouse;
        Kafka = kafka;
        _forwarder = forwarder;
    }

    /// <summary>The ClickHouse-HTTP endpoint (use it as ClickHouse's HTTP URL).</summary>
    public ClickHouseHttpServer ClickHouse { get; }

    /// <summary>The mock Kafka cluster (topics can be created with any partition count).</summary>
    public MockKafkaCluster Kafka { get; }

    /// <summary>ClickHouse base URL, e.g. <c>http://127.0.0.1:8123/</c>.</summary>
    public Uri ClickHouseUrl => ClickHouse.Url;

    /// <summary>The fixed Kafka bootstrap, e.g. <c>127.0.0.1:9092</c>.</summary>
    public string KafkaBootstrap => $"{_forwarder.LocalEndpoint.Address}:{_forwarder.LocalEndpoint.Port}";

    /// <summary>
    /// Installs the engine if needed, starts both engines and creates the topics. Everything started is stopped again
    /// when a later step fails, and the failure is a <see cref="SandboxException"/> naming the cause and the fix.
    /// </summary>
    public static async Task<SandboxHost> StartAsync(SandboxOptions options, TextWriter log, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(log);

        // Bind the Kafka port first: it is cheap, and a taken port should fail before the 10 s engine install.
        MockKafkaCluster? kafka = null;
        TcpForwarder? forwarder = null;
        ChdbEngine? engine = null;
        ClickHouseHttpServer? clickHouse = null;
        try
        {
            kafka = MockKafkaCluster.Start(options.KafkaBrokers);
            foreach (var (topic, partitions) in options.Topics)
            {
                kafka.CreateTopic(topic, partitions);
            }

            forwarder = TcpForwarder.Start(options.Kafka, kafka.Bootstraps.Split(',')[0]);

            var library = await ChdbInstaller.EnsureInstalledAsync(options.CacheDirectory, log, cancellationToken);
            Directory.CreateDirectory(options.DataDirectory);
            engine = ChdbEngine.Open(library, options.DataDirectory);
            clickHouse = await ClickHouseHttpServer.StartAsync(engine, options.ClickHouseHttp, cancellationToken);
            return new SandboxHost(engine, clickHouse, kafka, forwarder);
        }
        catch
        {
            if (clickHouse is not null) await clickHouse.DisposeAsync();
            engine?.Dispose();
            if (forwarder is not null) await forwarder.DisposeAsync();
            kafka?.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        _disposed = true;
        await ClickHouse.DisposeAsync();
        _engine.Dispose();
        await _forwarder.DisposeAsync();
        Kafka.Dispose();
    }
}
