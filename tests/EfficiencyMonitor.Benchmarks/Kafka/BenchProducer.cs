using System.Globalization;
using Confluent.Kafka;

namespace EfficiencyMonitor.Benchmarks.Kafka;

/// <summary>
/// The producer the benchmarks measure with: idempotent, uncompressed, large batches, records sent to explicit partitions
/// (keyless records would use librdkafka's sticky partitioner, which fills a few partitions far beyond the mock's 5 MiB
/// retention while leaving others empty), a full local queue waited out, every delivery counted.
/// </summary>
internal sealed class BenchProducer : IDisposable
{
    private readonly IProducer<Null, byte[]> _producer;
    private readonly Action<DeliveryReport<Null, byte[]>> _onDelivery;
    private long _delivered;
    private long _failed;
    private string? _firstError;

    public BenchProducer(string bootstrap)
    {
        var config = new ProducerConfig
        {
            BootstrapServers = bootstrap,
            EnableIdempotence = true,
            CompressionType = CompressionType.None,
            LingerMs = 5,
            BatchSize = 1_000_000,
            QueueBufferingMaxMessages = 500_000,
            // Only the status is read from delivery reports: skip copying keys, values and headers back.
            DeliveryReportFields = "status",
        };
        _producer = new ProducerBuilder<Null, byte[]>(config).Build();
        _onDelivery = report =>
        {
            if (report.Error.IsError)
            {
                Interlocked.CompareExchange(ref _firstError, report.Error.Reason, null);
                Interlocked.Increment(ref _failed);
            }
            else
            {
                Interlocked.Increment(ref _delivered);
            }
        };
    }

    /// <summary>Sends <paramref name="value"/> to <paramref name="target"/>, polling while the local queue is full.</summary>
    public void Produce(TopicPartition target, byte[] value)
    {
        var message = new Message<Null, byte[]> { Value = value };
        while (true)
        {
            try
            {
                _producer.Produce(target, message, _onDelivery);
                return;
            }
            catch (ProduceException<Null, byte[]> ex) when (ex.Error.Code == ErrorCode.Local_QueueFull)
            {
                _producer.Poll(TimeSpan.FromMilliseconds(5));
            }
        }
    }

    /// <summary>Waits for every delivery; throws unless exactly <paramref name="expected"/> records were delivered.</summary>
    public void FlushAndVerify(long expected)
    {
        var remaining = _producer.Flush(TimeSpan.FromMinutes(2));
        if (remaining != 0 || Interlocked.Read(ref _failed) != 0 || Interlocked.Read(ref _delivered) != expected)
        {
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                $"produced {Interlocked.Read(ref _delivered):N0} of {expected:N0} records ({Interlocked.Read(ref _failed):N0} failed, {remaining:N0} undelivered): {_firstError}"));
        }
    }

    public void Dispose() => _producer.Dispose();
}
