using EfficiencyMonitor.Core.Telemetry;
using EfficiencyMonitor.Storage.Telemetry;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EfficiencyMonitor.Ingestion;

/// <summary>
/// Hosts one <see cref="TopicIngestor{TRow}"/> per telemetry topic, each on its own thread (the consume loop blocks in
/// librdkafka), and stops them gracefully: flush, store offsets, commit, within <see cref="IngestionOptions.ShutdownTimeout"/>.
/// </summary>
public sealed partial class IngestionService(
    TelemetryStore store,
    IOptions<KafkaOptions> kafka,
    IOptions<IngestionOptions> options,
    IOptions<TelemetryDecoderOptions> decoderOptions,
    IngestionMetrics metrics,
    TimeProvider time,
    ILoggerFactory loggers) : BackgroundService
{
    private readonly List<Thread> _threads = [];
    private DeadLetterPublisher? _deadLetters;

    /// <inheritdoc />
    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var logger = loggers.CreateLogger<IngestionService>();
        if (!options.Value.Enabled)
        {
            LogDisabled(logger);
            return Task.CompletedTask;
        }

        LogStarting(logger, kafka.Value.ToString());
        _deadLetters = new DeadLetterPublisher(kafka.Value);
        var requests = new TopicIngestor<InferenceRequestRow>(
            new InferenceRequestsTopic(kafka.Value.RequestsTopic, decoderOptions.Value), store, _deadLetters, kafka.Value, options.Value, metrics, time,
            loggers.CreateLogger("EfficiencyMonitor.Ingestion.Requests"));
        var power = new TopicIngestor<GpuPowerRow>(
            new GpuPowerTopic(kafka.Value.PowerTopic, decoderOptions.Value), store, _deadLetters, kafka.Value, options.Value, metrics, time,
            loggers.CreateLogger("EfficiencyMonitor.Ingestion.Power"));
        var tasks = new[] { Start("ingest-requests", requests.Run, requests, stoppingToken), Start("ingest-power", power.Run, power, stoppingToken) };
        return Task.WhenAll(tasks);
    }

    private Task Start(string name, Action<CancellationToken> run, IDisposable owner, CancellationToken stoppingToken)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                run(stoppingToken);
                done.SetResult();
            }
#pragma warning disable CA1031 // a consume loop failure must surface through the task, not kill the process silently
            catch (Exception e)
#pragma warning restore CA1031
            {
                done.SetException(e);
            }
            finally
            {
                owner.Dispose();
            }
        })
        { Name = name, IsBackground = true };
        _threads.Add(thread);
        thread.Start();
        return done.Task;
    }

    /// <inheritdoc />
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        _deadLetters?.Dispose();
    }

    [LoggerMessage(EventId = 2100, Level = LogLevel.Information, Message = "Ingestion starting: {Kafka}")]
    private static partial void LogStarting(ILogger logger, string kafka);

    [LoggerMessage(EventId = 2101, Level = LogLevel.Information, Message = "Ingestion disabled (Ingestion:Enabled=false)")]
    private static partial void LogDisabled(ILogger logger);
}
