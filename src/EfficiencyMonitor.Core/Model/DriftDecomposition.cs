using System.Globalization;

namespace EfficiencyMonitor.Core.Model;

/// <summary>The factors spend per successful output is decomposed into (MODEL.md §4), as stored and exported.</summary>
public static class DriftFactor
{
    /// <summary>Capacity, space, tier and network $ per provisioned GPU-second.</summary>
    public const string Price = "price";

    /// <summary>Energy $ per busy GPU-second (power draw, PUE, tariff).</summary>
    public const string Energy = "energy";

    /// <summary>Requests per successful output.</summary>
    public const string SuccessRate = "success_rate";

    /// <summary>Input tokens per request.</summary>
    public const string InputLength = "input_length";

    /// <summary>Output tokens per request, hidden reasoning included.</summary>
    public const string OutputLength = "output_length";

    /// <summary>How input splits between uncached and each cache tier (hit rates).</summary>
    public const string CacheHitMix = "cache_hit_mix";

    /// <summary>Prefill GPU-seconds per uncached token.</summary>
    public const string PrefillSpeed = "prefill_speed";

    /// <summary>KV load GPU-seconds per token, per tier.</summary>
    public const string KvLoadSpeed = "kv_load_speed";

    /// <summary>Decode GPU-seconds per output token.</summary>
    public const string DecodeSpeed = "decode_speed";

    /// <summary>Every factor, in report order.</summary>
    public static IReadOnlyList<string> All { get; } =
        [Price, Energy, SuccessRate, InputLength, OutputLength, CacheHitMix, PrefillSpeed, KvLoadSpeed, DecodeSpeed];
}

/// <summary>The decomposition of one comparison.</summary>
/// <param name="LogRatio"><c>ln(realized / predicted)</c> of spend per successful output.</param>
/// <param name="Factors">Per-factor log-ratios; they sum to <see cref="LogRatio"/>.</param>
/// <param name="TopFactor">The factor with the largest |log-ratio| ('' when every factor is 0).</param>
/// <param name="Explanation">One line naming the top factors with their effect and the figures behind them.</param>
public sealed record DriftResult(double LogRatio, IReadOnlyDictionary<string, double> Factors, string TopFactor, string Explanation)
{
    /// <summary><c>realized / predicted − 1</c>.</summary>
    public double DriftRatio => Math.Exp(LogRatio) - 1;
}

