using System.Globalization;
using ClickHouse.Driver;
using Dapper;
using EfficiencyMonitor.Core.Model;
using EfficiencyMonitor.Jobs.Validation;
using EfficiencyMonitor.Storage;

namespace EfficiencyMonitor.Jobs.Forecasts;

/// <summary>
/// Stored forecasts (<c>forecasts</c>, migration 0004) and their validation rows (<c>forecast_validation FINAL</c>). The
/// <c>scenario</c> column holds the spec as canonical JSON with its catalog version resolved, and the id is the name's
/// slug plus a hash of that JSON: storing the same spec twice is a no-op.
/// </summary>
public sealed class ForecastStore(ClickHouseClient client, ClickHouseOptions options, TimeProvider time)
{
    private const string Columns = """
        forecast_id AS ForecastId, name AS Name, deployment AS Deployment, catalog_version AS CatalogVersion,
        toInt64(toUnixTimestamp(horizon_from)) AS HorizonFromS, toInt64(toUnixTimestamp(horizon_to)) AS HorizonToS,
        tolerance AS Tolerance, scenario AS Scenario, toInt64(toUnixTimestamp64Milli(created_at)) AS CreatedAtMs
        """;

    private const string InsertSql = """
        INSERT INTO {0}.forecasts (forecast_id, name, deployment, catalog_version, horizon_from, horizon_to, tolerance, scenario, created_at)
        VALUES (@forecastId, @name, @deployment, @catalogVersion, toDateTime(@fromS, 'UTC'), toDateTime(@toS, 'UTC'), @tolerance, @scenario,
                fromUnixTimestamp64Milli(@createdAtMs, 'UTC'))
        """;

    private const string ListSql = "SELECT " + Columns + " FROM {0}.forecasts FINAL ORDER BY created_at, forecast_id";

    private const string GetSql = "SELECT " + Columns + """
         FROM {0}.forecasts FINAL WHERE forecast_id = @key OR name = @key
        ORDER BY forecast_id = @key DESC, created_at DESC LIMIT 1
        """;

    /// <summary>Stores <paramref name="spec"/> (its catalog version must be resolved) unless the same spec is stored already.</summary>
    /// <returns>The stored forecast and whether it was stored now (false: the same spec was there).</returns>
    public async Task<(StoredForecast Forecast, bool Stored)> AddAsync(ForecastSpec spec, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.CatalogVersion is null) throw new ArgumentException("resolve the spec's catalog_version before storing it", nameof(spec));
        var id = ForecastJson.Id(spec);
        if (await GetAsync(id, cancellationToken) is { } existing && existing.ForecastId == id) return (existing, false);
        var createdAt = time.GetUtcNow();
        await using var connection = client.CreateConnection();
        await connection.ExecuteAsync(new CommandDefinition(Sql(InsertSql), new
        {
            forecastId = id,
            name = spec.Name,
            deployment = spec.Deployment,
            catalogVersion = spec.CatalogVersion,
            fromS = spec.Horizon.From.ToUnixTimeSeconds(),
            toS = spec.Horizon.To.ToUnixTimeSeconds(),
            tolerance = spec.Tolerance,
            scenario = ForecastJson.Canonical(spec),
            createdAtMs = createdAt.ToUnixTimeMilliseconds(),
        }, cancellationToken: cancellationToken));
        return (ToForecast(new Row
        {
            ForecastId = id, Name = spec.Name, Deployment = spec.Deployment, CatalogVersion = spec.CatalogVersion,
            HorizonFromS = spec.Horizon.From.ToUnixTimeSeconds(), HorizonToS = spec.Horizon.To.ToUnixTimeSeconds(), Tolerance = spec.Tolerance,
            Scenario = ForecastJson.Canonical(spec), CreatedAtMs = createdAt.ToUnixTimeMilliseconds(),
        }), true);
    }

    /// <summary>Every stored forecast, oldest first.</summary>
    public async Task<IReadOnlyList<StoredForecast>> ListAsync(CancellationToken cancellationToken)
    {
        await using var connection = client.CreateConnection();
        var rows = await connection.QueryAsync<Row>(new CommandDefinition(Sql(ListSql), cancellationToken: cancellationToken));
        return [.. rows.Select(ToForecast)];
    }

    /// <summary>The forecast with id <paramref name="idOrName"/>, else the newest one named so; null when none.</summary>
    public async Task<StoredForecast?> GetAsync(string idOrName, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(idOrName);
        await using var connection = client.CreateConnection();
        var row = await connection.QueryFirstOrDefaultAsync<Row>(new CommandDefinition(Sql(GetSql), new { key = idOrName }, cancellationToken: cancellationToken));
        return row is null ? null : ToForecast(row);
    }

    /// <summary>The validated windows of <paramref name="forecastId"/>, oldest first (only <paramref name="windowSeconds"/>-long ones when given).</summary>
    public Task<IReadOnlyList<ForecastValidationRow>> ValidationAsync(string forecastId, uint? windowSeconds, CancellationToken cancellationToken) =>
        new ValidationQueries(client, options).ReadAsync(forecastId, windowSeconds, null, null, null, cancellationToken);

    /// <summary>A forecast with its validation rows (what <c>forecast show</c> and the HTTP route need); the evaluation is the caller's.</summary>
    public async Task<(StoredForecast Forecast, IReadOnlyList<ForecastValidationRow> Validation)?> GetWithValidationAsync(string idOrName, CancellationToken cancellationToken)
    {
        var forecast = await GetAsync(idOrName, cancellationToken);
        if (forecast is null) return null;
        return (forecast, await ValidationAsync(forecast.ForecastId, null, cancellationToken));
    }

    private static StoredForecast ToForecast(Row r) => new()
    {
        ForecastId = r.ForecastId,
        Name = r.Name,
        Deployment = r.Deployment,
        CatalogVersion = r.CatalogVersion,
        HorizonFrom = DateTimeOffset.FromUnixTimeSeconds(r.HorizonFromS),
        HorizonTo = DateTimeOffset.FromUnixTimeSeconds(r.HorizonToS),
        Tolerance = r.Tolerance,
        Spec = ForecastJson.Parse(r.Scenario),
        CreatedAt = DateTimeOffset.FromUnixTimeMilliseconds(r.CreatedAtMs),
    };

    private string Sql(string format) => string.Format(CultureInfo.InvariantCulture, format, options.Database);

    private sealed record Row
    {
        public string ForecastId { get; init; } = "";

        public string Name { get; init; } = "";

        public string Deployment { get; init; } = "";

        public string CatalogVersion { get; init; } = "";

        public long HorizonFromS { get; init; }

        public long HorizonToS { get; init; }

        public double Tolerance { get; init; }

        public string Scenario { get; init; } = "";

        public long CreatedAtMs { get; init; }
    }
}
