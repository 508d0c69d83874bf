using EfficiencyMonitor.Core.Catalog;

namespace EfficiencyMonitor.Core.Accounting;

/// <summary>
/// Realized spend per successful output for one window and deployment (MODEL.md §2), as pure functions of the window's
/// rollups and the catalog entries in force at the window's start. Each term is its own function so it can be checked
/// against a hand-worked example.
/// </summary>
public static class RealizedSpend
{
    /// <summary>Tenant/model key that receives spend when the window had no requests at all (idle deployment).</summary>
    public const string Unattributed = "(unattributed)";

    /// <summary>Capacity, USD: per-GPU-second rate (ownership or rental) × GPUs × T.</summary>
    public static double CapacityUsd(HardwareEntry hardware, int gpus, double seconds)
    {
        ArgumentNullException.ThrowIfNull(hardware);
        return hardware.CapacityUsdPerGpuSecond() * gpus * seconds;
    }

    /// <summary>Host overhead energy, J: host watts per GPU × GPUs × T.</summary>
    public static double HostEnergyJoules(HardwareEntry hardware, int gpus, double seconds)
    {
        ArgumentNullException.ThrowIfNull(hardware);
        return hardware.HostWattsPerGpu * gpus * seconds;
    }

    /// <summary>Energy cost, USD: (GPU + host) J × PUE → kWh × $/kWh at <paramref name="at"/>.</summary>
    public static double EnergyUsd(FacilityEntry facility, double itJoules, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(facility);
        return itJoules * facility.Pue / Units.JoulesPerKwh * facility.EnergyUsdPerKwhAt(at);
    }

    /// <summary>Space and cooling, USD: GPUs × (TDP + host W)/1000 × $/kW-month × T/month.</summary>
    public static double SpaceUsd(HardwareEntry hardware, FacilityEntry facility, int gpus, double seconds)
    {
        ArgumentNullException.ThrowIfNull(hardware);
        ArgumentNullException.ThrowIfNull(facility);
        return gpus * (hardware.TdpWatts + hardware.HostWattsPerGpu) / 1000.0 * facility.SpaceCoolingUsdPerKwMonth * seconds / Units.SecondsPerMonth;
    }

    /// <summary>A storage tier, USD: provisioned GB × $/GB-month × T/month (0 when the tier is absent).</summary>
    public static double TierUsd(TierEntry? tier, double seconds) =>
        tier is null ? 0 : tier.ProvisionedGb * tier.UsdPerGbMonth * seconds / Units.SecondsPerMonth;

    /// <summary>Network, USD: KV bytes transferred / 10^9 × $/GB (0 without a network entry).</summary>
    public static double NetworkUsd(NetworkEntry? network, long kvBytes) =>
        network is null ? 0 : kvBytes / Units.BytesPerGb * network.UsdPerGb;

    /// <summary>Computes the deployment row and the tenant/model allocations of <paramref name="input"/>.</summary>
    /// <param name="input">The window's rollups.</param>
    /// <param name="pricing">Catalog entries in force at the window's start.</param>
    /// <param name="maxPowerGapMs">Longest gap between two samples of a GPU that is still bridged.</param>
    public static WindowResult Compute(WindowInput input, ResolvedPricing pricing, long maxPowerGapMs)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(pricing);
        var seconds = input.Seconds;
        var startMs = input.Start.ToUnixTimeMilliseconds();
        var endMs = input.End.ToUnixTimeMilliseconds();
        var facility = pricing.Facility;

