namespace EfficiencyMonitor.Core.Accounting;

/// <summary>The terms of spend S (MODEL.md §2), USD, each kept as its own column.</summary>
/// <param name="Capacity">GPU ownership or rental for the provisioned GPU time.</param>
/// <param name="Energy">GPU + host energy × PUE at the energy price.</param>
/// <param name="Space">Space and cooling for the provisioned IT power.</param>
/// <param name="TierDram">DRAM KV tier.</param>
/// <param name="TierLocalSsd">Local flash KV tier.</param>
/// <param name="TierRemote">Remote KV store.</param>
/// <param name="Network">Prefill→decode KV transfer.</param>
public sealed record SpendTerms(double Capacity, double Energy, double Space, double TierDram, double TierLocalSsd, double TierRemote, double Network)
{
    /// <summary>All zero.</summary>
    public static SpendTerms Zero { get; } = new(0, 0, 0, 0, 0, 0, 0);

    /// <summary>Spend S: the sum of the terms.</summary>
    public double Total => Capacity + Energy + Space + TierDram + TierLocalSsd + TierRemote + Network;

    /// <summary>Term-wise sum.</summary>
    public static SpendTerms operator +(SpendTerms left, SpendTerms right)
    {
        ArgumentNullException.ThrowIfNull(left);
        ArgumentNullException.ThrowIfNull(right);
        return new(left.Capacity + right.Capacity, left.Energy + right.Energy, left.Space + right.Space, left.TierDram + right.TierDram,
            left.TierLocalSsd + right.TierLocalSsd, left.TierRemote + right.TierRemote, left.Network + right.Network);
    }

    /// <summary>Term-wise sum (named alternative to the operator).</summary>
    public static SpendTerms Add(SpendTerms left, SpendTerms right) => left + right;
}

/// <summary>Saved by the KV hierarchy in the window per tier, USD (MODEL.md §2, "Cache value").</summary>
/// <param name="Hbm">HBM prefix cache.</param>
/// <param name="Dram">DRAM tier.</param>
/// <param name="LocalSsd">Local flash tier.</param>
/// <param name="Remote">Remote store.</param>
public sealed record CacheValue(double Hbm, double Dram, double LocalSsd, double Remote)
{
    /// <summary>All zero.</summary>
    public static CacheValue Zero { get; } = new(0, 0, 0, 0);
}

/// <summary>
/// One row of <c>efficiency_windows</c>: a deployment's window (<see cref="Tenant"/> and <see cref="Model"/> empty) or
/// one tenant/model's allocation of it. Allocated rows carry their share of every term, so they sum to the deployment row.
/// </summary>
public sealed record EfficiencyRow
{
    /// <summary>Deployment.</summary>
    public required string Deployment { get; init; }

    /// <summary>Tenant ('' on the deployment row).</summary>
    public string Tenant { get; init; } = "";

    /// <summary>Model ('' on the deployment row).</summary>
    public string Model { get; init; } = "";

    /// <summary>Window start, UTC.</summary>
    public required DateTimeOffset WindowStart { get; init; }

    /// <summary>Window length, s.</summary>
    public required int WindowSeconds { get; init; }

    /// <summary>Catalog version that priced the row.</summary>
    public required string CatalogVersion { get; init; }

    /// <summary>Spend terms, USD.</summary>
    public required SpendTerms Spend { get; init; }

    /// <summary>Provisioned GPUs (deployment row; 0 on allocations).</summary>
    public int Gpus { get; init; }

    /// <summary>Provisioned GPU-seconds (allocations: their share).</summary>
    public double ProvisionedGpuSeconds { get; init; }

    /// <summary>Busy GPU-seconds from reported utilization (deployment row).</summary>
    public double BusyGpuSeconds { get; init; }

    /// <summary>Busy / provisioned GPU time (deployment row; 0 on allocations).</summary>
    public double Utilization { get; init; }

    /// <summary>GPU energy, J (allocations: their share).</summary>
    public double GpuEnergyJoules { get; init; }

    /// <summary>Host overhead energy, J.</summary>
    public double HostEnergyJoules { get; init; }

    /// <summary>Facility energy = (GPU + host) × PUE, J.</summary>
    public double FacilityEnergyJoules { get; init; }

    /// <summary>Energy segments measured by counters (deployment row).</summary>
    public int CounterSegments { get; init; }

    /// <summary>Energy segments estimated by the trapezoid (deployment row).</summary>
    public int TrapezoidSegments { get; init; }

    /// <summary>Request busy time used for attribution, ms.</summary>
    public double BusyMs { get; init; }

    /// <summary>Requests finished.</summary>
    public long Requests { get; init; }

    /// <summary>Successful outputs N (success policy).</summary>
    public long SuccessfulOutputs { get; init; }

    /// <summary>Input tokens.</summary>
    public long InputTokens { get; init; }

    /// <summary>Output tokens (reasoning included).</summary>
    public long OutputTokens { get; init; }

    /// <summary>Hidden reasoning tokens.</summary>
    public long ReasoningTokens { get; init; }

    /// <summary>Input tokens served from any cache tier.</summary>
    public long CachedTokens { get; init; }

    /// <summary>KV bytes shipped prefill→decode.</summary>
    public long KvBytesTransferred { get; init; }

    /// <summary>S / N; null when N = 0 (see <see cref="NoSuccess"/>).</summary>
    public double? SpendPerSuccess { get; init; }

    /// <summary>USD per million output tokens; null without output.</summary>
    public double? UsdPerMillionOutputTokens { get; init; }

    /// <summary>USD per million tokens (input + output, reasoning included); null without tokens.</summary>
    public double? UsdPerMillionTotalTokens { get; init; }

    /// <summary>Output tokens per facility joule; null without energy.</summary>
    public double? OutputTokensPerJoule { get; init; }

    /// <summary>Successful outputs per facility kWh; null without energy.</summary>
    public double? SuccessesPerKwh { get; init; }

    /// <summary>True when the window had no successful output: spend is reported, per-success figures are null.</summary>
    public bool NoSuccess { get; init; }

    /// <summary>Cache value per tier, USD.</summary>
    public required CacheValue CacheValue { get; init; }

    /// <summary>Realized recompute cost per input token (prefill), USD; 0 when nothing was recomputed.</summary>
    public double RecomputeUsdPerToken { get; init; }

    /// <summary>Human-readable remarks (no success, unattributed spend, no recomputed tokens).</summary>
    public string Note { get; init; } = "";
}

/// <summary>The accounting of one window: the deployment row and its tenant/model allocations.</summary>
/// <param name="Total">Deployment row.</param>
/// <param name="Allocations">Tenant/model rows; their terms sum to <paramref name="Total"/>'s.</param>
public sealed record WindowResult(EfficiencyRow Total, IReadOnlyList<EfficiencyRow> Allocations);
