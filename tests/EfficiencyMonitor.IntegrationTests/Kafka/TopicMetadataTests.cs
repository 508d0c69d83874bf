using EfficiencyMonitor.TestInfrastructure;
using Xunit;

namespace EfficiencyMonitor.IntegrationTests.Kafka;

/// <summary>Topics get the partition count asked for (the mock's auto-creation would give 4).</summary>
public sealed class TopicMetadataTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(16)]
    [InlineData(64)]
    public async Task CreateTopic_WithPartitionCount_MetadataReportsThatCount(int partitions)
    {
        var engines = await TestEngines.GetAsync();
        var topic = await TestEngines.CreateTopicAsync("kafka-partitions", partitions);

        Assert.Equal(partitions, KafkaTestClients.PartitionCount(engines.KafkaBootstrap, topic));
    }
}
