using System.Globalization;
using EfficiencyMonitor.Core.Accounting;
using EfficiencyMonitor.Core.Catalog;

namespace EfficiencyMonitor.Core.Model;

/// <summary>Break-even bandwidth of one KV tier for the forecast's mean prefix (MODEL.md §3).</summary>
/// <param name="Tier">Tier name (<c>dram</c>, <c>local_ssd</c>, <c>remote</c>).</param>
/// <param name="TokensPerRequest">Mean prefix tokens served from the tier per request.</param>
/// <param name="BreakEvenGbPerS">Bandwidth above which loading beats recomputing, GB/s (NaN without hits, +∞ when the latency alone loses).</param>
/// <param name="TierGbPerS">The tier's catalog bandwidth, GB/s (NaN when the deployment has no such tier).</param>
public sealed record TierBreakEven(string Tier, double TokensPerRequest, double BreakEvenGbPerS, double TierGbPerS)
{
    /// <summary>True when the tier is fast enough that loading beats recomputing; null without hits or tier.</summary>
    public bool? LoadBeatsRecompute =>
        double.IsNaN(BreakEvenGbPerS) || double.IsNaN(TierGbPerS) ? null : TierGbPerS > BreakEvenGbPerS;
}

/// <summary>Busy GPU-seconds per request by component.</summary>
/// <param name="Prefill">Prefill compute.</param>
/// <param name="LoadHbm">KV load from HBM.</param>
/// <param name="LoadDram">KV load from DRAM.</param>
/// <param name="LoadLocalSsd">KV load from local SSD.</param>
/// <param name="LoadRemote">KV load from the remote store.</param>
/// <param name="Decode">Decode.</param>
public sealed record ForecastWork(double Prefill, double LoadHbm, double LoadDram, double LoadLocalSsd, double LoadRemote, double Decode)
{
    /// <summary>All busy GPU-seconds per request.</summary>
    public double Busy => Prefill + LoadHbm + LoadDram + LoadLocalSsd + LoadRemote + Decode;
}

/// <summary>What a forecast predicts (MODEL.md §3-4), evaluated with one catalog version at one instant.</summary>
public sealed record ForecastEvaluation
{
    /// <summary>Forecast name.</summary>
    public required string Name { get; init; }

    /// <summary>Deployment.</summary>
    public required string Deployment { get; init; }

    /// <summary>Catalog version used.</summary>
    public required string CatalogVersion { get; init; }

    /// <summary>Instant the catalog entries and energy price were taken at.</summary>
    public DateTimeOffset At { get; init; }

    /// <summary>Model served.</summary>
    public required string Model { get; init; }

    /// <summary>GPU type of the instances.</summary>
    public required string GpuType { get; init; }

    /// <summary>Whether prefill and decode run on separate pools.</summary>
    public bool Disaggregated { get; init; }

    /// <summary>The plan the validation compares production with (GPU-s per token per component, mix, prices, utilization).</summary>
    public required WorkloadPlan Plan { get; init; }

    /// <summary>Predicted spend per successful output, USD (null when it cannot be computed).</summary>
    public double? SpendPerSuccessUsd { get; init; }

    /// <summary>Predicted spend per hour at the planned rate, USD.</summary>
    public double SpendUsdPerHour { get; init; }

    /// <summary>Busy GPU-seconds per request by component.</summary>
    public required ForecastWork WorkPerRequest { get; init; }

    /// <summary>GPUs busy on average (busy GPU-seconds per second).</summary>
    public double BusyGpus { get; init; }

    /// <summary>GPUs provisioned: the fleet's, or busy GPUs / planned utilization.</summary>
    public double FleetGpus { get; init; }

    /// <summary>GPUs needed: <see cref="FleetGpus"/> rounded up to whole instances (for a fleet, the GPUs needed at 100 % busy rounded up).</summary>
    public int GpusNeeded { get; init; }

    /// <summary>GPUs per instance used for rounding (prefill + decode instance when disaggregated).</summary>
    public int GpusPerInstance { get; init; }

    /// <summary>Break-even bandwidth per tier below HBM.</summary>
    public required IReadOnlyList<TierBreakEven> BreakEven { get; init; }

