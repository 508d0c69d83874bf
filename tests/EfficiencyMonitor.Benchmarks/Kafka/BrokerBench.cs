using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Confluent.Kafka;
using EfficiencyMonitor.Sandbox.Kafka;

namespace EfficiencyMonitor.Benchmarks.Kafka;

/// <summary>Throughput of one broker-bench call: per-run rates and their medians.</summary>
/// <param name="Messages">Records produced (and consumed) per run.</param>
/// <param name="Partitions">Partitions of each run's topic.</param>
/// <param name="PayloadBytes">Average record value size in bytes.</param>
/// <param name="ProduceMsgsPerSecond">Per run: records / seconds from the first produce call to the last delivery report.</param>
/// <param name="ConsumeMsgsPerSecond">Per run: records / seconds from assignment to the last record consumed.</param>
public sealed record BrokerBenchResult(
    int Messages,
    int Partitions,
    int PayloadBytes,
    IReadOnlyList<double> ProduceMsgsPerSecond,
    IReadOnlyList<double> ConsumeMsgsPerSecond)
{
    /// <summary>Median produce rate (records/s).</summary>
    public double ProduceMedian => Median(ProduceMsgsPerSecond);

    /// <summary>Median consume rate (records/s).</summary>
    public double ConsumeMedian => Median(ConsumeMsgsPerSecond);

    /// <summary>One line for a bench report.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"broker: {Messages:N0} x {PayloadBytes} B JSON, {Partitions} partitions, {ProduceMsgsPerSecond.Count} runs: " +
        $"produce {ProduceMedian:N0} msg/s ({ProduceMedian * PayloadBytes / 1e6:N1} MB/s), " +
        $"consume {ConsumeMedian:N0} msg/s ({ConsumeMedian * PayloadBytes / 1e6:N1} MB/s) [median; runs: " +
        $"produce {string.Join(", ", ProduceMsgsPerSecond.Select(r => r.ToString("N0", CultureInfo.InvariantCulture)))}; " +
        $"consume {string.Join(", ", ConsumeMsgsPerSecond.Select(r => r.ToString("N0", CultureInfo.InvariantCulture)))}]");

    private static double Median(IReadOnlyList<double> values)
    {
        if (values.Count == 0)
        {
            return 0;
        }

        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }
}

/// <summary>
/// Broker throughput: an idempotent producer writes N ~300-byte JSON records (uncompressed) to a fresh topic, then a
/// bare consumer reads them back and discards them; each run is verified (every record delivered, consumed exactly
/// once, nothing dropped by retention).
/// </summary>
/// <remarks>
/// The librdkafka mock keeps at most 5 MiB (or 100,000 batches) per partition and silently drops older data, so the
/// produce phase completes before the consume phase only when the topic has enough partitions:
/// <see cref="MinimumPartitions"/> gives the count for a message total (1,000,000 records need about 90; use 128).
/// </remarks>
public static class BrokerBench
{
    /// <summary>Bytes the mock keeps per partition (5 MiB), less a margin for batch headers and uneven spreading.</summary>
    private const long RetainedBytesPerPartition = 4L * 1024 * 1024;

    /// <summary>Framing per record inside a batch (varint lengths, attributes, deltas), generously rounded.</summary>
    private const int RecordOverheadBytes = 24;

    private static readonly TimeSpan Stall = TimeSpan.FromSeconds(15);

    /// <summary>Partitions needed so that <paramref name="messages"/> records stay within the mock's retention.</summary>
    public static int MinimumPartitions(int messages) =>
        (int)Math.Max(1, (((long)messages * (SamplePayloadBytes + RecordOverheadBytes)) + RetainedBytesPerPartition - 1) / RetainedBytesPerPartition);

    /// <summary>Runs the bench against a mock cluster, creating each run's topic natively.</summary>
    public static Task<BrokerBenchResult> RunAsync(
        MockKafkaCluster cluster, string bootstrap, int messages, int partitions = 128, int runs = 3,
        TextWriter? log = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        return RunAsync(bootstrap, messages, partitions, (topic, count) =>
        {
            cluster.CreateTopic(topic, count);
            return Task.CompletedTask;
        }, runs, log, cancellationToken);
    }

