using System.Diagnostics;
using System.Globalization;
using System.Net;
using ClickHouse.Driver;
using Confluent.Kafka;
using EfficiencyMonitor.Core.Telemetry;
using EfficiencyMonitor.Sandbox;
using EfficiencyMonitor.Storage;
using EfficiencyMonitor.Storage.Migrations;
using EfficiencyMonitor.Storage.Telemetry;
using Microsoft.Extensions.Logging.Abstractions;

namespace EfficiencyMonitor.Benchmarks.Ingest;

/// <summary>Figures of one method of the ingest bench.</summary>
public sealed class MethodResult(char key, string name)
{
    public char Key { get; } = key;
    public string Name { get; } = name;
    public List<double> Rates { get; } = [];
    public List<double> CpuSecondsPerMillion { get; } = [];
    public List<long> PeakRssBytes { get; } = [];
    public List<double> StartupSeconds { get; } = [];
    public bool PeakIsPerWindow { get; set; } = true;
    public double? FreshP50Ms { get; set; }
    public double? FreshP99Ms { get; set; }
    public double? FreshMaxMs { get; set; }
    public double? FreshRate { get; set; }
    public long FreshRecords { get; set; }
    public string? FreshError { get; set; }
    public string? Error { get; set; }
    public string? Note { get; set; }

    public bool Measured => Error is null && Rates.Count > 0;
    public double MedianRate => Median(Rates);
    public double MedianCpuPerMillion => Median(CpuSecondsPerMillion);
    public long MaxPeakRss => PeakRssBytes.Count == 0 ? 0 : PeakRssBytes.Max();

    internal static double Median(IReadOnlyList<double> values)
    {
        if (values.Count == 0) return double.NaN;
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }
}

