using System.Text.Json.Serialization;

namespace EfficiencyMonitor.Core.Catalog;

/// <summary>An entry that applies from <see cref="EffectiveFrom"/> (inclusive) until <see cref="EffectiveTo"/> (exclusive, open when null).</summary>
public interface IEffectiveDated
{
    /// <summary>First instant the entry applies (UTC).</summary>
    DateTimeOffset EffectiveFrom { get; }

    /// <summary>First instant it no longer applies; <see langword="null"/> = until replaced.</summary>
    DateTimeOffset? EffectiveTo { get; }
}

/// <summary>
/// One version of the cost catalog (MODEL.md §1): hardware, models, facilities, deployments (tiers, network) and the
/// success policy, each entry effective-dated. Every figure the accounting uses comes from here, never from code.
/// </summary>
public sealed record CostCatalog
{
    /// <summary>Version label (e.g. <c>2026.12.1</c>); every computed row records it.</summary>
    public required string Version { get; init; }

    /// <summary>What changed in this version.</summary>
    public string Description { get; set; } = "";

    /// <summary>GPU types.</summary>
    public IReadOnlyList<HardwareEntry> Hardware { get; set; } = [];

    /// <summary>Model shapes.</summary>
    public IReadOnlyList<ModelEntry> Models { get; set; } = [];

    /// <summary>Facilities (PUE, power and space prices).</summary>
    public IReadOnlyList<FacilityEntry> Facilities { get; set; } = [];

    /// <summary>Deployments: which model, which facility, storage tiers, network.</summary>
    public IReadOnlyList<DeploymentEntry> Deployments { get; set; } = [];

    /// <summary>What counts as a successful output.</summary>
    public IReadOnlyList<SuccessPolicyEntry> SuccessPolicies { get; set; } = [];

    /// <summary>The entry of <paramref name="entries"/> effective at <paramref name="at"/>, or null.</summary>
    public static T? EffectiveAt<T>(IEnumerable<T> entries, DateTimeOffset at)
        where T : class, IEffectiveDated
    {
        ArgumentNullException.ThrowIfNull(entries);
        return entries.FirstOrDefault(e => e.EffectiveFrom <= at && (e.EffectiveTo is null || at < e.EffectiveTo));
    }

    /// <summary>
    /// Everything needed to price <paramref name="deployment"/> at <paramref name="at"/> for the GPU types that reported
    /// power. Throws <see cref="CatalogException"/> listing every missing entry.
    /// </summary>
    public ResolvedPricing Resolve(string deployment, DateTimeOffset at, IEnumerable<string> gpuTypes)
    {
        ArgumentNullException.ThrowIfNull(gpuTypes);
        var problems = new List<string>();
        var dep = EffectiveAt(Deployments.Where(d => d.Name == deployment), at);
        if (dep is null) problems.Add($"catalog {Version}: no deployments entry '{deployment}' effective at {at:O}; add one to deploy/catalog/deployments.yaml");
        var facility = dep is null ? null : EffectiveAt(Facilities.Where(f => f.Name == dep.Facility), at);
        if (dep is not null && facility is null) problems.Add($"catalog {Version}: no facilities entry '{dep.Facility}' effective at {at:O} (deployment '{deployment}')");
        var model = dep is null ? null : EffectiveAt(Models.Where(m => m.Name == dep.Model), at);
        if (dep is not null && model is null) problems.Add($"catalog {Version}: no models entry '{dep.Model}' effective at {at:O} (deployment '{deployment}')");
        var policy = EffectiveAt(SuccessPolicies, at);
        if (policy is null) problems.Add($"catalog {Version}: no success_policies entry effective at {at:O}");
        var hardware = new Dictionary<string, HardwareEntry>(StringComparer.Ordinal);
        foreach (var type in gpuTypes.Distinct(StringComparer.Ordinal))
        {
            var entry = EffectiveAt(Hardware.Where(h => h.GpuType == type), at);
            if (entry is null) problems.Add($"catalog {Version}: no hardware entry for gpu_type '{type}' effective at {at:O}; add it to deploy/catalog/hardware.yaml");
            else hardware[type] = entry;
        }

        if (problems.Count > 0) throw new CatalogException(problems);
        return new ResolvedPricing(Version, dep!, facility!, model!, hardware, policy!);
    }
}