/// <summary>
/// Splits <c>ln(SPS_realized / SPS_predicted)</c> into factor log-ratios that add up exactly (MODEL.md §4).
/// <para>
/// SPS = B × k ÷ s with B = Σᵢ bᵢ busy GPU-s per request, k = fixed/U + energy $ per busy GPU-s, s the success rate. The
/// products split by logarithms; the two sums (B over components, k over fixed and energy) split with the logarithmic
/// mean Divisia index (LMDI-I): for a sum X = Σ xᵢ, ln(X₁/X₀) = Σᵢ L(xᵢ₁, xᵢ₀)/L(X₁, X₀) · ln(xᵢ₁/xᵢ₀) exactly, where
/// L(a, b) = (a − b)/(ln a − ln b) — because L(a,b)·ln(a/b) = a − b. Each component's term then splits again by its own
/// product (input tokens × share × s/token, output tokens × s/token). A component that is zero on one side has no
/// logarithm; its exact contribution (xᵢ₁ − xᵢ₀)/L(X₁, X₀) goes to the factor whose quantity is zero (tokens → mix,
/// time per token → speed). Ang (2005), "The LMDI approach to decomposition analysis: a practical guide", Energy Policy 33.
/// </para>
/// </summary>
public static class DriftDecomposition
{
    /// <summary>Decomposes <paramref name="realized"/> against <paramref name="predicted"/>, both at the same utilization.</summary>
    public static DriftResult Decompose(EfficiencyProfile realized, EfficiencyProfile predicted, double utilization)
    {
        ArgumentNullException.ThrowIfNull(realized);
        ArgumentNullException.ThrowIfNull(predicted);
        var f = DriftFactor.All.ToDictionary(x => x, _ => 0.0, StringComparer.Ordinal);
        var r = realized;
        var p = predicted;

        // Requests per success.
        f[DriftFactor.SuccessRate] = -SafeLog(r.SuccessRate, p.SuccessRate);

        // $ per busy GPU-second: fixed ÷ U + energy (LMDI over the two terms).
        double fr = r.FixedUsdPerGpuSecond / utilization, fp = p.FixedUsdPerGpuSecond / utilization;
        double er = r.EnergyUsdPerBusyGpuSecond, ep = p.EnergyUsdPerBusyGpuSecond;
        var kMean = LogMean(fr + er, fp + ep);
        if (kMean > 0)
        {
            f[DriftFactor.Price] = (fr - fp) / kMean;
            f[DriftFactor.Energy] = (er - ep) / kMean;
        }

        // Busy GPU-s per request: LMDI over components, each split into its own factors.
        var bMean = LogMean(r.BusyGpuSecondsPerRequest, p.BusyGpuSecondsPerRequest);
        if (bMean > 0)
        {
            var inputLog = SafeLog(r.InputTokens, p.InputTokens);
            PrefillSide(r.Prefill, p.Prefill, DriftFactor.PrefillSpeed);
            PrefillSide(r.LoadHbm, p.LoadHbm, DriftFactor.KvLoadSpeed);
            PrefillSide(r.LoadDram, p.LoadDram, DriftFactor.KvLoadSpeed);
            PrefillSide(r.LoadLocalSsd, p.LoadLocalSsd, DriftFactor.KvLoadSpeed);
            PrefillSide(r.LoadRemote, p.LoadRemote, DriftFactor.KvLoadSpeed);
            Split(r.Decode, p.Decode, bMean, f, DriftFactor.OutputLength, 0, DriftFactor.DecodeSpeed);

            // Prefill-side components: tokens = input × share, so the token log-ratio is input length + hit mix.
            void PrefillSide(ComponentWork cr, ComponentWork cp, string speed)
            {
                var share = r.InputTokens > 0 && p.InputTokens > 0 && cr.Tokens > 0 && cp.Tokens > 0 ? inputLog : 0;
                Split(cr, cp, bMean, f, DriftFactor.CacheHitMix, share, speed, DriftFactor.InputLength);
            }
        }

        var total = f.Values.Sum();
        var top = f.Where(kv => kv.Value != 0).OrderByDescending(kv => Math.Abs(kv.Value)).Select(kv => kv.Key).FirstOrDefault() ?? "";
        return new DriftResult(total, f, top, Explain(f, r, p));
    }

    /// <summary>The logarithmic mean <c>L(a, b) = (a − b)/(ln a − ln b)</c>, <c>L(a, a) = a</c>; 0 unless both are positive.</summary>
    public static double LogMean(double a, double b)
    {
        if (!(a > 0) || !(b > 0)) return 0;
        var d = Math.Log(a) - Math.Log(b);
        return Math.Abs(d) < 1e-12 ? (a + b) / 2 : (a - b) / d;
    }

    /// <summary>
    /// Adds component c's exact contribution (b₁ − b₀)/L(B₁, B₀) to the factors: split LMDI-style between tokens and
    /// time per token when both sides are positive; all to the token factor (or to speed when tokens match but time per
    /// token is zero on one side) otherwise. <paramref name="tokenSubLog"/> is the part of the token log-ratio that
    /// belongs to <paramref name="subFactor"/> (input length for prefill-side components).
    /// </summary>
    private static void Split(ComponentWork r, ComponentWork p, double bMean, Dictionary<string, double> f, string tokenFactor, double tokenSubLog, string speedFactor, string? subFactor = null)
    {
        double br = r.GpuSeconds, bp = p.GpuSeconds;
        if (br == bp) return;
        var contribution = (br - bp) / bMean;
        if (br > 0 && bp > 0)
        {
            var weight = LogMean(br, bp) / bMean;
            var tokenLog = Math.Log(r.Tokens / p.Tokens);
            var speedLog = Math.Log(r.GpuSecondsPerToken / p.GpuSecondsPerToken);
            if (subFactor is not null) f[subFactor] += weight * tokenSubLog;
            f[tokenFactor] += weight * (tokenLog - tokenSubLog);
            f[speedFactor] += weight * speedLog;
            return;
        }

        var tokensDiffer = (r.Tokens > 0) != (p.Tokens > 0);
        f[tokensDiffer || (r.Tokens == 0 && p.Tokens == 0) ? tokenFactor : speedFactor] += contribution;
    }

    private static double SafeLog(double a, double b) => a > 0 && b > 0 ? Math.Log(a / b) : 0;

