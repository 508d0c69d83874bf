using System.Text;
using EfficiencyMonitor.Ingestion;
using EfficiencyMonitor.TestInfrastructure;

namespace EfficiencyMonitor.IntegrationTests.Ingestion;

public sealed class IngestionFuzzTests
{
    [Fact]
    public async Task Run_HostileRecords_ServiceSurvivesAndDeadLettersEveryOne()
    {
        await using var harness = await IngestionHarness.CreateAsync("ing_fuzz", partitions: 8);
        var now = TimeProvider.System.GetUtcNow();
        var hostile = Hostile(new Random(20261204), now);
        const int valid = 500;
        var records = hostile.Concat(Enumerable.Range(0, valid).Select(i => TelemetryRecords.Request("fuzz", i, now))).OrderBy(_ => Random.Shared.Next()).ToList();

        await harness.StartServiceAsync();
        using (var producer = TelemetryRecords.CreateProducer(harness.Endpoints.KafkaBootstrap))
        {
            TelemetryRecords.ProduceAll(producer, harness.RequestsTopic, harness.Partitions, records);
        }

        Assert.Equal((ulong)valid, await harness.WaitForRowsAsync("inference_requests", valid, TimeSpan.FromSeconds(60)));
        var deadLetters = harness.ReadDeadLetters(hostile.Count, TimeSpan.FromSeconds(60));
        Assert.Equal(hostile.Count, deadLetters.Count);
        Assert.All(deadLetters, d => Assert.False(string.IsNullOrEmpty(IngestionHarness.Header(d, DeadLetterPublisher.Headers.Reason))));
        Assert.DoesNotContain(deadLetters, d => IngestionHarness.Header(d, DeadLetterPublisher.Headers.Reason) == "unknown");
        Assert.True(Directory.Exists($"/proc/{harness.Service.Id}"), "the service crashed");
        Assert.DoesNotContain("Unhandled exception", harness.Service.Stdout + harness.Service.Stderr, StringComparison.Ordinal);
    }

    private static List<byte[]> Hostile(Random random, DateTimeOffset now)
    {
        var list = new List<byte[]>();
        var valid = TelemetryRecords.Request("hostile", 1, now);
        for (var i = 0; i < 200; i++)
        {
            var bytes = new byte[random.Next(1, 400)];
            random.NextBytes(bytes);
            list.Add(bytes); // random bytes
        }

        for (var cut = 1; cut < valid.Length; cut += 7) list.Add(valid[..cut]); // truncated JSON at many lengths
        var text = Encoding.UTF8.GetString(valid);
        foreach (var huge in new[] { "1e400", "99999999999999999999999", "-1", "1.5", "NaN", "\"12\"" })
        {
            list.Add(Encoding.UTF8.GetBytes(text.Replace("\"input_tokens\":", $"\"input_tokens\":{huge},\"x\":", StringComparison.Ordinal)));
        }

        // Floats: only values the contract refuses (1.5 or 1e23 are valid milliseconds).
        foreach (var bad in new[] { "1e400", "-1", "NaN", "\"12\"", "null", "[]" })
        {
            list.Add(Encoding.UTF8.GetBytes(text.Replace("\"queue_ms\":3", $"\"queue_ms\":{bad}", StringComparison.Ordinal)));
        }

        list.Add(Encoding.UTF8.GetBytes(new string('[', 10_000) + new string(']', 10_000))); // deep nesting
        list.Add(Encoding.UTF8.GetBytes("{\"a\":" + string.Concat(Enumerable.Repeat("{\"a\":", 5_000)) + "1" + new string('}', 5_001)));
        foreach (var odd in new[] { "\\ud800", "\\u0000", "\u202e", "😀", "\\udfff\\ud800" })
        {
            list.Add(Encoding.UTF8.GetBytes(text.Replace("\"tenant\":\"", $"\"tenant\":\"{odd}", StringComparison.Ordinal)));
        }

        list.Add([0xEF, 0xBB, 0xBF, .. valid]); // BOM
        list.Add([0xC0, 0x80]); // overlong NUL
        list.Add([.. valid, (byte)' ', (byte)'{', (byte)'}']); // trailing content
        list.Add(Encoding.UTF8.GetBytes("{\"schema_version\":2}"));
        list.Add(Encoding.UTF8.GetBytes(text.Replace("\"schema_version\":1", "\"schema_version\":1,\"schema_version\":1", StringComparison.Ordinal)));
        list.Add(new byte[200_000]); // oversized, all NUL
        list.Add([]); // empty
        return list;
    }
}