/// <summary>The catalog entries that price one deployment at one instant.</summary>
/// <param name="CatalogVersion">Version of the catalog they come from.</param>
/// <param name="Deployment">Deployment entry (tiers, network).</param>
/// <param name="Facility">Facility entry (PUE, prices).</param>
/// <param name="Model">Model entry.</param>
/// <param name="Hardware">Hardware entries by GPU type.</param>
/// <param name="Policy">Success policy.</param>
public sealed record ResolvedPricing(
    string CatalogVersion,
    DeploymentEntry Deployment,
    FacilityEntry Facility,
    ModelEntry Model,
    IReadOnlyDictionary<string, HardwareEntry> Hardware,
    SuccessPolicyEntry Policy);

/// <summary>A GPU type: physics (vendor sheet) and either ownership or rental terms.</summary>
public sealed record HardwareEntry : IEffectiveDated
{
    /// <summary>GPU type as telemetry reports it (<c>gpu_type</c>).</summary>
    public required string GpuType { get; init; }

    /// <inheritdoc />
    public required DateTimeOffset EffectiveFrom { get; init; }

    /// <inheritdoc />
    public DateTimeOffset? EffectiveTo { get; init; }

    /// <summary>Where the figures come from (vendor sheet URL).</summary>
    public required string Source { get; init; }

    /// <summary>Peak dense TFLOP/s per precision (e.g. <c>bf16</c>, <c>fp8</c>), without sparsity.</summary>
    public IReadOnlyDictionary<string, double> PeakDenseTflops { get; set; } = new Dictionary<string, double>();

    /// <summary>HBM capacity, GB.</summary>
    public double HbmGb { get; init; }

    /// <summary>HBM bandwidth, TB/s.</summary>
    public double HbmTbPerS { get; init; }

    /// <summary>Board power limit (TDP), W.</summary>
    public double TdpWatts { get; init; }

    /// <summary>Idle draw, W.</summary>
    public double IdleWatts { get; init; }

    /// <summary>Host (CPU, memory, NICs, fans) draw attributed to each GPU, W.</summary>
    public double HostWattsPerGpu { get; init; }

    /// <summary>Ownership terms, or null when rented.</summary>
    public OwnershipTerms? Ownership { get; init; }

    /// <summary>Rental terms, or null when owned.</summary>
    public RentalTerms? Rental { get; init; }

    /// <summary>
    /// Capacity cost per GPU-second (MODEL.md §2): ownership <c>price·(1+maint·years)/(years·365.25·86400)</c>,
    /// rental <c>price_per_hour/3600</c>.
    /// </summary>
    public double CapacityUsdPerGpuSecond() => Ownership is { } o
        ? o.UsdPerGpu * (1 + o.MaintenanceFractionPerYear * o.AmortizationYears) / (o.AmortizationYears * Units.SecondsPerYear)
        : Rental!.UsdPerGpuHour / 3600.0;
}

/// <summary>Owned GPU: purchase price (incl. its share of the server), amortization and maintenance.</summary>
public sealed record OwnershipTerms
{
    /// <summary>Purchase price per GPU including its share of the server, USD.</summary>
    public double UsdPerGpu { get; init; }

    /// <summary>Straight-line amortization period, years.</summary>
    public double AmortizationYears { get; init; }

    /// <summary>Yearly maintenance as a fraction of the price (0.1 = 10 %/year).</summary>
    public double MaintenanceFractionPerYear { get; init; }
}

/// <summary>Rented GPU.</summary>
public sealed record RentalTerms
{
    /// <summary>Price per GPU-hour, USD.</summary>
    public double UsdPerGpuHour { get; init; }
}

/// <summary>Model shape (MODEL.md §1, §3).</summary>
public sealed record ModelEntry : IEffectiveDated
{
    /// <summary>Model name as telemetry reports it.</summary>
    public required string Name { get; init; }

    /// <inheritdoc />
    public required DateTimeOffset EffectiveFrom { get; init; }

    /// <inheritdoc />
    public DateTimeOffset? EffectiveTo { get; init; }

    /// <summary>Where the shape comes from (model card / config URL).</summary>
    public string Source { get; set; } = "";

    /// <summary>Total parameters, billions.</summary>
    public double TotalParamsB { get; init; }

    /// <summary>Active parameters per token, billions (MoE; = total for dense).</summary>
    public double ActiveParamsB { get; init; }

    /// <summary>Transformer layers <c>L</c>.</summary>
    public int Layers { get; init; }

    /// <summary>Attention heads (<c>d_attn = heads · d_head</c>).</summary>
    public int AttentionHeads { get; init; }

    /// <summary>KV heads <c>H_kv</c>.</summary>
    public int KvHeads { get; init; }

    /// <summary>Head width <c>d_head</c>.</summary>
    public int HeadDim { get; init; }