    private static string Explain(Dictionary<string, double> f, EfficiencyProfile r, EfficiencyProfile p)
    {
        var parts = f.Where(kv => Math.Abs(kv.Value) >= 0.005).OrderByDescending(kv => Math.Abs(kv.Value)).Take(3)
            .Select(kv => Describe(kv.Key, kv.Value, r, p)).ToList();
        return parts.Count == 0 ? "on plan (no factor moves spend per success by 0.5 % or more)" : string.Join("; ", parts);
    }

    private static string Describe(string factor, double log, EfficiencyProfile r, EfficiencyProfile p)
    {
        var effect = string.Create(CultureInfo.InvariantCulture, $"{Math.Exp(log) - 1:+0.0%;-0.0%;0.0%} spend/success");
        string Change(double a, double b) => b > 0 ? string.Create(CultureInfo.InvariantCulture, $"{a / b - 1:+0%;-0%}") : "new";
        return factor switch
        {
            DriftFactor.Price => $"price: $ per GPU-second {Change(r.FixedUsdPerGpuSecond, p.FixedUsdPerGpuSecond)} ({effect})",
            DriftFactor.Energy => $"energy: $ per busy GPU-second {Change(r.EnergyUsdPerBusyGpuSecond, p.EnergyUsdPerBusyGpuSecond)} ({effect})",
            DriftFactor.SuccessRate => string.Create(CultureInfo.InvariantCulture, $"success rate {r.SuccessRate:0.0%} vs {p.SuccessRate:0.0%} planned ({effect})"),
            DriftFactor.InputLength => $"input tokens per request {Change(r.InputTokens, p.InputTokens)} ({effect})",
            DriftFactor.OutputLength => r.ReasoningTokens > 0 || p.ReasoningTokens > 0
                ? $"reasoning depth {Change(r.ReasoningTokens, p.ReasoningTokens)}, output tokens per request {Change(r.Decode.Tokens, p.Decode.Tokens)} ({effect})"
                : $"output tokens per request {Change(r.Decode.Tokens, p.Decode.Tokens)} ({effect})",
            DriftFactor.CacheHitMix => $"{HitMix(r, p)} ({effect})",
            DriftFactor.PrefillSpeed => $"prefill {Slower(r.Prefill, p.Prefill)} than planned ({effect})",
            DriftFactor.KvLoadSpeed => $"KV loads {SlowestTier(r, p)} ({effect})",
            DriftFactor.DecodeSpeed => $"decode {Slower(r.Decode, p.Decode)} than planned ({effect})",
            _ => $"{factor} ({effect})",
        };
    }

    private static string Slower(ComponentWork r, ComponentWork p)
    {
        if (!(p.GpuSecondsPerToken > 0)) return "new work";
        var ratio = r.GpuSecondsPerToken / p.GpuSecondsPerToken - 1;
        return ratio >= 0
            ? string.Create(CultureInfo.InvariantCulture, $"{ratio:0%} slower")
            : string.Create(CultureInfo.InvariantCulture, $"{-ratio:0%} faster");
    }

    private static string HitMix(EfficiencyProfile r, EfficiencyProfile p)
    {
        var tiers = new[] { (KvTier.Hbm, "HBM"), (KvTier.Dram, "DRAM"), (KvTier.LocalSsd, "local SSD"), (KvTier.Remote, "remote") };
        var (tier, name) = tiers.OrderByDescending(t => Math.Abs(r.HitRate(t.Item1) - p.HitRate(t.Item1))).First();
        var points = (r.HitRate(tier) - p.HitRate(tier)) * 100;
        return string.Create(CultureInfo.InvariantCulture, $"{name} tier hit rate {points:+0.0;-0.0} points ({r.HitRate(tier):0.0%} vs {p.HitRate(tier):0.0%})");
    }

    private static string SlowestTier(EfficiencyProfile r, EfficiencyProfile p)
    {
        var tiers = new[] { ("HBM", r.LoadHbm, p.LoadHbm), ("DRAM", r.LoadDram, p.LoadDram), ("local SSD", r.LoadLocalSsd, p.LoadLocalSsd), ("remote", r.LoadRemote, p.LoadRemote) };
        var (name, cr, cp) = tiers.OrderByDescending(t => Math.Abs(t.Item2.GpuSeconds - t.Item3.GpuSeconds)).First();
        return $"from {name} {Slower(cr, cp)} per token than planned";
    }
}
