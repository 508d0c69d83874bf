namespace EfficiencyMonitor.Simulator.Scenarios;

/// <summary>
/// A simulated fleet and its traffic, loaded from <c>deploy/scenarios/*.yaml</c> by <see cref="ScenarioLoader"/>.
/// Every figure is the scenario's, never a literal in the generator.
/// </summary>
public sealed record Scenario
{
    /// <summary>Scenario name.</summary>
    public required string Name { get; init; }

    /// <summary>What the scenario is for.</summary>
    public string? Description { get; init; }

    /// <summary>Request rate (records/s) the pools' instance counts are sized for; the simulator scales instances with <c>--rate</c>.</summary>
    public required double ReferenceRate { get; init; }

    /// <summary>Seconds of event time between two power samples of every GPU.</summary>
    public required double PowerSampleIntervalSeconds { get; init; }

    /// <summary>Diurnal shape of the arrival rate.</summary>
    public required DiurnalShape Diurnal { get; init; }

    /// <summary>Accelerator figures used for power.</summary>
    public required IReadOnlyList<GpuTypeSpec> GpuTypes { get; init; }

    /// <summary>Models served.</summary>
    public required IReadOnlyList<ModelSpec> Models { get; init; }

    /// <summary>Tenants, mixed by weight.</summary>
    public required IReadOnlyList<TenantSpec> Tenants { get; init; }

    /// <summary>Deployments (pools, KV tiers, service physics).</summary>
    public required IReadOnlyList<DeploymentSpec> Deployments { get; init; }

    /// <summary>Workload classes, mixed by weight (share of requests).</summary>
    public required IReadOnlyList<WorkloadSpec> Workloads { get; init; }

    /// <summary>Scheduled incidents.</summary>
    public IReadOnlyList<IncidentSpec> Incidents { get; init; } = [];
}

/// <summary>Arrival-rate multiplier <c>1 + amplitude·cos(2π(hour − peak)/24)</c>; its daily mean is 1, so <c>--rate</c> is the mean rate.</summary>
public sealed record DiurnalShape
{
    /// <summary>0 (flat) to 0.95.</summary>
    public double Amplitude { get; init; }

    /// <summary>UTC hour of the peak.</summary>
    public double PeakHourUtc { get; init; } = 15;
}

/// <summary>Accelerator power figures.</summary>
public sealed record GpuTypeSpec
{
    /// <summary>Catalog key, e.g. <c>H100-SXM5-80GB</c>.</summary>
    public required string Name { get; init; }

    /// <summary>Board power when idle.</summary>
    public required double IdleWatts { get; init; }

    /// <summary>Board power at full load (TDP).</summary>
    public required double MaxWatts { get; init; }

    /// <summary>Memory per GPU.</summary>
    public required double MemoryGb { get; init; }
}

/// <summary>A served model.</summary>
public sealed record ModelSpec
{
    /// <summary>Model name as the engine reports it.</summary>
    public required string Name { get; init; }

    /// <summary>KV cache bytes per token before compression.</summary>
    public required double KvBytesPerToken { get; init; }

    /// <summary>Uncompressed / stored KV size (1 = none).</summary>
    public double KvCompressionRatio { get; init; } = 1;

    /// <summary>Longest context; a session that would exceed it starts over.</summary>
    public int MaxContextTokens { get; init; } = 131_072;
}

/// <summary>A tenant.</summary>
public sealed record TenantSpec
{
    /// <summary>Tenant name.</summary>
    public required string Name { get; init; }

    /// <summary>Relative weight when a workload does not pin its tenants.</summary>
    public double Weight { get; init; } = 1;
}

/// <summary>What a pool does.</summary>
public enum PoolRole
{
    /// <summary>Prefill and decode on the same workers.</summary>
    Aggregated,

    /// <summary>Prefill workers of a disaggregated deployment.</summary>
    Prefill,

    /// <summary>Decode workers of a disaggregated deployment.</summary>
    Decode,
}

