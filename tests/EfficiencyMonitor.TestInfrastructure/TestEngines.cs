using System.Net;
using ClickHouse.Driver.ADO;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using DotNet.Testcontainers.Builders;
using EfficiencyMonitor.Sandbox;
using Testcontainers.Kafka;

namespace EfficiencyMonitor.TestInfrastructure;

/// <summary>The endpoints of the real engines the tests run against.</summary>
/// <param name="ClickHouseUrl">ClickHouse HTTP interface.</param>
/// <param name="KafkaBootstrap">Kafka bootstrap servers.</param>
/// <param name="Source">Where they came from.</param>
public sealed record EngineEndpoints(Uri ClickHouseUrl, string KafkaBootstrap, EngineSource Source);

/// <summary>
/// Finds the real engines once per test run (environment → Testcontainers when Docker answers → the sandbox) and hands
/// out a unique database and topic per test class. Never an in-memory fake: every source is a real ClickHouse engine and
/// a real Kafka-protocol broker.
/// </summary>
public static class TestEngines
{
    private static readonly Lazy<Task<EngineEndpoints>> Endpoints = new(StartAsync, LazyThreadSafetyMode.ExecutionAndPublication);
    private static readonly List<IAsyncDisposable> Owned = [];

    /// <summary>The sandbox, when it is the source (fault tests use it to stop the ClickHouse endpoint, for example).</summary>
    public static SandboxHost? Sandbox { get; private set; }

    /// <summary>The endpoints; the first call starts or finds the engines.</summary>
    public static Task<EngineEndpoints> GetAsync() => Endpoints.Value;

    /// <summary>Creates a database named <c>{prefix}_{random}</c> and returns its name.</summary>
    public static async Task<string> CreateDatabaseAsync(string prefix)
    {
        var endpoints = await GetAsync();
        var name = $"{prefix}_{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 13, 60)];
        await using var connection = new ClickHouseConnection(ConnectionString(endpoints.ClickHouseUrl, "default"));
        await connection.OpenAsync();
        using var command = connection.CreateCommand();
        command.CommandText = $"CREATE DATABASE IF NOT EXISTS {name}";
        await command.ExecuteNonQueryAsync();
        return name;
    }

    /// <summary>Creates a topic named <c>{prefix}-{random}</c> with <paramref name="partitions"/> partitions.</summary>
    public static async Task<string> CreateTopicAsync(string prefix, int partitions)
    {
        var endpoints = await GetAsync();
        var name = $"{prefix}-{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 13, 200)];
        if (Sandbox is not null)
        {
            // The mock cluster times out on Admin CreateTopics (LOCAL_STACK.md): create it natively.
            Sandbox.Kafka.CreateTopic(name, partitions);
            return name;
        }

        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = endpoints.KafkaBootstrap }).Build();
        await admin.CreateTopicsAsync([new TopicSpecification { Name = name, NumPartitions = partitions, ReplicationFactor = 1 }]);
        return name;
    }

    /// <summary>The driver connection string for <paramref name="database"/>.</summary>
    public static string ConnectionString(Uri clickHouseUrl, string database)
    {
        ArgumentNullException.ThrowIfNull(clickHouseUrl);
        return new EfficiencyMonitor.Storage.ClickHouseOptions { Url = clickHouseUrl.ToString() }.ToConnectionString(database);
    }

    private static async Task<EngineEndpoints> StartAsync()
    {
        var source = EngineSelection.Choose(Environment.GetEnvironmentVariable, () => DockerProbe.Answers(TimeSpan.FromMilliseconds(800)));
        AppDomain.CurrentDomain.ProcessExit += (_, _) => StopAll();
        return source switch
        {
            EngineSource.Environment => new EngineEndpoints(
                new Uri(Environment.GetEnvironmentVariable(EngineSelection.ClickHouseVariable)!),
                Environment.GetEnvironmentVariable(EngineSelection.KafkaVariable)!,
                EngineSource.Environment),
            EngineSource.Testcontainers => await StartContainersAsync(),
            _ => await StartSandboxAsync(),
        };
    }

    private static async Task<EngineEndpoints> StartSandboxAsync()
    {
        var data = Path.Combine(Path.GetTempPath(), "em-test-sandbox", $"{Environment.ProcessId}-{Guid.NewGuid():N}");
        var options = new SandboxOptions
        {
            ClickHouseHttp = new IPEndPoint(IPAddress.Loopback, 0),
            Kafka = new IPEndPoint(IPAddress.Loopback, 0),
            DataDirectory = data,
        };
        var host = await SandboxHost.StartAsync(options, Console.Error, CancellationToken.None);
        Sandbox = host;
        lock (Owned) Owned.Add(host);
        return new EngineEndpoints(host.ClickHouseUrl, host.KafkaBootstrap, EngineSource.Sandbox);
    }

    private static async Task<EngineEndpoints> StartContainersAsync()
    {
        var clickHouse = new ContainerBuilder("clickhouse/clickhouse-server:25.8")
            .WithPortBinding(8123, true)
            .WithEnvironment("CLICKHOUSE_SKIP_USER_SETUP", "1")
            .WithWaitStrategy(Wait.ForUnixContainer().UntilHttpRequestIsSucceeded(r => r.ForPort(8123).ForPath("/ping")))
            .Build();
        var kafka = new KafkaBuilder("apache/kafka:3.9.1").Build();
        lock (Owned)
        {
            Owned.Add(clickHouse);
            Owned.Add(kafka);
        }

        await Task.WhenAll(clickHouse.StartAsync(), kafka.StartAsync());
        return new EngineEndpoints(
            new Uri($"http://{clickHouse.Hostname}:{clickHouse.GetMappedPublicPort(8123)}/"),
            kafka.GetBootstrapAddress(),
            EngineSource.Testcontainers);
    }

    private static void StopAll()
    {
        IAsyncDisposable[] owned;
        lock (Owned) owned = [.. Owned];
        foreach (var item in owned)
        {
            // Bounded: the process is exiting; a stuck engine must not hang the test run.
            _ = Task.Run(async () => await item.DisposeAsync()).Wait(TimeSpan.FromSeconds(10));
        }
    }
}
