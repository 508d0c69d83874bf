using System.Globalization;
using System.Text;
using Confluent.Kafka;
using EfficiencyMonitor.Sandbox.Kafka;
using Xunit;

namespace EfficiencyMonitor.IntegrationTests.Kafka;

/// <summary>Client settings and small loops shared by the Kafka tests.</summary>
internal static class KafkaTestClients
{
    /// <summary>Upper bound for any wait in these tests (each test should finish well under 15 s).</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(12);

    /// <summary>A consumer that rebalances in about 2 s against the mock (see <see cref="MockKafkaCluster"/>).</summary>
    public static ConsumerConfig Consumer(string bootstrap, string groupId) =>
        MockKafkaCluster.UseFastRebalance(new ConsumerConfig
        {
            BootstrapServers = bootstrap,
            GroupId = groupId,
            ClientId = $"test-{groupId}",
            AutoOffsetReset = AutoOffsetReset.Earliest,
            EnableAutoCommit = false,
            EnablePartitionEof = false,
            // Range assigns contiguous partitions; any eager assignor gives a disjoint split.
            PartitionAssignmentStrategy = PartitionAssignmentStrategy.Range,
        });

    /// <summary>An idempotent producer (exactly one copy of each record per partition, in order).</summary>
    public static IProducer<Null, string> Producer(string bootstrap) =>
        new ProducerBuilder<Null, string>(new ProducerConfig
        {
            BootstrapServers = bootstrap,
            EnableIdempotence = true,
            LingerMs = 1,
        }).Build();

    /// <summary>Produces <c>{prefix}-{i}</c> for i in [0, count), round-robin over <paramref name="partitions"/> partitions.</summary>
    public static async Task<IReadOnlyList<string>> ProduceAsync(string bootstrap, string topic, int partitions, int count, string prefix)
    {
        using var producer = Producer(bootstrap);
        var values = new List<string>(count);
        var pending = new List<Task<DeliveryResult<Null, string>>>(count);
        for (var i = 0; i < count; i++)
        {
            var value = string.Create(CultureInfo.InvariantCulture, $"{prefix}-{i}");
            values.Add(value);
            pending.Add(producer.ProduceAsync(new TopicPartition(topic, i % partitions), new Message<Null, string> { Value = value }));
        }

        foreach (var result in await Task.WhenAll(pending))
        {
            Assert.Equal(PersistenceStatus.Persisted, result.Status);
        }

        return values;
    }

    /// <summary>Polls <paramref name="consumer"/> until it has consumed <paramref name="count"/> records (or fails after <see cref="Patience"/>).</summary>
    public static List<ConsumeResult<Ignore, string>> ConsumeExactly(IConsumer<Ignore, string> consumer, int count)
    {
        var results = new List<ConsumeResult<Ignore, string>>(count);
        var deadline = Environment.TickCount64 + (long)Patience.TotalMilliseconds;
        while (results.Count < count)
        {
            Assert.True(Environment.TickCount64 < deadline, $"consumed {results.Count} of {count} records within {Patience.TotalSeconds} s");
            var result = consumer.Consume(TimeSpan.FromMilliseconds(100));
            if (result is not null)
            {
                results.Add(result);
            }
        }

        return results;
    }

    /// <summary>Polls for <paramref name="quiet"/> and returns whatever arrived (expected: nothing).</summary>
    public static List<string> Drain(IConsumer<Ignore, string> consumer, TimeSpan quiet)
    {
        var extra = new List<string>();
        var deadline = Environment.TickCount64 + (long)quiet.TotalMilliseconds;
        while (Environment.TickCount64 < deadline)
        {
            if (consumer.Consume(TimeSpan.FromMilliseconds(50)) is { } result)
            {
                extra.Add(result.Message.Value);
            }
        }

        return extra;
    }

    /// <summary>Partition count of <paramref name="topic"/> as reported by a Metadata request on a producer's handle.</summary>
    public static int PartitionCount(string bootstrap, string topic)
    {
        using var producer = Producer(bootstrap);
        // A Metadata request (not Admin CreateTopics/Describe*, which the mock does not serve) on the producer's own handle.
        using var metadataClient = new DependentAdminClientBuilder(producer.Handle).Build();
        var metadata = metadataClient.GetMetadata(topic, TimeSpan.FromSeconds(5));
        var topicMetadata = Assert.Single(metadata.Topics);
        Assert.Equal(ErrorCode.NoError, topicMetadata.Error.Code);
        return topicMetadata.Partitions.Count;
    }

    /// <summary>UTF-8 lines, one per value.</summary>
    public static byte[] Lines(IEnumerable<string> values) =>
        Encoding.UTF8.GetBytes(string.Join('\n', values) + "\n");
}
