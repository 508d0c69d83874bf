using System.Globalization;
using ClickHouse.Driver.ADO;
using Confluent.Kafka;
using Dapper;
using EfficiencyMonitor.TestInfrastructure;

namespace EfficiencyMonitor.IntegrationTests.Ingestion;

/// <summary>
/// A unique database and topics per test, and the real service (<c>efficiency-monitor run</c>) as a child process
/// consuming them — so crash tests can SIGKILL it like production would.
/// </summary>
internal sealed class IngestionHarness : IAsyncDisposable
{
    private ServiceProcess? _service;

    private IngestionHarness(EngineEndpoints endpoints, string database, string requests, string power, string deadLetters, int partitions)
    {
        Endpoints = endpoints;
        Database = database;
        RequestsTopic = requests;
        PowerTopic = power;
        DeadLetterTopic = deadLetters;
        Partitions = partitions;
        ClickHouseUrl = endpoints.ClickHouseUrl.ToString();
        KafkaBootstrap = endpoints.KafkaBootstrap;
    }

    public EngineEndpoints Endpoints { get; }

    public string Database { get; }

    public string RequestsTopic { get; }

    public string PowerTopic { get; }

    public string DeadLetterTopic { get; }

    public int Partitions { get; }

    /// <summary>The Kafka bootstrap the service is given (a test may use a cluster of its own to take its broker down).</summary>
    public string KafkaBootstrap { get; set; } = "";

    /// <summary>The ClickHouse URL the service is given (a test may point it at a forwarder to simulate an outage).</summary>
    public string ClickHouseUrl { get; set; }

    /// <summary>Stdout of service processes killed so far.</summary>
    public string EarlierOutput { get; private set; } = "";

    public ServiceProcess Service => _service ?? throw new InvalidOperationException("service not started");

    public static async Task<IngestionHarness> CreateAsync(string name, int partitions)
    {
        var endpoints = await TestEngines.GetAsync();
        var database = await TestEngines.CreateDatabaseAsync(name);
        var requests = await TestEngines.CreateTopicAsync($"{name}-req", partitions);
        var power = await TestEngines.CreateTopicAsync($"{name}-pow", 4);
        var deadLetters = await TestEngines.CreateTopicAsync($"{name}-dlq", 4);
        return new IngestionHarness(endpoints, database, requests, power, deadLetters, partitions);
    }

    /// <summary>Starts the service and waits until it owns the requests topic's partitions.</summary>
    public async Task StartServiceAsync(TimeSpan? timeout = null)
    {
        _service = ServiceProcess.Start(["run", "--urls", "http://127.0.0.1:0"], new Dictionary<string, string>
        {
            ["EM_CLICKHOUSE_URL"] = ClickHouseUrl,
            ["EM_KAFKA_BOOTSTRAP"] = KafkaBootstrap,
            ["EM_ClickHouse__Database"] = Database,
            ["EM_Kafka__RequestsTopic"] = RequestsTopic,
            ["EM_Kafka__PowerTopic"] = PowerTopic,
            ["EM_Kafka__DeadLetterTopic"] = DeadLetterTopic,
            ["EM_Kafka__GroupId"] = $"g-{Database}",
            // Fast rebalances against the mock: a killed member's partitions move after 3 s.
            ["EM_Kafka__SessionTimeoutMs"] = "3000",
            ["EM_Kafka__HeartbeatIntervalMs"] = "500",
            ["EM_Ingestion__BatchMaxDelay"] = "00:00:00.200",
            ["EM_Ingestion__InsertRetryMaxBackoff"] = "00:00:01",
            ["Logging__LogLevel__Default"] = "Information",
            ["Logging__LogLevel__EfficiencyMonitor.Ingestion"] = "Debug",
        });
        await _service.WaitForOutputAsync($"{RequestsTopic}: ", timeout ?? TimeSpan.FromSeconds(60));
    }

    /// <summary>SIGKILL: no flush, no commit, no goodbye.</summary>
    public async Task KillServiceAsync()
    {
        Service.Signal(9);
        await Service.WaitForExitAsync(TimeSpan.FromSeconds(30));
        EarlierOutput += Service.Stdout;
        await Service.DisposeAsync();
        _service = null;
    }

    public ClickHouseConnection OpenClickHouse() => new(TestEngines.ConnectionString(Endpoints.ClickHouseUrl, Database));

    public async Task<T> ScalarAsync<T>(string sql)
    {
        await using var connection = OpenClickHouse();
        return await connection.ExecuteScalarAsync<T>(sql) ?? throw new InvalidOperationException($"no value for {sql}");
    }

    /// <summary>Polls <c>count()</c> of the requests table until it reaches <paramref name="expected"/> (or time runs out).</summary>
    public async Task<ulong> WaitForRowsAsync(string table, ulong expected, TimeSpan timeout)
    {
        var deadline = TimeProvider.System.GetUtcNow() + timeout;
        ulong count = 0;
        while (TimeProvider.System.GetUtcNow() < deadline)
        {
            count = await ScalarAsync<ulong>($"SELECT count() FROM {table}");
            if (count >= expected) return count;
            await Task.Delay(250);
        }

        // Timed out: show what the service said, so the failure explains itself.
        var log = _service?.Stdout ?? "";
        Console.Error.WriteLine($"{table}: {count} of {expected} rows after {timeout}; service log tail:\n{log[Math.Max(0, log.Length - 4000)..]}");
        return count;
    }

    /// <summary>Reads the dead-letter topic from the start until <paramref name="expected"/> records or the timeout.</summary>
    public List<ConsumeResult<byte[]?, byte[]>> ReadDeadLetters(int expected, TimeSpan timeout)
    {
        using var consumer = new ConsumerBuilder<byte[]?, byte[]>(new ConsumerConfig
        {
            BootstrapServers = KafkaBootstrap,
            GroupId = $"dlq-reader-{Guid.NewGuid():N}",
            AutoOffsetReset = AutoOffsetReset.Earliest,
            EnableAutoCommit = false,
        }).Build();
        consumer.Assign(Enumerable.Range(0, 4).Select(p => new TopicPartitionOffset(DeadLetterTopic, p, Offset.Beginning)));
        var results = new List<ConsumeResult<byte[]?, byte[]>>();
        var deadline = TimeProvider.System.GetUtcNow() + timeout;
        while (results.Count < expected && TimeProvider.System.GetUtcNow() < deadline)
        {
            if (consumer.Consume(TimeSpan.FromMilliseconds(200)) is { IsPartitionEOF: false } r) results.Add(r);
        }

        // A little longer: more than expected would be a defect too.
        var extra = TimeProvider.System.GetUtcNow() + TimeSpan.FromSeconds(1);
        while (TimeProvider.System.GetUtcNow() < extra)
        {
            if (consumer.Consume(TimeSpan.FromMilliseconds(200)) is { IsPartitionEOF: false } r) results.Add(r);
        }

        return results;
    }

    public static string Header(ConsumeResult<byte[]?, byte[]> record, string name) =>
        record.Message.Headers.TryGetLastBytes(name, out var bytes) ? System.Text.Encoding.UTF8.GetString(bytes) : "";

    public static long ParseLong(string value) => long.Parse(value, CultureInfo.InvariantCulture);

    public async ValueTask DisposeAsync()
    {
        if (_service is not null)
        {
            _service.Signal(15);
            try
            {
                await _service.WaitForExitAsync(TimeSpan.FromSeconds(30));
            }
            catch (OperationCanceledException)
            {
                // Killed by DisposeAsync below.
            }

            await _service.DisposeAsync();
        }
    }
}