    /// <summary>Runs the bench <paramref name="runs"/> times, each on a new topic made by <paramref name="createTopic"/>.</summary>
    /// <param name="bootstrap">Kafka bootstrap servers.</param>
    /// <param name="messages">Records per run.</param>
    /// <param name="partitions">Partitions per topic; at least <see cref="MinimumPartitions"/> for the mock.</param>
    /// <param name="createTopic">Creates a topic (name, partitions); against the mock, its native call (Admin times out there).</param>
    /// <param name="runs">Runs; the result reports medians.</param>
    /// <param name="log">Per-run progress lines, optional.</param>
    /// <param name="cancellationToken">Stops between records.</param>
    public static async Task<BrokerBenchResult> RunAsync(
        string bootstrap, int messages, int partitions, Func<string, int, Task> createTopic, int runs = 3,
        TextWriter? log = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(bootstrap);
        ArgumentNullException.ThrowIfNull(createTopic);
        ArgumentOutOfRangeException.ThrowIfLessThan(messages, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(runs, 1);
        var minimum = MinimumPartitions(messages);
        if (partitions < minimum)
        {
            throw new ArgumentOutOfRangeException(nameof(partitions), partitions,
                $"{messages:N0} records need at least {minimum} partitions to stay within the mock broker's 5 MiB per partition retention");
        }

        var produce = new List<double>(runs);
        var consume = new List<double>(runs);
        long payloadBytes = 0;
        for (var run = 1; run <= runs; run++)
        {
            var topic = $"bench-broker-{Guid.NewGuid():N}";
            await createTopic(topic, partitions);

            var (produceRate, bytes) = await Task.Run(() => Produce(bootstrap, topic, partitions, messages, cancellationToken), cancellationToken);
            var consumeRate = await Task.Run(() => Consume(bootstrap, topic, partitions, messages, cancellationToken), cancellationToken);
            produce.Add(produceRate);
            consume.Add(consumeRate);
            payloadBytes = bytes;
            log?.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"run {run}/{runs}: produce {produceRate:N0} msg/s, consume {consumeRate:N0} msg/s ({messages:N0} records verified)"));
        }

