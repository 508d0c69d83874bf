using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace EfficiencyMonitor.Core.Model;

/// <summary>A stored forecast (a row of <c>forecasts</c>).</summary>
public sealed record StoredForecast
{
    /// <summary>Slug of the name plus a short hash of the canonical spec.</summary>
    public required string ForecastId { get; init; }

    /// <summary>Forecast name.</summary>
    public required string Name { get; init; }

    /// <summary>Deployment.</summary>
    public required string Deployment { get; init; }

    /// <summary>Catalog version the forecast is evaluated with.</summary>
    public required string CatalogVersion { get; init; }

    /// <summary>Horizon start (UTC).</summary>
    public DateTimeOffset HorizonFrom { get; init; }

    /// <summary>Horizon end (UTC).</summary>
    public DateTimeOffset HorizonTo { get; init; }

    /// <summary>Allowed |realized/plan − 1|.</summary>
    public double Tolerance { get; init; }

    /// <summary>The spec (as stored in <c>scenario</c>, canonical JSON).</summary>
    public required ForecastSpec Spec { get; init; }

    /// <summary>When it was stored.</summary>
    public DateTimeOffset CreatedAt { get; init; }
}

/// <summary>One validated window (a row of <c>forecast_validation FINAL</c>, the columns reports and the API show) of a forecast or the baseline.</summary>
public sealed record ForecastValidationRow
{
    /// <summary>'' for the deployment's calibrated baseline, else the forecast id.</summary>
    public string ForecastId { get; init; } = "";

    /// <summary>Window length, s.</summary>
    public uint WindowSeconds { get; init; }

    /// <summary>Deployment.</summary>
    public string Deployment { get; init; } = "";

    /// <summary>Window start (UTC; the kind is set whatever the driver reports).</summary>
    public DateTime WindowStart { get; init => field = DateTime.SpecifyKind(value, DateTimeKind.Utc); }

    /// <summary>Catalog version the window was validated with.</summary>
    public string CatalogVersion { get; init; } = "";

    /// <summary>Requests finished.</summary>
    public ulong Requests { get; init; }

    /// <summary>Successful outputs.</summary>
    public ulong SuccessfulOutputs { get; init; }

    /// <summary>Realized spend per success as billed.</summary>
    public double? RealizedBillSpendPerSuccessUsd { get; init; }

    /// <summary>Realized work priced at the plan's utilization, per success.</summary>
    public double? RealizedWorkSpendPerSuccessUsd { get; init; }

    /// <summary>The model on the window's observed mix, per success.</summary>
    public double? ModelSpendPerSuccessUsd { get; init; }

    /// <summary>The plan, per success.</summary>
    public double? PlanSpendPerSuccessUsd { get; init; }

    /// <summary>Model error (model / realized − 1).</summary>
    public double? ModelError { get; init; }

    /// <summary>realized / plan − 1.</summary>
    public double? EfficiencyDriftRatio { get; init; }

    /// <summary>ln(billed / realized work): the utilization (and idle energy) difference from the plan.</summary>
    public double UtilizationLogRatio { get; init; }

    /// <summary>Per-factor log-ratios of realized work / plan; they sum to ln(1 + drift).</summary>
    public IReadOnlyDictionary<string, double> Factors { get; init; } = new Dictionary<string, double>();

    /// <summary>Factor with the largest |log-ratio|.</summary>
    public string TopFactor { get; init; } = "";

    /// <summary>One line explaining the drift.</summary>
    public string Explanation { get; init; } = "";

    /// <summary>Rolling MAPE of the model.</summary>
    public double? RollingModelMape { get; init; }

    /// <summary>Rolling MAPE of the plan.</summary>
    public double? RollingPlanMape { get; init; }

    /// <summary>Rolling signed bias of the plan.</summary>
    public double? RollingPlanBias { get; init; }

    /// <summary>Whether the window's drift is within the forecast's tolerance.</summary>
    public bool WithinTolerance { get; init; }
}

/// <summary>What <c>forecast show</c> prints: the forecast, its evaluation (null when the catalog is unavailable) and the validated windows.</summary>
/// <param name="Forecast">The stored forecast.</param>
/// <param name="Evaluation">Its predicted figures.</param>
/// <param name="Validation">Validated windows, oldest first.</param>
public sealed record ForecastShow(StoredForecast Forecast, ForecastEvaluation? Evaluation, IReadOnlyList<ForecastValidationRow> Validation);

