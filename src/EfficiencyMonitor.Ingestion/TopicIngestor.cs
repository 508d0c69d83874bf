using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading.Channels;
using Confluent.Kafka;
using EfficiencyMonitor.Core.Telemetry;
using EfficiencyMonitor.Storage.Telemetry;
using Microsoft.Extensions.Logging;

namespace EfficiencyMonitor.Ingestion;

/// <summary>
/// Consumes one telemetry topic into its raw table with nothing lost and nothing doubled:
/// <list type="number">
/// <item>one consume loop decodes each record straight from the message bytes into the open batch (the value
/// deserializer is the decoder, so no string or intermediate object is made per record);</item>
/// <item>batches are cut by rows, bytes and age and handed to one inserter; batches are a fixed pool, so when
/// ClickHouse is slow or down consumption pauses and memory stays bounded;</item>
/// <item>the inserter retries a batch with backoff (same deduplication token) until it is stored, then confirms its
/// dead letters, and only then are the batch's offsets stored for commit — in batch order, so every earlier offset
/// of a partition is done;</item>
/// <item>on partition assignment the ingest watermark (highest offset already stored, written atomically with the rows
/// by a materialized view) is read, and replayed records at or below it are skipped — so a crash between insert and
/// commit never doubles a row.</item>
/// </list>
/// </summary>
/// <typeparam name="TRow">The decoded row type.</typeparam>
public sealed partial class TopicIngestor<TRow> : IDisposable where TRow : struct
{
    private const int BatchPoolSize = 3;
    private static readonly TimeSpan PauseAfter = TimeSpan.FromSeconds(2);

    private readonly ITelemetryTopic<TRow> _topic;
    private readonly TelemetryStore _store;
    private readonly DeadLetterPublisher _deadLetters;
    private readonly KafkaOptions _kafka;
    private readonly IngestionOptions _options;
    private readonly IngestionMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Channel<TelemetryBatch<TRow>> _free = Channel.CreateBounded<TelemetryBatch<TRow>>(BatchPoolSize);
    private readonly Channel<TelemetryBatch<TRow>> _toInsert = Channel.CreateUnbounded<TelemetryBatch<TRow>>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private readonly ConcurrentQueue<TelemetryBatch<TRow>> _stored = new();
    private readonly List<TelemetryBatch<TRow>> _all = [];
    private readonly Dictionary<int, long> _watermarks = [];
    private readonly HashSet<int> _skipLogged = [];
    private readonly DecodingDeserializer _deserializer;
    private readonly SemaphoreSlim _storedSignal = new(0);
    private readonly List<TopicPartition> _assignment = [];
    private TelemetryBatch<TRow>? _open;
    private int _inFlight;
    private bool _paused;
    private long _lastLagUpdate;
    private long _waitingSince;

    /// <summary>Creates the ingestor; <see cref="Run"/> does the work.</summary>
    public TopicIngestor(
        ITelemetryTopic<TRow> topic,
        TelemetryStore store,
        DeadLetterPublisher deadLetters,
        KafkaOptions kafka,
        IngestionOptions options,
        IngestionMetrics metrics,
        TimeProvider time,
        ILogger logger)
    {
        _topic = topic;
        _store = store;
        _deadLetters = deadLetters;
        _kafka = kafka;
        _options = options;
        _metrics = metrics;
        _time = time;
        _logger = logger;
        _deserializer = new DecodingDeserializer(this);
        for (var i = 0; i < BatchPoolSize; i++)
        {
            var batch = new TelemetryBatch<TRow>(topic.Topic, Math.Min(options.BatchMaxRows, 65_536));
            _all.Add(batch);
            _free.Writer.TryWrite(batch);
        }
    }

    /// <summary>Called (on the consume thread) after each partition assignment, once the watermarks are read.</summary>
    public Action<IReadOnlyList<TopicPartition>>? PartitionsAssigned { get; set; }

