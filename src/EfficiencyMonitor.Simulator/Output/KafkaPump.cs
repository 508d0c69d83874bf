using Confluent.Kafka;
using EfficiencyMonitor.Simulator.Generation;

namespace EfficiencyMonitor.Simulator.Output;

/// <summary>Totals of a pump run.</summary>
/// <param name="Produced">Records handed to the producer.</param>
/// <param name="Delivered">Records the broker acknowledged.</param>
/// <param name="Failed">Records the producer reported as failed.</param>
/// <param name="Elapsed">Wall time of the run.</param>
/// <param name="Cancelled">Whether Ctrl-C (or the token) stopped it early.</param>
public sealed record PumpResult(long Produced, long Delivered, long Failed, TimeSpan Elapsed, bool Cancelled);

/// <summary>Where the pump sends records.</summary>
public sealed record PumpOptions
{
    /// <summary>Topic of request records.</summary>
    public string RequestsTopic { get; init; } = "inference-requests";

    /// <summary>Topic of power samples.</summary>
    public string PowerTopic { get; init; } = "gpu-power";

    /// <summary>Playback speed: 2 sends a trace twice as fast as its timestamps say.</summary>
    public double Speed { get; init; } = 1;

    /// <summary>How long to wait for outstanding deliveries at the end (and after Ctrl-C).</summary>
    public TimeSpan FlushTimeout { get; init; } = TimeSpan.FromSeconds(1.5);
}

/// <summary>
/// Sends records to Kafka at the wall-clock moment their event time says (relative to the first record's), divided by
/// <see cref="PumpOptions.Speed"/>. Keyed messages (session/request id, or GPU uuid) so the partitioner spreads them by
/// hash, never librdkafka's sticky keyless partitioner (which overfills single partitions of the mock broker).
/// </summary>
public sealed class KafkaPump
{
    private readonly IProducer<string, byte[]> _producer;
    private readonly PumpOptions _options;
    private readonly TimeProvider _time;
    private long _delivered;
    private long _failed;

    /// <summary>Creates a pump over an existing producer (the caller owns and disposes it).</summary>
    public KafkaPump(IProducer<string, byte[]> producer, PumpOptions options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(producer);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        _producer = producer;
        _options = options;
        _time = time;
    }

    /// <summary>Records acknowledged so far.</summary>
    public long Delivered => Interlocked.Read(ref _delivered);

    /// <summary>Records failed so far.</summary>
    public long Failed => Interlocked.Read(ref _failed);

    /// <summary>Producer settings suited to the pump (batching on, idempotent).</summary>
    public static ProducerConfig DefaultConfig(string bootstrapServers) => new()
    {
        BootstrapServers = bootstrapServers,
        LingerMs = 5,
        EnableIdempotence = true,
        QueueBufferingMaxMessages = 1_000_000,
        CompressionType = CompressionType.Lz4,
    };

    /// <summary>Sends every record at its time; stops early, cleanly, when <paramref name="cancellationToken"/> fires.</summary>
    /// <param name="records">Records in event-time order.</param>
    /// <param name="progress">Called about once a second with the running totals (null = no progress).</param>
    /// <param name="cancellationToken">Ctrl-C.</param>
    public async Task<PumpResult> RunAsync(IEnumerable<SimulatedRecord> records, Action<PumpProgress>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(records);
        var started = _time.GetTimestamp();
        var produced = 0L;
        var requests = 0L;
        var power = 0L;
        var firstEventMs = long.MinValue;
        var nextProgress = TimeSpan.FromSeconds(1);
        var lastEventMs = 0L;
        var cancelled = false;
        void Delivery(DeliveryReport<string, byte[]> report)
        {
            if (report.Error.IsError)
            {
                Interlocked.Increment(ref _failed);
            }
            else
            {
                Interlocked.Increment(ref _delivered);
            }
        }

        try
        {
            foreach (var record in records)
            {
                if (firstEventMs == long.MinValue)
                {
                    firstEventMs = record.EventTimeUnixMs;
                }

                var due = TimeSpan.FromMilliseconds((record.EventTimeUnixMs - firstEventMs) / _options.Speed);
                var elapsed = _time.GetElapsedTime(started);
                while (due - elapsed > TimeSpan.FromMilliseconds(1))
                {
                    // Report while waiting too, so a slow trace still shows progress.
                    if (progress is not null && elapsed >= nextProgress)
                    {
                        progress(new PumpProgress(elapsed, produced, requests, power, Delivered, Failed, lastEventMs));
                        nextProgress = elapsed + TimeSpan.FromSeconds(1);
                    }

                    var wait = due - elapsed;
                    await Task.Delay(wait < TimeSpan.FromMilliseconds(250) ? wait : TimeSpan.FromMilliseconds(250), _time, cancellationToken).ConfigureAwait(false);
                    elapsed = _time.GetElapsedTime(started);
                }

                cancellationToken.ThrowIfCancellationRequested();
                var topic = record.Topic == TraceTopic.GpuPower ? _options.PowerTopic : _options.RequestsTopic;
                var message = new Message<string, byte[]> { Key = record.Key, Value = ToArray(record.Payload) };
                while (true)
                {
                    try
                    {
                        _producer.Produce(topic, message, Delivery);
                        break;
                    }
                    catch (ProduceException<string, byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
                    {
                        _producer.Poll(TimeSpan.FromMilliseconds(50));
                    }
                }

                produced++;
                if (record.Topic == TraceTopic.GpuPower)
                {
                    power++;
                }
                else
                {
                    requests++;
                }

                lastEventMs = record.EventTimeUnixMs;
                if (progress is not null && elapsed >= nextProgress)
                {
                    progress(new PumpProgress(elapsed, produced, requests, power, Delivered, Failed, lastEventMs));
                    nextProgress = elapsed + TimeSpan.FromSeconds(1);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            cancelled = true;
        }

        _producer.Flush(_options.FlushTimeout);
        var total = _time.GetElapsedTime(started);
        progress?.Invoke(new PumpProgress(total, produced, requests, power, Delivered, Failed, lastEventMs));
        return new PumpResult(produced, Delivered, Failed, total, cancelled);
    }

    private static byte[] ToArray(ReadOnlyMemory<byte> payload) =>
        System.Runtime.InteropServices.MemoryMarshal.TryGetArray(payload, out var segment) && segment.Offset == 0 && segment.Count == segment.Array!.Length
            ? segment.Array
            : payload.ToArray();
}

/// <summary>Running totals of a pump.</summary>
/// <param name="Elapsed">Wall time since the start.</param>
/// <param name="Produced">Records handed to the producer.</param>
/// <param name="Requests">Request records among them.</param>
/// <param name="Power">Power samples among them.</param>
/// <param name="Delivered">Acknowledged.</param>
/// <param name="Failed">Failed.</param>
/// <param name="LastEventUnixMs">Event time of the last record sent.</param>
public readonly record struct PumpProgress(TimeSpan Elapsed, long Produced, long Requests, long Power, long Delivered, long Failed, long LastEventUnixMs)
{
    /// <summary>One display line: rate, totals, elapsed.</summary>
    public string Format() =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"elapsed {Elapsed.TotalSeconds,7:0.0}s  sent {Produced,10:N0} ({Produced / Math.Max(Elapsed.TotalSeconds, 0.001),8:N0}/s)  requests {Requests,10:N0}  power {Power,8:N0}  delivered {Delivered,10:N0}  failed {Failed:N0}  event-time {(LastEventUnixMs == 0 ? "-" : RecordWriter.FormatTimestamp(LastEventUnixMs))}");
}
