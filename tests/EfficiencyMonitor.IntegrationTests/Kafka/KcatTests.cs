using System.Globalization;
using System.Text.Json;
using Confluent.Kafka;
using EfficiencyMonitor.TestInfrastructure;
using Xunit;

namespace EfficiencyMonitor.IntegrationTests.Kafka;

/// <summary>A non-.NET client (Debian's kcat, librdkafka C) reaches the broker through the fixed bootstrap port.</summary>
public sealed class KcatTests
{
    [KcatFact]
    public async Task KcatMetadata_FixedBootstrapPort_ListsBrokerAndTopicPartitions()
    {
        var engines = await TestEngines.GetAsync();
        var topic = await TestEngines.CreateTopicAsync("kafka-kcat-list", 3);
        if (TestEngines.Sandbox is { } sandbox)
        {
            // The fixed port is the forwarder's, not one of the mock's random ports.
            Assert.DoesNotContain(engines.KafkaBootstrap, sandbox.Kafka.Bootstraps.Split(','));
        }

        var (exitCode, stdout, stderr) = await Kcat.RunAsync(["-L", "-J", "-b", engines.KafkaBootstrap, "-t", topic, "-m", "5"]);

        Assert.True(exitCode == 0, $"kcat -L failed ({exitCode}): {stderr}");
        using var metadata = JsonDocument.Parse(stdout);
        Assert.NotEmpty(metadata.RootElement.GetProperty("brokers").EnumerateArray());
        var listed = Assert.Single(metadata.RootElement.GetProperty("topics").EnumerateArray());
        Assert.Equal(topic, listed.GetProperty("topic").GetString());
        Assert.Equal(3, listed.GetProperty("partitions").GetArrayLength());
    }

    [KcatFact]
    public async Task KcatProduce_FixedBootstrapPort_RecordsReadableByConfluentConsumer()
    {
        var engines = await TestEngines.GetAsync();
        var topic = await TestEngines.CreateTopicAsync("kafka-kcat-produce", 1);
        var values = Enumerable.Range(0, 50).Select(i => string.Create(CultureInfo.InvariantCulture, $"{{\"kcat\":{i},\"text\":\"é ✓\"}}")).ToList();

        var (exitCode, _, stderr) = await Kcat.RunAsync(["-P", "-b", engines.KafkaBootstrap, "-t", topic, "-p", "0", "-m", "5"], KafkaTestClients.Lines(values));
        Assert.True(exitCode == 0, $"kcat -P failed ({exitCode}): {stderr}");

        using var consumer = new ConsumerBuilder<Ignore, string>(KafkaTestClients.Consumer(engines.KafkaBootstrap, $"{topic}-reader")).Build();
        consumer.Assign(new TopicPartitionOffset(topic, 0, Offset.Beginning));
        var read = KafkaTestClients.ConsumeExactly(consumer, values.Count).Select(r => r.Message.Value).ToList();
        Assert.Equal(values, read);
    }
}
