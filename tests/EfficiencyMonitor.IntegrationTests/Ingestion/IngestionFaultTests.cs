using System.Diagnostics;
using System.Net;
using Dapper;
using EfficiencyMonitor.Sandbox.Kafka;
using EfficiencyMonitor.TestInfrastructure;

namespace EfficiencyMonitor.IntegrationTests.Ingestion;

public sealed class IngestionFaultTests
{
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task Run_KilledFiveTimesWhileProducing_EveryRecordStoredOnceInRawAndRollups()
    {
        const int total = 200_000;
        // 200k × ~900 B needs ≥ 40 partitions under the mock's 5 MiB per-partition retention.
        await using var harness = await IngestionHarness.CreateAsync("ing_kill", partitions: 64);
        var now = TimeProvider.System.GetUtcNow();
        await harness.StartServiceAsync();

        var producing = Task.Run(() =>
        {
            using var producer = TelemetryRecords.CreateProducer(harness.Endpoints.KafkaBootstrap);
            // Paced over ~15 s so every kill lands mid-stream.
            for (var chunk = 0; chunk < 20; chunk++)
            {
                TelemetryRecords.ProduceAll(producer, harness.RequestsTopic, harness.Partitions,
                    Enumerable.Range(chunk * (total / 20), total / 20).Select(i => TelemetryRecords.Request("kill", i, now)));
                Thread.Sleep(700);
            }
        });

        var kills = 0;
        var random = new Random(42);
        while (kills < 5)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(1_200 + random.Next(1_500)));
            await harness.KillServiceAsync();
            kills++;
            await harness.StartServiceAsync();
        }

        await producing;
        var rows = await harness.WaitForRowsAsync("inference_requests", total, Settle);
        // Give a doubled batch, if there were one, the chance to show up before counting.
        await Task.Delay(2_000);
        await harness.ScalarAsync<ulong>("SELECT 1");

        Assert.Equal((ulong)total, rows);
        Assert.Equal((ulong)total, await harness.ScalarAsync<ulong>("SELECT count() FROM inference_requests"));
        Assert.Equal((ulong)total, await harness.ScalarAsync<ulong>("SELECT uniqExact(request_id) FROM inference_requests"));
        var expectedInput = Enumerable.Range(0, total).Sum(i => TelemetryRecords.InputTokens(i));
        Assert.Equal((ulong)expectedInput, await harness.ScalarAsync<ulong>("SELECT sum(input_tokens) FROM inference_requests"));

        // Every rollup equals the same aggregate computed from the raw table.
        await using var connection = harness.OpenClickHouse();
        var raw = await connection.QuerySingleAsync<(ulong Requests, ulong Ok, ulong Input, ulong Output, ulong Reasoning, ulong Hbm)>(
            "SELECT count(), countIf(status = 'ok'), sum(input_tokens), sum(output_tokens), sum(reasoning_tokens), sum(cached_hbm_tokens) FROM inference_requests");
        var rollup = await connection.QuerySingleAsync<(ulong Requests, ulong Ok, ulong Input, ulong Output, ulong Reasoning, ulong Hbm)>(
            "SELECT sum(requests), sum(status_ok), sum(input_tokens), sum(output_tokens), sum(reasoning_tokens), sum(cached_hbm_tokens) FROM inference_requests_1m");
        Assert.Equal(raw, rollup);
        var perMinuteMismatches = await harness.ScalarAsync<ulong>("""
            SELECT count() FROM
            (SELECT toStartOfMinute(finished_at) AS minute, deployment, model, tenant, count() AS c, sum(input_tokens) AS i FROM inference_requests GROUP BY ALL) AS r
            FULL OUTER JOIN
            (SELECT minute, deployment, model, tenant, sum(requests) AS c, sum(input_tokens) AS i FROM inference_requests_1m GROUP BY ALL) AS m
            USING (minute, deployment, model, tenant)
            WHERE r.c != m.c OR r.i != m.i
            """);
        Assert.Equal(0UL, perMinuteMismatches);
        Assert.Equal((ulong)total, await harness.ScalarAsync<ulong>("SELECT sum(rows) FROM ingest_watermarks WHERE source_table = 'inference_requests'"));
        // The kills did land between an insert and its commit, and the restarted service skipped the replayed records.
        Assert.Contains("skipping replayed records already stored", harness.EarlierOutput + harness.Service.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_ClickHouseDownFor20Seconds_NoLossNoDuplicateMemoryBounded()
    {
        const int total = 60_000;
        await using var harness = await IngestionHarness.CreateAsync("ing_outage", partitions: 16);
        // The service reaches ClickHouse through a forwarder this test can stop, so the shared engine stays up for other tests.
        var target = $"{harness.Endpoints.ClickHouseUrl.Host}:{harness.Endpoints.ClickHouseUrl.Port}";
        var forwarder = TcpForwarder.Start(new IPEndPoint(IPAddress.Loopback, 0), target);
        var port = forwarder.LocalEndpoint.Port;
        harness.ClickHouseUrl = $"http://127.0.0.1:{port}/";
        var now = TimeProvider.System.GetUtcNow();
        await harness.StartServiceAsync();
        using var producer = TelemetryRecords.CreateProducer(harness.Endpoints.KafkaBootstrap);

        TelemetryRecords.ProduceAll(producer, harness.RequestsTopic, harness.Partitions, Enumerable.Range(0, total / 3).Select(i => TelemetryRecords.Request("out", i, now)));
        await harness.WaitForRowsAsync("inference_requests", total / 3, Settle);
        var rssBefore = ResidentBytes(harness.Service.Id);

        await forwarder.DisposeAsync(); // outage: connections refused
        var outage = Stopwatch.StartNew();
        TelemetryRecords.ProduceAll(producer, harness.RequestsTopic, harness.Partitions, Enumerable.Range(total / 3, total / 3).Select(i => TelemetryRecords.Request("out", i, now)));
        long rssPeak = 0;
        while (outage.Elapsed < TimeSpan.FromSeconds(20))
        {
            rssPeak = Math.Max(rssPeak, ResidentBytes(harness.Service.Id));
            await Task.Delay(500);
        }

        Assert.False(HasExited(harness.Service.Id), "the service must ride out the outage");
        forwarder = TcpForwarder.Start(new IPEndPoint(IPAddress.Loopback, port), target);
        await using var _ = forwarder;
        TelemetryRecords.ProduceAll(producer, harness.RequestsTopic, harness.Partitions, Enumerable.Range(2 * total / 3, total - 2 * total / 3).Select(i => TelemetryRecords.Request("out", i, now)));

        var rows = await harness.WaitForRowsAsync("inference_requests", total, Settle);
        await Task.Delay(2_000);
        Assert.Equal((ulong)total, await harness.ScalarAsync<ulong>("SELECT count() FROM inference_requests"));
        Assert.Equal((ulong)total, rows);
        Assert.Equal((ulong)total, await harness.ScalarAsync<ulong>("SELECT uniqExact(request_id) FROM inference_requests"));
        Assert.Contains("insert of", harness.Service.Stdout, StringComparison.Ordinal); // it did see the outage and retried
        // Bounded: the batch pool caps what is held while ClickHouse is away (20k records ≈ 18 MB of JSON arrived meanwhile).
        Assert.True(rssPeak - rssBefore < 150L * 1024 * 1024, $"RSS grew by {(rssPeak - rssBefore) / 1048576} MiB during the outage");
    }

    [Fact]
    public async Task Run_BrokerDownFor10Seconds_ReconnectsAndStoresEverythingOnce()
    {
        // A cluster of this test's own, so taking its broker down disturbs no other test.
        using var cluster = MockKafkaCluster.Start();
        await using var harness = await IngestionHarness.CreateAsync("ing_broker", partitions: 8);
        harness.KafkaBootstrap = cluster.Bootstraps;
        cluster.CreateTopic(harness.RequestsTopic, harness.Partitions);
        cluster.CreateTopic(harness.PowerTopic, 4);
        cluster.CreateTopic(harness.DeadLetterTopic, 4);
        var now = TimeProvider.System.GetUtcNow();
        await harness.StartServiceAsync();
        using (var producer = TelemetryRecords.CreateProducer(cluster.Bootstraps))
        {
            TelemetryRecords.ProduceAll(producer, harness.RequestsTopic, harness.Partitions, Enumerable.Range(0, 5_000).Select(i => TelemetryRecords.Request("broker", i, now)));
        }

        Assert.Equal(5_000UL, await harness.WaitForRowsAsync("inference_requests", 5_000, Settle));
        cluster.SetBrokerUp(1, up: false);
        await Task.Delay(TimeSpan.FromSeconds(10));
        Assert.True(Directory.Exists($"/proc/{harness.Service.Id}"), "the service must ride out the broker loss");
        cluster.SetBrokerUp(1, up: true);
        using (var producer = TelemetryRecords.CreateProducer(cluster.Bootstraps))
        {
            TelemetryRecords.ProduceAll(producer, harness.RequestsTopic, harness.Partitions, Enumerable.Range(5_000, 5_000).Select(i => TelemetryRecords.Request("broker", i, now)));
        }

        Assert.Equal(10_000UL, await harness.WaitForRowsAsync("inference_requests", 10_000, Settle));
        await Task.Delay(2_000);
        Assert.Equal(10_000UL, await harness.ScalarAsync<ulong>("SELECT count() FROM inference_requests"));
        Assert.Equal(10_000UL, await harness.ScalarAsync<ulong>("SELECT uniqExact(request_id) FROM inference_requests"));
    }

    [Fact]
    public async Task Run_TopicRecreatedOnAnotherBroker_OldWatermarkIgnoredNothingSkipped()
    {
        await using var harness = await IngestionHarness.CreateAsync("ing_recreate", partitions: 4);
        var now = TimeProvider.System.GetUtcNow();
        await harness.StartServiceAsync();
        using (var producer = TelemetryRecords.CreateProducer(harness.KafkaBootstrap))
        {
            TelemetryRecords.ProduceAll(producer, harness.RequestsTopic, harness.Partitions, Enumerable.Range(0, 3_000).Select(i => TelemetryRecords.Request("old", i, now)));
        }

        Assert.Equal(3_000UL, await harness.WaitForRowsAsync("inference_requests", 3_000, Settle));
        await harness.KillServiceAsync();

        // Same database, same topic names, a brand-new log (offsets from 0 again): the stored watermarks (~750 per
        // partition) must not make the service skip the first 750 records of each new partition.
        using var cluster = MockKafkaCluster.Start();
        cluster.CreateTopic(harness.RequestsTopic, harness.Partitions);
        cluster.CreateTopic(harness.PowerTopic, 4);
        cluster.CreateTopic(harness.DeadLetterTopic, 4);
        harness.KafkaBootstrap = cluster.Bootstraps;
        await harness.StartServiceAsync();
        using (var producer = TelemetryRecords.CreateProducer(cluster.Bootstraps))
        {
            TelemetryRecords.ProduceAll(producer, harness.RequestsTopic, harness.Partitions, Enumerable.Range(0, 1_000).Select(i => TelemetryRecords.Request("new", i, now)));
        }

        Assert.Equal(4_000UL, await harness.WaitForRowsAsync("inference_requests", 4_000, Settle));
        Assert.Contains("another log with this name", harness.Service.Stdout, StringComparison.Ordinal);
    }

    private static long ResidentBytes(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
            }
        }

        return 0;
    }

    private static bool HasExited(int pid) => !Directory.Exists($"/proc/{pid}");
}