        return new BrokerBenchResult(messages, partitions, (int)(payloadBytes / messages), produce, consume);
    }

    /// <summary>Size of a typical record produced by <see cref="WritePayload"/>.</summary>
    private static int SamplePayloadBytes { get; } = SampleSize();

    private static (double Rate, long Bytes) Produce(string bootstrap, string topic, int partitions, int messages, CancellationToken cancellationToken)
    {
        using var producer = new BenchProducer(bootstrap);

        // Round-robin over partitions (BenchProducer says why records go to explicit partitions).
        var targets = Enumerable.Range(0, partitions).Select(p => new TopicPartition(topic, p)).ToArray();
        var buffer = new ArrayBufferWriter<byte>(512);
        using var writer = new Utf8JsonWriter(buffer);
        var epochMs = TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds();
        long bytes = 0;
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < messages; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            buffer.ResetWrittenCount();
            writer.Reset(buffer);
            WritePayload(writer, i, epochMs);
            // A fresh array per record, as a real producer would hand over.
            var value = buffer.WrittenSpan.ToArray();
            bytes += value.Length;
            producer.Produce(targets[i % targets.Length], value);
        }

        producer.FlushAndVerify(messages);
        clock.Stop();
        return (messages / clock.Elapsed.TotalSeconds, bytes);
    }

    private static double Consume(string bootstrap, string topic, int partitions, int messages, CancellationToken cancellationToken)
    {
        var config = new ConsumerConfig
        {
            BootstrapServers = bootstrap,
            GroupId = $"{topic}-reader",
            EnableAutoCommit = false,
            EnableAutoOffsetStore = false,
            EnablePartitionEof = false,
            AutoOffsetReset = AutoOffsetReset.Earliest,
        };
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(config).Build();
        var assignment = Enumerable.Range(0, partitions).Select(p => new TopicPartitionOffset(topic, p, Offset.Beginning)).ToList();

        var clock = Stopwatch.StartNew();
        // Assign, not subscribe: no group rebalance in the measurement, just fetching.
        consumer.Assign(assignment);
        var consumed = 0;
        // Per partition: first offset seen and records seen, to prove contiguity from offset 0 without extra requests.
        var first = new long[partitions];
        var seen = new long[partitions];
        var last = new long[partitions];
        Array.Fill(first, -1);
        var lastProgress = clock.Elapsed;
        while (consumed < messages)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var result = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (result is null)
            {
                if (clock.Elapsed - lastProgress > Stall)
                {
                    throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                        $"consumed {consumed:N0} of {messages:N0} records, then nothing for {Stall.TotalSeconds} s: records were lost (mock retention?); {Describe(consumer, topic, first, last, seen)}"));
                }

                continue;
            }

            var p = result.Partition.Value;
            if (first[p] < 0)
            {
                first[p] = result.Offset.Value;
            }

            last[p] = result.Offset.Value;
            seen[p]++;
            consumed++;
            lastProgress = clock.Elapsed;
        }

        clock.Stop();
        var rate = messages / clock.Elapsed.TotalSeconds;

        // Exactly once: nothing beyond the produced count, and nothing dropped from the head of any partition.
        if (consumer.Consume(TimeSpan.FromMilliseconds(300)) is not null)
        {
            throw new InvalidOperationException($"more than the {messages:N0} records produced were consumed");
        }

        for (var p = 0; p < partitions; p++)
        {
            // Records are read in offset order per partition: starting at 0 and seeing last+1 of them means none was
            // dropped by retention and none was read twice.
            if (seen[p] > 0 && (first[p] != 0 || last[p] + 1 != seen[p]))
            {
                throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                    $"partition {p}: {seen[p]:N0} records read from offset {first[p]} to {last[p]}: the broker dropped records (retention) or repeated them"));
            }
        }

        consumer.Close();
        return rate;
    }

    /// <summary>Where a stalled consumer stands, for the error message: partitions whose position lags the broker's.</summary>
    private static string Describe(IConsumer<Ignore, Ignore> consumer, string topic, long[] first, long[] last, long[] seen)
    {
        var lagging = new List<string>();
        for (var p = 0; p < seen.Length && lagging.Count < 8; p++)
        {
            var marks = consumer.QueryWatermarkOffsets(new TopicPartition(topic, p), TimeSpan.FromSeconds(2));
            var readTo = seen[p] == 0 ? marks.Low.Value : last[p] + 1;
            if (marks.High.Value != readTo || marks.Low.Value != 0)
            {
                lagging.Add(string.Create(CultureInfo.InvariantCulture,
                    $"p{p}: read {seen[p]} at {first[p]}..{last[p]}, broker has {marks.Low.Value}..{marks.High.Value - 1}"));
            }
        }

        return lagging.Count == 0 ? "every partition read to its end" : string.Join("; ", lagging);
    }

    /// <summary>An inference-request telemetry record of about 300 bytes (the shape the pipeline ingests).</summary>
    private static void WritePayload(Utf8JsonWriter writer, long sequence, long epochMs)
    {
        writer.WriteStartObject();
        writer.WriteString("request_id"u8, $"req-{sequence:D12}-7f3a9c2e");
        writer.WriteNumber("ts_ms"u8, epochMs + sequence);
        writer.WriteString("cluster"u8, "eu-west-gpu-a");
        writer.WriteString("node"u8, $"node-{sequence % 64:D3}");
        writer.WriteString("gpu_uuid"u8, $"GPU-5c1b0e2a-{sequence % 512:D4}-4e7d-9a61");
        writer.WriteString("model"u8, "llama-3.1-70b-instruct");
        writer.WriteString("tenant"u8, "tenant-042");
        writer.WriteNumber("prompt_tokens"u8, 512 + (sequence % 1500));
        writer.WriteNumber("completion_tokens"u8, 64 + (sequence % 700));
        writer.WriteNumber("ttft_ms"u8, 38.5 + (sequence % 97));
        writer.WriteNumber("latency_ms"u8, 812.25 + (sequence % 3001));
        writer.WriteNumber("batch_size"u8, 1 + (sequence % 32));
        writer.WriteString("status"u8, "ok");
        writer.WriteEndObject();
        writer.Flush();
    }

    private static int SampleSize()
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using var writer = new Utf8JsonWriter(buffer);
        WritePayload(writer, 123_456, 1_750_000_000_000);
        return buffer.WrittenCount;
    }
}
