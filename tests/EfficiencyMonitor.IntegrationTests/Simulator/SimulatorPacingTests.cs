using Confluent.Kafka;
using EfficiencyMonitor.Simulator.Generation;
using EfficiencyMonitor.Simulator.Output;
using EfficiencyMonitor.Simulator.Scenarios;
using EfficiencyMonitor.TestInfrastructure;
using Xunit.Abstractions;

namespace EfficiencyMonitor.IntegrationTests.Simulator;

public sealed class SimulatorPacingTests(ITestOutputHelper output)
{
    private const double Rate = 5000;
    private const double Seconds = 30;
    private const int Partitions = 32;

    [Fact]
    public async Task Simulate_5000PerSecondFor30Seconds_ArrivalsAndWallTimeWithin2Percent()
    {
        var endpoints = await TestEngines.GetAsync();
        var topic = await TestEngines.CreateTopicAsync("sim-pacing", Partitions);
        var scenario = ScenarioLoader.LoadFile(Path.Combine(ServiceProcess.RepositoryRoot, "deploy", "scenarios", "agentic-kv.yaml"));
        var generator = new TraceGenerator(scenario, new GeneratorOptions
        {
            Start = TimeProvider.System.GetUtcNow(),
            Rate = Rate,
            Seed = 9,
            Duration = TimeSpan.FromSeconds(Seconds),
            PowerSamples = false,
        });

        using var producer = new ProducerBuilder<string, byte[]>(KafkaPump.DefaultConfig(endpoints.KafkaBootstrap)).Build();
        var pump = new KafkaPump(producer, new PumpOptions { RequestsTopic = topic, PowerTopic = topic, FlushTimeout = TimeSpan.FromSeconds(5) }, TimeProvider.System);
        using var guard = new CancellationTokenSource(TimeSpan.FromSeconds(Seconds + 5));
        var result = await pump.RunAsync(generator.Generate(), null, guard.Token);

        var arrived = 0L;
        using (var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = endpoints.KafkaBootstrap, GroupId = "sim-pacing-watermarks" }).Build())
        {
            for (var p = 0; p < Partitions; p++)
            {
                arrived += consumer.QueryWatermarkOffsets(new TopicPartition(topic, p), TimeSpan.FromSeconds(5)).High.Value;
            }
        }

        var expected = Rate * Seconds;
        var rate = arrived / result.Elapsed.TotalSeconds;
        output.WriteLine($"arrived {arrived:N0} of {expected:N0} target ({arrived / expected - 1:+0.00%;-0.00%}); wall {result.Elapsed.TotalSeconds:0.000}s; achieved {rate:N0}/s ({rate / Rate - 1:+0.00%;-0.00%}); failed {result.Failed}");
        Assert.False(result.Cancelled);
        Assert.Equal(0, result.Failed);
        Assert.Equal(result.Produced, arrived);
        Assert.InRange(arrived, expected * 0.98, expected * 1.02);
        Assert.InRange(rate, Rate * 0.98, Rate * 1.02);
    }
}
