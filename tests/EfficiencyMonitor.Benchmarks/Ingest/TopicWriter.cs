using System.Diagnostics;
using Confluent.Kafka;
using EfficiencyMonitor.Benchmarks.Kafka;

namespace EfficiencyMonitor.Benchmarks.Ingest;

/// <summary>
/// Produces generated records to explicit partitions, record <c>i</c> to partition <c>i mod P</c>: keyless production
/// would use the sticky partitioner and overflow the mock's 5 MiB per partition, and the fixed placement lets the
/// direct-insert method know each row's partition and offset (<c>i / P</c>) without reading the topic.
/// </summary>
public static class TopicWriter
{
    /// <summary>Bytes the mock keeps per partition (5 MiB), less a margin for batch headers and uneven record sizes.</summary>
    private const long RetainedBytesPerPartition = 4L * 1024 * 1024;

    /// <summary>Partitions needed so that <paramref name="records"/> records of <paramref name="recordBytes"/> stay within retention.</summary>
    public static int MinimumPartitions(long records, int recordBytes) =>
        (int)Math.Max(1, ((records * (recordBytes + 32)) + RetainedBytesPerPartition - 1) / RetainedBytesPerPartition);

    /// <summary>
    /// Produces records <c>[first, first+count)</c>. <paramref name="finishedAtMs"/> null: each record's <c>finished_at</c>
    /// is the wall clock when it is produced (paced freshness runs). <paramref name="ratePerSecond"/> null: as fast as possible.
    /// </summary>
    /// <returns>Bytes produced and the production rate achieved.</returns>
    public static (long Bytes, double RecordsPerSecond) Produce(
        string bootstrap, string topic, int partitions, long first, long count, Func<long, long>? finishedAtMs,
        double? ratePerSecond, string requestIdPrefix, TimeProvider clock, CancellationToken cancellationToken)
    {
        using var producer = new BenchProducer(bootstrap);
        var targets = Enumerable.Range(0, partitions).Select(p => new TopicPartition(topic, p)).ToArray();
        using var generator = new RecordGenerator();
        long bytes = 0;
        var watch = Stopwatch.StartNew();
        for (long k = 0; k < count; k++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (ratePerSecond is { } rate && (k & 63) == 0)
            {
                var ahead = (k / rate) - watch.Elapsed.TotalSeconds;
                if (ahead > 0.002)
                {
                    Thread.Sleep(TimeSpan.FromSeconds(ahead));
                }
            }

            var index = first + k;
            var finished = finishedAtMs?.Invoke(index) ?? clock.GetUtcNow().ToUnixTimeMilliseconds();
            var value = generator.Write(index, finished, requestIdPrefix).ToArray();
            bytes += value.Length;
            producer.Produce(targets[index % partitions], value);
        }

        producer.FlushAndVerify(count);
        watch.Stop();
        return (bytes, count / watch.Elapsed.TotalSeconds);
    }
}