/// <summary>A worker pool.</summary>
public sealed record PoolSpec
{
    /// <summary>Pool name (unique in the scenario).</summary>
    public required string Name { get; init; }

    /// <summary>Role.</summary>
    public required PoolRole Role { get; init; }

    /// <summary>Accelerator type (a <see cref="GpuTypeSpec"/> name).</summary>
    public required string GpuType { get; init; }

    /// <summary>Serving instances at <see cref="Scenario.ReferenceRate"/>.</summary>
    public required int Instances { get; init; }

    /// <summary>GPUs per instance (tensor parallel degree).</summary>
    public required int GpusPerInstance { get; init; }
}

/// <summary>KV tiers, Dynamo's G1–G4.</summary>
public enum KvTier
{
    /// <summary>GPU memory.</summary>
    Hbm = 0,

    /// <summary>CPU memory.</summary>
    Dram = 1,

    /// <summary>Local flash.</summary>
    LocalSsd = 2,

    /// <summary>Shared storage.</summary>
    Remote = 3,
}

/// <summary>One KV tier: capacity (per instance; for <c>remote</c>, shared by the deployment), bandwidth and first-byte latency.</summary>
public sealed record TierSpec
{
    /// <summary>Capacity in GB (0 = tier absent).</summary>
    public required double CapacityGb { get; init; }

    /// <summary>Effective bandwidth to the GPU, GB/s.</summary>
    public required double BandwidthGbPerSecond { get; init; }

    /// <summary>First-byte latency, ms.</summary>
    public required double LatencyMs { get; init; }
}

/// <summary>The deployment's KV cache hierarchy.</summary>
public sealed record KvCacheSpec
{
    /// <summary>Tiers indexed by <see cref="KvTier"/>.</summary>
    public required IReadOnlyList<TierSpec> Tiers { get; init; }

    /// <summary>Probability a session turn lands on its home instance.</summary>
    public double SessionAffinity { get; init; } = 0.95;

    /// <summary>Prefill→decode link, GB/s (disaggregated).</summary>
    public double NetworkGbPerSecond { get; init; } = 50;

    /// <summary>Prefill→decode link latency, ms.</summary>
    public double NetworkLatencyMs { get; init; } = 0.5;
}

/// <summary>
/// Service physics of a deployment. Deliberately not MODEL.md's roofline: throughput figures with a load-dependent
/// slowdown, an attention knee and log-normal noise, so the predictive model has something to be wrong about.
/// </summary>
public sealed record PhysicsSpec
{
    /// <summary>Uncached prefill tokens per second of one instance at low load.</summary>
    public required double PrefillTokensPerSecond { get; init; }

    /// <summary>Per-stream decode time per token at batch 1, ms.</summary>
    public required double DecodeMsPerToken { get; init; }

    /// <summary>Concurrent decode streams per instance.</summary>
    public int MaxBatch { get; init; } = 64;

    /// <summary>Decode slowdown at full load: per-token time × (1 + slowdown·ρ^1.5).</summary>
    public double BatchSlowdown { get; init; } = 1.2;

    /// <summary>Queue scale: queue ≈ base·ρ/(1−ρ)·Exp(1).</summary>
    public double QueueBaseMs { get; init; } = 15;

    /// <summary>Context length at which attention doubles per-token cost.</summary>
    public double AttentionKneeTokens { get; init; } = 65_536;

    /// <summary>Log-normal sigma of timing noise.</summary>
    public double Noise { get; init; } = 0.08;

    /// <summary>Model weights resident per instance, GB (for GPU memory use).</summary>
    public double WeightsGbPerInstance { get; init; } = 140;
}

/// <summary>A deployment.</summary>
public sealed record DeploymentSpec
{
    /// <summary>Deployment name.</summary>
    public required string Name { get; init; }

    /// <summary>Model served (a <see cref="ModelSpec"/> name).</summary>
    public required string Model { get; init; }

    /// <summary>Region.</summary>
    public required string Region { get; init; }

