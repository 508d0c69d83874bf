using System.Globalization;
using System.Text.Json.Serialization;
using ClickHouse.Driver;
using Dapper;
using EfficiencyMonitor.Core.Model;
using EfficiencyMonitor.Jobs.Efficiency;
using EfficiencyMonitor.Storage;

namespace EfficiencyMonitor.Jobs.Validation;

/// <summary>The API's response.</summary>
/// <param name="Windows">Validated windows, oldest first.</param>
public sealed record ValidationResponse(IReadOnlyList<ForecastValidationRow> Windows);

/// <summary>
/// Reads <c>forecast_validation</c> — the one reader behind <c>/api/validation</c>, <c>forecast show</c> and the forecast
/// HTTP routes.
/// </summary>
public sealed class ValidationQueries(ClickHouseClient client, ClickHouseOptions options)
{
    // {1}: the optional filters. Factors travel as "k=v;k=v" text (a Map column has no Dapper mapping) and are split
    // into the row's dictionary after the read.
    private const string Sql = """
        SELECT toString(forecast_id) AS ForecastId, window_seconds AS WindowSeconds, toString(deployment) AS Deployment, window_start AS WindowStart,
               toString(catalog_version) AS CatalogVersion, requests AS Requests, successful_outputs AS SuccessfulOutputs,
               realized_bill_spend_per_success_usd AS RealizedBillSpendPerSuccessUsd, realized_work_spend_per_success_usd AS RealizedWorkSpendPerSuccessUsd,
               model_spend_per_success_usd AS ModelSpendPerSuccessUsd, plan_spend_per_success_usd AS PlanSpendPerSuccessUsd,
               model_error AS ModelError, efficiency_drift_ratio AS EfficiencyDriftRatio, utilization_log_ratio AS UtilizationLogRatio,
               toString(top_factor) AS TopFactor, explanation AS Explanation, rolling_model_mape AS RollingModelMape,
               rolling_plan_mape AS RollingPlanMape, rolling_plan_bias AS RollingPlanBias, within_tolerance AS WithinTolerance,
               arrayStringConcat(arrayMap((k, v) -> concat(toString(k), '=', toString(v)), mapKeys(factors), mapValues(factors)), ';') AS FactorText
        FROM {0}.forecast_validation FINAL
        WHERE forecast_id = @forecast {1}
        ORDER BY deployment, window_start, window_seconds
        """;

    /// <summary>Validated windows of <paramref name="query"/> for <paramref name="forecastId"/> ('' = baseline).</summary>
    public async Task<ValidationResponse> ReadAsync(EfficiencyQuery query, string forecastId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        return new ValidationResponse(await ReadAsync(forecastId, (uint)query.WindowSeconds, query.Deployment, query.From, query.To, cancellationToken));
    }

    /// <summary>
    /// Validated windows of <paramref name="forecastId"/> ('' = baseline), ordered by deployment, start and length; each
    /// filter applies only when given.
    /// </summary>
    public async Task<IReadOnlyList<ForecastValidationRow>> ReadAsync(
        string forecastId, uint? windowSeconds, string? deployment, DateTimeOffset? from, DateTimeOffset? to, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(forecastId);
        var filters = string.Concat(
            windowSeconds is null ? "" : " AND window_seconds = @w",
            deployment is null ? "" : " AND deployment = @deployment",
            from is null ? "" : " AND window_start >= toDateTime(@fromS, 'UTC')",
            to is null ? "" : " AND window_start < toDateTime(@toS, 'UTC')");
        await using var connection = client.CreateConnection();
        var rows = await connection.QueryAsync<ForecastValidationRow, FactorColumn, ForecastValidationRow>(
            new CommandDefinition(string.Format(CultureInfo.InvariantCulture, Sql, options.Database, filters), new
            {
                forecast = forecastId,
                w = windowSeconds ?? 0,
                deployment = deployment ?? "",
                fromS = from?.ToUnixTimeSeconds() ?? 0,
                toS = to?.ToUnixTimeSeconds() ?? 0,
            }, cancellationToken: cancellationToken),
            (row, factors) => row with { Factors = ParseFactors(factors.FactorText) },
            splitOn: nameof(FactorColumn.FactorText));
        return [.. rows];
    }

    private static Dictionary<string, double> ParseFactors(string text) =>
        text.Split(';', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Split('='))
            .ToDictionary(p => p[0], p => double.Parse(p[1], CultureInfo.InvariantCulture), StringComparer.Ordinal);

    private sealed record FactorColumn(string FactorText);
}

/// <summary>Source-generated JSON for <c>/api/validation</c>.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(ValidationResponse))]
public sealed partial class ValidationJsonContext : JsonSerializerContext;
