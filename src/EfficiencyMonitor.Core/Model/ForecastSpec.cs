using System.Globalization;
using System.Text.Json.Serialization;

namespace EfficiencyMonitor.Core.Model;

/// <summary>
/// A forecast scenario (MODEL.md §4.2): the workload a deployment is planned to serve over a horizon — request rate, mix
/// of request classes (tokens, hidden reasoning, KV hit rates per tier), success rate — and either the fleet it runs on
/// or the utilization it is planned at. Stored as canonical JSON in <c>forecasts.scenario</c>.
/// </summary>
public sealed record ForecastSpec
{
    // Properties with a default other than the type's are settable: source-generated JSON sets every init-only
    // property in one object initializer, which would overwrite the default of a field the file leaves out.
    /// <summary>Default tolerance on |realized/plan − 1| before a forecast is reported as off.</summary>
    public const double DefaultTolerance = 0.10;

    /// <summary>Forecast name (the id is its slug plus a hash of the spec).</summary>
    public string Name { get; set; } = "";

    /// <summary>Deployment (a catalog deployment name).</summary>
    public string Deployment { get; set; } = "";

    /// <summary>Catalog version to evaluate with; null = the latest stored one (resolved when the forecast is created).</summary>
    public string? CatalogVersion { get; init; }

    /// <summary>Period the forecast is for.</summary>
    public ForecastHorizon Horizon { get; set; } = new();

    /// <summary>Allowed |realized/plan − 1| (0.10 = ±10 %).</summary>
    public double Tolerance { get; set; } = DefaultTolerance;

    /// <summary>Planned requests per second.</summary>
    public double RequestsPerSecond { get; init; }

    /// <summary>Planned successful outputs / requests.</summary>
    public double SuccessRate { get; init; }

    /// <summary>The provisioned fleet (exclusive with <see cref="Utilization"/>).</summary>
    public ForecastFleet? Fleet { get; init; }

    /// <summary>Planned busy / provisioned GPU time (exclusive with <see cref="Fleet"/>): the fleet is sized to it.</summary>
    public double? Utilization { get; init; }

    /// <summary>Request classes; their shares sum to 1.</summary>
    public IReadOnlyList<ForecastClass> Classes { get; set; } = [];
}

/// <summary>A forecast's period, <c>[from, to)</c> UTC.</summary>
public sealed record ForecastHorizon
{
    /// <summary>Start (inclusive); catalog prices are taken at this instant.</summary>
    public DateTimeOffset From { get; init; }

    /// <summary>End (exclusive).</summary>
    public DateTimeOffset To { get; init; }
}

/// <summary>A provisioned fleet.</summary>
public sealed record ForecastFleet
{
    /// <summary>GPUs provisioned for the deployment (all pools).</summary>
    public int Gpus { get; init; }
}

/// <summary>One class of similar requests, as averages per request.</summary>
public sealed record ForecastClass
{
    /// <summary>Share of requests in this class (0..1; the shares sum to 1).</summary>
    public double Share { get; init; }

    /// <summary>Input tokens per request, cached prefix included.</summary>
    public double InputTokens { get; init; }

    /// <summary>Generated tokens per request, hidden reasoning included (as telemetry counts <c>output_tokens</c>).</summary>
    public double OutputTokens { get; init; }

    /// <summary>Hidden reasoning tokens per request (part of <see cref="OutputTokens"/>).</summary>
    public double ReasoningTokens { get; init; }

    /// <summary>Share of input tokens served from each KV tier (the rest is prefilled).</summary>
    public ForecastHitRates HitRates { get; set; } = new();
}

/// <summary>Share of input tokens served from each KV tier (each 0..1, summing to at most 1).</summary>
public sealed record ForecastHitRates
{
    /// <summary>From HBM (prefix already resident).</summary>
    public double Hbm { get; init; }

    /// <summary>From host DRAM.</summary>
    public double Dram { get; init; }

    /// <summary>From local SSD.</summary>
    public double LocalSsd { get; init; }

    /// <summary>From the remote store.</summary>
    public double Remote { get; init; }

    /// <summary>Sum over the tiers.</summary>
    [JsonIgnore]
    public double Total => Hbm + Dram + LocalSsd + Remote;

    /// <summary>The rate of <paramref name="tier"/>.</summary>
    public double Of(KvTier tier) => tier switch
    {
        KvTier.Hbm => Hbm,
        KvTier.Dram => Dram,
        KvTier.LocalSsd => LocalSsd,
        _ => Remote,
    };

    /// <summary>A copy with <paramref name="tier"/> set to <paramref name="value"/>.</summary>
    public ForecastHitRates With(KvTier tier, double value) => tier switch
    {
        KvTier.Hbm => this with { Hbm = value },
        KvTier.Dram => this with { Dram = value },
        KvTier.LocalSsd => this with { LocalSsd = value },
        _ => this with { Remote = value },
    };
}

/// <summary>Checks a <see cref="ForecastSpec"/>: every problem as <c>location: path: what is wrong; fix: …</c>.</summary>
public static class ForecastSpecValidator
{
    /// <summary>Tolerance on the sum of class shares.</summary>
    public const double ShareSumTolerance = 1e-3;

