using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Confluent.Kafka;
using EfficiencyMonitor.Core.Telemetry;

namespace EfficiencyMonitor.Ingestion;

/// <summary>
/// Sends every rejected record to the dead-letter topic: the original bytes as the value, and headers naming the source
/// topic, partition and offset, the reason code, the offending field and a readable message. A batch's offsets are
/// stored only after <see cref="EnsureDeliveredAsync"/> confirmed every dead letter produced so far, so a rejected
/// record is never lost; after a crash it may be dead-lettered twice (consumers can dedupe by source position).
/// </summary>
public sealed class DeadLetterPublisher : IDisposable
{
    /// <summary>Header names of a dead-letter record.</summary>
    public static class Headers
    {
        /// <summary>Source topic.</summary>
        public const string SourceTopic = "em-source-topic";

        /// <summary>Source partition (decimal text).</summary>
        public const string SourcePartition = "em-source-partition";

        /// <summary>Source offset (decimal text).</summary>
        public const string SourceOffset = "em-source-offset";

        /// <summary>Reason code, e.g. <c>cached_exceeds_input</c>.</summary>
        public const string Reason = "em-reason";

        /// <summary>Offending field path, when one.</summary>
        public const string Field = "em-field";

        /// <summary>Readable message.</summary>
        public const string Message = "em-message";
    }

    private readonly IProducer<byte[], byte[]> _producer;
    private readonly string _topic;
    private readonly ConcurrentQueue<Message<byte[], byte[]>> _failed = new();
    private readonly Action<DeliveryReport<byte[], byte[]>> _onDelivery;
    private long _outstanding;

    /// <summary>Creates the producer (idempotent, acks=all: a dead letter is as durable as the data it explains).</summary>
    public DeadLetterPublisher(KafkaOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var config = new ProducerConfig
        {
            EnableIdempotence = true,
            Acks = Acks.All,
            LingerMs = 5,
            ClientId = "efficiency-monitor-dead-letter",
        };
        options.ApplyTo(config);
        // librdkafka logs to stderr by default; its transport chatter is not worth an operator's attention here, and
        // delivery failures are handled (re-sent) below.
        _producer = new ProducerBuilder<byte[], byte[]>(config).SetLogHandler((_, _) => { }).Build();
        _topic = options.DeadLetterTopic;
        _onDelivery = report =>
        {
            if (report.Error.IsError) _failed.Enqueue(report.Message);
            Interlocked.Decrement(ref _outstanding);
        };
    }

    /// <summary>Dead-letter topic name.</summary>
    public string Topic => _topic;

    /// <summary>Queues one dead letter (rare path: allocates the copy and the headers).</summary>
    public void Publish(string sourceTopic, int partition, long offset, ReadOnlySpan<byte> original, DecodeResult result)
    {
        var headers = new Confluent.Kafka.Headers
        {
            { Headers.SourceTopic, Encoding.UTF8.GetBytes(sourceTopic) },
            { Headers.SourcePartition, Encoding.UTF8.GetBytes(partition.ToString(CultureInfo.InvariantCulture)) },
            { Headers.SourceOffset, Encoding.UTF8.GetBytes(offset.ToString(CultureInfo.InvariantCulture)) },
            { Headers.Reason, Encoding.UTF8.GetBytes(result.Reason?.ToCode() ?? "unknown") },
            { Headers.Message, Encoding.UTF8.GetBytes(result.Message ?? "") },
        };
        if (result.Field is { Length: > 0 } field) headers.Add(Headers.Field, Encoding.UTF8.GetBytes(field));
        var message = new Message<byte[], byte[]>
        {
            Key = Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{sourceTopic}/{partition}/{offset}")),
            Value = original.ToArray(),
            Headers = headers,
        };
        Produce(message);
    }

    /// <summary>Waits until every dead letter queued so far is acknowledged, re-sending failed ones until they are.</summary>
    public async Task EnsureDeliveredAsync(TimeSpan retryDelay, CancellationToken cancellationToken)
    {
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            // The common case, no record rejected since the last batch: nothing to wait for.
            if (Interlocked.Read(ref _outstanding) == 0 && _failed.IsEmpty) return;
            // Flush blocks; a bounded wait keeps shutdown responsive.
            var pending = await Task.Run(() => _producer.Flush(TimeSpan.FromSeconds(1)), cancellationToken);
            if (pending > 0) continue;
            if (_failed.IsEmpty) return;
            await Task.Delay(retryDelay, cancellationToken);
            while (_failed.TryDequeue(out var message)) Produce(message);
        }
    }

    private void Produce(Message<byte[], byte[]> message)
    {
        while (true)
        {
            try
            {
                Interlocked.Increment(ref _outstanding);
                _producer.Produce(_topic, message, _onDelivery);
                return;
            }
            catch (ProduceException<byte[], byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
            {
                Interlocked.Decrement(ref _outstanding);
                // Backpressure: let librdkafka drain its queue.
                _producer.Poll(TimeSpan.FromMilliseconds(50));
            }
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _producer.Flush(TimeSpan.FromSeconds(5));
        _producer.Dispose();
    }
}
