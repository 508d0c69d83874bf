using System.Globalization;
using System.Text.Json.Serialization;
using ClickHouse.Driver;
using Dapper;
using EfficiencyMonitor.Jobs.Efficiency;
using EfficiencyMonitor.Storage;

namespace EfficiencyMonitor.Jobs.Validation;

/// <summary>One validated window as the API returns it.</summary>
public sealed record ValidationWindow
{
    /// <summary>'' = calibrated baseline, else the forecast id.</summary>
    public string ForecastId { get; init; } = "";

    /// <summary>Deployment.</summary>
    public string Deployment { get; init; } = "";

    /// <summary>Window start (UTC).</summary>
    public DateTime WindowStart { get; init; }

    /// <summary>Catalog version.</summary>
    public string CatalogVersion { get; init; } = "";

    /// <summary>Requests.</summary>
    public ulong Requests { get; init; }

    /// <summary>Successful outputs.</summary>
    public ulong SuccessfulOutputs { get; init; }

    /// <summary>Spend per successful output as billed.</summary>
    public double? RealizedBillSpendPerSuccessUsd { get; init; }

    /// <summary>Realized work at the planned utilization.</summary>
    public double? RealizedWorkSpendPerSuccessUsd { get; init; }

    /// <summary>Model on the observed mix.</summary>
    public double? ModelSpendPerSuccessUsd { get; init; }

    /// <summary>Plan.</summary>
    public double? PlanSpendPerSuccessUsd { get; init; }

    /// <summary>realized_work / model − 1.</summary>
    public double? ModelError { get; init; }

    /// <summary>realized_work / plan − 1.</summary>
    public double? EfficiencyDriftRatio { get; init; }

    /// <summary>ln(billed / realized_work).</summary>
    public double UtilizationLogRatio { get; init; }

    /// <summary>Largest factor.</summary>
    public string TopFactor { get; init; } = "";

    /// <summary>Explanation.</summary>
    public string Explanation { get; init; } = "";

    /// <summary>Rolling model MAPE.</summary>
    public double? RollingModelMape { get; init; }

    /// <summary>Rolling plan MAPE.</summary>
    public double? RollingPlanMape { get; init; }

    /// <summary>Rolling plan bias.</summary>
    public double? RollingPlanBias { get; init; }

    /// <summary>Within tolerance.</summary>
    public bool WithinTolerance { get; init; }

    /// <summary>Per-factor log-ratios (factor=value pairs).</summary>
    public IReadOnlyDictionary<string, double> Factors { get; set; } = new Dictionary<string, double>();
}

/// <summary>The API's response.</summary>
/// <param name="Windows">Validated windows, oldest first.</param>
public sealed record ValidationResponse(IReadOnlyList<ValidationWindow> Windows);

/// <summary>Reads <c>forecast_validation</c> for <c>/api/validation</c> and reports.</summary>
public sealed class ValidationQueries(ClickHouseClient client, ClickHouseOptions options)
{
    private const string Sql = """
        SELECT toString(forecast_id) AS ForecastId, toString(deployment) AS Deployment, window_start AS WindowStart, toString(catalog_version) AS CatalogVersion,
               requests AS Requests, successful_outputs AS SuccessfulOutputs,
               realized_bill_spend_per_success_usd AS RealizedBillSpendPerSuccessUsd, realized_work_spend_per_success_usd AS RealizedWorkSpendPerSuccessUsd,
               model_spend_per_success_usd AS ModelSpendPerSuccessUsd, plan_spend_per_success_usd AS PlanSpendPerSuccessUsd,
               model_error AS ModelError, efficiency_drift_ratio AS EfficiencyDriftRatio, utilization_log_ratio AS UtilizationLogRatio,
               toString(top_factor) AS TopFactor, explanation AS Explanation, rolling_model_mape AS RollingModelMape,
               rolling_plan_mape AS RollingPlanMape, rolling_plan_bias AS RollingPlanBias, within_tolerance AS WithinTolerance,
               arrayStringConcat(arrayMap((k, v) -> concat(toString(k), '=', toString(v)), mapKeys(factors), mapValues(factors)), ';') AS FactorText
        FROM {0}.forecast_validation FINAL
        WHERE forecast_id = @forecast AND window_seconds = @w AND (@deployment = '' OR deployment = @deployment)
          AND window_start >= toDateTime(@fromS, 'UTC') AND window_start < toDateTime(@toS, 'UTC')
        ORDER BY deployment, window_start
        """;