        // --- per pool: GPUs that reported power in W, their energy, capacity and space -------------------------------
        var pools = new SortedDictionary<string, PoolCost>(StringComparer.Ordinal);
        int counterSegments = 0, trapezoidSegments = 0;
        double utilizationSum = 0, utilizationSamples = 0;
        foreach (var gpu in input.Power.GroupBy(m => m.GpuUuid, StringComparer.Ordinal))
        {
            var minutes = gpu.OrderBy(m => m.MinuteUnixMs).ToList();
            var inWindow = minutes.Where(m => m.MinuteUnixMs >= startMs && m.MinuteUnixMs < endMs).ToList();
            if (inWindow.Count == 0) continue;
            var last = inWindow[^1];
            var hardware = pricing.Hardware[last.GpuType];
            var energy = EnergyAccounting.ForGpu(minutes, startMs, endMs, maxPowerGapMs);
            counterSegments += energy.CounterSegments;
            trapezoidSegments += energy.TrapezoidSegments;
            utilizationSum += inWindow.Sum(m => m.UtilizationSum);
            utilizationSamples += inWindow.Sum(m => m.Samples);
            if (!pools.TryGetValue(last.Pool, out var pool)) pools[last.Pool] = pool = new PoolCost();
            pool.Gpus++;
            pool.GpuJoules += energy.Joules;
            pool.HostJoules += HostEnergyJoules(hardware, 1, seconds);
            pool.Capacity += CapacityUsd(hardware, 1, seconds);
            pool.Space += SpaceUsd(hardware, facility, 1, seconds);
        }

        foreach (var pool in pools.Values)
        {
            pool.Energy = EnergyUsd(facility, pool.GpuJoules + pool.HostJoules, input.Start);
        }

        var tiers = pricing.Deployment.Tiers;
        var tierDram = TierUsd(tiers.Dram, seconds);
        var tierSsd = TierUsd(tiers.LocalSsd, seconds);
        var tierRemote = TierUsd(tiers.Remote, seconds);

        // --- attribution keys and weights ---------------------------------------------------------------------------
        var keys = input.Requests.Select(r => (r.Tenant, r.Model))
            .Concat(input.Outcomes.Select(o => (o.Tenant, o.Model)))
            .Distinct().Order().ToList();
        var byKey = keys.ToDictionary(k => k, k => input.Requests.Where(r => (r.Tenant, r.Model) == k).ToList());
        var busyAll = Weights(keys, k => byKey[k].Sum(r => r.BusyMs));
        if (busyAll is null) busyAll = Weights(keys, k => byKey[k].Sum(r => (double)r.Requests));
        var note = new List<string>();
        if (busyAll is null)
        {
            keys = [(Unattributed, Unattributed)];
            byKey = new() { [keys[0]] = [] };
            busyAll = new() { [keys[0]] = 1.0 };
            note.Add("no requests in window: all spend unattributed");
        }

        var alloc = keys.ToDictionary(k => k, _ => new Allocation());
        foreach (var (name, pool) in pools)
        {
            var named = input.Requests.Any(r => r.PrefillPool == name || r.DecodePool == name);
            var weights = named
                ? Weights(keys, k => byKey[k].Sum(r => (r.PrefillPool == name ? r.PrefillSideMs : 0) + (r.DecodePool == name ? r.DecodeMs : 0)))
                : null;
            weights ??= busyAll;
            var poolBusy = named ? input.Requests.Sum(r => (r.PrefillPool == name ? r.PrefillSideMs : 0) + (r.DecodePool == name ? r.DecodeMs : 0)) : input.Requests.Sum(r => r.BusyMs);
            pool.BusyMs = poolBusy;
            foreach (var (k, share) in weights)
            {
                var a = alloc[k];
                a.Capacity += pool.Capacity * share;
                a.Energy += pool.Energy * share;
                a.Space += pool.Space * share;
                a.GpuSeconds += pool.Gpus * seconds * share;
                a.GpuJoules += pool.GpuJoules * share;
                a.HostJoules += pool.HostJoules * share;
            }
        }

        Spread(alloc, Weights(keys, k => byKey[k].Sum(r => (double)r.CachedDramTokens)) ?? busyAll, tierDram, (a, v) => a.TierDram += v);
        Spread(alloc, Weights(keys, k => byKey[k].Sum(r => (double)r.CachedLocalSsdTokens)) ?? busyAll, tierSsd, (a, v) => a.TierLocalSsd += v);
        Spread(alloc, Weights(keys, k => byKey[k].Sum(r => (double)r.CachedRemoteTokens)) ?? busyAll, tierRemote, (a, v) => a.TierRemote += v);
        var kvBytesTotal = input.Requests.Sum(r => r.KvBytesTransferred);
        Spread(alloc, Weights(keys, k => byKey[k].Sum(r => (double)r.KvBytesTransferred)) ?? busyAll, NetworkUsd(pricing.Deployment.Network, kvBytesTotal), (a, v) => a.Network += v);