    /// <summary>Runs the consume loop on the calling thread until <paramref name="stoppingToken"/> fires, then flushes and commits.</summary>
    public void Run(CancellationToken stoppingToken)
    {
        using var insertCancellation = new CancellationTokenSource();
        var config = new ConsumerConfig
        {
            GroupId = GroupIdFor(_kafka, _topic.Topic),
            ClientId = $"efficiency-monitor-{_topic.Topic}",
            EnableAutoCommit = true,
            AutoCommitIntervalMs = 1000,
            EnableAutoOffsetStore = false, // offsets are stored only once their batch is durable
            AutoOffsetReset = AutoOffsetReset.Earliest,
            SessionTimeoutMs = _kafka.SessionTimeoutMs,
            HeartbeatIntervalMs = _kafka.HeartbeatIntervalMs,
            PartitionAssignmentStrategy = PartitionAssignmentStrategy.RoundRobin,
            FetchMaxBytes = 64 * 1024 * 1024,
        };
        _kafka.ApplyTo(config);

        using var consumer = new ConsumerBuilder<Ignore, Decoded>(config)
            .SetValueDeserializer(_deserializer)
            .SetPartitionsAssignedHandler((c, partitions) => OnAssigned(c, partitions, stoppingToken))
            .SetPartitionsRevokedHandler((c, partitions) => OnRevoked(c, partitions))
            .SetPartitionsLostHandler((c, partitions) => OnLost(partitions))
            .SetErrorHandler((_, error) => LogKafkaError(_logger, _topic.Topic, error.Code.ToString(), error.Reason, error.IsFatal))
            .SetLogHandler((_, message) => LogLibrdkafka(_logger, _topic.Topic, message.Facility, message.Message))
            .Build();

        var inserter = Task.Run(() => InsertLoopAsync(insertCancellation.Token), CancellationToken.None);
        consumer.Subscribe(_topic.Topic);
        LogStarted(_logger, _topic.Topic, config.GroupId);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                ApplyStored(consumer);
                if (_open is { Records: > 0 } && IsDue(_open)) Seal();
                if (_open is null && !TryOpen(consumer)) continue;
                ConsumeOne(consumer);
                UpdateLag(consumer);
            }
        }
        finally
        {
            Shutdown(consumer, inserter, insertCancellation);
        }
    }

    /// <summary>One consumer group per topic (<c>{Kafka:GroupId}.{topic}</c>), so each topic rebalances on its own.</summary>
    public static string GroupIdFor(KafkaOptions kafka, string topic)
    {
        ArgumentNullException.ThrowIfNull(kafka);
        return $"{kafka.GroupId}.{topic}";
    }

    private void ConsumeOne(IConsumer<Ignore, Decoded> consumer)
    {
        var batch = _open;
        var arenaMark = batch?.Arena.Length ?? 0;
        _deserializer.Target = batch;
        ConsumeResult<Ignore, Decoded>? result;
        try
        {
            result = consumer.Consume(TimeSpan.FromMilliseconds(100));
        }
        catch (ConsumeException e)
        {
            // Broker trouble surfaces here; librdkafka reconnects by itself.
            LogKafkaError(_logger, _topic.Topic, e.Error.Code.ToString(), e.Error.Reason, e.Error.IsFatal);
            return;
        }

        if (result is null || result.IsPartitionEOF || batch is null) return;
        if (!ReferenceEquals(batch, _open))
        {
            // A rebalance inside Consume sealed the batch this record was meant for: read it again later.
            Rewind(consumer, result);
            return;
        }

        var partition = result.Partition.Value;
        var offset = result.Offset.Value;
        var decoded = result.Message.Value;
        var now = _time.GetTimestamp();
        if (_watermarks.TryGetValue(partition, out var watermark) && offset <= watermark)
        {
            // Stored by an earlier run that crashed before committing: skip, but let the offset be committed.
            if (_skipLogged.Add(partition)) LogSkippingReplay(_logger, _topic.Topic, partition, watermark);
            batch.Arena.Truncate(arenaMark);
            batch.Cover(partition, offset, decoded.Size, now);
            _metrics.Records(_topic.Topic, "replay_skipped", 1);
            return;
        }

        if (decoded.Result.IsSuccess)
        {
            batch.Add(partition, offset, decoded.Size, now);
        }
        else
        {
            batch.Cover(partition, offset, decoded.Size, now);
            _deadLetters.Publish(_topic.Topic, partition, offset, _deserializer.TakeRejected(), decoded.Result);
            _metrics.Rejected(_topic.Topic, decoded.Result.Reason!.Value.ToCode());
        }

        if (batch.Count >= _options.BatchMaxRows || batch.SourceBytes >= _options.BatchMaxBytes) Seal();
    }

    private void Rewind(IConsumer<Ignore, Decoded> consumer, ConsumeResult<Ignore, Decoded> result)
    {
        try
        {
            consumer.Seek(result.TopicPartitionOffset);
        }
        catch (KafkaException e)
        {
            // The partition is no longer ours; its offset was not stored, so its next owner reads it.
            LogStoreOffsetFailed(_logger, _topic.Topic, result.Partition.Value, e.Error.Reason);
        }
    }

    private bool IsDue(TelemetryBatch<TRow> batch) =>
        batch.Count >= _options.BatchMaxRows
        || batch.SourceBytes >= _options.BatchMaxBytes
        || _time.GetElapsedTime(batch.OpenedAtTimestamp) >= _options.BatchMaxDelay;

    private void Seal()
    {
        _deserializer.Target = null;
        if (_open is not { Records: > 0 } batch) return;
        _open = null;
        Interlocked.Increment(ref _inFlight);
        _toInsert.Writer.TryWrite(batch);
    }

    /// <summary>Takes a free batch; when none is free (inserts are behind), pauses the assignment until one is.</summary>
    private bool TryOpen(IConsumer<Ignore, Decoded> consumer)
    {
        if (_free.Reader.TryRead(out var batch))
        {
            _open = batch;
            _waitingSince = 0;
            if (_paused && _assignment.Count > 0)
            {
                consumer.Resume(_assignment);
                _paused = false;
                LogResumed(_logger, _topic.Topic);
            }

            return true;
        }

        // Inserts are behind. For a short while just wait for one to finish: pausing would drop librdkafka's prefetched
        // records (bounded by queued.max.messages.kbytes) and cost a refetch. Pause only when the wait gets long
        // (ClickHouse slow or down), so the group protocol keeps being served from Consume.
        if (_waitingSince == 0) _waitingSince = _time.GetTimestamp();
        if (!_paused && _time.GetElapsedTime(_waitingSince) < PauseAfter)
        {
            _storedSignal.Wait(TimeSpan.FromMilliseconds(20));
            ApplyStored(consumer);
            return false;
        }

        if (!_paused && _assignment.Count > 0)
        {
            consumer.Pause(_assignment);
            _paused = true;
            LogPaused(_logger, _topic.Topic);
        }

        // Keep serving the group protocol (rebalances, max.poll.interval) while paused; nothing is fetched.
        _deserializer.Target = null;
        try
        {
            if (consumer.Consume(TimeSpan.FromMilliseconds(100)) is { IsPartitionEOF: false } early)
            {
                // Fetched before the pause took effect and not decoded: it must be read again, never skipped.
                Rewind(consumer, early);
            }
        }
        catch (ConsumeException e)
        {
            LogKafkaError(_logger, _topic.Topic, e.Error.Code.ToString(), e.Error.Reason, e.Error.IsFatal);
        }

        ApplyStored(consumer);
        return false;
    }

    private async Task InsertLoopAsync(CancellationToken cancellationToken)
    {
        await foreach (var batch in _toInsert.Reader.ReadAllAsync(cancellationToken))
        {
            var backoff = _options.InsertRetryInitialBackoff;
            while (true)
            {
                var started = _time.GetTimestamp();
                try
                {
                    await _store.InsertAsync(_topic.Encoder, batch, cancellationToken);
                    await _deadLetters.EnsureDeliveredAsync(_options.InsertRetryInitialBackoff, cancellationToken);
                    var elapsed = _time.GetElapsedTime(started);
                    LogStored(_logger, _topic.Topic, batch.Count, batch.Records, elapsed.TotalMilliseconds);
                    RecordStored(batch, elapsed);
                    break;
                }
                catch (Exception e) when (!cancellationToken.IsCancellationRequested && e is not OutOfMemoryException)
                {
                    _metrics.InsertFailed(_topic.Topic);
                    LogInsertFailed(_logger, e, _topic.Topic, batch.Count, backoff.TotalMilliseconds);
                    await Task.Delay(backoff, _time, cancellationToken);
                    backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, _options.InsertRetryMaxBackoff.Ticks));
                }
            }

            _stored.Enqueue(batch);
            _storedSignal.Release();
        }
    }

    private void RecordStored(TelemetryBatch<TRow> batch, TimeSpan elapsed)
    {
        _metrics.Inserted(_topic.Topic, batch.Count, elapsed);
        _metrics.Records(_topic.Topic, "stored", batch.Count);
        var nowMs = _time.GetUtcNow().ToUnixTimeMilliseconds();
        for (var i = 0; i < batch.Count; i++)
        {
            _metrics.Freshness(_topic.Topic, Math.Max(0, nowMs - _topic.EventTimeUnixMs(in batch[i])) / 1000.0);
        }
    }

    /// <summary>Stores the offsets of durable batches (in batch order) and returns their memory to the pool.</summary>
    private void ApplyStored(IConsumer<Ignore, Decoded> consumer)
    {
        while (_stored.TryDequeue(out var batch))
        {
            foreach (var (partition, range) in batch.Ranges)
            {
                try
                {
                    consumer.StoreOffset(new TopicPartitionOffset(_topic.Topic, partition, range.Last + 1));
                }
                catch (KafkaException e)
                {
                    // The partition moved away; its new owner skips what we stored via the watermark.
                    LogStoreOffsetFailed(_logger, _topic.Topic, partition, e.Error.Reason);
                }
            }

            batch.Reset();
            Interlocked.Decrement(ref _inFlight);
            _free.Writer.TryWrite(batch);
        }
    }

    private void OnAssigned(IConsumer<Ignore, Decoded> consumer, List<TopicPartition> partitions, CancellationToken stoppingToken)
    {
        _assignment.Clear();
        _assignment.AddRange(partitions);
        _paused = false;
        var backoff = _options.InsertRetryInitialBackoff;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var watermarks = _store.ReadWatermarksAsync(_topic.Encoder.Table, _topic.Topic, stoppingToken).GetAwaiter().GetResult();
                _watermarks.Clear();
                _skipLogged.Clear();
                foreach (var tp in partitions)
                {
                    if (watermarks.TryGetValue(tp.Partition.Value, out var w)) _watermarks[tp.Partition.Value] = w;
                }

                DropForeignWatermarks(consumer, partitions);
                LogAssigned(_logger, _topic.Topic, partitions.Count, _watermarks.Count);
                PartitionsAssigned?.Invoke(partitions);
                return;
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested && e is not OutOfMemoryException)
            {
                // Without the watermark a replay could double rows: wait for ClickHouse rather than guess.
                LogWatermarkFailed(_logger, e, _topic.Topic, backoff.TotalMilliseconds);
                Thread.Sleep(backoff);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, _options.InsertRetryMaxBackoff.Ticks));
            }
        }
    }

    /// <summary>
    /// A watermark belongs to one log. When the group has no committed offset for a partition and the stored watermark
    /// is at or beyond the partition's end, the rows came from another log with this name (the topic was recreated, or
    /// ClickHouse outlived a sandbox broker): skipping by it would drop new records, so it is ignored, loudly.
    /// </summary>
    private void DropForeignWatermarks(IConsumer<Ignore, Decoded> consumer, List<TopicPartition> partitions)
    {
        if (_watermarks.Count == 0) return;
        List<TopicPartitionOffset> committed;
        try
        {
            committed = consumer.Committed(partitions.Where(tp => _watermarks.ContainsKey(tp.Partition.Value)), TimeSpan.FromSeconds(10));
        }
        catch (KafkaException e)
        {
            LogCommitFailed(_logger, _topic.Topic, e.Error.Reason);
            return;
        }

        foreach (var tp in committed)
        {
            if (tp.Offset.Value >= 0) continue; // the group knows this log: the watermark is ours
            var end = consumer.QueryWatermarkOffsets(tp.TopicPartition, TimeSpan.FromSeconds(10)).High.Value;
            var watermark = _watermarks[tp.Partition.Value];
            if (watermark >= end)
            {
                _watermarks.Remove(tp.Partition.Value);
                LogForeignWatermark(_logger, _topic.Topic, tp.Partition.Value, watermark, end);
            }
        }
    }

    private void OnRevoked(IConsumer<Ignore, Decoded> consumer, List<TopicPartitionOffset> partitions)
    {
        // Finish what was read from these partitions before the group hands them on, so the next owner's watermark
        // covers every row we store.
        Seal();
        DrainInFlight(consumer, _options.ShutdownTimeout);
        TryCommit(consumer);
        foreach (var tp in partitions) _metrics.ForgetLag(_topic.Topic, tp.Partition.Value);
        _assignment.Clear();
        _watermarks.Clear();
        _paused = false;
    }

    private void OnLost(List<TopicPartitionOffset> partitions)
    {
        LogLost(_logger, _topic.Topic, partitions.Count);
        foreach (var tp in partitions) _metrics.ForgetLag(_topic.Topic, tp.Partition.Value);
        _assignment.Clear();
        _watermarks.Clear();
    }

    private void DrainInFlight(IConsumer<Ignore, Decoded> consumer, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (Volatile.Read(ref _inFlight) > 0 && deadline.Elapsed < timeout)
        {
            _storedSignal.Wait(TimeSpan.FromMilliseconds(100));
            ApplyStored(consumer);
        }

        ApplyStored(consumer);
        if (Volatile.Read(ref _inFlight) > 0) LogDrainTimedOut(_logger, _topic.Topic, Volatile.Read(ref _inFlight));
    }

    private void TryCommit(IConsumer<Ignore, Decoded> consumer)
    {
        try
        {
            consumer.Commit();
        }
        catch (KafkaException e) when (e.Error.Code == ErrorCode.Local_NoOffset)
        {
            // Nothing stored since the last commit.
        }
        catch (KafkaException e)
        {
            LogCommitFailed(_logger, _topic.Topic, e.Error.Reason);
        }
    }

    private void Shutdown(IConsumer<Ignore, Decoded> consumer, Task inserter, CancellationTokenSource insertCancellation)
    {
        Seal();
        DrainInFlight(consumer, _options.ShutdownTimeout);
        _toInsert.Writer.TryComplete();
        insertCancellation.Cancel(); // whatever is still failing stays uncommitted and is replayed next time
        try
        {
            inserter.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
            // Cancelled mid-retry: expected when ClickHouse is down at shutdown.
        }

        ApplyStored(consumer);
        TryCommit(consumer);
        consumer.Close();
        LogStopped(_logger, _topic.Topic);
    }

    private void UpdateLag(IConsumer<Ignore, Decoded> consumer)
    {
        if (_time.GetElapsedTime(_lastLagUpdate) < TimeSpan.FromSeconds(1)) return;
        _lastLagUpdate = _time.GetTimestamp();
        foreach (var tp in _assignment)
        {
            var watermarks = consumer.GetWatermarkOffsets(tp);
            var position = consumer.Position(tp);
            if (watermarks.High.Value >= 0 && position.Value >= 0)
            {
                _metrics.Lag(_topic.Topic, tp.Partition.Value, Math.Max(0, watermarks.High.Value - position.Value));
            }
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var batch in _all) batch.Dispose();
        _storedSignal.Dispose();
    }

    /// <summary>What the value deserializer produced: the decode outcome and the record size.</summary>
    internal readonly record struct Decoded(DecodeResult Result, int Size);

    /// <summary>Decodes each record into the open batch while Confluent.Kafka still holds the bytes (no copy).</summary>
    private sealed class DecodingDeserializer(TopicIngestor<TRow> owner) : IDeserializer<Decoded>
    {
        private byte[] _rejected = [];

        public TelemetryBatch<TRow>? Target { get; set; }

        public Decoded Deserialize(ReadOnlySpan<byte> data, bool isNull, SerializationContext context)
        {
            if (Target is null) return new Decoded(DecodeResult.Success, data.Length); // paused: nothing is fetched
            var result = isNull
                ? DecodeResult.Reject(RejectReason.MalformedJson, null, "the record value is null (a tombstone): telemetry records are JSON objects")
                : owner._topic.Decode(data, owner._time.GetUtcNow(), Target);
            if (!result.IsSuccess) _rejected = data.ToArray(); // rare path: keep the original bytes for the dead letter
            return new Decoded(result, data.Length);
        }

        public byte[] TakeRejected()
        {
            var bytes = _rejected;
            _rejected = [];
            return bytes;
        }
    }

    [LoggerMessage(EventId = 2001, Level = LogLevel.Information, Message = "Consuming {Topic} in group {Group}")]
    private static partial void LogStarted(ILogger logger, string topic, string group);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Information, Message = "{Topic}: {Partitions} partitions assigned, {WithWatermark} with stored rows to skip on replay")]
    private static partial void LogAssigned(ILogger logger, string topic, int partitions, int withWatermark);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Warning, Message = "{Topic}: insert of {Rows} rows failed; retrying in {BackoffMs} ms, consumption paused when the batch pool is full")]
    private static partial void LogInsertFailed(ILogger logger, Exception exception, string topic, int rows, double backoffMs);

    [LoggerMessage(EventId = 2004, Level = LogLevel.Warning, Message = "{Topic}: reading the ingest watermark failed; retrying in {BackoffMs} ms")]
    private static partial void LogWatermarkFailed(ILogger logger, Exception exception, string topic, double backoffMs);

    [LoggerMessage(EventId = 2005, Level = LogLevel.Warning, Message = "{Topic}: Kafka error {Code}: {Reason} (fatal: {Fatal})")]
    private static partial void LogKafkaError(ILogger logger, string topic, string code, string reason, bool fatal);

    [LoggerMessage(EventId = 2006, Level = LogLevel.Information, Message = "{Topic}: consumption paused until an insert completes")]
    private static partial void LogPaused(ILogger logger, string topic);

    [LoggerMessage(EventId = 2007, Level = LogLevel.Information, Message = "{Topic}: consumption resumed")]
    private static partial void LogResumed(ILogger logger, string topic);

    [LoggerMessage(EventId = 2008, Level = LogLevel.Warning, Message = "{Topic}: storing the offset of partition {Partition} failed: {Reason}")]
    private static partial void LogStoreOffsetFailed(ILogger logger, string topic, int partition, string reason);

    [LoggerMessage(EventId = 2009, Level = LogLevel.Warning, Message = "{Topic}: commit failed: {Reason}")]
    private static partial void LogCommitFailed(ILogger logger, string topic, string reason);

    [LoggerMessage(EventId = 2010, Level = LogLevel.Warning, Message = "{Topic}: {Partitions} partitions lost without revocation")]
    private static partial void LogLost(ILogger logger, string topic, int partitions);

    [LoggerMessage(EventId = 2011, Level = LogLevel.Warning, Message = "{Topic}: {Batches} batches still not stored at the drain timeout; they will be replayed")]
    private static partial void LogDrainTimedOut(ILogger logger, string topic, int batches);

    [LoggerMessage(EventId = 2013, Level = LogLevel.Information, Message = "{Topic}: partition {Partition}: skipping replayed records already stored (offsets <= {Watermark})")]
    private static partial void LogSkippingReplay(ILogger logger, string topic, int partition, long watermark);

    [LoggerMessage(EventId = 2014, Level = LogLevel.Debug, Message = "{Topic}: stored {Rows} rows ({Records} records) in {Milliseconds} ms")]
    private static partial void LogStored(ILogger logger, string topic, int rows, int records, double milliseconds);

    // librdkafka's own chatter (connects, disconnects) goes through logging instead of stderr; errors arrive via the error handler.
    [LoggerMessage(EventId = 2015, Level = LogLevel.Debug, Message = "{Topic}: librdkafka {Facility}: {Message}")]
    private static partial void LogLibrdkafka(ILogger logger, string topic, string facility, string message);

    [LoggerMessage(EventId = 2016, Level = LogLevel.Warning, Message = "{Topic}: partition {Partition}: stored rows reach offset {Watermark} but the log ends at {End} and the group has no commit: another log with this name (topic recreated?); not skipping by that watermark")]
    private static partial void LogForeignWatermark(ILogger logger, string topic, int partition, long watermark, long end);

    [LoggerMessage(EventId = 2012, Level = LogLevel.Information, Message = "{Topic}: stopped")]
    private static partial void LogStopped(ILogger logger, string topic);
}
