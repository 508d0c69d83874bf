using System.Globalization;
using Confluent.Kafka;
using EfficiencyMonitor.IntegrationTests.Ingestion;
using EfficiencyMonitor.Simulator.Generation;
using EfficiencyMonitor.Simulator.Output;
using EfficiencyMonitor.Simulator.Scenarios;
using EfficiencyMonitor.Simulator.Traces;
using EfficiencyMonitor.TestInfrastructure;
using Xunit.Abstractions;

namespace EfficiencyMonitor.IntegrationTests.Simulator.Traces;

public sealed class TraceReplayIngestionTests(ITestOutputHelper output)
{
    private const int MooncakeRequests = 12_031;

    /// <summary>
    /// The suite replays at 600x (about 6 s); <c>EM_TRACE_REPLAY_SPEED=60</c> runs the one-minute replay by hand.
    /// </summary>
    private static double Speed =>
        double.TryParse(Environment.GetEnvironmentVariable("EM_TRACE_REPLAY_SPEED"), NumberStyles.Float, CultureInfo.InvariantCulture, out var s) && s > 0 ? s : 600;

    [Fact]
    public async Task Replay_WholeMooncakeTraceThroughService_EveryRequestStoredExactlyOnce()
    {
        var root = ServiceProcess.RepositoryRoot;
        var tracePath = Environment.GetEnvironmentVariable("EM_MOONCAKE_TRACE") is { Length: > 0 } p
            ? p
            : Path.GetFullPath(Path.Combine(root, "..", "shared", "data", "traces", "mooncake-conversation.jsonl"));
        Assert.True(File.Exists(tracePath), $"the Mooncake trace is not at {tracePath}; set EM_MOONCAKE_TRACE");
        var summary = TraceSummary.Compute(MooncakeTrace.Read(tracePath, new TraceSelection()));
        Assert.Equal(MooncakeRequests, summary.Requests);
        var scenario = ScenarioLoader.LoadFile(Path.Combine(root, "deploy", "scenarios", "mooncake-conversation.yaml"));

        await using var harness = await IngestionHarness.CreateAsync("trace_replay", partitions: 8);
        await harness.StartServiceAsync();
        var speed = Speed;
        var generator = new TraceGenerator(scenario, new GeneratorOptions
        {
            // The hour ends about now: no record is ever ahead of the wall clock (the decoder rejects future timestamps).
            Start = TraceReplay.DefaultStart(TimeProvider.System.GetUtcNow(), summary.Duration, speed),
            Rate = scenario.ReferenceRate,
            Seed = 11,
        }, MooncakeTrace.Read(tracePath, new TraceSelection()));
        using var producer = new ProducerBuilder<string, byte[]>(KafkaPump.DefaultConfig(harness.Endpoints.KafkaBootstrap)).Build();
        var pump = new KafkaPump(producer, new PumpOptions
        {
            RequestsTopic = harness.RequestsTopic,
            PowerTopic = harness.PowerTopic,
            Speed = speed,
            FlushTimeout = TimeSpan.FromSeconds(10),
        }, TimeProvider.System);
        var powerSent = 0L;
        var requestsSent = 0L;
        var result = await pump.RunAsync(generator.Generate(), p => (powerSent, requestsSent) = (p.Power, p.Requests), CancellationToken.None);
        var ingestStarted = TimeProvider.System.GetTimestamp();

        var rows = await harness.WaitForRowsAsync("inference_requests", MooncakeRequests, TimeSpan.FromSeconds(120));
        var drain = TimeProvider.System.GetElapsedTime(ingestStarted);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{speed}x: pumped {result.Produced:N0} records ({requestsSent:N0} requests, {powerSent:N0} power) in {result.Elapsed.TotalSeconds:0.0} s (trace {summary.Duration.TotalSeconds:N0} s); all requests stored {drain.TotalSeconds:0.0} s after the pump finished"));
        Assert.Equal(0, result.Failed);
        Assert.Equal(result.Produced, result.Delivered);
        Assert.Equal(MooncakeRequests, requestsSent);
        Assert.Equal((ulong)MooncakeRequests, rows);
        Assert.Equal((ulong)MooncakeRequests, await harness.ScalarAsync<ulong>("SELECT uniqExact(request_id) FROM inference_requests"));
        Assert.Equal((ulong)summary.InputTokens, await harness.ScalarAsync<ulong>("SELECT sum(input_tokens) FROM inference_requests"));

        // The stored hour spans the trace's hour of event time.
        var span = await harness.ScalarAsync<double>("SELECT dateDiff('millisecond', min(started_at), max(started_at)) / 1000.0 FROM inference_requests");
        Assert.InRange(span, summary.Duration.TotalSeconds - 1, summary.Duration.TotalSeconds + 1);
        Assert.Equal((ulong)powerSent, await harness.WaitForRowsAsync("gpu_power_samples", (ulong)powerSent, TimeSpan.FromSeconds(60)));

        // The spend job prices the replayed hour (the service stored the embedded catalog at start): 5-minute windows
        // follow each other without a gap from the first window with data to the last closed one, and 1-hour windows too.
        var clickHouse = new EfficiencyMonitor.Storage.ClickHouseOptions { Url = harness.Endpoints.ClickHouseUrl.ToString(), Database = harness.Database };
        // The job's clock is an hour past the replay, so the hourly window holding its newest data is closed whatever the
        // minute (on the wall clock it is not closable until 2 minutes past the hour: the test failed in those minutes).
        using (var toolkit = new EfficiencyMonitor.Jobs.EfficiencyToolkit(clickHouse, new EfficiencyMonitor.Jobs.JobsOptions(), new ManualTime(TimeProvider.System.GetUtcNow().AddMinutes(62)),
            Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance))
        {
            var run = await toolkit.Runner.RunOnceAsync(CancellationToken.None);
            Assert.Equal(0, run.Failed);
        }

        var windows = await harness.ScalarAsync<ulong>("SELECT count() FROM efficiency_windows FINAL WHERE window_seconds = 300 AND deployment = 'kimi-conversation' AND tenant = ''");
        var spanWindows = await harness.ScalarAsync<ulong>(
            "SELECT toUInt64(dateDiff('second', min(window_start), max(window_start)) / 300 + 1) FROM efficiency_windows FINAL WHERE window_seconds = 300 AND deployment = 'kimi-conversation' AND tenant = ''");
        output.WriteLine($"spend job: {windows} five-minute windows for kimi-conversation");
        Assert.Equal(spanWindows, windows); // contiguous
        // The hour (3,537 s) spans 12 or 13 five-minute windows, all closed on the job's clock: at least 10.
        Assert.True(windows >= 10, $"only {windows} five-minute windows");
        var requestsInWindows = await harness.ScalarAsync<ulong>("SELECT sum(requests) FROM efficiency_windows FINAL WHERE window_seconds = 300 AND deployment = 'kimi-conversation' AND tenant = ''");
        Assert.True(requestsInWindows >= MooncakeRequests * 0.8, $"windows hold {requestsInWindows} of {MooncakeRequests} requests");
        Assert.True(await harness.ScalarAsync<ulong>("SELECT count() FROM efficiency_windows FINAL WHERE window_seconds = 3600 AND deployment = 'kimi-conversation' AND tenant = ''") >= 1);
    }
}
