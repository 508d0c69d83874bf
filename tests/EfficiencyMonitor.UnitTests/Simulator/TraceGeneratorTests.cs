using System.Diagnostics;
using System.Text.Json.Nodes;
using EfficiencyMonitor.Core.Telemetry;
using EfficiencyMonitor.Simulator.Generation;
using EfficiencyMonitor.Simulator.Output;
using EfficiencyMonitor.UnitTests.Telemetry;
using Xunit.Abstractions;

namespace EfficiencyMonitor.UnitTests.Simulator;

public sealed class TraceGeneratorTests(ITestOutputHelper output)
{
    [Fact]
    public void Generate_SameSeedTwice_ByteIdenticalJsonl()
    {
        var scenario = SimulatorTestData.Load("default");

        var first = Jsonl(SimulatorTestData.Generate(scenario, SimulatorTestData.Options(20_000, seed: 42, invalidRate: 0.01)));
        var second = Jsonl(SimulatorTestData.Generate(scenario, SimulatorTestData.Options(20_000, seed: 42, invalidRate: 0.01)));

        Assert.Equal(first.Length, second.Length);
        Assert.True(first.AsSpan().SequenceEqual(second), "same seed, different bytes");
    }

    [Fact]
    public void Generate_DifferentSeed_DifferentOutput()
    {
        var scenario = SimulatorTestData.Load("default");

        var first = Jsonl(SimulatorTestData.Generate(scenario, SimulatorTestData.Options(2_000, seed: 1)));
        var second = Jsonl(SimulatorTestData.Generate(scenario, SimulatorTestData.Options(2_000, seed: 2)));

        Assert.False(first.AsSpan().SequenceEqual(second));
    }

    [Fact]
    public void Generate_100kRecords_AllAcceptedByDecodersAndSampleBySchema()
    {
        var scenario = SimulatorTestData.Load("default");
        var stopwatch = Stopwatch.StartNew();
        var records = SimulatorTestData.Generate(scenario, SimulatorTestData.Options(100_000, seed: 3, rate: 2000));
        stopwatch.Stop();
        var requests = records.Count(r => r.Topic == TraceTopic.InferenceRequests);
        output.WriteLine($"generated {records.Count} records ({requests} requests) in {stopwatch.Elapsed.TotalSeconds:0.00} s = {records.Count / stopwatch.Elapsed.TotalSeconds:N0} records/s");
        Assert.Equal(100_000, requests);

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

        // JSON Schema evaluation is ~1000x slower than the decoder: a deterministic sample of both topics.
        var power = records.Where(r => r.Topic == TraceTopic.GpuPower).ToList();
        var sample = records.Where(r => r.Topic == TraceTopic.InferenceRequests).Where((_, i) => i % 25 == 0)
            .Concat(power.Where((_, i) => i % Math.Max(1, power.Count / 1000) == 0))
            .ToList();
        Assert.True(sample.Count >= 5000);
        foreach (var record in sample)
        {
            var topic = record.Topic == TraceTopic.InferenceRequests ? TelemetryTestData.Requests : TelemetryTestData.Power;
            var evaluation = TelemetryTestData.Evaluate(topic, JsonNode.Parse(record.Payload.Span));
            Assert.True(evaluation.IsValid, $"{TelemetryTestData.DescribeErrors(evaluation)}: {System.Text.Encoding.UTF8.GetString(record.Payload.Span)}");
        }
    }

    [Fact]
    public void Generate_Records_EventTimeOrderedAndSpanMatchesRate()
    {
        var scenario = SimulatorTestData.Load("agentic-kv");

        var records = SimulatorTestData.Generate(scenario, SimulatorTestData.Options(20_000, rate: 500));

        for (var i = 1; i < records.Count; i++)
        {
            Assert.True(records[i].EventTimeUnixMs >= records[i - 1].EventTimeUnixMs);
        }

        var span = (records[^1].EventTimeUnixMs - SimulatorTestData.Start.ToUnixTimeMilliseconds()) / 1000.0;
        Assert.InRange(span, 40 * 0.95, 40 * 1.05);
    }

    [Fact]
    public void Generate_PowerSamples_EnergyCountersMonotonicAndPowerFollowsUtilization()
    {
        var records = SimulatorTestData.Generate(SimulatorTestData.Quiet(), SimulatorTestData.Options(30_000, rate: 500));
        var samples = records.Where(r => r.Topic == TraceTopic.GpuPower).Select(r => JsonNode.Parse(r.Payload.Span)!.AsObject()).ToList();
        Assert.NotEmpty(samples);

        foreach (var gpu in samples.GroupBy(s => (string)s["gpu_uuid"]!))
        {
            var energies = gpu.Select(s => (double)s["energy_joules_total"]!).ToList();
            for (var i = 1; i < energies.Count; i++)
            {
                Assert.True(energies[i] > energies[i - 1], $"{gpu.Key} energy went from {energies[i - 1]} to {energies[i]}");
            }
        }

        var busy = samples.Where(s => (double)s["utilization"]! > 0.5).Average(s => (double)s["power_watts"]!);
        var idle = samples.Where(s => (double)s["utilization"]! < 0.2).Select(s => (double)s["power_watts"]!).DefaultIfEmpty(0).Average();
        output.WriteLine($"mean power: busy {busy:0} W, lightly loaded {idle:0} W; utilization mean {samples.Average(s => (double)s["utilization"]!):0.00}");
        foreach (var pool in samples.GroupBy(s => (string)s["pool"]!))
        {
            output.WriteLine($"{pool.Key}: mean utilization {pool.Average(s => (double)s["utilization"]!):0.00}, mean power {pool.Average(s => (double)s["power_watts"]!):0} W");
        }

        Assert.True(busy > idle);
    }

    [Fact]
    public void Generate_InvalidRate_EveryBadRecordRejectedWithItsIntendedReason()
    {
        var records = SimulatorTestData.Generate(SimulatorTestData.Quiet(), SimulatorTestData.Options(20_000, invalidRate: 0.1));
        var now = SimulatorTestData.DecodeNow(records);
        var decoder = new InferenceRequestDecoder();
        var power = new GpuPowerDecoder();
        var arena = new Utf8Arena();
        var seen = new HashSet<RejectReason>();
        var bad = 0;
        foreach (var record in records.Where(r => r.Topic == TraceTopic.InferenceRequests))
        {
            var result = SimulatorTestData.Decode(record, now, decoder, power, arena);
            if (record.IntendedReason is { } intended)
            {
                bad++;
                seen.Add(intended);
                Assert.True(result.Reason == intended, $"intended {intended.ToCode()}, got {result}");
            }
            else
            {
                Assert.True(result.IsSuccess, result.ToString());
            }
        }

        Assert.InRange(bad, 1_600, 2_400);
        Assert.Equal(RejectReasonCodes.All.OrderBy(r => r), seen.OrderBy(r => r));
    }

    private static byte[] Jsonl(IEnumerable<SimulatedRecord> records)
    {
        using var stream = new MemoryStream();
        JsonlTrace.Write(stream, records);
        return stream.ToArray();
    }
}