/// <summary>
/// The ingest bench of issue 3: one topic of generated inference-request records, drained side by side by (a) a bare
/// Confluent.Kafka consume-and-discard loop, (b) a direct bulk insert of the same rows, (c) ClickHouse's own Kafka engine +
/// materialized view, (d) the project's pipeline (<see cref="PipelineUnderTest"/>), all into <c>inference_requests</c> of a
/// freshly migrated database per run, each run checked for zero loss (count and <c>sum(input_tokens)</c>).
/// </summary>
/// <remarks>
/// <para><b>Rate</b> ("highest rate with zero loss"): the topic is filled before a method starts, so each method drains a
/// backlog as fast as it can; a run counts only when the table then holds exactly the records and the input-token sum.
/// (a): records / (assign → last record). (b): rows / wall time of the inserts (RowBinary encoding included; the JSON was
/// decoded up front). (c), (d): rows / (first rows visible → all rows visible), polled every 100 ms; the start-up (group
/// join, first flush) is reported separately.</para>
/// <para><b>CPU</b>: process CPU seconds per million records over the measured window; the engine, its endpoint and the
/// mock broker run in this process, so they are included. <b>Peak RSS</b>: VmHWM reset per window (process-wide).</para>
/// <para><b>Freshness</b> (a, c, d): a fresh topic, the method started, then records produced paced at half its median
/// rate, each with <c>finished_at</c> = wall clock at production. (c), (d): <c>ingested_at - finished_at</c> per row,
/// <c>ingested_at</c> being the column default <c>now64(3)</c> evaluated when the block is inserted (the row is visible once
/// that insert commits, a few ms later). (a): consume time - the record's Kafka CreateTime. A warm-up record per partition
/// is produced first and waited for so the group join is not measured; it is excluded from the quantiles.</para>
/// </remarks>
public sealed class IngestBench(IngestOptions options, Func<BenchContext, CancellationToken, Task>? pipeline, TextWriter log)
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan Stall = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan FirstRowsTimeout = TimeSpan.FromSeconds(120);

    private readonly TimeProvider _clock = TimeProvider.System;
    private SandboxHost _host = null!;
    private ClickHouseSql _sql = null!;
    private string _topic = "";
    private int _partitions;
    private long _baseMs;

    public static async Task<int> MainAsync(IReadOnlyList<string> args)
    {
        IngestOptions options;
        try
        {
            options = IngestOptions.Parse(args);
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or OverflowException)
        {
            await Console.Error.WriteLineAsync(ex.Message);
            return 2;
        }

        using var cts = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            cts.Cancel();
        };
        var results = await new IngestBench(options, PipelineUnderTest.Run, Console.Out).RunAsync(cts.Token);
        return results.Any(r => r.Error is not null && r.Key != 'd') ? 1 : 0;
    }

    private long Records => options.Records;

    private long FinishedAtMs(long index) => _baseMs - ((Records - index) / 10);

    public async Task<IReadOnlyList<MethodResult>> RunAsync(CancellationToken cancellationToken)
    {
        var recordBytes = AverageRecordBytes();
        _partitions = Math.Max(options.Partitions, TopicWriter.MinimumPartitions(Records, recordBytes));
        if (_partitions != options.Partitions)
        {
            Log($"partitions raised from {options.Partitions} to {_partitions}: {Records:N0} x {recordBytes} B must fit the mock's 5 MiB per partition");
        }

        var dataDirectory = Path.Combine(Path.GetTempPath(), $"em-ingest-bench-{Guid.NewGuid():N}");
        var results = new List<MethodResult>();
        var startWatch = Stopwatch.StartNew();
        var previousDirectory = Environment.CurrentDirectory;
        var configDirectory = WriteEngineConfig(dataDirectory + "-cwd");
        _host = await SandboxHost.StartAsync(new SandboxOptions
        {
            ClickHouseHttp = new IPEndPoint(IPAddress.Loopback, 0),
            Kafka = new IPEndPoint(IPAddress.Loopback, 0),
            DataDirectory = dataDirectory,
            Topics = new Dictionary<string, int>(),
        }, log, cancellationToken);
        Environment.CurrentDirectory = previousDirectory;
        try
        {
            _sql = new ClickHouseSql(_host.ClickHouseUrl);
            var version = (await _sql.QueryAsync("SELECT version()", cancellationToken)).Trim();
            Log($"sandbox up in {startWatch.Elapsed.TotalSeconds:N1} s: ClickHouse {version} (chDB, in-process) at {_host.ClickHouseUrl}, mock Kafka at {_host.KafkaBootstrap}");

            _topic = $"bench-ingest-{Guid.NewGuid():N}"[..24];
            _host.Kafka.CreateTopic(_topic, _partitions);
            _baseMs = _clock.GetUtcNow().ToUnixTimeMilliseconds();
            var (bytes, produceRate) = await Task.Factory.StartNew(
                () => TopicWriter.Produce(_host.KafkaBootstrap, _topic, _partitions, 0, Records, FinishedAtMs, null, "req", _clock, cancellationToken),
                cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);
            Log($"produced {Records:N0} records ({bytes / (double)Records:N0} B avg, {bytes / 1e6:N1} MB) to {_topic} ({_partitions} partitions) at {produceRate:N0} records/s");

            foreach (var key in options.Methods.Distinct())
            {
                var result = key switch
                {
                    'a' => await GuardAsync(new MethodResult('a', "(a) bare Confluent.Kafka consume"), BareConsumeAsync, cancellationToken),
                    'b' => await GuardAsync(new MethodResult('b', "(b) direct bulk insert (RowBinary)"), DirectInsertAsync, cancellationToken),
                    'c' => await GuardAsync(new MethodResult('c', "(c) ClickHouse Kafka engine + MV"), (r, ct) => StreamingAsync(r, new KafkaEngineMethod(options), ct), cancellationToken),
                    _ => pipeline is null
                        ? new MethodResult('d', "(d) EfficiencyMonitor pipeline") { Error = "(d) not wired yet" }
                        : await GuardAsync(new MethodResult('d', "(d) EfficiencyMonitor pipeline"), (r, ct) => StreamingAsync(r, new PipelineMethod(pipeline), ct), cancellationToken),
                };
                if (result.Key == 'd' && pipeline is null)
                {
                    Log("(d) not wired yet: set PipelineUnderTest.Run (tests/EfficiencyMonitor.Benchmarks/Ingest/BenchContext.cs)");
                }

                results.Add(result);
            }

            Report(recordBytes, results);
            return results;
        }
        finally
        {
            _sql?.Dispose();
            await _host.DisposeAsync();
            try
            {
                Directory.Delete(dataDirectory, recursive: true);
                Directory.Delete(configDirectory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private async Task<MethodResult> GuardAsync(MethodResult result, Func<MethodResult, CancellationToken, Task> run, CancellationToken cancellationToken)
    {
        Log($"--- {result.Name}");
        try
        {
            await run(result, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            result.Error = ex.GetBaseException().Message;
            Log($"{result.Name} FAILED: {result.Error}");
        }

        return result;
    }

    // ---------------------------------------------------------------- (a)

    private async Task BareConsumeAsync(MethodResult result, CancellationToken cancellationToken)
    {
        result.Note = "count + per-partition offset contiguity (records are not parsed)";
        for (var run = 1; run <= options.Runs; run++)
        {
            var meter = ProcessMeter.Start();
            var seconds = await Task.Factory.StartNew(
                () => Consume(_topic, Records, null, cancellationToken), cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);
            Record(result, meter, Records / seconds, Records, null);
            Log($"run {run}/{options.Runs}: {Records / seconds:N0} records/s, {meter.CpuSeconds:N2} CPU-s, peak RSS {MiB(ProcessMeter.PeakRssBytes())} ({Records:N0} records verified)");
        }

        if (options.FreshSeconds <= 0) return;
        var rate = result.MedianRate / 2;
        var count = FreshCount(rate);
        var topic = NewTopic("fresh-a");
        var latencies = new long[count];
        var consumer = Task.Factory.StartNew(() => Consume(topic, count, latencies, cancellationToken), cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken); // the assignment has no group join; let the first fetch start
        var (_, achieved) = await Task.Factory.StartNew(
            () => TopicWriter.Produce(_host.KafkaBootstrap, topic, _partitions, 0, count, null, rate, "req", _clock, cancellationToken),
            cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        await consumer;
        Array.Sort(latencies);
        result.FreshRate = achieved;
        result.FreshRecords = count;
        result.FreshP50Ms = Quantile(latencies, 0.50);
        result.FreshP99Ms = Quantile(latencies, 0.99);
        result.FreshMaxMs = latencies[^1];
        Log($"freshness at {achieved:N0} records/s ({count:N0} records): p50 {result.FreshP50Ms:N0} ms, p99 {result.FreshP99Ms:N0} ms, max {result.FreshMaxMs:N0} ms");
    }

    /// <summary>Reads <paramref name="expected"/> records from the start of every partition and discards them; seconds from assign to last.</summary>
    private double Consume(string topic, long expected, long[]? latencies, CancellationToken cancellationToken)
    {
        var config = new ConsumerConfig
        {
            BootstrapServers = _host.KafkaBootstrap,
            GroupId = $"{topic}-bare-{Guid.NewGuid():N}",
            EnableAutoCommit = false,
            EnableAutoOffsetStore = false,
            EnablePartitionEof = false,
            AutoOffsetReset = AutoOffsetReset.Earliest,
        };
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(config).Build();
        var partitions = _partitions;
        var watch = Stopwatch.StartNew();
        // Assign, not subscribe: no group rebalance in the measurement, just fetching (as BrokerBench).
        consumer.Assign(Enumerable.Range(0, partitions).Select(p => new TopicPartitionOffset(topic, p, Offset.Beginning)));
        var next = new long[partitions];
        long consumed = 0;
        var lastProgress = watch.Elapsed;
        while (consumed < expected)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var message = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (message is null)
            {
                if (watch.Elapsed - lastProgress > Stall)
                {
                    throw new InvalidOperationException($"consumed {consumed:N0} of {expected:N0} records, then nothing for {Stall.TotalSeconds} s: records were lost");
                }

                continue;
            }

            var p = message.Partition.Value;
            if (message.Offset.Value != next[p])
            {
                throw new InvalidOperationException($"partition {p}: offset {message.Offset.Value} read where {next[p]} was due: the broker dropped (retention) or repeated records");
            }

            next[p]++;
            if (latencies is not null)
            {
                latencies[consumed] = _clock.GetUtcNow().ToUnixTimeMilliseconds() - message.Message.Timestamp.UnixTimestampMs;
            }

            consumed++;
            lastProgress = watch.Elapsed;
        }

        var seconds = watch.Elapsed.TotalSeconds;
        if (consumer.Consume(TimeSpan.FromMilliseconds(300)) is not null)
        {
            throw new InvalidOperationException($"more than the {expected:N0} records produced were consumed");
        }

        for (var p = 0; p < partitions; p++)
        {
            var due = (expected / partitions) + (p < expected % partitions ? 1 : 0);
            if (next[p] != due)
            {
                throw new InvalidOperationException($"partition {p}: read {next[p]} records, {due} were produced");
            }
        }

        consumer.Close();
        return seconds;
    }

    // ---------------------------------------------------------------- (b)

    private async Task DirectInsertAsync(MethodResult result, CancellationToken cancellationToken)
    {
        result.Note = $"decoded up front; timed: RowBinary encode + TelemetryStore.InsertAsync, {options.BatchRows:N0} rows/insert, sequential";
        var batches = new List<TelemetryBatch<InferenceRequestRow>>();
        try
        {
            var decodeWatch = Stopwatch.StartNew();
            var decoder = new InferenceRequestDecoder();
            using var generator = new RecordGenerator();
            var now = _clock.GetUtcNow();
            TelemetryBatch<InferenceRequestRow>? batch = null;
            for (long i = 0; i < Records; i++)
            {
                if (batch is null || batch.Count == options.BatchRows)
                {
                    batch = new TelemetryBatch<InferenceRequestRow>(_topic, options.BatchRows);
                    batches.Add(batch);
                }

                var json = generator.Write(i, FinishedAtMs(i));
                var decoded = decoder.Decode(json, now, batch.Arena, ref batch.Pending);
                if (!decoded.IsSuccess)
                {
                    throw new InvalidOperationException($"generated record {i} was rejected: {decoded}");
                }

                batch.Add((int)(i % _partitions), i / _partitions, json.Length, 0);
            }

            Log($"decoded {Records:N0} records into {batches.Count} batches in {decodeWatch.Elapsed.TotalSeconds:N1} s (not timed)");
            var encoder = new InferenceRequestEncoder();
            for (var run = 1; run <= options.Runs; run++)
            {
                var database = await NewDatabaseAsync("b", cancellationToken);
                try
                {
                    using var client = new ClickHouseClient(database.ToConnectionString());
                    var store = new TelemetryStore(client, database);
                    var meter = ProcessMeter.Start();
                    var watch = Stopwatch.StartNew();
                    foreach (var b in batches)
                    {
                        b.Encoded.Reset();
                        await store.InsertAsync(encoder, b, cancellationToken);
                    }

                    var seconds = watch.Elapsed.TotalSeconds;
                    Record(result, meter, Records / seconds, Records, null);
                    await VerifyAsync(database.Database, Records, RecordGenerator.SumInputTokens(0, Records), cancellationToken);
                    Log($"run {run}/{options.Runs}: {Records / seconds:N0} rows/s, {result.CpuSecondsPerMillion[^1] * Records / 1e6:N2} CPU-s, peak RSS {MiB(result.PeakRssBytes[^1])} ({Records:N0} rows, sum verified)");
                }
                finally
                {
                    await DropDatabaseAsync(database.Database);
                }
            }
        }
        finally
        {
            foreach (var b in batches) b.Dispose();
        }
    }

    // ---------------------------------------------------------------- (c), (d)

    private async Task StreamingAsync(MethodResult result, IStreamingMethod method, CancellationToken cancellationToken)
    {
        if (method is KafkaEngineMethod kafka)
        {
            result.Note = kafka.Settings;
        }

        for (var run = 1; run <= options.Runs; run++)
        {
            var database = await NewDatabaseAsync(result.Key.ToString(), cancellationToken);
            try
            {
                var context = Context(result.Key, _topic, Records, database);
                var meter = ProcessMeter.Start();
                var start = Stopwatch.GetTimestamp();
                var handle = await method.StartAsync(context, _sql, cancellationToken);
                double assignedSeconds, firstSeconds, endSeconds;
                long firstCount;
                try
                {
                    (assignedSeconds, firstSeconds, firstCount, endSeconds) = await WaitForRowsAsync(method, context, Records, start, cancellationToken);
                    // From assignment to all rows visible: the group join is start-up, not throughput. A method that never
                    // reports its assignment is timed from its first visible rows instead (those rows not counted).
                    var rate = assignedSeconds >= 0 && assignedSeconds < endSeconds
                        ? Records / (endSeconds - assignedSeconds)
                        : firstCount >= Records ? Records / endSeconds : (Records - firstCount) / (endSeconds - firstSeconds);
                    if (assignedSeconds < 0) result.Note += "; timed from first visible rows (assignment not reported)";
                    Record(result, meter, rate, Records, assignedSeconds >= 0 ? assignedSeconds : firstSeconds);
                    // Let a late flush show itself: a doubled block would push the count past the records.
                    await Task.Delay(TimeSpan.FromMilliseconds(options.KafkaFlushMs + 1000), cancellationToken);
                    await VerifyAsync(database.Database, Records, RecordGenerator.SumInputTokens(0, Records), cancellationToken);
                }
                finally
                {
                    await handle.DisposeAsync();
                }

                Log($"run {run}/{options.Runs}: {result.Rates[^1]:N0} rows/s (assigned after {assignedSeconds:N1} s, first rows after {firstSeconds:N1} s ({firstCount:N0}), all after {endSeconds:N1} s), " +
                    $"{result.CpuSecondsPerMillion[^1] * Records / 1e6:N2} CPU-s, peak RSS {MiB(result.PeakRssBytes[^1])} ({Records:N0} rows, sum verified)");
            }
            finally
            {
                await DropDatabaseAsync(database.Database);
            }
        }

        if (options.FreshSeconds > 0)
        {
            try
            {
                await StreamingFreshnessAsync(result, method, cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                result.FreshError = ex.GetBaseException().Message;
                Log($"freshness FAILED: {result.FreshError}");
            }
        }
    }

    private async Task StreamingFreshnessAsync(MethodResult result, IStreamingMethod method, CancellationToken cancellationToken)
    {
        var rate = result.MedianRate / 2;
        var count = FreshCount(rate);
        var topic = NewTopic($"fresh-{result.Key}");
        var database = await NewDatabaseAsync($"f{result.Key}", cancellationToken);
        try
        {
            var total = _partitions + count;
            var context = Context(result.Key, topic, total, database);
            var handle = await method.StartAsync(context, _sql, cancellationToken);
            try
            {
                // One warm-up record per partition, waited for: the group join and first assignment are not freshness.
                TopicWriter.Produce(_host.KafkaBootstrap, topic, _partitions, 0, _partitions, null, null, "warm", _clock, cancellationToken);
                await WaitForRowsAsync(method, context, _partitions, Stopwatch.GetTimestamp(), cancellationToken);
                Log("freshness run: " + await method.WaitReadyAsync(context, _sql, cancellationToken));
                var (_, achieved) = await Task.Factory.StartNew(
                    () => TopicWriter.Produce(_host.KafkaBootstrap, topic, _partitions, _partitions, count, null, rate, "req", _clock, cancellationToken),
                    cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);
                await WaitForRowsAsync(method, context, total, Stopwatch.GetTimestamp(), cancellationToken);
                await Task.Delay(TimeSpan.FromMilliseconds(options.KafkaFlushMs + 1000), cancellationToken);
                var warm = await _sql.NumbersAsync($"SELECT count() FROM {database.Database}.inference_requests WHERE startsWith(request_id, 'warm')", cancellationToken);
                if ((long)warm[0] != _partitions)
                {
                    result.FreshError = $"warm-up: {warm[0]:N0} rows for {_partitions} records (a block stored twice: the offset commit failed during the group's rebalance; at-least-once)";
                    Log(result.FreshError);
                }

                await VerifyAsync(database.Database, count, RecordGenerator.SumInputTokens(_partitions, count), cancellationToken, "startsWith(request_id, 'req')");
                var q = await _sql.NumbersAsync($"""
                    SELECT quantileExact(0.5)(d), quantileExact(0.99)(d), max(d)
                    FROM (SELECT toUnixTimestamp64Milli(ingested_at) - toUnixTimestamp64Milli(finished_at) AS d
                          FROM {database.Database}.inference_requests WHERE startsWith(request_id, 'req'))
                    """, cancellationToken);
                result.FreshRate = achieved;
                result.FreshRecords = count;
                result.FreshP50Ms = q[0];
                result.FreshP99Ms = q[1];
                result.FreshMaxMs = q[2];
                Log($"freshness at {achieved:N0} records/s ({count:N0} records): p50 {q[0]:N0} ms, p99 {q[1]:N0} ms, max {q[2]:N0} ms");
            }
            finally
            {
                await handle.DisposeAsync();
            }
        }
        finally
        {
            await DropDatabaseAsync(database.Database);
        }
    }

    /// <summary>
    /// Polls the table until it holds <paramref name="expected"/> rows. Returns seconds since <paramref name="start"/> at which
    /// the consumer had its partitions (-1 if it never said), the first rows were visible (and how many), and all were.
    /// </summary>
    private async Task<(double AssignedSeconds, double FirstSeconds, long FirstCount, double EndSeconds)> WaitForRowsAsync(
        IStreamingMethod method, BenchContext context, long expected, long start, CancellationToken cancellationToken)
    {
        double assignedSeconds = -1;
        double firstSeconds = -1;
        long firstCount = 0;
        long last = 0;
        var lastProgress = Stopwatch.GetElapsedTime(start);
        while (true)
        {
            if (assignedSeconds < 0 && await method.IsAssignedAsync(context, _sql, cancellationToken))
            {
                assignedSeconds = context.AssignedAtTimestamp > 0
                    ? Stopwatch.GetElapsedTime(start, context.AssignedAtTimestamp).TotalSeconds
                    : Stopwatch.GetElapsedTime(start).TotalSeconds;
            }

            var count = (long)(await _sql.NumbersAsync($"SELECT count() FROM {context.ClickHouse.Database}.inference_requests", cancellationToken))[0];
            var now = Stopwatch.GetElapsedTime(start);
            if (count > 0 && firstSeconds < 0)
            {
                firstSeconds = now.TotalSeconds;
                firstCount = count;
            }

            if (count >= expected)
            {
                return (assignedSeconds, firstSeconds, firstCount, now.TotalSeconds);
            }

            if (method.Failure is { } failure)
            {
                throw new InvalidOperationException($"{method.Name} failed after {count:N0} of {expected:N0} rows: {failure.Message}", failure);
            }

            if (count != last)
            {
                last = count;
                lastProgress = now;
            }
            else if (now - lastProgress > (count == 0 ? FirstRowsTimeout : Stall))
            {
                var diagnosis = await method.DiagnoseAsync(context, _sql, cancellationToken);
                throw new InvalidOperationException(
                    $"{method.Name}: {count:N0} of {expected:N0} rows after {now.TotalSeconds:N0} s, no progress for {(now - lastProgress).TotalSeconds:N0} s; {diagnosis}");
            }

            await Task.Delay(Poll, cancellationToken);
        }
    }

    // ---------------------------------------------------------------- shared

    private BenchContext Context(char key, string topic, long records, ClickHouseOptions database) => new()
    {
        KafkaBootstrap = _host.KafkaBootstrap,
        Topic = topic,
        Partitions = _partitions,
        Records = records,
        ConsumerGroup = $"bench-{key}-{Guid.NewGuid():N}",
        ClickHouse = database,
        Sandbox = _host,
        TimeProvider = _clock,
        Log = log,
    };

    private long FreshCount(double rate) => Math.Clamp((long)(rate * options.FreshSeconds), 1_000, Records);

    private string NewTopic(string label)
    {
        var topic = $"bench-{label}-{Guid.NewGuid():N}"[..28];
        _host.Kafka.CreateTopic(topic, _partitions);
        return topic;
    }

    private static void Record(MethodResult result, ProcessMeter meter, double rate, long records, double? startupSeconds)
    {
        result.Rates.Add(rate);
        result.CpuSecondsPerMillion.Add(meter.CpuSeconds / records * 1e6);
        result.PeakRssBytes.Add(ProcessMeter.PeakRssBytes());
        result.PeakIsPerWindow &= meter.PeakIsPerWindow;
        if (startupSeconds is { } s) result.StartupSeconds.Add(s);
    }

    private async Task VerifyAsync(string database, long expectedRows, long expectedSum, CancellationToken cancellationToken, string where = "1")
    {
        var n = await _sql.NumbersAsync($"SELECT count(), sum(input_tokens), uniqExact(source_partition, source_offset) FROM {database}.inference_requests WHERE {where}", cancellationToken);
        if ((long)n[0] != expectedRows || (long)n[1] != expectedSum || (long)n[2] != expectedRows)
        {
            throw new InvalidOperationException(
                $"zero-loss check failed: {n[0]:N0} rows (expected {expectedRows:N0}), sum(input_tokens) {n[1]:N0} (expected {expectedSum:N0}), {n[2]:N0} distinct (partition, offset)");
        }
    }

    private async Task<ClickHouseOptions> NewDatabaseAsync(string label, CancellationToken cancellationToken)
    {
        var options = new ClickHouseOptions { Url = _host.ClickHouseUrl.ToString(), Database = $"bench_{label}_{Guid.NewGuid():N}"[..20] };
        await new MigrationRunner(options, NullLogger<MigrationRunner>.Instance).ApplyAsync(cancellationToken);
        return options;
    }

    private async Task DropDatabaseAsync(string database)
    {
        try
        {
            await _sql.QueryAsync($"DROP DATABASE IF EXISTS {database} SYNC");
        }
        catch (InvalidOperationException ex)
        {
            Log($"(could not drop {database}: {ex.Message})");
        }
    }

    /// <summary>
    /// The sandbox connects chDB with <c>--path</c> only, and the embedded clickhouse-local then reads <c>config.xml</c> from
    /// the working directory: that is the one way to give the Kafka engine's consumers short session timeouts
    /// (LOCAL_STACK.md). Without them a group that forms in two steps (the second of kafka_num_consumers=2 joining after
    /// the first) stalls ~45 s in the mock's rebalance. The working directory is set only while the engine starts.
    /// </summary>
    private static string WriteEngineConfig(string directory)
    {
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "config.xml"), """
            <clickhouse>
                <kafka>
                    <session_timeout_ms>6000</session_timeout_ms>
                    <heartbeat_interval_ms>1000</heartbeat_interval_ms>
                </kafka>
            </clickhouse>
            """);
        Environment.CurrentDirectory = directory;
        return directory;
    }

    private static int AverageRecordBytes()
    {
        using var generator = new RecordGenerator();
        long total = 0;
        for (var i = 0; i < 1_000; i++) total += generator.Write(i, 1_750_000_000_000).Length;
        return (int)(total / 1_000);
    }

    private static double Quantile(long[] sorted, double q) => sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)];

    private static string MiB(long bytes) => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1048576.0:N0} MiB");

    private void Log(string line) => log.WriteLine(line);

    // ---------------------------------------------------------------- report

    private void Report(int recordBytes, List<MethodResult> results)
    {
        var inv = CultureInfo.InvariantCulture;
        log.WriteLine();
        log.WriteLine(string.Create(inv,
            $"ingest bench: {Records:N0} inference-request records (~{recordBytes} B JSON), {_partitions} partitions, {options.Runs} runs/method, {Environment.ProcessorCount} cores; one process (chDB + endpoint + mock broker included in CPU and RSS)"));
        log.WriteLine($"{"method",-38} {"records/s (median)",18} {"CPU-s/1M",9} {"peak RSS",9} {"start s",7}  {"fresh p50/p99 ms @ rate",-28} zero loss");
        foreach (var r in results)
        {
            if (!r.Measured)
            {
                log.WriteLine($"{r.Name,-38} {r.Error}");
                continue;
            }

            var fresh = r.FreshP50Ms is null
                ? (r.FreshError is null ? "-" : "failed")
                : string.Create(inv, $"{r.FreshP50Ms:N0} / {r.FreshP99Ms:N0} @ {r.FreshRate:N0}/s{(r.FreshError is null ? "" : " (!)")}");
            var startup = r.StartupSeconds.Count == 0 ? "-" : MethodResult.Median(r.StartupSeconds).ToString("N1", inv);
            log.WriteLine(string.Create(inv,
                $"{r.Name,-38} {r.MedianRate,18:N0} {r.MedianCpuPerMillion,9:N1} {MiB(r.MaxPeakRss),9} {startup,7}  {fresh,-28} yes ({r.Rates.Count}/{options.Runs} runs)"));
        }

        log.WriteLine();
        foreach (var r in results.Where(r => r.Measured))
        {
            log.WriteLine(string.Create(inv, $"{r.Name}: runs {string.Join(", ", r.Rates.Select(x => x.ToString("N0", inv)))} records/s; {r.Note}"));
            if (r.FreshError is not null) log.WriteLine($"  (!) freshness run: {r.FreshError}");
        }

        var a = results.FirstOrDefault(r => r.Key == 'a' && r.Measured);
        var b = results.FirstOrDefault(r => r.Key == 'b' && r.Measured);
        var c = results.FirstOrDefault(r => r.Key == 'c' && r.Measured);
        var d = results.FirstOrDefault(r => r.Key == 'd' && r.Measured);
        var floor = new[] { a, b }.Where(x => x is not null).Select(x => x!.MedianRate).DefaultIfEmpty(double.NaN).Min();
        log.WriteLine();
        log.WriteLine("ratios (targets: (d)/(c) throughput >= 1, (d)/(c) CPU per record <= 1, (d)/min(a,b) >= 0.6):");
        if (d is null)
        {
            log.WriteLine("  (d) not wired yet: no (d) ratios");
        }
        else
        {
            if (c is not null)
            {
                log.WriteLine(string.Create(inv, $"  (d)/(c) throughput {d.MedianRate / c.MedianRate:N2}, (d)/(c) CPU per record {d.MedianCpuPerMillion / c.MedianCpuPerMillion:N2}"));
            }

            log.WriteLine(string.Create(inv, $"  (d)/min(a,b) throughput {d.MedianRate / floor:N2}"));
        }

        if (c is not null && !double.IsNaN(floor))
        {
            log.WriteLine(string.Create(inv, $"  for reference: (c)/min(a,b) throughput {c.MedianRate / floor:N2}"));
        }

        if (results.Any(r => r.Measured && !r.PeakIsPerWindow))
        {
            log.WriteLine("  note: /proc/self/clear_refs was refused: peak RSS is the process-lifetime peak");
        }
    }
}
