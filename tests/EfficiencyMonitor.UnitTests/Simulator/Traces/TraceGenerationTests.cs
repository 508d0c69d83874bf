using System.Text.Json.Nodes;
using EfficiencyMonitor.Core.Telemetry;
using EfficiencyMonitor.Simulator.Generation;
using EfficiencyMonitor.Simulator.Traces;
using EfficiencyMonitor.UnitTests.Telemetry;
using Xunit.Abstractions;

namespace EfficiencyMonitor.UnitTests.Simulator.Traces;

public sealed class TraceGenerationTests(ITestOutputHelper output)
{
    /// <summary>A quarter of the trace keeps the sweep fast; the whole file's figures are in the note.</summary>
    private const int SweepRequests = 3_000;

    [Fact]
    public void Generate_MooncakeTraceWithAmpleTiers_HitRatioWithinOnePointOfUnboundedCeiling()
    {
        var arrivals = MooncakeTrace.Read(TraceTestData.MooncakePath, new TraceSelection()).ToList();
        var ceiling = TraceSummary.Compute(arrivals).UnboundedReuse;

        // 8 instances x 10 TB of DRAM: more than the ~6.6 TB of distinct blocks, so nothing is ever evicted.
        var shares = TraceTestData.Shares(TraceTestData.Generate(TraceTestData.WithCapacities(TraceTestData.Scenario(), 100, 10_000, 0), arrivals, power: false));
        output.WriteLine($"ceiling {ceiling:P2}; {shares}");

        Assert.InRange(shares.Hit, ceiling - 0.01, ceiling + 1e-9);
    }

    [Fact]
    public void Generate_ShrinkingDramAndSsd_HitRatioFallsMonotonically()
    {
        var arrivals = MooncakeTrace.Read(TraceTestData.MooncakePath, new TraceSelection { Limit = SweepRequests }).ToList();
        var ceiling = TraceSummary.Compute(arrivals).UnboundedReuse;
        var scenario = TraceTestData.Scenario();
        double[] factors = [1, 0.1, 0.03, 0.01, 0];
        var hits = new List<double>();
        foreach (var f in factors)
        {
            var shares = TraceTestData.Shares(TraceTestData.Generate(TraceTestData.WithCapacities(scenario, 20, 1000 * f, 4000 * f), arrivals, power: false));
            output.WriteLine($"dram {1000 * f:N0} GB, ssd {4000 * f:N0} GB: {shares} (ceiling {ceiling:P2})");
            hits.Add(shares.Hit);
        }

        Assert.InRange(hits[0], ceiling - 0.01, ceiling + 1e-9);
        for (var i = 1; i < hits.Count; i++)
        {
            Assert.True(hits[i] <= hits[i - 1], $"hit ratio rose from {hits[i - 1]:P2} to {hits[i]:P2} when DRAM/SSD shrank to x{factors[i]}");
        }

        Assert.True(hits[^1] < hits[0] - 0.05, $"HBM only {hits[^1]:P2} vs ample {hits[0]:P2}");
    }

    [Fact]
    public void Generate_MooncakeTrace_EveryRequestOnceEventTimeOrderedAndAcceptedByDecoders()
    {
        var arrivals = MooncakeTrace.Read(TraceTestData.MooncakePath, new TraceSelection()).ToList();
        var records = TraceTestData.Generate(TraceTestData.Scenario(), arrivals);

        var requests = records.Where(r => r.Topic == TraceTopic.InferenceRequests).Select(r => JsonNode.Parse(r.Payload.Span)!.AsObject()).ToList();
        Assert.Equal(TraceTestData.MooncakeRequests, requests.Count);
        Assert.Equal(TraceTestData.MooncakeRequests, requests.Select(r => (string)r["request_id"]!).Distinct().Count());
        for (var i = 1; i < records.Count; i++)
        {
            Assert.True(records[i].EventTimeUnixMs >= records[i - 1].EventTimeUnixMs, $"record {i} goes back in time");
        }

        // Arrivals rebased to the start: the trace's lengths and timestamps, record by record.
        var byStart = requests.OrderBy(r => DateTimeOffset.Parse((string)r["started_at"]!, System.Globalization.CultureInfo.InvariantCulture))
            .ThenBy(r => (string)r["request_id"]!, StringComparer.Ordinal).ToList();
        Assert.Equal(SimulatorTestData.Start, DateTimeOffset.Parse((string)byStart[0]["started_at"]!, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(arrivals.Sum(a => (long)a.InputTokens), requests.Sum(r => (long)r["input_tokens"]!));
        Assert.Equal(arrivals[^1].TimestampMs, (DateTimeOffset.Parse((string)byStart[^1]["started_at"]!, System.Globalization.CultureInfo.InvariantCulture) - SimulatorTestData.Start).TotalMilliseconds);

        var now = SimulatorTestData.DecodeNow(records);
        var requestDecoder = new InferenceRequestDecoder();
        var powerDecoder = new GpuPowerDecoder();
        var arena = new Utf8Arena();
        foreach (var record in records)
        {
            arena.Reset();
            var result = SimulatorTestData.Decode(record, now, requestDecoder, powerDecoder, arena);
            Assert.True(result.IsSuccess, $"{result}: {System.Text.Encoding.UTF8.GetString(record.Payload.Span)}");
        }

        foreach (var record in records.Where((_, i) => i % 50 == 0))
        {
            var topic = record.Topic == TraceTopic.InferenceRequests ? TelemetryTestData.Requests : TelemetryTestData.Power;
            var evaluation = TelemetryTestData.Evaluate(topic, JsonNode.Parse(record.Payload.Span));
            Assert.True(evaluation.IsValid, $"{TelemetryTestData.DescribeErrors(evaluation)}: {System.Text.Encoding.UTF8.GetString(record.Payload.Span)}");
        }
    }
}
