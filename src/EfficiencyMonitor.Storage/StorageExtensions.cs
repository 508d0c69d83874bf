using ClickHouse.Driver;
using EfficiencyMonitor.Storage.Migrations;
using EfficiencyMonitor.Storage.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EfficiencyMonitor.Storage;

/// <summary>Registers ClickHouse access: options, the one <see cref="ClickHouseClient"/>, migrations at start, the telemetry store.</summary>
public static class StorageExtensions
{
    /// <summary>Binds and validates the <c>ClickHouse</c> section and registers storage services.</summary>
    public static IHostApplicationBuilder AddStorage(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<ClickHouseOptions>().BindConfiguration(ClickHouseOptions.SectionName).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<ClickHouseOptions>, ClickHouseOptionsValidator>();
        builder.Services.AddSingleton(sp => sp.GetRequiredService<IOptions<ClickHouseOptions>>().Value);
        // One client per process: it owns the HTTP connection pool (HOUSE_STYLE.md, ClickHouse.Driver).
        builder.Services.AddSingleton(sp => new ClickHouseClient(sp.GetRequiredService<ClickHouseOptions>().ToConnectionString()));
        builder.Services.AddSingleton<TelemetryStore>();
        builder.Services.AddSingleton<MigrationRunner>();
        builder.Services.AddSingleton<SchemaState>();
        // Registered first so the schema exists before any consumer starts.
        builder.Services.AddHostedService<MigrateAtStartService>();
        return builder;
    }
}

/// <summary>Whether this process has seen the schema up to date (readiness reports it).</summary>
public sealed class SchemaState
{
    private volatile bool _ready;

    /// <summary>True once migrations were applied or found applied.</summary>
    public bool Ready => _ready;

    /// <summary>Marks the schema as up to date.</summary>
    public void MarkReady() => _ready = true;
}

/// <summary>Applies pending migrations when the host starts (unless <c>ClickHouse:MigrateAtStart</c> is false).</summary>
internal sealed partial class MigrateAtStartService(
    MigrationRunner runner, ClickHouseOptions options, SchemaState state, TimeProvider time, ILogger<MigrateAtStartService> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!options.MigrateAtStart)
        {
            state.MarkReady();
            return;
        }

        var delay = TimeSpan.FromSeconds(1);
        while (true)
        {
            try
            {
                await runner.ApplyAsync(cancellationToken);
                state.MarkReady();
                return;
            }
            catch (HttpRequestException e)
            {
                // ClickHouse not up yet (compose start order): wait rather than crash-loop.
                LogWaiting(logger, e.Message, delay.TotalSeconds);
                await Task.Delay(delay, time, cancellationToken);
                delay = TimeSpan.FromSeconds(Math.Min(delay.TotalSeconds * 2, 30));
            }
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 1003, Level = LogLevel.Warning, Message = "ClickHouse unreachable for migrations ({Reason}); retrying in {DelaySeconds} s")]
    private static partial void LogWaiting(ILogger logger, string reason, double delaySeconds);
}
