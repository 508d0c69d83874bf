using EfficiencyMonitor.Core.Catalog;
using EfficiencyMonitor.Core.Model;
using EfficiencyMonitor.Jobs.Catalog;
using EfficiencyMonitor.Jobs.Forecasts;
using Microsoft.Extensions.Logging;

namespace EfficiencyMonitor.Jobs.Validation;

/// <summary>
/// The stored forecasts as plans for <see cref="ValidationRunner"/>: each evaluated with the catalog version it names
/// (its prices and model as planned), validated over its horizon against production.
/// </summary>
public sealed partial class ForecastPlans(ForecastStore forecasts, CatalogStore catalogs, ILogger<ForecastPlans> logger)
{
    /// <summary>Plans of every stored forecast whose horizon has started.</summary>
    public async Task<IReadOnlyList<PlanTarget>> GetAsync(CostCatalog current, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(current);
        var targets = new List<PlanTarget>();
        var cache = new Dictionary<string, CostCatalog?>(StringComparer.Ordinal) { [current.Version] = current };
        foreach (var f in await forecasts.ListAsync(cancellationToken))
        {
            if (!cache.TryGetValue(f.CatalogVersion, out var catalog))
                cache[f.CatalogVersion] = catalog = (await catalogs.GetAsync(f.CatalogVersion, cancellationToken))?.Catalog;
            if (catalog is null)
            {
                LogNoCatalog(logger, f.ForecastId, f.CatalogVersion);
                continue;
            }

            try
            {
                var plan = ForecastPlanner.ToPlan(f.Spec, catalog, f.HorizonFrom);
                targets.Add(new PlanTarget(f.ForecastId, f.Deployment, plan, f.Tolerance, f.HorizonFrom.ToUnixTimeSeconds(), f.HorizonTo.ToUnixTimeSeconds()));
            }
            catch (CatalogException e)
            {
                LogUnplannable(logger, f.ForecastId, e.Message);
            }
        }

        return targets;
    }

    [LoggerMessage(EventId = 5103, Level = LogLevel.Warning, Message = "Forecast {ForecastId} names catalog version {Version}, which is not stored: not validated")]
    private static partial void LogNoCatalog(ILogger logger, string forecastId, string version);

    [LoggerMessage(EventId = 5104, Level = LogLevel.Error, Message = "Forecast {ForecastId} cannot be evaluated: {Problem}")]
    private static partial void LogUnplannable(ILogger logger, string forecastId, string problem);
}
