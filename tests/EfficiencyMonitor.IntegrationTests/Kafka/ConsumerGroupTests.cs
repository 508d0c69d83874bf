using Confluent.Kafka;
using EfficiencyMonitor.TestInfrastructure;
using Xunit;

namespace EfficiencyMonitor.IntegrationTests.Kafka;

/// <summary>Consumer groups against the real Kafka-protocol broker of the run (the mock cluster in the sandbox).</summary>
public sealed class ConsumerGroupTests
{
    private const int Partitions = 4;

    [Fact]
    public async Task Subscribe_TwoConsumersInOneGroup_SplitPartitionsAndConsumeEveryMessageOnce()
    {
        var engines = await TestEngines.GetAsync();
        var topic = await TestEngines.CreateTopicAsync("kafka-group-split", Partitions);
        var group = $"{topic}-group";

        using var first = new ConsumerBuilder<Ignore, string>(KafkaTestClients.Consumer(engines.KafkaBootstrap, group)).Build();
        using var second = new ConsumerBuilder<Ignore, string>(KafkaTestClients.Consumer(engines.KafkaBootstrap, group)).Build();
        first.Subscribe(topic);
        second.Subscribe(topic);

        // Both members poll (a member that does not poll cannot rejoin) until the group has settled on a split.
        var consumers = new[] { first, second };
        var received = new[] { new List<ConsumeResult<Ignore, string>>(), new List<ConsumeResult<Ignore, string>>() };
        var deadline = Environment.TickCount64 + (long)KafkaTestClients.Patience.TotalMilliseconds;
        while (!(first.Assignment.Count > 0 && second.Assignment.Count > 0
                 && first.Assignment.Count + second.Assignment.Count == Partitions))
        {
            Assert.True(Environment.TickCount64 < deadline,
                $"the group did not split within {KafkaTestClients.Patience.TotalSeconds} s: {first.Assignment.Count} + {second.Assignment.Count} partitions");
            for (var i = 0; i < consumers.Length; i++)
            {
                if (consumers[i].Consume(TimeSpan.FromMilliseconds(50)) is { } early)
                {
                    received[i].Add(early);
                }
            }
        }

        var firstPartitions = first.Assignment.Select(p => p.Partition.Value).ToHashSet();
        var secondPartitions = second.Assignment.Select(p => p.Partition.Value).ToHashSet();
        Assert.Empty(firstPartitions.Intersect(secondPartitions));
        Assert.Equal(Enumerable.Range(0, Partitions), firstPartitions.Union(secondPartitions).Order());

        const int Count = 400;
        var produced = await KafkaTestClients.ProduceAsync(engines.KafkaBootstrap, topic, Partitions, Count, "split");

        while (received[0].Count + received[1].Count < Count)
        {
            Assert.True(Environment.TickCount64 < deadline, $"consumed {received[0].Count + received[1].Count} of {Count} records");
            for (var i = 0; i < consumers.Length; i++)
            {
                if (consumers[i].Consume(TimeSpan.FromMilliseconds(50)) is { } result)
                {
                    received[i].Add(result);
                }
            }
        }

        // Nothing more may arrive: the union is the produced set with no duplicates.
        received[0].AddRange(DrainResults(first));
        received[1].AddRange(DrainResults(second));
        var all = received[0].Concat(received[1]).Select(r => r.Message.Value).ToList();
        Assert.Equal(Count, all.Count);
        Assert.Equal(produced.Order(StringComparer.Ordinal), all.Order(StringComparer.Ordinal));

        // Each member read only its own partitions, and both did real work.
        Assert.All(received[0], r => Assert.Contains(r.Partition.Value, firstPartitions));
        Assert.All(received[1], r => Assert.Contains(r.Partition.Value, secondPartitions));
        Assert.NotEmpty(received[0]);
        Assert.NotEmpty(received[1]);

        first.Close();
        second.Close();
    }

    [Fact]
    public async Task Commit_ConsumerRestartsInSameGroup_ResumesAtCommittedOffsetsAndGetsExactlyTheRest()
    {
        var engines = await TestEngines.GetAsync();
        var topic = await TestEngines.CreateTopicAsync("kafka-group-resume", Partitions);
        var group = $"{topic}-group";
        const int Count = 200;
        var produced = await KafkaTestClients.ProduceAsync(engines.KafkaBootstrap, topic, Partitions, Count, "resume");

        List<TopicPartitionOffset> committed;
        List<string> firstHalf;
        using (var consumer = new ConsumerBuilder<Ignore, string>(KafkaTestClients.Consumer(engines.KafkaBootstrap, group)).Build())
        {
            consumer.Subscribe(topic);
            var results = KafkaTestClients.ConsumeExactly(consumer, Count / 2);
            firstHalf = results.Select(r => r.Message.Value).ToList();
            // Commit the next offset to read of every partition touched (Kafka's convention: last consumed + 1).
            committed = results
                .GroupBy(r => r.TopicPartition)
                .Select(g => new TopicPartitionOffset(g.Key, g.Max(r => r.Offset.Value) + 1))
                .ToList();
            consumer.Commit(committed);
            consumer.Close();
        }

        using (var restarted = new ConsumerBuilder<Ignore, string>(KafkaTestClients.Consumer(engines.KafkaBootstrap, group)).Build())
        {
            var stored = restarted.Committed(committed.Select(c => c.TopicPartition), TimeSpan.FromSeconds(5));
            Assert.Equal(
                committed.Select(c => (c.Partition.Value, c.Offset.Value)).Order(),
                stored.Select(c => (c.Partition.Value, c.Offset.Value)).Order());

            restarted.Subscribe(topic);
            var rest = KafkaTestClients.ConsumeExactly(restarted, Count - firstHalf.Count);
            foreach (var first in rest.GroupBy(r => r.TopicPartition).Select(g => g.MinBy(r => r.Offset.Value)!))
            {
                // The first record read per partition is the committed offset (or 0 where nothing was committed).
                var expected = committed.FirstOrDefault(c => c.TopicPartition == first.TopicPartition)?.Offset.Value ?? 0;
                Assert.Equal(expected, first.Offset.Value);
            }

            var restValues = rest.Select(r => r.Message.Value).ToList();
            restValues.AddRange(KafkaTestClients.Drain(restarted, TimeSpan.FromMilliseconds(500)));
            Assert.Empty(restValues.Intersect(firstHalf));
            Assert.Equal(produced.Except(firstHalf).Order(StringComparer.Ordinal), restValues.Order(StringComparer.Ordinal));
            restarted.Close();
        }
    }

    private static List<ConsumeResult<Ignore, string>> DrainResults(IConsumer<Ignore, string> consumer)
    {
        var extra = new List<ConsumeResult<Ignore, string>>();
        var deadline = Environment.TickCount64 + 300;
        while (Environment.TickCount64 < deadline)
        {
            if (consumer.Consume(TimeSpan.FromMilliseconds(50)) is { } result)
            {
                extra.Add(result);
            }
        }

        return extra;
    }
}