    /// <summary>KV bytes per token.</summary>
    public double KvBytesPerToken { get; init; }

    /// <summary>Mean decode context: input + half the output, tokens.</summary>
    public double MeanContextTokens { get; init; }

    /// <summary>FLOPs per token at the mean context: <c>2·P_act + 4·L·d_attn·ctx</c>.</summary>
    public double FlopsPerToken { get; init; }

    /// <summary>Whether the decode step at the catalog batch and mean context is bound by memory (else compute).</summary>
    public bool DecodeMemoryBound { get; init; }

    /// <summary>Decode batch where the step turns compute-bound at the mean context (+∞ when never).</summary>
    public double CriticalBatch { get; init; }

    /// <summary>Catalog decode batch.</summary>
    public int DecodeBatch { get; init; }

    /// <summary>Warnings (e.g. a fleet too small for the work).</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];
}

/// <summary>
/// Evaluates a <see cref="ForecastSpec"/> with the predictive model (MODEL.md §3): the classes become
/// <see cref="RequestClass"/>es at their rate, the <see cref="ServingModel"/> gives busy GPU-seconds per component, and the
/// catalog's prices turn them into the <see cref="WorkloadPlan"/> and spend per successful output that validation compares
/// production with.
/// </summary>
public static class ForecastPlanner
{
    private static readonly (KvTier Tier, string Name)[] LowerTiers = [(KvTier.Dram, "dram"), (KvTier.LocalSsd, "local_ssd"), (KvTier.Remote, "remote")];

    /// <summary>The plan of <paramref name="spec"/> (what the validation runner compares windows with).</summary>
    /// <exception cref="ForecastException">The spec is invalid.</exception>
    /// <exception cref="CatalogException">The catalog lacks an entry the forecast needs.</exception>
    public static WorkloadPlan ToPlan(ForecastSpec spec, CostCatalog catalog, DateTimeOffset at) => Evaluate(spec, catalog, at).Plan;

    /// <summary>The deployment's <see cref="ServingModel"/> and pricing entries at <paramref name="at"/>.</summary>
    /// <exception cref="CatalogException">Missing entries, all listed.</exception>
    public static (ServingModel Model, ResolvedPricing Pricing) Resolve(CostCatalog catalog, string deployment, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        var dep = CostCatalog.EffectiveAt(catalog.Deployments.Where(d => d.Name == deployment), at)
            ?? throw new CatalogException($"catalog {catalog.Version}: no deployments entry '{deployment}' effective at {at:O}; fix: use one of {string.Join(", ", catalog.Deployments.Select(d => d.Name).Distinct())}");
        var serving = dep.Serving
            ?? throw new CatalogException($"catalog {catalog.Version}: deployment '{deployment}' has no serving section; fix: add serving: (gpu_type, precision, gpus per instance, decode_batch, mfu/mbu) to deploy/catalog/deployments.yaml");
        var pricing = catalog.Resolve(deployment, at, [serving.GpuType]);
        return (new ServingModel(pricing.Deployment, pricing.Model, pricing.Hardware[serving.GpuType]), pricing);
    }