        // --- cache value: recompute vs retrieve, priced at the prefill side's realized cost per busy ms ----------------
        var prefillPools = pools.Keys.Where(p => input.Requests.Any(r => r.PrefillPool == p)).ToList();
        if (prefillPools.Count == 0) prefillPools = [.. pools.Keys];
        var prefillCost = prefillPools.Sum(p => pools[p].Capacity + pools[p].Energy + pools[p].Space);
        var prefillBusy = prefillPools.Sum(p => pools[p].BusyMs);
        var usdPerBusyMs = prefillBusy > 0 ? prefillCost / prefillBusy : 0;
        var uncached = input.Requests.Sum(r => (double)(r.InputTokens - r.CachedHbmTokens - r.CachedDramTokens - r.CachedLocalSsdTokens - r.CachedRemoteTokens));
        var prefillMs = input.Requests.Sum(r => r.PrefillMs);
        var recomputePerToken = uncached > 0 ? usdPerBusyMs * prefillMs / uncached : 0;
        if (uncached <= 0 && input.Requests.Count > 0) note.Add("no uncached input tokens: recompute cost per token unknown, cache value not computed");

        // --- rows ----------------------------------------------------------------------------------------------------
        var policy = pricing.Policy;
        var rows = new List<EfficiencyRow>();
        foreach (var k in keys)
        {
            var a = alloc[k];
            var reqs = byKey[k];
            var successes = input.Outcomes.Where(o => (o.Tenant, o.Model) == k && policy.Counts(o.Status, o.Accepted, o.QualityCentile)).Sum(o => o.Requests);
            var terms = new SpendTerms(a.Capacity, a.Energy, a.Space, a.TierDram, a.TierLocalSsd, a.TierRemote, a.Network);
            rows.Add(Row(input, pricing, k.Tenant, k.Model, terms, reqs, successes, a.GpuSeconds, a.GpuJoules, a.HostJoules, recomputePerToken, usdPerBusyMs, []));
        }