    /// <summary>Validated windows of <paramref name="query"/> for <paramref name="forecastId"/> ('' = baseline).</summary>
    public async Task<ValidationResponse> ReadAsync(EfficiencyQuery query, string forecastId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        await using var connection = client.CreateConnection();
        var rows = await connection.QueryAsync<Row>(new CommandDefinition(string.Format(CultureInfo.InvariantCulture, Sql, options.Database), new
        {
            forecast = forecastId,
            w = query.WindowSeconds,
            deployment = query.Deployment ?? "",
            fromS = query.From.ToUnixTimeSeconds(),
            toS = query.To.ToUnixTimeSeconds(),
        }, cancellationToken: cancellationToken));
        return new ValidationResponse([.. rows.Select(r => r.Window with
        {
            Factors = r.FactorText.Split(';', StringSplitOptions.RemoveEmptyEntries)
                .Select(p => p.Split('='))
                .ToDictionary(p => p[0], p => double.Parse(p[1], CultureInfo.InvariantCulture), StringComparer.Ordinal),
        })]);
    }

    private sealed record Row
    {
        public ValidationWindow Window => new()
        {
            ForecastId = ForecastId, Deployment = Deployment, WindowStart = DateTime.SpecifyKind(WindowStart, DateTimeKind.Utc), CatalogVersion = CatalogVersion,
            Requests = Requests, SuccessfulOutputs = SuccessfulOutputs, RealizedBillSpendPerSuccessUsd = RealizedBillSpendPerSuccessUsd,
            RealizedWorkSpendPerSuccessUsd = RealizedWorkSpendPerSuccessUsd, ModelSpendPerSuccessUsd = ModelSpendPerSuccessUsd,
            PlanSpendPerSuccessUsd = PlanSpendPerSuccessUsd, ModelError = ModelError, EfficiencyDriftRatio = EfficiencyDriftRatio,
            UtilizationLogRatio = UtilizationLogRatio, TopFactor = TopFactor, Explanation = Explanation, RollingModelMape = RollingModelMape,
            RollingPlanMape = RollingPlanMape, RollingPlanBias = RollingPlanBias, WithinTolerance = WithinTolerance,
        };

        public string ForecastId { get; init; } = "";

        public string Deployment { get; init; } = "";

        public DateTime WindowStart { get; init; }

        public string CatalogVersion { get; init; } = "";

        public ulong Requests { get; init; }

        public ulong SuccessfulOutputs { get; init; }

        public double? RealizedBillSpendPerSuccessUsd { get; init; }

        public double? RealizedWorkSpendPerSuccessUsd { get; init; }

        public double? ModelSpendPerSuccessUsd { get; init; }

        public double? PlanSpendPerSuccessUsd { get; init; }

        public double? ModelError { get; init; }

        public double? EfficiencyDriftRatio { get; init; }

        public double UtilizationLogRatio { get; init; }

        public string TopFactor { get; init; } = "";

        public string Explanation { get; init; } = "";

        public double? RollingModelMape { get; init; }

        public double? RollingPlanMape { get; init; }

        public double? RollingPlanBias { get; init; }

        public bool WithinTolerance { get; init; }

        public string FactorText { get; init; } = "";
    }
}

/// <summary>Source-generated JSON for <c>/api/validation</c>.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(ValidationResponse))]
public sealed partial class ValidationJsonContext : JsonSerializerContext;