    /// <summary>Evaluates <paramref name="spec"/> with <paramref name="catalog"/>'s entries effective at <paramref name="at"/>.</summary>
    /// <exception cref="ForecastException">The spec is invalid.</exception>
    /// <exception cref="CatalogException">The catalog lacks an entry the forecast needs.</exception>
    public static ForecastEvaluation Evaluate(ForecastSpec spec, CostCatalog catalog, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(catalog);
        var problems = ForecastSpecValidator.Validate(spec);
        if (problems.Count > 0) throw new ForecastException(problems);
        var (model, pricing) = Resolve(catalog, spec.Deployment, at);
        var hardware = model.Hardware;
        var facility = pricing.Facility;
        var deployment = pricing.Deployment;
        var notes = new List<string>();

        // Per second of planned traffic: each class's requests/s as the weight.
        var total = default(RequestWork);
        double rate = 0, input = 0, uncached = 0, output = 0, reasoning = 0;
        double hbm = 0, dram = 0, ssd = 0, remote = 0;
        foreach (var c in spec.Classes)
        {
            var rc = ToRequestClass(c, spec.RequestsPerSecond);
            total.Add(model.Evaluate(rc), rc.Count);
            rate += rc.Count;
            input += rc.Count * rc.Input;
            uncached += rc.Count * rc.Uncached;
            output += rc.Count * rc.Output;
            reasoning += rc.Count * c.ReasoningTokens;
            hbm += rc.Count * rc.CachedHbm;
            dram += rc.Count * rc.CachedDram;
            ssd += rc.Count * rc.CachedLocalSsd;
            remote += rc.Count * rc.CachedRemote;
        }

        var busyGpus = total.Busy;
        double fleetGpus, utilization;
        if (spec.Fleet is { } fleet)
        {
            fleetGpus = fleet.Gpus;
            utilization = busyGpus / fleetGpus;
            if (utilization > 1)
                notes.Add(string.Create(CultureInfo.InvariantCulture, $"the fleet of {fleet.Gpus} GPUs is too small: the work keeps {busyGpus:0.#} GPUs busy (utilization {utilization:P0})"));
        }
        else
        {
            utilization = spec.Utilization!.Value;
            fleetGpus = busyGpus / utilization;
        }

        // Fixed $ per provisioned GPU-second: capacity and space per GPU, plus the deployment's tiers and network spread over the fleet.
        var tiersUsdPerS = RealizedSpend.TierUsd(deployment.Tiers.Dram, 1) + RealizedSpend.TierUsd(deployment.Tiers.LocalSsd, 1) + RealizedSpend.TierUsd(deployment.Tiers.Remote, 1);
        var networkUsdPerS = deployment.Network is { } n ? total.TransferBytes / Units.BytesPerGb * n.UsdPerGb : 0;
        var perGpu = RealizedSpend.CapacityUsd(hardware, 1, 1) + RealizedSpend.SpaceUsd(hardware, facility, 1, 1);
        var fixedUsdPerGpuSecond = perGpu + (fleetGpus > 0 ? (tiersUsdPerS + networkUsdPerS) / fleetGpus : 0);
        var energyUsdPerS = RealizedSpend.EnergyUsd(facility, model.ItEnergyJoules(fleetGpus, busyGpus), at);
        var energyUsdPerBusyGpuSecond = busyGpus > 0 ? energyUsdPerS / busyGpus : 0;

        static double PerToken(double gpuSeconds, double tokens) => tokens > 0 ? gpuSeconds / tokens : 0;
        static double Share(double part, double whole) => whole > 0 ? part / whole : 0;
        var plan = new WorkloadPlan
        {
            Source = $"forecast {spec.Name} ({spec.Deployment}, catalog {catalog.Version})",
            RequestsPerSecond = spec.RequestsPerSecond,
            SuccessRate = spec.SuccessRate,
            Utilization = utilization,
            InputTokens = Share(input, rate),
            OutputTokens = Share(output, rate),
            ReasoningTokens = Share(reasoning, rate),
            HitRateHbm = Share(hbm, input),
            HitRateDram = Share(dram, input),
            HitRateLocalSsd = Share(ssd, input),
            HitRateRemote = Share(remote, input),
            PrefillGpuSecondsPerToken = PerToken(total.Prefill, uncached),
            LoadHbmGpuSecondsPerToken = PerToken(total.LoadHbm, hbm),
            LoadDramGpuSecondsPerToken = PerToken(total.LoadDram, dram),
            LoadLocalSsdGpuSecondsPerToken = PerToken(total.LoadLocalSsd, ssd),
            LoadRemoteGpuSecondsPerToken = PerToken(total.LoadRemote, remote),
            DecodeGpuSecondsPerToken = PerToken(total.Decode, output),
            FixedUsdPerGpuSecond = fixedUsdPerGpuSecond,
            EnergyUsdPerBusyGpuSecond = energyUsdPerBusyGpuSecond,
        };

        // Break-even per tier for the mean prefix (as the window validation reports it).
        var meanPrefix = Share(hbm + dram + ssd + remote, rate);
        var breakEven = new List<TierBreakEven>();
        foreach (var (tier, name) in LowerTiers)
        {
            var tokens = Share(tier switch { KvTier.Dram => dram, KvTier.LocalSsd => ssd, _ => remote }, rate);
            var bw = tokens > 0 ? model.BreakEvenBandwidth(tier, tokens, Math.Max(0, meanPrefix - tokens)) / Units.BytesPerGb : double.NaN;
            var entry = tier switch { KvTier.Dram => deployment.Tiers.Dram, KvTier.LocalSsd => deployment.Tiers.LocalSsd, _ => deployment.Tiers.Remote };
            breakEven.Add(new TierBreakEven(name, tokens, bw, entry?.BandwidthGbPerS ?? double.NaN));
            if (tokens > 0 && entry is null)
                notes.Add($"the forecast serves {tokens:0} tokens per request from {name}, but deployment '{deployment.Name}' has no {name} tier (they cost nothing here)");
        }

        var serving = model.Serving;
        var context = Share(input + 0.5 * output, rate);
        var perInstance = serving.Disaggregated ? serving.PrefillGpusPerInstance + serving.DecodeGpusPerInstance : Math.Max(serving.PrefillGpusPerInstance, serving.DecodeGpusPerInstance);
        var needed = spec.Fleet is null ? fleetGpus : busyGpus;
        var gpusNeeded = (int)Math.Min(int.MaxValue, Math.Ceiling(needed / perInstance - 1e-9) * perInstance);
        var spendPerSuccess = EfficiencyProfile.FromPlan(plan).SpendPerSuccess(plan.Utilization);
        return new ForecastEvaluation
        {
            Name = spec.Name,
            Deployment = spec.Deployment,
            CatalogVersion = catalog.Version,
            At = at,
            Model = model.Model.Name,
            GpuType = hardware.GpuType,
            Disaggregated = serving.Disaggregated,
            Plan = plan,
            SpendPerSuccessUsd = spendPerSuccess,
            SpendUsdPerHour = (fixedUsdPerGpuSecond * fleetGpus + energyUsdPerS) * 3600,
            WorkPerRequest = new ForecastWork(
                Share(total.Prefill, rate), Share(total.LoadHbm, rate), Share(total.LoadDram, rate), Share(total.LoadLocalSsd, rate), Share(total.LoadRemote, rate), Share(total.Decode, rate)),
            BusyGpus = busyGpus,
            FleetGpus = fleetGpus,
            GpusNeeded = Math.Max(perInstance, gpusNeeded),
            GpusPerInstance = perInstance,
            BreakEven = breakEven,
            KvBytesPerToken = model.KvBytesPerToken,
            MeanContextTokens = context,
            FlopsPerToken = ModelFigures.FlopsPerToken(model.Model, context),
            DecodeMemoryBound = model.DecodeStepTime(serving.DecodeBatch, context).MemoryBound,
            CriticalBatch = model.CriticalBatch(context),
            DecodeBatch = serving.DecodeBatch,
            Notes = notes,
        };
    }

    /// <summary>
    /// A forecast class as the model's <see cref="RequestClass"/>: <c>share × rate</c> requests, cached tokens per tier =
    /// input × hit rate, every request of the class loading from a tier it has tokens in.
    /// </summary>
    public static RequestClass ToRequestClass(ForecastClass c, double requestsPerSecond)
    {
        ArgumentNullException.ThrowIfNull(c);
        var h = c.HitRates ?? new ForecastHitRates();
        var rc = new RequestClass
        {
            Count = c.Share * requestsPerSecond,
            CachedHbm = c.InputTokens * h.Hbm,
            CachedDram = c.InputTokens * h.Dram,
            CachedLocalSsd = c.InputTokens * h.LocalSsd,
            CachedRemote = c.InputTokens * h.Remote,
            Output = c.OutputTokens,
        };
        rc.Uncached = Math.Max(0, c.InputTokens - rc.Prefix);
        rc.LoadsDram = rc.CachedDram > 0 ? 1 : 0;
        rc.LoadsLocalSsd = rc.CachedLocalSsd > 0 ? 1 : 0;
        rc.LoadsRemote = rc.CachedRemote > 0 ? 1 : 0;
        return rc;
    }
}
