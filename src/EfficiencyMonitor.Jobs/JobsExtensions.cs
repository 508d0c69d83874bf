using EfficiencyMonitor.Jobs.Catalog;
using EfficiencyMonitor.Jobs.Efficiency;
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

        var configured = builder.Configuration.GetSection(JobsOptions.SectionName).Get<JobsOptions>() ?? new JobsOptions();
        if (!configured.Enabled) return builder;
        builder.Services.AddHostedService<CatalogAtStartService>();
        builder.Services.AddQuartz(q =>
        {
            q.AddJob<RealizedEfficiencyJob>(j => j.WithIdentity(RealizedEfficiencyJob.Key));
            q.AddTrigger(t => t.ForJob(RealizedEfficiencyJob.Key).WithIdentity("realized-efficiency-trigger", "efficiency")
                .StartNow().WithSimpleSchedule(s => s.WithInterval(configured.Interval).RepeatForever()));
        });
        builder.Services.AddQuartzHostedService(o => o.WaitForJobsToComplete = true);
        return builder;
    }

    private static void TryAddTimeProvider(this IServiceCollection services)
    {
        if (!services.Any(d => d.ServiceType == typeof(TimeProvider))) services.AddSingleton(TimeProvider.System);
    }
}

/// <summary>Stores <see cref="JobsOptions.CatalogDirectory"/> as a catalog version at start when it is not stored yet.</summary>
internal sealed partial class CatalogAtStartService(IOptions<JobsOptions> options, CatalogStore store, ILogger<CatalogAtStartService> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.Value.CatalogDirectory is not { Length: > 0 } directory) return;
        var catalog = CatalogFiles.LoadDirectory(directory);
        if (await store.AddAsync(catalog, cancellationToken)) LogStored(logger, catalog.Catalog.Version, directory);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 5003, Level = LogLevel.Information, Message = "Catalog version {Version} stored from {Directory}")]
    private static partial void LogStored(ILogger logger, string version, string directory);
}
