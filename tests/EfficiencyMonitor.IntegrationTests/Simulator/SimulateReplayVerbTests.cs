using Confluent.Kafka;
using EfficiencyMonitor.TestInfrastructure;

namespace EfficiencyMonitor.IntegrationTests.Simulator;

public sealed class SimulateReplayVerbTests
{
    private static string DefaultScenario => Path.Combine(ServiceProcess.RepositoryRoot, "deploy", "scenarios", "default.yaml");

    [Fact]
    public async Task SimulateToFileThenReplay_EveryLineArrivesOnItsTopic()
    {
        var endpoints = await TestEngines.GetAsync();
        var requests = await TestEngines.CreateTopicAsync("replay-req", 8);
        var power = await TestEngines.CreateTopicAsync("replay-pow", 8);
        var file = Path.Combine(Path.GetTempPath(), $"em-trace-{Guid.NewGuid():N}.jsonl");
        try
        {
            await using (var simulate = ServiceProcess.Start(["simulate", "--scenario", DefaultScenario, "--rate", "200", "--count", "400", "--seed", "7", "--out", file]))
            {
                Assert.True(await simulate.WaitForExitAsync(TimeSpan.FromSeconds(60)) == 0, simulate.Stdout + simulate.Stderr);
            }

            var lines = File.ReadAllLines(file);
            var expectedPower = lines.Count(l => l.Contains("\"gpu_uuid\"", StringComparison.Ordinal));
            var expectedRequests = lines.Length - expectedPower;
            Assert.Equal(400, expectedRequests);

            await using (var replay = ServiceProcess.Start(["replay", "--trace", file, "--speed", "1000", "--kafka", endpoints.KafkaBootstrap, "--requests-topic", requests, "--power-topic", power]))
            {
                Assert.True(await replay.WaitForExitAsync(TimeSpan.FromSeconds(60)) == 0, replay.Stdout + replay.Stderr);
            }

            Assert.Equal(expectedRequests, Count(endpoints.KafkaBootstrap, requests, 8, expectedRequests));
            Assert.Equal(expectedPower, Count(endpoints.KafkaBootstrap, power, 8, expectedPower));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task SimulateToKafka_CountRecords_AllArrive()
    {
        var endpoints = await TestEngines.GetAsync();
        var requests = await TestEngines.CreateTopicAsync("sim-req", 8);
        var power = await TestEngines.CreateTopicAsync("sim-pow", 8);
        await using var simulate = ServiceProcess.Start(["simulate", "--scenario", DefaultScenario, "--rate", "500", "--count", "1000", "--no-power",
            "--kafka", endpoints.KafkaBootstrap, "--requests-topic", requests, "--power-topic", power]);
        Assert.True(await simulate.WaitForExitAsync(TimeSpan.FromSeconds(60)) == 0, simulate.Stdout + simulate.Stderr);
        Assert.Contains("1,000 delivered", simulate.Stdout, StringComparison.Ordinal);
        Assert.Equal(1000, Count(endpoints.KafkaBootstrap, requests, 8, 1000));
    }

    private static int Count(string bootstrap, string topic, int partitions, int expected)
    {
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = bootstrap, GroupId = $"count-{Guid.NewGuid():N}", EnableAutoCommit = false }).Build();
        consumer.Assign(Enumerable.Range(0, partitions).Select(p => new TopicPartitionOffset(topic, p, Offset.Beginning)));
        var count = 0;
        var quietSince = TimeProvider.System.GetTimestamp();
        var deadline = TimeProvider.System.GetUtcNow() + TimeSpan.FromSeconds(30);
        while (TimeProvider.System.GetUtcNow() < deadline)
        {
            if (consumer.Consume(TimeSpan.FromMilliseconds(200)) is { IsPartitionEOF: false })
            {
                count++;
                quietSince = TimeProvider.System.GetTimestamp();
            }
            else if (count >= expected && TimeProvider.System.GetElapsedTime(quietSince) > TimeSpan.FromSeconds(1))
            {
                break; // a second of quiet after reaching the count: more would be a duplicate
            }
        }

        return count;
    }
}
