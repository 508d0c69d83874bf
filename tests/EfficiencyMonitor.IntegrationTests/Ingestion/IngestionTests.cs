using System.Text;
using Dapper;
using EfficiencyMonitor.Core.Telemetry;
using EfficiencyMonitor.Ingestion;
using EfficiencyMonitor.TestInfrastructure;

namespace EfficiencyMonitor.IntegrationTests.Ingestion;

public sealed class IngestionTests
{
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Run_ValidAndInvalidRecords_ValidStoredExactlyOnceInvalidDeadLetteredWithReason()
    {
        await using var harness = await IngestionHarness.CreateAsync("ing_mix", partitions: 8);
        var now = TimeProvider.System.GetUtcNow();
        const int valid = 5_000;
        const int copiesOfEachInvalid = 2;
        var invalid = InvalidExamples(now);
        var records = new List<byte[]>();
        for (var i = 0; i < valid; i++) records.Add(TelemetryRecords.Request("mix", i, now));
        for (var c = 0; c < copiesOfEachInvalid; c++)
        {
            foreach (var (_, bytes) in invalid) records.Add(bytes);
        }

        // Interleave: invalid records sit between valid ones in every partition.
        var shuffled = records.OrderBy(_ => Random.Shared.Next()).ToList();
        await harness.StartServiceAsync();
        using (var producer = TelemetryRecords.CreateProducer(harness.Endpoints.KafkaBootstrap))
        {
            TelemetryRecords.ProduceAll(producer, harness.RequestsTopic, harness.Partitions, shuffled);
        }

        var rows = await harness.WaitForRowsAsync("inference_requests", valid, Settle);
        Assert.Equal((ulong)valid, rows);
        var expectedInput = Enumerable.Range(0, valid).Sum(i => TelemetryRecords.InputTokens(i));
        Assert.Equal((ulong)expectedInput, await harness.ScalarAsync<ulong>("SELECT sum(input_tokens) FROM inference_requests"));
        Assert.Equal((ulong)valid, await harness.ScalarAsync<ulong>("SELECT uniqExact(request_id) FROM inference_requests"));

        var expectedDeadLetters = invalid.Count * copiesOfEachInvalid;
        var deadLetters = harness.ReadDeadLetters(expectedDeadLetters, Settle);
        Assert.Equal(expectedDeadLetters, deadLetters.Count);
        var expectedByReason = invalid.GroupBy(x => x.Reason).ToDictionary(g => g.Key, g => g.Count() * copiesOfEachInvalid);
        var actualByReason = deadLetters.GroupBy(d => IngestionHarness.Header(d, DeadLetterPublisher.Headers.Reason)).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(expectedByReason.OrderBy(x => x.Key), actualByReason.OrderBy(x => x.Key));
        var originals = invalid.Select(x => Convert.ToBase64String(x.Bytes)).ToHashSet();
        Assert.All(deadLetters, d =>
        {
            Assert.Contains(Convert.ToBase64String(d.Message.Value), originals);
            Assert.Equal(harness.RequestsTopic, IngestionHarness.Header(d, DeadLetterPublisher.Headers.SourceTopic));
            Assert.InRange(IngestionHarness.ParseLong(IngestionHarness.Header(d, DeadLetterPublisher.Headers.SourcePartition)), 0, harness.Partitions - 1);
            Assert.True(IngestionHarness.ParseLong(IngestionHarness.Header(d, DeadLetterPublisher.Headers.SourceOffset)) >= 0);
            Assert.False(string.IsNullOrWhiteSpace(IngestionHarness.Header(d, DeadLetterPublisher.Headers.Message)));
        });
    }

    [Fact]
    public async Task Run_PowerSamples_StoredWithRollupPerGpu()
    {
        await using var harness = await IngestionHarness.CreateAsync("ing_pow", partitions: 4);
        var now = TimeProvider.System.GetUtcNow();
        await harness.StartServiceAsync();
        using (var producer = TelemetryRecords.CreateProducer(harness.Endpoints.KafkaBootstrap))
        {
            TelemetryRecords.ProduceAll(producer, harness.PowerTopic, 4, Enumerable.Range(0, 2_000).Select(i => TelemetryRecords.PowerSample(i, now)));
        }

        Assert.Equal(2_000UL, await harness.WaitForRowsAsync("gpu_power_samples", 2_000, Settle));
        Assert.Equal(2_000UL, await harness.ScalarAsync<ulong>("SELECT sum(samples) FROM gpu_power_1m"));
        Assert.Equal(32UL, await harness.ScalarAsync<ulong>("SELECT uniqExact(gpu_uuid) FROM gpu_power_1m"));
    }