    /// <summary>Whether prefill and decode run on separate pools.</summary>
    public required bool Disaggregated { get; init; }

    /// <summary>Pools: one aggregated, or one prefill and one decode.</summary>
    public required IReadOnlyList<PoolSpec> Pools { get; init; }

    /// <summary>KV tiers.</summary>
    public required KvCacheSpec KvCache { get; init; }

    /// <summary>Service physics.</summary>
    public required PhysicsSpec Physics { get; init; }
}

/// <summary>Workload class labels.</summary>
public enum WorkloadKind
{
    /// <summary>Short multi-turn chat.</summary>
    Chat,

    /// <summary>Agentic coding sessions: long context re-used turn after turn.</summary>
    Agentic,

    /// <summary>Retrieval-augmented generation over a shared corpus.</summary>
    Rag,

    /// <summary>Reasoning with many hidden tokens.</summary>
    Reasoning,

    /// <summary>Offline batch summarization.</summary>
    Batch,
}

/// <summary>A length or time distribution.</summary>
public sealed record DistributionSpec
{
    /// <summary>Shape.</summary>
    public required DistributionShape Shape { get; init; }

    /// <summary>Constant value, or the log-normal median.</summary>
    public double Value { get; init; }

    /// <summary>Log-normal sigma.</summary>
    public double Sigma { get; init; }

    /// <summary>Lower clamp (uniform: lower bound).</summary>
    public double Min { get; init; }

    /// <summary>Upper clamp (uniform: upper bound).</summary>
    public double Max { get; init; } = double.MaxValue;

    /// <summary>A constant.</summary>
    public static DistributionSpec Constant(double value) => new() { Shape = DistributionShape.Constant, Value = value, Min = value, Max = value };
}

/// <summary>Distribution shapes.</summary>
public enum DistributionShape
{
    /// <summary>Always the value.</summary>
    Constant,

    /// <summary>Uniform between min and max.</summary>
    Uniform,

    /// <summary>Log-normal with a median and sigma, clamped to [min, max].</summary>
    LogNormal,
}

/// <summary>RAG documents drawn from a shared corpus (Zipf popularity).</summary>
public sealed record DocumentsSpec
{
    /// <summary>Documents in the corpus.</summary>
    public required int Corpus { get; init; }

    /// <summary>Documents per request.</summary>
    public required DistributionSpec PerRequest { get; init; }

    /// <summary>Tokens per document.</summary>
    public required DistributionSpec Tokens { get; init; }

    /// <summary>Zipf exponent of popularity.</summary>
    public double ZipfExponent { get; init; } = 1.1;
}

/// <summary>Outcome rates of a workload (the rest is <c>ok</c>).</summary>
public sealed record StatusRates
{
    /// <summary>Share of <c>error</c>.</summary>
    public double Error { get; init; }

    /// <summary>Share of <c>timeout</c>.</summary>
    public double Timeout { get; init; }

    /// <summary>Share of <c>cancelled</c>.</summary>
    public double Cancelled { get; init; }

    /// <summary>Share of <c>filtered</c>.</summary>
    public double Filtered { get; init; }
}

/// <summary>Optional quality signals.</summary>
public sealed record QualitySpec
{
    /// <summary>Mean evaluator score of ok outputs.</summary>
    public double MeanScore { get; init; } = 0.8;

    /// <summary>Share of ok outputs the user kept.</summary>
    public double AcceptedRate { get; init; } = 0.7;
}

/// <summary>A workload class.</summary>
public sealed record WorkloadSpec
{
    /// <summary>Class name.</summary>
    public required string Name { get; init; }

    /// <summary>Label.</summary>
    public required WorkloadKind Kind { get; init; }

    /// <summary>Share of requests (relative).</summary>
    public required double Weight { get; init; }

    /// <summary>Deployment serving the class.</summary>
    public required string Deployment { get; init; }

    /// <summary>Tenants sending it (empty = all, by weight).</summary>
    public IReadOnlyList<string> Tenants { get; init; } = [];

