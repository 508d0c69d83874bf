using System.Net;
using Confluent.Kafka;
using EfficiencyMonitor.Sandbox.Kafka;
using EfficiencyMonitor.Sandbox;
using Xunit;

namespace EfficiencyMonitor.IntegrationTests.Kafka;

/// <summary>The native mock-cluster wrapper itself (its own clusters, independent of the run's engines).</summary>
public sealed class MockKafkaClusterTests
{
    [Fact]
    public void Start_ThreeBrokers_BootstrapsListsEachOnLoopback()
    {
        using var cluster = MockKafkaCluster.Start(3);

        var brokers = cluster.Bootstraps.Split(',');
        Assert.Equal(3, brokers.Length);
        Assert.All(brokers, b => Assert.True(IPEndPoint.TryParse(b, out var ep) && IPAddress.IsLoopback(ep.Address) && ep.Port > 0, b));
        Assert.StartsWith("2.", MockKafkaCluster.LibrdkafkaVersion, StringComparison.Ordinal);
        Assert.Contains("librdkafka", Path.GetFileName(MockKafkaCluster.LibrdkafkaPath), StringComparison.Ordinal);
    }

    [Fact]
    public void CreateTopic_Twice_ThrowsOneLineCauseAndFix()
    {
        using var cluster = MockKafkaCluster.Start();
        cluster.CreateTopic("twice", 2);

        var error = Assert.Throws<SandboxException>(() => cluster.CreateTopic("twice", 2));

        Assert.StartsWith("topic twice already exists in the mock cluster", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void Dispose_Twice_IsHarmlessAndLaterCallsThrowObjectDisposed()
    {
        var cluster = MockKafkaCluster.Start();
        cluster.Dispose();
        cluster.Dispose();

        Assert.Throws<ObjectDisposedException>(() => cluster.CreateTopic("late", 1));
    }

    [Fact]
    public async Task AdvertiseBroker_ForwarderAddress_AllTrafficFlowsThroughFixedPort()
    {
        using var cluster = MockKafkaCluster.Start();
        await using var forwarder = TcpForwarder.Start(new IPEndPoint(IPAddress.Loopback, 0), cluster.Bootstraps);
        cluster.AdvertiseBroker(1, "127.0.0.1", forwarder.LocalEndpoint.Port);
        cluster.CreateTopic("through-forwarder", 2);
        var bootstrap = $"127.0.0.1:{forwarder.LocalEndpoint.Port}";

        using (var producer = KafkaTestClients.Producer(bootstrap))
        using (var metadataClient = new DependentAdminClientBuilder(producer.Handle).Build())
        {
            var broker = Assert.Single(metadataClient.GetMetadata(TimeSpan.FromSeconds(5)).Brokers);
            Assert.Equal(forwarder.LocalEndpoint.Port, broker.Port);
            await producer.ProduceAsync(new TopicPartition("through-forwarder", 1), new Message<Null, string> { Value = "via forwarder" });
        }

        using var consumer = new ConsumerBuilder<Ignore, string>(KafkaTestClients.Consumer(bootstrap, "through-forwarder")).Build();
        consumer.Assign(new TopicPartitionOffset("through-forwarder", 1, Offset.Beginning));
        Assert.Equal("via forwarder", Assert.Single(KafkaTestClients.ConsumeExactly(consumer, 1)).Message.Value);
        // Every client connection (bootstrap and the advertised broker) came through the forwarder.
        Assert.True(forwarder.AcceptedConnections >= 2, $"{forwarder.AcceptedConnections} connections forwarded");
    }
}