    [Fact]
    public async Task Run_RecordsFromTwoMonthsInterleaved_EachStoredOnceInItsPartition()
    {
        await using var harness = await IngestionHarness.CreateAsync("ing_months", partitions: 4);
        var now = TimeProvider.System.GetUtcNow();
        const int total = 3_000;
        await harness.StartServiceAsync();
        using (var producer = TelemetryRecords.CreateProducer(harness.Endpoints.KafkaBootstrap))
        {
            // Alternating months inside every partition: one insert then writes a part per month.
            TelemetryRecords.ProduceAll(producer, harness.RequestsTopic, harness.Partitions,
                Enumerable.Range(0, total).Select(i => TelemetryRecords.Request("months", i, (i / 4) % 2 == 0 ? now : now.AddDays(-40))));
        }

        Assert.Equal((ulong)total, await harness.WaitForRowsAsync("inference_requests", total, Settle));
        Assert.Equal((ulong)total, await harness.ScalarAsync<ulong>("SELECT uniqExact(request_id) FROM inference_requests"));
        Assert.Equal(2UL, await harness.ScalarAsync<ulong>("SELECT uniqExact(toYYYYMM(finished_at)) FROM inference_requests"));
        Assert.Equal(0UL, await harness.ScalarAsync<ulong>(
            $"SELECT count() FROM system.parts WHERE database = '{harness.Database}' AND table = 'inference_requests' AND active AND partition_id NOT IN (SELECT DISTINCT toString(toYYYYMM(finished_at)) FROM inference_requests)"));
    }

    [Fact]
    public async Task Run_Sigterm_FlushesAndCommitsEverythingBeforeExit()
    {
        await using var harness = await IngestionHarness.CreateAsync("ing_term", partitions: 4);
        var now = TimeProvider.System.GetUtcNow();
        const int total = 4_000;
        await harness.StartServiceAsync();
        using (var producer = TelemetryRecords.CreateProducer(harness.Endpoints.KafkaBootstrap))
        {
            TelemetryRecords.ProduceAll(producer, harness.RequestsTopic, harness.Partitions, Enumerable.Range(0, total).Select(i => TelemetryRecords.Request("term", i, now)));
        }

        await harness.WaitForRowsAsync("inference_requests", total, Settle);
        harness.Service.Signal(15);
        Assert.Equal(0, await harness.Service.WaitForExitAsync(TimeSpan.FromSeconds(40)));
        Assert.Contains($"{harness.RequestsTopic}: stopped", harness.Service.Stdout, StringComparison.Ordinal);

        using var reader = new Confluent.Kafka.ConsumerBuilder<byte[], byte[]>(new Confluent.Kafka.ConsumerConfig
        {
            BootstrapServers = harness.Endpoints.KafkaBootstrap,
            GroupId = TopicIngestor<InferenceRequestRow>.GroupIdFor(new KafkaOptions { GroupId = $"g-{harness.Database}" }, harness.RequestsTopic),
        }).Build();
        var partitions = Enumerable.Range(0, harness.Partitions).Select(p => new Confluent.Kafka.TopicPartition(harness.RequestsTopic, p)).ToList();
        var committed = reader.Committed(partitions, TimeSpan.FromSeconds(10));
        Assert.Equal(total, committed.Sum(c => c.Offset.Value));
    }

    /// <summary>Every invalid example of the contract whose reason does not depend on the clock, plus a record from the future.</summary>
    private static List<(string Reason, byte[] Bytes)> InvalidExamples(DateTimeOffset now)
    {
        var folder = Path.Combine(ServiceProcess.RepositoryRoot, "schemas", "telemetry", "examples", "inference-requests", "invalid");
        var examples = new List<(string, byte[])>();
        foreach (var file in Directory.GetFiles(folder, "*.json").Order(StringComparer.Ordinal))
        {
            var reason = Path.GetFileNameWithoutExtension(file).Split('-')[0];
            if (reason == RejectReason.TimestampInFuture.ToCode()) continue; // relative to the test's clock: made below
            examples.Add((reason, File.ReadAllBytes(file)));
        }

        var future = Encoding.UTF8.GetString(TelemetryRecords.Request("future", 1, now.AddHours(1)));
        examples.Add((RejectReason.TimestampInFuture.ToCode(), Encoding.UTF8.GetBytes(future)));
        return examples;
    }
}
