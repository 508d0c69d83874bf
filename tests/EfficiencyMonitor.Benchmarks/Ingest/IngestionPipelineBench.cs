using System.Diagnostics.Metrics;
using ClickHouse.Driver;
using EfficiencyMonitor.Core.Telemetry;
using EfficiencyMonitor.Ingestion;
using EfficiencyMonitor.Storage.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace EfficiencyMonitor.Benchmarks.Ingest;

/// <summary>
/// Method (d): the project's own pipeline (<see cref="TopicIngestor{TRow}"/> with its defaults), in the bench process
/// like (c)'s engine, on the same topic and into the same table shape.
/// </summary>
public static class IngestionPipelineBench
{
    /// <summary>Runs the requests ingestor until <paramref name="cancellationToken"/> fires (then it flushes and commits).</summary>
    public static Task RunAsync(BenchContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        return Task.Factory.StartNew(() =>
        {
            var kafka = new KafkaOptions
            {
                BootstrapServers = context.KafkaBootstrap,
                GroupId = context.ConsumerGroup,
                RequestsTopic = context.Topic,
                PowerTopic = context.Topic + "-power",
                DeadLetterTopic = context.Topic + "-dead-letter",
                SessionTimeoutMs = 3_000,
                HeartbeatIntervalMs = 500,
            };
            var options = new IngestionOptions(); // the service defaults
            using var client = new ClickHouseClient(context.ClickHouse.ToConnectionString());
            var store = new TelemetryStore(client, context.ClickHouse);
            using var deadLetters = new DeadLetterPublisher(kafka);
            using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
            using var metrics = new IngestionMetrics(services.GetRequiredService<IMeterFactory>());
            using var ingestor = new TopicIngestor<InferenceRequestRow>(
                new InferenceRequestsTopic(context.Topic, new TelemetryDecoderOptions()),
                store, deadLetters, kafka, options, metrics, context.TimeProvider, NullLogger.Instance)
            {
                PartitionsAssigned = _ => context.ReportAssigned(),
            };
            ingestor.Run(cancellationToken);
        }, cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }
}
