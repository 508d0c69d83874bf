using System.Globalization;
using EfficiencyMonitor.Simulator.Scenarios;

namespace EfficiencyMonitor.Simulator.Generation;

/// <summary>Runtime state of one pool: scaled instance count, offered-load average, and its GPUs' identities and energy counters.</summary>
internal sealed class PoolState
{
    private const double LoadTimeConstantSeconds = 5;
    private double _workRate;
    private double _lastTime = double.NaN;

    public PoolState(PoolSpec spec, GpuTypeSpec gpu, DeploymentSpec deployment, int instances, ulong seed)
    {
        Spec = spec;
        Gpu = gpu;
        DeploymentName = deployment.Name;
        Instances = instances;
        var count = instances * spec.GpusPerInstance;
        Nodes = new string[count];
        Uuids = new string[count];
        GpuIndex = new int[count];
        Energy = new double[count];
        for (var g = 0; g < count; g++)
        {
            // Eight GPUs per node, as in an HGX/OAM board; identities depend on names only, so they are stable across runs.
            Nodes[g] = string.Create(CultureInfo.InvariantCulture, $"{spec.Name}-node-{g / 8:D4}");
            GpuIndex[g] = g % 8;
            var h1 = SimRandom.Hash(SimRandom.HashString(spec.Name), (ulong)g, 1);
            var h2 = SimRandom.Hash(SimRandom.HashString(spec.Name), (ulong)g, 2);
            Uuids[g] = string.Create(CultureInfo.InvariantCulture, $"GPU-{h1 >> 32:x8}-{(h1 >> 16) & 0xFFFF:x4}-{h1 & 0xFFFF:x4}-{h2 >> 48:x4}-{h2 & 0xFFFFFFFFFFFF:x12}");
            // Counters start where a GPU that has been running for a while would be (DCGM counts since driver load).
            Energy[g] = Math.Round(1e7 + SimRandom.HashUnit(seed, h1, 3) * 5e8, 3);
        }
    }

    public PoolSpec Spec { get; }

    public GpuTypeSpec Gpu { get; }

    public string DeploymentName { get; }

    public int Instances { get; }

    public string[] Nodes { get; }

    public string[] Uuids { get; }

    public int[] GpuIndex { get; }

    public double[] Energy { get; }

    /// <summary>Current speed factor from throttling or a power cap (1 = nominal).</summary>
    public double Speed { get; set; } = 1;

    /// <summary>Current board power cap (∞ = none).</summary>
    public double PowerCapWatts { get; set; } = double.PositiveInfinity;

    /// <summary>Current injected error rate.</summary>
    public double ErrorRate { get; set; }

    /// <summary>Busy fraction: exponentially averaged offered busy instance-seconds per second over instances and speed.</summary>
    public double Load(double now)
    {
        Decay(now);
        return _workRate / (Instances * Speed);
    }

    /// <summary>Adds busy instance-seconds offered at <paramref name="now"/>.</summary>
    public void Offer(double now, double busySeconds)
    {
        Decay(now);
        _workRate += busySeconds / LoadTimeConstantSeconds;
    }

    private void Decay(double now)
    {
        if (double.IsNaN(_lastTime))
        {
            _lastTime = now;
            return;
        }

        if (now > _lastTime)
        {
            _workRate *= Math.Exp(-(now - _lastTime) / LoadTimeConstantSeconds);
            _lastTime = now;
        }
    }
}

/// <summary>Runtime state of a deployment: its pools, per-instance KV caches and the shared remote tier.</summary>
internal sealed class DeploymentState
{
    public DeploymentState(DeploymentSpec spec, ModelSpec model, PoolState prefill, PoolState decode)
    {
        Spec = spec;
        Model = model;
        Prefill = prefill;
        Decode = decode;
        KvBytesPerToken = model.KvBytesPerToken / model.KvCompressionRatio;
        for (var t = 0; t < 4; t++)
        {
            BaseCapacity[t] = (long)(spec.KvCache.Tiers[t].CapacityGb * 1e9);
        }

        Remote = new RemoteKvStore(BaseCapacity[3]);
        Caches = new InstanceKvCache[prefill.Instances];
        for (var i = 0; i < Caches.Length; i++)
        {
            Caches[i] = new InstanceKvCache(BaseCapacity[0], BaseCapacity[1], BaseCapacity[2], Remote);
        }
    }

    public DeploymentSpec Spec { get; }

    public ModelSpec Model { get; }

    public PoolState Prefill { get; }

    public PoolState Decode { get; }

    public double KvBytesPerToken { get; }

    public long[] BaseCapacity { get; } = new long[4];

    /// <summary>Capacity factors per tier now in force (tier_shrunk).</summary>
    public double[] CapacityFactor { get; } = [1, 1, 1, 1];

    /// <summary>Bandwidth factors per tier now in force (tier_degraded).</summary>
    public double[] BandwidthFactor { get; } = [1, 1, 1, 1];

    /// <summary>Extra latency per tier now in force (tier_degraded).</summary>
    public double[] ExtraLatencyMs { get; } = new double[4];

    public RemoteKvStore Remote { get; }

    public InstanceKvCache[] Caches { get; }

    public string ServingPattern => Spec.Disaggregated ? "disaggregated" : "aggregated";
}

/// <summary>A multi-turn session in progress.</summary>
internal sealed class SessionState
{
    public required string Id { get; init; }

    public required ulong Number { get; init; }

    public required int Tenant { get; init; }

    public required int Home { get; init; }

    public required int TurnsTotal { get; init; }

    public int Turn { get; set; }

    public List<(ulong Key, int Tokens)> Segments { get; } = [];

    public int ContextTokens { get; set; }

    public int NextNewTokens { get; set; }

    public int NextOutputTokens { get; set; }

    public int NextReasoningTokens { get; set; }
}

/// <summary>Runtime state of a workload class.</summary>
internal sealed class WorkloadState
{
    public required WorkloadSpec Spec { get; init; }

    public required DeploymentState Deployment { get; init; }

    public required int[] Tenants { get; init; }

    public required double[] TenantCdf { get; init; }

    public required ulong[] SystemKeys { get; init; }

    public double[]? DocumentCdf { get; init; }

    public bool HasSessions => Spec.Turns.Max > 1 || Spec.Turns.Value > 1;

    /// <summary>Sessions waiting for their next turn, by the earliest time it can finish.</summary>
    public PriorityQueue<SessionState, (double Ready, ulong Number)> Ready { get; } = new();
}