/// <summary>What <c>forecast what-if</c> prints for a spec: baseline and variant side by side.</summary>
/// <param name="Change">The variant's changes in words.</param>
/// <param name="Baseline">The forecast as given.</param>
/// <param name="Variant">The forecast with the changes.</param>
public sealed record ForecastComparison(string Change, ForecastEvaluation Baseline, ForecastEvaluation Variant);

/// <summary>Canonical JSON of forecast specs (snake_case, as in the files) and their ids.</summary>
public static class ForecastJson
{
    /// <summary>The canonical JSON of <paramref name="spec"/> (what <c>forecasts.scenario</c> holds).</summary>
    public static string Canonical(ForecastSpec spec) => JsonSerializer.Serialize(spec, ForecastJsonContext.Default.ForecastSpec);

    /// <summary>Reads a spec back from canonical JSON.</summary>
    /// <exception cref="JsonException">Not a spec.</exception>
    public static ForecastSpec Parse(string json) =>
        JsonSerializer.Deserialize(json, ForecastJsonContext.Default.ForecastSpec) ?? throw new JsonException("empty forecast scenario");

    /// <summary>
    /// The forecast id: the name's slug (lower-case letters, digits and '-', at most 48 characters) plus the first 10 hex
    /// digits of the SHA-256 of the canonical spec, so the same spec always gets the same id and any change a new one.
    /// </summary>
    public static string Id(ForecastSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Canonical(spec))))[..10];
        return $"{Slug(spec.Name)}-{hash}";
    }

    /// <summary>Lower-case letters and digits, every other run of characters as one '-', trimmed, at most 48 characters.</summary>
    public static string Slug(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var text = new StringBuilder();
        foreach (var c in name.ToLowerInvariant())
        {
            if (char.IsAsciiLetterOrDigit(c)) text.Append(c);
            else if (text.Length > 0 && text[^1] != '-') text.Append('-');
        }

        var slug = text.ToString().Trim('-');
        if (slug.Length > 48) slug = slug[..48].TrimEnd('-');
        return slug.Length == 0 ? "forecast" : slug;
    }

    /// <summary>Serializes an evaluation for <c>--json</c> and HTTP.</summary>
    public static string Serialize(ForecastEvaluation evaluation) => JsonSerializer.Serialize(evaluation, ForecastOutputJsonContext.Default.ForecastEvaluation);

    /// <summary>Serializes a <c>forecast show</c> result.</summary>
    public static string Serialize(ForecastShow show) => JsonSerializer.Serialize(show, ForecastOutputJsonContext.Default.ForecastShow);

    /// <summary>Serializes a what-if comparison.</summary>
    public static string Serialize(ForecastComparison comparison) => JsonSerializer.Serialize(comparison, ForecastOutputJsonContext.Default.ForecastComparison);

    /// <summary>Serializes stored forecasts (<c>forecast list --json</c>).</summary>
    public static string Serialize(IReadOnlyList<StoredForecast> forecasts) => JsonSerializer.Serialize(forecasts, ForecastOutputJsonContext.Default.IReadOnlyListStoredForecast);

    /// <summary>Serializes model figures.</summary>
    public static string Serialize(ModelFigureSet figures) => JsonSerializer.Serialize(figures, ForecastOutputJsonContext.Default.ModelFigureSet);
}

/// <summary>Source-generated JSON of forecast specs (snake_case, unknown fields refused).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow)]
[JsonSerializable(typeof(ForecastSpec))]
public sealed partial class ForecastJsonContext : JsonSerializerContext;

/// <summary>Source-generated JSON of forecast results (snake_case; NaN and ∞ written as strings).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    UseStringEnumConverter = true,
    WriteIndented = true)]
[JsonSerializable(typeof(ForecastEvaluation))]
[JsonSerializable(typeof(ForecastShow))]
[JsonSerializable(typeof(ForecastComparison))]
[JsonSerializable(typeof(ModelFigureSet))]
[JsonSerializable(typeof(IReadOnlyList<StoredForecast>))]
public sealed partial class ForecastOutputJsonContext : JsonSerializerContext;