    /// <summary>Validates <paramref name="spec"/>; <paramref name="locate"/> maps a path (e.g. <c>classes[0].share</c>) to <c>file:line:column</c>.</summary>
    public static IReadOnlyList<string> Validate(ForecastSpec spec, Func<string, string>? locate = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        locate ??= _ => "forecast";
        var problems = new List<string>();
        void Add(string path, string problem, string fix) => problems.Add($"{locate(path)}: {path}: {problem}; fix: {fix}");
        void Range(string path, double value, double min, double max, string unit)
        {
            if (!double.IsFinite(value) || value < min || value > max)
                Add(path, string.Create(CultureInfo.InvariantCulture, $"{value} is out of range {min}..{max} {unit}"), $"give the value in {unit}");
        }

        if (string.IsNullOrWhiteSpace(spec.Name)) Add("name", "missing", "name the forecast, e.g. name: llama-chat-2027q1");
        else if (spec.Name.Length > 128) Add("name", "is longer than 128 characters", "use a short name");
        if (string.IsNullOrWhiteSpace(spec.Deployment)) Add("deployment", "missing", "give the catalog deployment, e.g. deployment: llama-70b-chat-prod");
        if (spec.CatalogVersion is { } v && (v.Length == 0 || v.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_'))))
            Add("catalog_version", $"'{v}' is not a version label", "omit it for the latest stored version, or give one from `efficiency-monitor catalog list`");
        if (spec.Horizon.From == default) Add("horizon.from", "missing", "give the start, e.g. from: 2027-01-01T00:00:00Z");
        if (spec.Horizon.To == default) Add("horizon.to", "missing", "give the end, e.g. to: 2027-04-01T00:00:00Z");
        else if (spec.Horizon.To <= spec.Horizon.From) Add("horizon.to", $"{spec.Horizon.To:O} is not after horizon.from {spec.Horizon.From:O}", "end the horizon after it starts");
        Range("tolerance", spec.Tolerance, 1e-4, 10, "fraction (0.10 = ±10 %)");
        Range("requests_per_second", spec.RequestsPerSecond, 1e-6, 1e9, "requests per second");
        Range("success_rate", spec.SuccessRate, 1e-6, 1, "fraction of requests (0.97 = 97 %)");

        if ((spec.Fleet is null) == (spec.Utilization is null))
            Add("fleet", spec.Fleet is null ? "neither fleet nor utilization is given" : "both fleet and utilization are given",
                "give exactly one: fleet: { gpus: 64 } (utilization follows from the work) or utilization: 0.6 (the fleet is sized to it)");
        if (spec.Fleet is { } fleet && fleet.Gpus is < 1 or > 10_000_000)
            Add("fleet.gpus", string.Create(CultureInfo.InvariantCulture, $"{fleet.Gpus} is out of range 1..10000000 GPUs"), "give the GPUs provisioned for the deployment");
        if (spec.Utilization is { } u) Range("utilization", u, 1e-4, 1, "fraction of provisioned GPU time (0.6 = 60 %)");

        if (spec.Classes.Count == 0) Add("classes", "no request class", "add at least one: classes: [{ share: 1, input_tokens: 2000, output_tokens: 400, hit_rates: { dram: 0.3 } }]");
        for (var i = 0; i < spec.Classes.Count; i++)
        {
            var c = spec.Classes[i];
            var p = $"classes[{i}]";
            if (c is null)
            {
                Add(p, "is empty", "give share, input_tokens, output_tokens");
                continue;
            }

            Range($"{p}.share", c.Share, 1e-9, 1, "fraction of requests");
            Range($"{p}.input_tokens", c.InputTokens, 0, 1e8, "tokens per request");
            Range($"{p}.output_tokens", c.OutputTokens, 0, 1e8, "tokens per request (hidden reasoning included)");
            Range($"{p}.reasoning_tokens", c.ReasoningTokens, 0, 1e8, "tokens per request");
            if (c.ReasoningTokens > c.OutputTokens)
                Add($"{p}.reasoning_tokens", string.Create(CultureInfo.InvariantCulture, $"{c.ReasoningTokens} exceeds output_tokens {c.OutputTokens}"),
                    "output_tokens counts hidden reasoning too: raise output_tokens to visible + reasoning");
            if (c.InputTokens + c.OutputTokens <= 0) Add(p, "has no input and no output tokens", "give input_tokens and output_tokens per request");
            var h = c.HitRates ?? new ForecastHitRates();
            foreach (var (name, rate) in new[] { ("hbm", h.Hbm), ("dram", h.Dram), ("local_ssd", h.LocalSsd), ("remote", h.Remote) })
                Range($"{p}.hit_rates.{name}", rate, 0, 1, "fraction of input tokens");
            if (h.Total > 1 + 1e-9)
                Add($"{p}.hit_rates", string.Create(CultureInfo.InvariantCulture, $"hit rates sum to {h.Total:0.###} > 1"), "hit rates are shares of input tokens: they sum to at most 1 (the rest is prefilled)");
        }

        var shares = spec.Classes.Where(c => c is not null).Sum(c => c.Share);
        if (spec.Classes.Count > 0 && Math.Abs(shares - 1) > ShareSumTolerance)
            Add("classes", string.Create(CultureInfo.InvariantCulture, $"shares sum to {shares:0.####}, not 1"), "make the classes' share values add up to 1");
        return problems;
    }
}

/// <summary>A forecast that cannot be used; <see cref="Problems"/> lists every problem.</summary>
public sealed class ForecastException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ForecastException(IReadOnlyList<string> problems)
        : base(problems.Count == 1 ? problems[0] : $"{problems.Count} forecast problems:\n  " + string.Join("\n  ", problems)) => Problems = problems;

    /// <summary>Creates the exception.</summary>
    public ForecastException()
        : this(["invalid forecast"])
    {
    }

    /// <summary>Creates the exception.</summary>
    public ForecastException(string message)
        : this([message])
    {
    }

    /// <summary>Creates the exception.</summary>
    public ForecastException(string message, Exception innerException)
        : base(message, innerException) => Problems = [message];

    /// <summary>Each problem with its location, path, what is wrong and the fix.</summary>
    public IReadOnlyList<string> Problems { get; }
}