    /// <summary>Bytes per weight element.</summary>
    public double WeightBytesPerElement { get; init; }

    /// <summary>Bytes per KV element.</summary>
    public double KvBytesPerElement { get; init; }

    /// <summary>Explicit KV bytes per token (latent/compressed caches); overrides the formula.</summary>
    public double? KvBytesPerToken { get; init; }

    /// <summary>KV compression ratio (≥ 1).</summary>
    public double KvCompressionRatio { get; set; } = 1;

    /// <summary>KV bytes per token: explicit figure, else <c>2·L·H_kv·d_head·bytes_kv / compression</c> (MODEL.md §3).</summary>
    public double EffectiveKvBytesPerToken() =>
        KvBytesPerToken ?? 2.0 * Layers * KvHeads * HeadDim * KvBytesPerElement / KvCompressionRatio;
}

/// <summary>A facility: PUE, energy price (flat or time of use), space and cooling.</summary>
public sealed record FacilityEntry : IEffectiveDated
{
    /// <summary>Facility name (deployments refer to it).</summary>
    public required string Name { get; init; }

    /// <inheritdoc />
    public required DateTimeOffset EffectiveFrom { get; init; }

    /// <inheritdoc />
    public DateTimeOffset? EffectiveTo { get; init; }

    /// <summary>Power usage effectiveness (facility energy / IT energy), ≥ 1.</summary>
    public double Pue { get; init; }

    /// <summary>Flat energy price, USD/kWh (null when <see cref="TimeOfUse"/> is given).</summary>
    public double? UsdPerKwh { get; init; }

    /// <summary>Time-of-use bands in UTC whole hours covering the day (null when flat).</summary>
    public IReadOnlyList<TimeOfUseBand>? TimeOfUse { get; init; }

    /// <summary>Space and cooling, USD per kW of provisioned IT power per month.</summary>
    public double SpaceCoolingUsdPerKwMonth { get; init; }

    /// <summary>
    /// Energy price at <paramref name="at"/>. Bands are whole UTC hours, so a window of at most an hour aligned on its
    /// own length lies in one band and is priced at its start.
    /// </summary>
    public double EnergyUsdPerKwhAt(DateTimeOffset at)
    {
        if (TimeOfUse is not { Count: > 0 } bands) return UsdPerKwh ?? 0;
        var hour = at.ToUniversalTime().Hour;
        foreach (var band in bands)
        {
            if (hour >= band.FromHour && hour < band.ToHour) return band.UsdPerKwh;
        }

        return UsdPerKwh ?? 0;
    }
}

/// <summary>One time-of-use band: <c>[from_hour, to_hour)</c> UTC at a price.</summary>
public sealed record TimeOfUseBand
{
    /// <summary>First hour (0..23).</summary>
    public int FromHour { get; init; }

    /// <summary>End hour, exclusive (1..24).</summary>
    public int ToHour { get; init; }

    /// <summary>Price, USD/kWh.</summary>
    public double UsdPerKwh { get; init; }
}

/// <summary>A deployment: model, facility, KV storage tiers and the prefill→decode network.</summary>
public sealed record DeploymentEntry : IEffectiveDated
{
    /// <summary>Deployment name as telemetry reports it.</summary>
    public required string Name { get; init; }

    /// <inheritdoc />
    public required DateTimeOffset EffectiveFrom { get; init; }

    /// <inheritdoc />
    public DateTimeOffset? EffectiveTo { get; init; }

    /// <summary>Model served (a <see cref="ModelEntry.Name"/>).</summary>
    public required string Model { get; init; }

    /// <summary>Facility (a <see cref="FacilityEntry.Name"/>).</summary>
    public required string Facility { get; init; }

    /// <summary>KV storage tiers below HBM.</summary>
    public TierSet Tiers { get; set; } = new();

    /// <summary>Prefill→decode KV transfer network (null for aggregated serving).</summary>
    public NetworkEntry? Network { get; init; }

    /// <summary>How the model is served (GPUs per instance, batch, achieved fractions); the predictive model needs it.</summary>
    public ServingEntry? Serving { get; init; }

    /// <summary>The planned workload and efficiency drift is measured against (written by <c>calibrate</c>).</summary>
    public WorkloadPlan? Plan { get; init; }
}

/// <summary>
/// Serving shape and achieved efficiency of a deployment (MODEL.md §3): <c>g</c> per pool, decode batch <c>B</c>, and the
/// achieved fractions of peak (MFU for prefill, MBU and MFU for decode) that calibration fits from production.
/// </summary>
public sealed record ServingEntry
{
    /// <summary>GPU type of the instances (a hardware entry).</summary>
    public required string GpuType { get; init; }

