using EfficiencyMonitor.Jobs.Catalog;
using EfficiencyMonitor.Jobs.Efficiency;
using EfficiencyMonitor.Jobs.Forecasts;
using EfficiencyMonitor.Jobs.Validation;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Quartz;

namespace EfficiencyMonitor.Jobs;

/// <summary>Registers the scheduled jobs (Quartz), the catalog store and the efficiency store.</summary>
public static class JobsExtensions
{
    /// <summary>Binds and validates <c>Jobs</c>; schedules <see cref="RealizedEfficiencyJob"/> every <see cref="JobsOptions.Interval"/> when enabled.</summary>
    public static IHostApplicationBuilder AddJobs(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<JobsOptions>().BindConfiguration(JobsOptions.SectionName).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<JobsOptions>, JobsOptionsValidator>();
        builder.Services.TryAddTimeProvider();
        builder.Services.AddMetrics();
        builder.Services.AddSingleton<JobsMetrics>();
        builder.Services.AddSingleton<CatalogStore>();
        builder.Services.AddSingleton<EfficiencyStore>();
        builder.Services.AddSingleton<RealizedEfficiencyRunner>();
        builder.Services.AddSingleton<EfficiencyQueries>();
        builder.Services.AddSingleton<ValidationStore>();
        builder.Services.AddSingleton<ForecastStore>();
        builder.Services.AddSingleton<ForecastPlans>();
        builder.Services.AddSingleton(sp => new ValidationRunner(
            sp.GetRequiredService<ValidationStore>(), sp.GetRequiredService<CatalogStore>(), sp.GetRequiredService<IOptions<JobsOptions>>(),
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<JobsMetrics>(), sp.GetRequiredService<ILogger<ValidationRunner>>())
        {
            ForecastSource = sp.GetRequiredService<ForecastPlans>().GetAsync,
        });
        builder.Services.AddSingleton<Calibrator>();
        builder.Services.AddSingleton<ValidationQueries>();

        var configured = builder.Configuration.GetSection(JobsOptions.SectionName).Get<JobsOptions>() ?? new JobsOptions();
        if (!configured.Enabled) return builder;
        builder.Services.AddHostedService<CatalogAtStartService>();
        builder.Services.AddQuartz(q =>
        {
            q.AddJob<RealizedEfficiencyJob>(j => j.WithIdentity(RealizedEfficiencyJob.Key));
            // First run one interval after start: the host's start (migrations, consumer assignment) is not competed with.
            q.AddTrigger(t => t.ForJob(RealizedEfficiencyJob.Key).WithIdentity("realized-efficiency-trigger", "efficiency")
                .StartAt(TimeProvider.System.GetUtcNow() + configured.Interval)
                .WithSimpleSchedule(s => s.WithInterval(configured.Interval).RepeatForever()));
            q.AddJob<ValidationJob>(j => j.WithIdentity(ValidationJob.Key));
            q.AddTrigger(t => t.ForJob(ValidationJob.Key).WithIdentity("forecast-validation-trigger", "efficiency")
                .StartAt(TimeProvider.System.GetUtcNow() + configured.ValidationInterval + TimeSpan.FromSeconds(5))
                .WithSimpleSchedule(s => s.WithInterval(configured.ValidationInterval).RepeatForever()));
        });
        builder.Services.AddQuartzHostedService(o => o.WaitForJobsToComplete = true);
        return builder;
    }

    private static void TryAddTimeProvider(this IServiceCollection services)
    {
        if (!services.Any(d => d.ServiceType == typeof(TimeProvider))) services.AddSingleton(TimeProvider.System);
    }
}

/// <summary>
/// Stores <see cref="JobsOptions.CatalogDirectory"/> (or the embedded catalog) as a catalog version at start when its
/// version is new. Registered after the storage's migration service, so the table exists. A version clash is logged,
/// not fatal: the job keeps pricing with the versions already stored.
/// </summary>
internal sealed partial class CatalogAtStartService(IOptions<JobsOptions> options, CatalogStore store, ILogger<CatalogAtStartService> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        if (o.CatalogDirectory is not { Length: > 0 } && !o.StoreEmbeddedCatalog) return;
        try
        {
            var catalog = o.CatalogDirectory is { Length: > 0 } directory ? CatalogFiles.LoadDirectory(directory) : CatalogFiles.LoadEmbedded();
            if (await store.AddAsync(catalog, cancellationToken)) LogStored(logger, catalog.Catalog.Version, catalog.Source);
        }
        catch (Core.Catalog.CatalogException e)
        {
            LogRefused(logger, e.Message);
        }
        catch (HttpRequestException e)
        {
            LogRefused(logger, e.Message);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 5003, Level = LogLevel.Information, Message = "Catalog version {Version} stored from {Source}")]
    private static partial void LogStored(ILogger logger, string version, string source);

    [LoggerMessage(EventId = 5004, Level = LogLevel.Error, Message = "Catalog not stored at start: {Problem}")]
    private static partial void LogRefused(ILogger logger, string problem);
}