    /// <summary>Shared system prompt per tenant (a cacheable prefix).</summary>
    public int SystemPromptTokens { get; init; }

    /// <summary>Turns per session (1 = no session).</summary>
    public required DistributionSpec Turns { get; init; }

    /// <summary>Seconds between the finishes of two turns of a session (think and tool time).</summary>
    public required DistributionSpec GapSeconds { get; init; }

    /// <summary>Input tokens of the first turn after the system prompt.</summary>
    public required DistributionSpec FirstInputTokens { get; init; }

    /// <summary>New input tokens of every later turn.</summary>
    public required DistributionSpec FollowupInputTokens { get; init; }

    /// <summary>Visible output tokens.</summary>
    public required DistributionSpec OutputTokens { get; init; }

    /// <summary>Hidden reasoning tokens (counted in output).</summary>
    public required DistributionSpec ReasoningTokens { get; init; }

    /// <summary>RAG documents, if any.</summary>
    public DocumentsSpec? Documents { get; init; }

    /// <summary>Outcome rates.</summary>
    public StatusRates Status { get; init; } = new();

    /// <summary>Quality signals, if reported.</summary>
    public QualitySpec? Quality { get; init; }
}

/// <summary>Incident kinds.</summary>
public enum IncidentKind
{
    /// <summary>A tier's bandwidth drops (and latency rises).</summary>
    TierDegraded,

    /// <summary>A tier's capacity shrinks.</summary>
    TierShrunk,

    /// <summary>Reasoning depth multiplies.</summary>
    ReasoningSurge,

    /// <summary>A pool's board power is capped (clocks drop).</summary>
    PowerCap,

    /// <summary>A pool runs slower (thermal throttling).</summary>
    ThermalThrottle,

    /// <summary>A pool fails a share of requests.</summary>
    PoolErrors,

    /// <summary>A price changes (annotation only: telemetry carries no prices).</summary>
    PriceChange,
}

/// <summary>A scheduled incident; times are seconds of event time after the run's start.</summary>
public sealed record IncidentSpec
{
    /// <summary>Kind.</summary>
    public required IncidentKind Kind { get; init; }

    /// <summary>Start, seconds after the run's start.</summary>
    public required double AtSeconds { get; init; }

    /// <summary>Duration in seconds (infinite when absent).</summary>
    public double DurationSeconds { get; init; } = double.PositiveInfinity;

    /// <summary>Deployment affected (tier incidents; all when null).</summary>
    public string? Deployment { get; init; }

    /// <summary>Pool affected (power_cap, thermal_throttle, pool_errors).</summary>
    public string? Pool { get; init; }

    /// <summary>Tier affected (tier incidents).</summary>
    public KvTier? Tier { get; init; }

    /// <summary>Workloads affected (reasoning_surge; all when empty).</summary>
    public IReadOnlyList<string> Workloads { get; init; } = [];

    /// <summary>Multiplier: bandwidth (tier_degraded), capacity (tier_shrunk), reasoning tokens (reasoning_surge), speed (thermal_throttle), price (price_change).</summary>
    public double Factor { get; init; } = 1;

    /// <summary>Extra first-byte latency, ms (tier_degraded).</summary>
    public double ExtraLatencyMs { get; init; }

    /// <summary>Board power cap, W (power_cap).</summary>
    public double Watts { get; init; }

    /// <summary>Share of requests failed (pool_errors).</summary>
    public double ErrorRate { get; init; }

    /// <summary>Priced item (price_change), e.g. <c>gpu_hour:H100-SXM5-80GB</c>.</summary>
    public string? Item { get; init; }

    /// <summary>Free text for the annotation.</summary>
    public string? Note { get; init; }

    /// <summary>Whether the incident is active at <paramref name="secondsSinceStart"/>.</summary>
    public bool IsActive(double secondsSinceStart) =>
        secondsSinceStart >= AtSeconds && secondsSinceStart < AtSeconds + DurationSeconds;
}