        var direct = new SpendTerms(
            pools.Values.Sum(p => p.Capacity), pools.Values.Sum(p => p.Energy), pools.Values.Sum(p => p.Space), tierDram, tierSsd, tierRemote,
            NetworkUsd(pricing.Deployment.Network, kvBytesTotal));
        var gpus = pools.Values.Sum(p => p.Gpus);
        var utilization = utilizationSamples > 0 ? utilizationSum / utilizationSamples : 0;
        var total = Row(input, pricing, "", "", direct, input.Requests, rows.Sum(r => r.SuccessfulOutputs), gpus * seconds,
            pools.Values.Sum(p => p.GpuJoules), pools.Values.Sum(p => p.HostJoules), recomputePerToken, usdPerBusyMs, note) with
        {
            Gpus = gpus,
            Utilization = utilization,
            BusyGpuSeconds = utilization * gpus * seconds,
            CounterSegments = counterSegments,
            TrapezoidSegments = trapezoidSegments,
            // Cache value is linear in the allocations; the deployment's is their sum.
            CacheValue = new CacheValue(rows.Sum(r => r.CacheValue.Hbm), rows.Sum(r => r.CacheValue.Dram), rows.Sum(r => r.CacheValue.LocalSsd), rows.Sum(r => r.CacheValue.Remote)),
        };
        return new WindowResult(total, rows);
    }

    private static EfficiencyRow Row(
        WindowInput input, ResolvedPricing pricing, string tenant, string model, SpendTerms terms, IReadOnlyList<RequestAggregate> reqs, long successes,
        double gpuSeconds, double gpuJoules, double hostJoules, double recomputePerToken, double usdPerBusyMs, List<string> note)
    {
        var spend = terms.Total;
        var facilityJoules = (gpuJoules + hostJoules) * pricing.Facility.Pue;
        long input_ = reqs.Sum(r => r.InputTokens), output = reqs.Sum(r => r.OutputTokens);
        long dram = reqs.Sum(r => r.CachedDramTokens), ssd = reqs.Sum(r => r.CachedLocalSsdTokens), remote = reqs.Sum(r => r.CachedRemoteTokens), hbm = reqs.Sum(r => r.CachedHbmTokens);
        var notes = new List<string>(note);
        if (successes == 0) notes.Add("no successful output in window: spend reported, per-success figures null");

        // Value of tier t = tokens served × (recompute $/token − retrieval $/token), retrieval = load time at the prefill
        // side's $/busy-ms plus the tier's own (allocated) cost — the closed form avoids dividing by the token count.
        double Value(long tokens, double loadMs, double tierCost) => recomputePerToken > 0 ? tokens * recomputePerToken - usdPerBusyMs * loadMs - tierCost : 0;
        return new EfficiencyRow
        {
            Deployment = input.Deployment,
            Tenant = tenant,
            Model = model,
            WindowStart = input.Start,
            WindowSeconds = (int)Math.Round(input.Seconds),
            CatalogVersion = pricing.CatalogVersion,
            Spend = terms,
            ProvisionedGpuSeconds = gpuSeconds,
            GpuEnergyJoules = gpuJoules,
            HostEnergyJoules = hostJoules,
            FacilityEnergyJoules = facilityJoules,
            BusyMs = reqs.Sum(r => r.BusyMs),
            Requests = reqs.Sum(r => r.Requests),
            SuccessfulOutputs = successes,
            InputTokens = input_,
            OutputTokens = output,
            ReasoningTokens = reqs.Sum(r => r.ReasoningTokens),
            CachedTokens = hbm + dram + ssd + remote,
            KvBytesTransferred = reqs.Sum(r => r.KvBytesTransferred),
            SpendPerSuccess = successes > 0 ? spend / successes : null,
            UsdPerMillionOutputTokens = output > 0 ? spend / output * 1e6 : null,
            UsdPerMillionTotalTokens = input_ + output > 0 ? spend / (input_ + output) * 1e6 : null,
            OutputTokensPerJoule = facilityJoules > 0 ? output / facilityJoules : null,
            SuccessesPerKwh = facilityJoules > 0 ? successes / (facilityJoules / Units.JoulesPerKwh) : null,
            NoSuccess = successes == 0,
            RecomputeUsdPerToken = recomputePerToken,
            CacheValue = new CacheValue(
                Value(hbm, reqs.Sum(r => r.KvLoadHbmMs), 0),
                Value(dram, reqs.Sum(r => r.KvLoadDramMs), terms.TierDram),
                Value(ssd, reqs.Sum(r => r.KvLoadLocalSsdMs), terms.TierLocalSsd),
                Value(remote, reqs.Sum(r => r.KvLoadRemoteMs), terms.TierRemote)),
            Note = string.Join("; ", notes),
        };
    }

    /// <summary>Shares proportional to <paramref name="weight"/>, or null when every weight is zero.</summary>
    private static Dictionary<(string, string), double>? Weights(IReadOnlyList<(string Tenant, string Model)> keys, Func<(string, string), double> weight)
    {
        var raw = keys.ToDictionary(k => k, k => Math.Max(0, weight(k)));
        var sum = raw.Values.Sum();
        if (!(sum > 0)) return null;
        return raw.ToDictionary(kv => kv.Key, kv => kv.Value / sum);
    }

    private static void Spread(Dictionary<(string, string), Allocation> alloc, Dictionary<(string, string), double> shares, double cost, Action<Allocation, double> add)
    {
        foreach (var (k, share) in shares) add(alloc[k], cost * share);
    }

    private sealed class PoolCost
    {
        public int Gpus;
        public double GpuJoules, HostJoules, Capacity, Energy, Space, BusyMs;
    }

    private sealed class Allocation
    {
        public double Capacity, Energy, Space, TierDram, TierLocalSsd, TierRemote, Network, GpuSeconds, GpuJoules, HostJoules;
    }
}
