using System.Diagnostics.Metrics;
using ClickHouse.Driver;
using EfficiencyMonitor.Jobs.Catalog;
using EfficiencyMonitor.Jobs.Efficiency;
using EfficiencyMonitor.Jobs.Forecasts;
using EfficiencyMonitor.Jobs.Validation;
using EfficiencyMonitor.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EfficiencyMonitor.Jobs;

/// <summary>The jobs' services built without a host, for CLI verbs (report, reprice, catalog) and benchmarks.</summary>
public sealed class EfficiencyToolkit : IDisposable
{
    private readonly ServiceProvider _meters;

    /// <summary>Creates the services against <paramref name="clickHouse"/>.</summary>
    public EfficiencyToolkit(ClickHouseOptions clickHouse, JobsOptions jobs, TimeProvider time, ILoggerFactory loggers)
    {
        ArgumentNullException.ThrowIfNull(clickHouse);
        ArgumentNullException.ThrowIfNull(loggers);
        Client = new ClickHouseClient(clickHouse.ToConnectionString());
        _meters = new ServiceCollection().AddMetrics().BuildServiceProvider();
        Catalogs = new CatalogStore(Client, clickHouse, time);
        Store = new EfficiencyStore(Client, clickHouse);
        Queries = new EfficiencyQueries(Client, clickHouse);
        Metrics = new JobsMetrics(_meters.GetRequiredService<IMeterFactory>());
        Runner = new RealizedEfficiencyRunner(Store, Catalogs, Options.Create(jobs), time, Metrics, loggers.CreateLogger<RealizedEfficiencyRunner>());
        Validation = new ValidationStore(Client, clickHouse);
        Forecasts = new ForecastStore(Client, clickHouse, time);
        Validator = new ValidationRunner(Validation, Catalogs, Options.Create(jobs), time, Metrics, loggers.CreateLogger<ValidationRunner>())
        {
            ForecastSource = new ForecastPlans(Forecasts, Catalogs, loggers.CreateLogger<ForecastPlans>()).GetAsync,
        };
        Calibrator = new Calibrator(Validation, Catalogs);
    }

    /// <summary>The ClickHouse client.</summary>
    public ClickHouseClient Client { get; }

    /// <summary>Catalog versions.</summary>
    public CatalogStore Catalogs { get; }

    /// <summary>Window reads and writes.</summary>
    public EfficiencyStore Store { get; }

    /// <summary>Stored results.</summary>
    public EfficiencyQueries Queries { get; }

    /// <summary>Job metrics.</summary>
    public JobsMetrics Metrics { get; }

    /// <summary>The runner.</summary>
    public RealizedEfficiencyRunner Runner { get; }

    /// <summary>Stored forecasts.</summary>
    public ForecastStore Forecasts { get; }

    /// <summary>Validation reads and writes.</summary>
    public ValidationStore Validation { get; }

    /// <summary>The validation runner (model, baseline, forecasts).</summary>
    public ValidationRunner Validator { get; }

    /// <summary>Calibration.</summary>
    public Calibrator Calibrator { get; }

    /// <inheritdoc />
    public void Dispose()
    {
        Metrics.Dispose();
        _meters.Dispose();
        Client.Dispose();
    }
}
