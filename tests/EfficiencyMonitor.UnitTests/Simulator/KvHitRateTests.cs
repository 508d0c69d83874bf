using System.Text.Json.Nodes;
using EfficiencyMonitor.Simulator.Generation;
using EfficiencyMonitor.Simulator.Scenarios;
using Xunit.Abstractions;

namespace EfficiencyMonitor.UnitTests.Simulator;

public sealed class KvHitRateTests(ITestOutputHelper output)
{
    [Fact]
    public void AgenticSessions_CapacitySuffices_PrefixReuseAfterFirstTurnAtLeast85Percent()
    {
        var stats = Measure(SimulatorTestData.Load("agentic-kv"));
        output.WriteLine(stats.ToString());

        Assert.True(stats.Reuse >= 0.85, stats.ToString());
    }

    [Fact]
    public void AgenticSessions_DramShrunk_ReuseMeasurablyLower()
    {
        var scenario = SimulatorTestData.Load("agentic-kv");
        var shrunk = scenario with
        {
            Incidents = [new IncidentSpec { Kind = IncidentKind.TierShrunk, AtSeconds = 0, Tier = KvTier.Dram, Factor = 0.05 }],
        };

        var normal = Measure(scenario);
        var small = Measure(shrunk);
        output.WriteLine($"normal: {normal}");
        output.WriteLine($"dram x0.05: {small}");

        Assert.True(small.Reuse < normal.Reuse - 0.05, $"reuse {small.Reuse:P1} vs {normal.Reuse:P1}");
        Assert.True(small.DramShare < normal.DramShare, $"dram share {small.DramShare:P1} vs {normal.DramShare:P1}");
    }

    [Fact]
    public void AgenticSessions_FirstTurn_ReusesOnlyTheSystemPrompt()
    {
        var records = SimulatorTestData.Generate(SimulatorTestData.Load("agentic-kv"), SimulatorTestData.Options(5_000, rate: 200));
        var requests = SimulatorTestData.RequestsById(records).Values.ToList();

        var first = requests.GroupBy(r => (string)r["session_id"]!).Select(g => g.First()).ToList();

        Assert.All(first, r => Assert.True(Cached(r) <= 6000, $"first turn reused {Cached(r)} tokens"));
    }

    /// <summary>Reuse over turns after the first, from the second half of the run (the caches are warm by then).</summary>
    private static HitStats Measure(Scenario scenario)
    {
        var records = SimulatorTestData.Generate(scenario, SimulatorTestData.Options(60_000, rate: 200));
        var requests = records.Where(r => r.Topic == TraceTopic.InferenceRequests).Select(r => JsonNode.Parse(r.Payload.Span)!.AsObject()).ToList();
        var seen = new HashSet<string>();
        long input = 0, cached = 0, dram = 0, hbm = 0;
        for (var i = 0; i < requests.Count; i++)
        {
            var r = requests[i];
            var firstTurn = seen.Add((string)r["session_id"]!);
            if (firstTurn || i < requests.Count / 2)
            {
                continue;
            }

            input += (long)r["input_tokens"]!;
            cached += Cached(r);
            hbm += (long)r["cached_input_tokens"]!["hbm"]!;
            dram += (long)r["cached_input_tokens"]!["dram"]!;
        }

        return new HitStats((double)cached / input, (double)hbm / input, (double)dram / input);
    }

    private static long Cached(JsonObject r)
    {
        var c = r["cached_input_tokens"]!;
        return (long)c["hbm"]! + (long)c["dram"]! + (long)c["local_ssd"]! + (long)c["remote"]!;
    }

    private sealed record HitStats(double Reuse, double HbmShare, double DramShare)
    {
        public override string ToString() => $"prefix reuse {Reuse:P1} (hbm {HbmShare:P1}, dram {DramShare:P1})";
    }
}
