using System.Text.Json.Nodes;
using EfficiencyMonitor.Simulator.Generation;
using EfficiencyMonitor.Simulator.Scenarios;
using Xunit.Abstractions;

namespace EfficiencyMonitor.UnitTests.Simulator;

/// <summary>
/// Each incident against the same seed without it: records of other deployments and pools are byte-identical, affected
/// records differ only in the fields the incident acts on (directly or through the pool's load), and the primary field moves.
/// </summary>
public sealed class IncidentTests(ITestOutputHelper output)
{
    private const double At = 20;
    private static readonly string[] Timing = ["started_at", "first_token_at", "queue_ms"];
    private static readonly string[] Cache = ["cached_input_tokens", "recomputed_input_tokens", "kv_load_ms", "kv_bytes_transferred", "prefill_ms"];
    private static readonly string[] PowerFields = ["power_watts", "energy_joules_total", "utilization", "memory_used_bytes"];

    public static TheoryData<string> Kinds() => ["tier_shrunk", "tier_degraded", "reasoning_surge", "power_cap", "thermal_throttle", "pool_errors", "price_change"];

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Incident_OnVersusOff_ChangesOnlyItsFields(string kind)
    {
        var (incident, deployment, pools, allowed, primary) = Case(kind);
        var quiet = SimulatorTestData.Quiet();
        var options = SimulatorTestData.Options(30_000, seed: 11, rate: 200);

        var off = SimulatorTestData.Generate(quiet, options);
        var on = SimulatorTestData.Generate(quiet with { Incidents = [incident] }, options);

        var offRequests = SimulatorTestData.RequestsById(off);
        var onRequests = SimulatorTestData.RequestsById(on);
        Assert.Equal(offRequests.Keys.Order(), onRequests.Keys.Order());
        var changedPrimary = 0;
        var changedRecords = 0;
        foreach (var (id, before) in offRequests)
        {
            var after = onRequests[id];
            var changed = ChangedFields(before, after);
            if (changed.Count == 0)
            {
                continue;
            }

            changedRecords++;
            Assert.True((string)before["deployment"]! == deployment, $"{kind}: {id} of {before["deployment"]} changed: {string.Join(", ", changed)}");
            Assert.True(Finished(before) >= At, $"{kind}: {id} finished before the incident but changed");
            var unexpected = changed.Except(allowed).ToList();
            Assert.True(unexpected.Count == 0, $"{kind}: {id} changed {string.Join(", ", unexpected)}");
            if (primary is not null && changed.Contains(primary))
            {
                changedPrimary++;
            }
        }

        var offPower = SimulatorTestData.PowerByGpuAndTime(off);
        var onPower = SimulatorTestData.PowerByGpuAndTime(on);
        Assert.Equal(offPower.Keys.Order(), onPower.Keys.Order());
        var changedPower = 0;
        foreach (var (key, before) in offPower)
        {
            var changed = ChangedFields(before, onPower[key]);
            if (changed.Count == 0)
            {
                continue;
            }

            changedPower++;
            Assert.True(pools.Contains((string)before["pool"]!), $"{kind}: power of pool {before["pool"]} changed: {string.Join(", ", changed)}");
            Assert.Empty(changed.Except(PowerFields));
        }

        output.WriteLine($"{kind}: {changedRecords} request records changed ({changedPrimary} in {primary ?? "-"}), {changedPower} power samples changed");
        if (primary is null)
        {
            Assert.Equal(0, changedRecords);
            Assert.Equal(0, changedPower);
        }
        else
        {
            Assert.True(changedPrimary > 0, $"{kind}: no record changed {primary}");
        }
    }

    private static (IncidentSpec Incident, string Deployment, string[] Pools, string[] Allowed, string? Primary) Case(string kind) => kind switch
    {
        "tier_shrunk" => (
            new IncidentSpec { Kind = IncidentKind.TierShrunk, AtSeconds = At, Deployment = "deepseek-v3-agent", Tier = KvTier.Hbm, Factor = 0.02 },
            "deepseek-v3-agent", ["prefill-h200"], [.. Timing, .. Cache], "cached_input_tokens"),
        "tier_degraded" => (
            new IncidentSpec { Kind = IncidentKind.TierDegraded, AtSeconds = At, Deployment = "deepseek-v3-agent", Tier = KvTier.Hbm, Factor = 0.01, ExtraLatencyMs = 5 },
            "deepseek-v3-agent", ["prefill-h200"], [.. Timing, .. Cache], "kv_load_ms"),
        "reasoning_surge" => (
            new IncidentSpec { Kind = IncidentKind.ReasoningSurge, AtSeconds = At, Workloads = ["reasoning"], Factor = 1.6 },
            "deepseek-r1-reasoning", ["agg-mi300x"], [.. Timing, "output_tokens", "reasoning_tokens", "decode_ms"], "reasoning_tokens"),
        "power_cap" => (
            new IncidentSpec { Kind = IncidentKind.PowerCap, AtSeconds = At, Pool = "agg-h100", Watts = 400 },
            "llama-70b-chat-prod", ["agg-h100"], [.. Timing, .. Cache, "decode_ms"], "decode_ms"),
        "thermal_throttle" => (
            new IncidentSpec { Kind = IncidentKind.ThermalThrottle, AtSeconds = At, Pool = "decode-h200", Factor = 0.7 },
            "deepseek-v3-agent", ["decode-h200"], [.. Timing, "decode_ms"], "decode_ms"),
        "pool_errors" => (
            new IncidentSpec { Kind = IncidentKind.PoolErrors, AtSeconds = At, Pool = "agg-mi300x", ErrorRate = 0.3 },
            "deepseek-r1-reasoning", [], [.. Timing, "status", "output_tokens", "reasoning_tokens", "decode_ms", "quality_score", "accepted"], "status"),
        "price_change" => (
            new IncidentSpec { Kind = IncidentKind.PriceChange, AtSeconds = At, Item = "gpu_hour:H100-SXM5-80GB", Factor = 1.25 },
            "-", [], [], null),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    private static double Finished(JsonObject record) =>
        (DateTimeOffset.Parse((string)record["finished_at"]!, System.Globalization.CultureInfo.InvariantCulture) - SimulatorTestData.Start).TotalSeconds;

    private static List<string> ChangedFields(JsonObject before, JsonObject after) =>
        before.Select(p => p.Key).Union(after.Select(p => p.Key))
            .Where(k => before[k]?.ToJsonString() != after[k]?.ToJsonString())
            .ToList();
}
