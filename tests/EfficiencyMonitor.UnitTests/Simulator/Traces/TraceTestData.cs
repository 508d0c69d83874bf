using EfficiencyMonitor.Simulator.Generation;
using EfficiencyMonitor.Simulator.Scenarios;
using EfficiencyMonitor.Simulator.Traces;

namespace EfficiencyMonitor.UnitTests.Simulator.Traces;

/// <summary>The real Mooncake trace (outside the repository, in the shared data folder) and trace-driven generation helpers.</summary>
internal static class TraceTestData
{
    /// <summary>Requests in the Mooncake conversation trace.</summary>
    public const int MooncakeRequests = 12_031;

    /// <summary><c>EM_MOONCAKE_TRACE</c>, else <c>../shared/data/traces/mooncake-conversation.jsonl</c> beside the repository.</summary>
    public static string MooncakePath
    {
        get
        {
            if (Environment.GetEnvironmentVariable("EM_MOONCAKE_TRACE") is { Length: > 0 } path)
            {
                return path;
            }

            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "EfficiencyMonitor.sln")))
                {
                    var candidate = Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared", "data", "traces", "mooncake-conversation.jsonl"));
                    return File.Exists(candidate)
                        ? candidate
                        : throw new FileNotFoundException($"the Mooncake trace is not at {candidate}; set EM_MOONCAKE_TRACE to its path", candidate);
                }
            }

            throw new InvalidOperationException("no EfficiencyMonitor.sln above the test binaries");
        }
    }

    public static Scenario Scenario() => SimulatorTestData.Load("mooncake-conversation");

    /// <summary>The scenario with its one deployment's tier capacities (GB per instance; remote shared) replaced.</summary>
    public static Scenario WithCapacities(Scenario scenario, double hbm, double dram, double ssd, double remote = 0)
    {
        var dep = scenario.Deployments[0];
        double[] gb = [hbm, dram, ssd, remote];
        var tiers = dep.KvCache.Tiers.Select((t, i) => t with { CapacityGb = gb[i] }).ToList();
        return scenario with { Deployments = [dep with { KvCache = dep.KvCache with { Tiers = tiers } }] };
    }

    public static List<SimulatedRecord> Generate(Scenario scenario, IEnumerable<TraceArrival> arrivals, bool power = true) =>
        new TraceGenerator(scenario, new GeneratorOptions { Start = SimulatorTestData.Start, Seed = 5, Rate = scenario.ReferenceRate, PowerSamples = power }, arrivals)
            .Generate().ToList();

    /// <summary>Input tokens served from each tier (hbm, dram, local_ssd, remote) and recomputed, as shares of all input tokens.</summary>
    public static TierShares Shares(IEnumerable<SimulatedRecord> records)
    {
        long input = 0, recomputed = 0;
        var tiers = new long[4];
        foreach (var r in records)
        {
            if (r.Topic != TraceTopic.InferenceRequests)
            {
                continue;
            }

            var o = System.Text.Json.Nodes.JsonNode.Parse(r.Payload.Span)!.AsObject();
            input += (long)o["input_tokens"]!;
            recomputed += (long)o["recomputed_input_tokens"]!;
            var cached = o["cached_input_tokens"]!.AsObject();
            tiers[0] += (long)cached["hbm"]!;
            tiers[1] += (long)cached["dram"]!;
            tiers[2] += (long)cached["local_ssd"]!;
            tiers[3] += (long)cached["remote"]!;
        }

        return new TierShares(tiers[0] / (double)input, tiers[1] / (double)input, tiers[2] / (double)input, tiers[3] / (double)input, recomputed / (double)input);
    }
}

internal readonly record struct TierShares(double Hbm, double Dram, double LocalSsd, double Remote, double Recomputed)
{
    public double Hit => Hbm + Dram + LocalSsd + Remote;

    public override string ToString() =>
        $"hit {Hit:P2} = hbm {Hbm:P2} + dram {Dram:P2} + ssd {LocalSsd:P2} + remote {Remote:P2}; recomputed {Recomputed:P2}";
}
