using System.Globalization;
using System.Text;
using EfficiencyMonitor.Simulator.Generation;
using EfficiencyMonitor.Simulator.Scenarios;

namespace EfficiencyMonitor.Simulator.Traces;

/// <summary>Helpers for driving the simulator with a production trace: where each part of a record comes from, and when it starts.</summary>
public static class TraceReplay
{
    /// <summary>Trace formats <c>simulate --trace-format</c> accepts.</summary>
    public static IReadOnlyList<string> Formats { get; } = ["mooncake"];

    /// <summary>
    /// The default event time of the run's start when replaying <paramref name="span"/> of trace at <paramref name="speed"/>:
    /// early enough that no record is ever ahead of the wall clock (trace time <c>t</c> is sent at <c>now + t/speed</c> with
    /// event time <c>start + t</c>, so <c>start = now − span·(1 − 1/speed)</c>); the ingestion rejects timestamps in the future,
    /// and the replayed hour still spans an hour of event time, ending about now.
    /// </summary>
    public static DateTimeOffset DefaultStart(DateTimeOffset now, TimeSpan span, double speed)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(speed);
        return now - span * (1 - 1 / Math.Max(speed, 1));
    }

    /// <summary>Creates the generator for a trace.</summary>
    public static TraceGenerator CreateGenerator(Scenario scenario, GeneratorOptions options, IEnumerable<TraceArrival> arrivals) =>
        new(scenario, options, arrivals);

    /// <summary>Says which fields come from the trace and which the scenario supplies.</summary>
    public static string DescribeProvenance(Scenario scenario)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        var c = CultureInfo.InvariantCulture;
        var b = new StringBuilder();
        b.AppendLine("from the trace:    arrivals (started_at, rebased to --start), input_tokens, output_tokens, prefix identity (512-token block hashes)");
        b.AppendLine("from the KV model: cached_input_tokens per tier and recomputed_input_tokens (hash chains x the scenario's tier capacities, LRU, cache-aware routing)");
        b.AppendLine("from the physics:  queue/prefill/kv-load/transfer/decode ms, first_token_at, finished_at, gpu-power samples and energy");
        b.AppendLine(c, $"from scenario '{scenario.Name}' (the trace lacks them):");
        foreach (var d in scenario.Deployments)
        {
            var tiers = d.KvCache.Tiers;
            b.AppendLine(c, $"  deployment {d.Name}: model {d.Model}, {(d.Disaggregated ? "disaggregated" : "aggregated")}, pools {string.Join(", ", d.Pools.Select(p => string.Create(c, $"{p.Name} {p.Instances}x{p.GpusPerInstance} {p.GpuType}")))}");
            b.AppendLine(c, $"    KV tiers per instance: hbm {tiers[0].CapacityGb:N0} GB, dram {tiers[1].CapacityGb:N0} GB, local_ssd {tiers[2].CapacityGb:N0} GB; remote (shared) {tiers[3].CapacityGb:N0} GB");
        }

        foreach (var w in scenario.Workloads)
        {
            b.AppendLine(c, $"  workload {w.Name} (weight {w.Weight}): tenants {(w.Tenants.Count == 0 ? string.Join(", ", scenario.Tenants.Select(t => t.Name)) : string.Join(", ", w.Tenants))}; reasoning tokens {Describe(w.ReasoningTokens)} (taken out of output_length); status error {w.Status.Error:P2}, timeout {w.Status.Timeout:P2}, cancelled {w.Status.Cancelled:P2}, filtered {w.Status.Filtered:P2}");
        }

        b.Append("  not used with a trace: --rate, sessions, system prompts, documents, diurnal shape (the trace has its own)");
        return b.ToString();
    }

    private static string Describe(DistributionSpec d) => d.Shape switch
    {
        DistributionShape.Constant => d.Value.ToString("0.##", CultureInfo.InvariantCulture),
        DistributionShape.Uniform => string.Create(CultureInfo.InvariantCulture, $"uniform {d.Min}-{d.Max}"),
        _ => string.Create(CultureInfo.InvariantCulture, $"lognormal median {d.Value}"),
    };
}
