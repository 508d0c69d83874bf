using System.Text.Json.Nodes;
using EfficiencyMonitor.Core.Telemetry;
using EfficiencyMonitor.Simulator.Generation;
using EfficiencyMonitor.Simulator.Scenarios;
using EfficiencyMonitor.UnitTests.Telemetry;

namespace EfficiencyMonitor.UnitTests.Simulator;

/// <summary>Scenario files and generation helpers shared by the simulator tests.</summary>
internal static class SimulatorTestData
{
    public static readonly DateTimeOffset Start = new(2025, 6, 1, 12, 0, 0, TimeSpan.Zero);

    public static string ScenarioDirectory => Path.Combine(TelemetryTestData.Directory, "..", "..", "deploy", "scenarios");

    public static Scenario Load(string name) => ScenarioLoader.LoadFile(Path.Combine(ScenarioDirectory, name + ".yaml"));

    /// <summary>The default scenario without its incident schedule.</summary>
    public static Scenario Quiet() => Load("default") with { Incidents = [] };

    public static GeneratorOptions Options(long count, ulong seed = 7, double rate = 1000, double invalidRate = 0) =>
        new() { Start = Start, Seed = seed, Rate = rate, Count = count, InvalidRate = invalidRate };

    public static List<SimulatedRecord> Generate(Scenario scenario, GeneratorOptions options) =>
        new TraceGenerator(scenario, options).Generate().ToList();

    /// <summary>Decoding "now": after every generated timestamp, as an ingesting consumer would see it.</summary>
    public static DateTimeOffset DecodeNow(IReadOnlyList<SimulatedRecord> records) =>
        DateTimeOffset.FromUnixTimeMilliseconds(records.Count == 0 ? 0 : records[^1].EventTimeUnixMs) + TimeSpan.FromSeconds(1);

    public static Dictionary<string, JsonObject> RequestsById(IEnumerable<SimulatedRecord> records) =>
        records.Where(r => r.Topic == TraceTopic.InferenceRequests)
            .Select(r => JsonNode.Parse(r.Payload.Span)!.AsObject())
            .ToDictionary(o => (string)o["request_id"]!);

    public static Dictionary<string, JsonObject> PowerByGpuAndTime(IEnumerable<SimulatedRecord> records) =>
        records.Where(r => r.Topic == TraceTopic.GpuPower)
            .Select(r => JsonNode.Parse(r.Payload.Span)!.AsObject())
            .ToDictionary(o => $"{(string)o["gpu_uuid"]!}@{(string)o["sampled_at"]!}");

    public static DecodeResult Decode(SimulatedRecord record, DateTimeOffset now, InferenceRequestDecoder requests, GpuPowerDecoder power, Utf8Arena arena)
    {
        if (record.Topic == TraceTopic.InferenceRequests)
        {
            var row = default(InferenceRequestRow);
            return requests.Decode(record.Payload.Span, now, arena, ref row);
        }

        var powerRow = default(GpuPowerRow);
        return power.Decode(record.Payload.Span, now, ref powerRow);
    }
}