    /// <summary>Precision the matmuls run at (a key of <see cref="HardwareEntry.PeakDenseTflops"/>, e.g. <c>bf16</c>).</summary>
    public string Precision { get; set; } = "bf16";

    /// <summary>Prefill and decode run on separate pools (KV shipped over <see cref="DeploymentEntry.Network"/>).</summary>
    public bool Disaggregated { get; init; }

    /// <summary>GPUs per prefill instance (<c>g_pf</c>; the aggregated instance size when not disaggregated).</summary>
    public int PrefillGpusPerInstance { get; init; }

    /// <summary>GPUs per decode instance (<c>g_dec</c>).</summary>
    public int DecodeGpusPerInstance { get; init; }

    /// <summary>Concurrent sequences per decode step (<c>B</c>).</summary>
    public int DecodeBatch { get; init; }

    /// <summary>Achieved fraction of peak FLOP/s during prefill.</summary>
    public double PrefillMfu { get; init; }

    /// <summary>Achieved fraction of HBM bandwidth during decode.</summary>
    public double DecodeMbu { get; init; }

    /// <summary>Achieved fraction of peak FLOP/s during decode (when compute-bound).</summary>
    public double DecodeMfu { get; init; }

    /// <summary>Where the fractions come from (vendor/benchmark figure, or the calibration windows).</summary>
    public string Source { get; set; } = "";
}

/// <summary>
/// A planned workload and its efficiency, per request (MODEL.md §4): the mix (tokens, hit rates, success rate), the busy
/// GPU-seconds per token of each component as the model predicts them for that mix, the prices and the utilization.
/// Spend per successful output = busy GPU-s per request × (fixed $/GPU-s ÷ utilization + energy $/busy GPU-s) ÷ success rate.
/// </summary>
public sealed record WorkloadPlan
{
    /// <summary>Where the plan comes from (calibration windows or forecast file).</summary>
    public string Source { get; set; } = "";

    /// <summary>Requests per second the plan expects (informational; spend per success does not depend on it).</summary>
    public double RequestsPerSecond { get; init; }

    /// <summary>Successful outputs / requests.</summary>
    public double SuccessRate { get; init; }

    /// <summary>
    /// Busy GPU time / provisioned GPU time, busy time from request timings at the catalog's decode batch (so above 1
    /// when the instances really batch more than <see cref="ServingEntry.DecodeBatch"/>).
    /// </summary>
    public double Utilization { get; init; }

    /// <summary>Input tokens per request, cached ones included.</summary>
    public double InputTokens { get; init; }

    /// <summary>Output tokens per request, hidden reasoning included.</summary>
    public double OutputTokens { get; init; }

    /// <summary>Hidden reasoning tokens per request (part of <see cref="OutputTokens"/>).</summary>
    public double ReasoningTokens { get; init; }

    /// <summary>Share of input tokens served from HBM.</summary>
    public double HitRateHbm { get; init; }

    /// <summary>Share of input tokens served from DRAM.</summary>
    public double HitRateDram { get; init; }

    /// <summary>Share of input tokens served from local SSD.</summary>
    public double HitRateLocalSsd { get; init; }

    /// <summary>Share of input tokens served from the remote store.</summary>
    public double HitRateRemote { get; init; }

    /// <summary>Prefill GPU-seconds per uncached input token.</summary>
    public double PrefillGpuSecondsPerToken { get; init; }

    /// <summary>KV load GPU-seconds per token served from HBM.</summary>
    public double LoadHbmGpuSecondsPerToken { get; init; }

    /// <summary>KV load GPU-seconds per token served from DRAM.</summary>
    public double LoadDramGpuSecondsPerToken { get; init; }

    /// <summary>KV load GPU-seconds per token served from local SSD.</summary>
    public double LoadLocalSsdGpuSecondsPerToken { get; init; }

    /// <summary>KV load GPU-seconds per token served from the remote store.</summary>
    public double LoadRemoteGpuSecondsPerToken { get; init; }

    /// <summary>Decode GPU-seconds per output token.</summary>
    public double DecodeGpuSecondsPerToken { get; init; }

    /// <summary>Capacity, space, tiers and network per provisioned GPU-second, USD.</summary>
    public double FixedUsdPerGpuSecond { get; init; }

    /// <summary>Facility energy per busy GPU-second, USD.</summary>
    public double EnergyUsdPerBusyGpuSecond { get; init; }
}

