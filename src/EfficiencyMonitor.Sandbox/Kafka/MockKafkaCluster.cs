namespace EfficiencyMonitor.Sandbox.Kafka;

/// <summary>
/// librdkafka's mock cluster (real Kafka wire protocol, in memory) created through the native API.
/// </summary>
public sealed class MockKafkaCluster : IDisposable
{
    private MockKafkaCluster() { }

    /// <summary>The mock's own bootstrap list (random loopback port).</summary>
    public string Bootstraps { get; private set; } = "";

    /// <summary>Starts a cluster of <paramref name="brokers"/> brokers with fast group rebalances.</summary>
    public static MockKafkaCluster Start(int brokers = 1) => throw new NotImplementedException();

    /// <summary>Creates <paramref name="topic"/> with <paramref name="partitions"/> partitions.</summary>
    public void CreateTopic(string topic, int partitions) => throw new NotImplementedException();

    /// <inheritdoc />
    public void Dispose() { }
}