/// <summary>The tiers below HBM (G2–G4).</summary>
public sealed record TierSet
{
    /// <summary>CPU DRAM.</summary>
    public TierEntry? Dram { get; init; }

    /// <summary>Local flash.</summary>
    public TierEntry? LocalSsd { get; init; }

    /// <summary>Shared remote store.</summary>
    public TierEntry? Remote { get; init; }
}

/// <summary>One KV storage tier.</summary>
public sealed record TierEntry
{
    /// <summary>Provisioned capacity for the deployment, GB.</summary>
    public double ProvisionedGb { get; init; }

    /// <summary>Price, USD per GB-month.</summary>
    public double UsdPerGbMonth { get; init; }

    /// <summary>Effective bandwidth to the GPU, GB/s.</summary>
    public double BandwidthGbPerS { get; init; }

    /// <summary>First-byte latency, ms.</summary>
    public double FirstByteLatencyMs { get; init; }
}

/// <summary>Prefill→decode network.</summary>
public sealed record NetworkEntry
{
    /// <summary>Bandwidth, GB/s.</summary>
    public double GbPerS { get; init; }

    /// <summary>Price per GB transferred (10^9 bytes), USD.</summary>
    public double UsdPerGb { get; init; }
}

/// <summary>Which finished requests count as successful outputs (MODEL.md §1).</summary>
public sealed record SuccessPolicyEntry : IEffectiveDated
{
    /// <inheritdoc />
    public required DateTimeOffset EffectiveFrom { get; init; }

    /// <inheritdoc />
    public DateTimeOffset? EffectiveTo { get; init; }

    /// <summary>Statuses that count (e.g. <c>ok</c>).</summary>
    public IReadOnlyList<string> Statuses { get; set; } = ["ok"];

    /// <summary>A request the user rejected (<c>accepted = false</c>) does not count.</summary>
    public bool ExcludeRejected { get; set; } = true;

    /// <summary>Minimum <c>quality_score</c> (0.01 resolution); requests without a score count when null or when <see cref="CountUnscored"/>.</summary>
    public double? MinQualityScore { get; init; }

    /// <summary>With a minimum quality, whether requests that carry no score count.</summary>
    public bool CountUnscored { get; set; } = true;

    /// <summary>Whether one outcome bucket counts as success. <paramref name="qualityCentile"/> is ⌊score·100⌋ or -1 without a score.</summary>
    public bool Counts(string status, bool? accepted, int qualityCentile)
    {
        if (!Statuses.Contains(status, StringComparer.Ordinal)) return false;
        if (ExcludeRejected && accepted == false) return false;
        if (MinQualityScore is not { } min) return true;
        if (qualityCentile < 0) return CountUnscored;
        return qualityCentile >= (int)Math.Round(min * 100);
    }
}

/// <summary>A catalog that cannot be used; <see cref="Problems"/> lists every problem.</summary>
public sealed class CatalogException : Exception
{
    /// <summary>Creates the exception.</summary>
    public CatalogException(IReadOnlyList<string> problems)
        : base(problems.Count == 1 ? problems[0] : $"{problems.Count} catalog problems:\n  " + string.Join("\n  ", problems)) => Problems = problems;

    /// <summary>Creates the exception.</summary>
    public CatalogException()
        : this(["invalid catalog"])
    {
    }

    /// <summary>Creates the exception.</summary>
    public CatalogException(string message)
        : this([message])
    {
    }

    /// <summary>Creates the exception.</summary>
    public CatalogException(string message, Exception innerException)
        : base(message, innerException) => Problems = [message];

    /// <summary>Each problem with its location, path, what is wrong and the fix.</summary>
    public IReadOnlyList<string> Problems { get; }
}

/// <summary>Unit constants used by the accounting (named so no bare literal hides a unit).</summary>
public static class Units
{
    /// <summary>Julian year, s (365.25 days; MODEL.md §2).</summary>
    public const double SecondsPerYear = 365.25 * 86400;

    /// <summary>Average month, s (a twelfth of a Julian year).</summary>
    public const double SecondsPerMonth = SecondsPerYear / 12;

    /// <summary>Joules per kWh.</summary>
    public const double JoulesPerKwh = 3.6e6;

    /// <summary>Bytes per GB (decimal, as prices are quoted).</summary>
    public const double BytesPerGb = 1e9;
}

/// <summary>Source-generated JSON for the catalog (snake_case, as in the files), stored in ClickHouse per version.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    RespectRequiredConstructorParameters = true)]
[JsonSerializable(typeof(CostCatalog))]
public sealed partial class CatalogJsonContext : JsonSerializerContext;
