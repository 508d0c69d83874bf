using ClickHouse.Driver;
using Confluent.Kafka;
using EfficiencyMonitor.Core.Catalog;
using EfficiencyMonitor.Core.Model;
using EfficiencyMonitor.Ingestion;
using EfficiencyMonitor.Jobs;
using EfficiencyMonitor.Jobs.Catalog;
using EfficiencyMonitor.Jobs.Efficiency;
using EfficiencyMonitor.Jobs.Forecasts;
using EfficiencyMonitor.Jobs.Validation;
using EfficiencyMonitor.Service.Cli;
using EfficiencyMonitor.Service.Configuration;
using EfficiencyMonitor.Storage;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;

namespace EfficiencyMonitor.Service;

/// <summary>
/// The long-running service (<c>efficiency-monitor run</c>): migrations at start, the Kafka → ClickHouse consumers,
/// <c>/metrics</c> (OpenTelemetry → Prometheus), <c>/healthz</c> (alive), <c>/readyz</c> (engines reachable, schema applied),
/// the realized-efficiency and validation jobs (Quartz), <c>/api/efficiency</c>, <c>/api/validation</c> and
/// <c>/api/forecasts</c> (behind <c>Api:Key</c> when one is set).
/// </summary>
public static class ServiceHost
{
    /// <summary>Default listen URL: loopback only unless the operator says otherwise.</summary>
    public const string DefaultUrls = "http://127.0.0.1:9464";

    /// <summary>Builds the web application; <paramref name="overrides"/> are configuration keys that win over every source.</summary>
    public static WebApplication Build(string urls, IReadOnlyDictionary<string, string?>? overrides = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.AddEfficiencyMonitorSources(overrides);
        builder.WebHost.UseUrls(urls);
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.AddStorage();
        builder.AddIngestion();
        builder.AddJobs();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(45));
        builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(IngestionMetrics.MeterName)
            .AddMeter(JobsMetrics.MeterName)
            .AddPrometheusExporter());
        builder.Services.AddSingleton<KafkaProbe>();
        builder.Services.AddOptions<ApiOptions>().BindConfiguration(ApiOptions.SectionName).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<ApiOptions>, ApiOptionsValidator>();

        var app = builder.Build();
        app.UseMiddleware<ApiKeyAuthentication>(); // Api:Key: everything but /healthz, /readyz and /metrics
        app.MapGet("/healthz", () => Results.Text("ok\n"));
        app.MapGet("/readyz", ReadyAsync);
        app.MapPrometheusScrapingEndpoint("/metrics");
        app.MapGet("/api/efficiency", EfficiencyAsync);
        app.MapGet("/api/validation", ValidationAsync);
        app.MapGet("/api/forecasts", ForecastListAsync);
        app.MapGet("/api/forecasts/{idOrName}", ForecastShowAsync);
        app.MapPost("/api/forecasts", ForecastCreateAsync);
        return app;
    }

    /// <summary><c>GET /api/efficiency?deployment=&amp;from=&amp;to=&amp;window=&amp;allocations=</c>: stored realized-efficiency rows as JSON (400 lists every bad parameter).</summary>
    private static async Task<IResult> EfficiencyAsync(
        HttpRequest request, EfficiencyQueries queries, TimeProvider time, CancellationToken cancellationToken)
    {
        var q = request.Query;
        var (query, problems) = EfficiencyQuery.Parse(q["deployment"], q["from"], q["to"], q["window"], q["allocations"], time.GetUtcNow());
        if (query is null) return Results.Json(new ProblemList(problems), EfficiencyJsonContext.Default.ProblemList, statusCode: StatusCodes.Status400BadRequest);
        return Results.Json(await queries.ReadAsync(query, cancellationToken), EfficiencyJsonContext.Default.EfficiencyResponse);
    }

    /// <summary>
    /// <c>GET /api/validation?deployment=&amp;from=&amp;to=&amp;window=&amp;forecast=</c>: validated windows (model, plan, drift and its
    /// factors) of the calibrated baseline, or of a stored forecast with <c>forecast=ID</c>.
    /// </summary>
    private static async Task<IResult> ValidationAsync(
        HttpRequest request, ValidationQueries queries, TimeProvider time, CancellationToken cancellationToken)
    {
        var q = request.Query;
        var (query, problems) = EfficiencyQuery.Parse(q["deployment"], q["from"], q["to"], q["window"], null, time.GetUtcNow());
        if (query is null) return Results.Json(new ProblemList(problems), EfficiencyJsonContext.Default.ProblemList, statusCode: StatusCodes.Status400BadRequest);
        return Results.Json(await queries.ReadAsync(query, q["forecast"].ToString(), cancellationToken), ValidationJsonContext.Default.ValidationResponse);
    }

    /// <summary><c>GET /api/forecasts</c>: the stored forecasts.</summary>
    private static async Task<IResult> ForecastListAsync(ForecastStore store, CancellationToken cancellationToken) =>
        Results.Json(await store.ListAsync(cancellationToken), ForecastOutputJsonContext.Default.IReadOnlyListStoredForecast);

    /// <summary><c>GET /api/forecasts/{id or name}</c>: the forecast, its predicted figures and its validation so far (404 when unknown).</summary>
    private static async Task<IResult> ForecastShowAsync(string idOrName, ForecastStore store, CatalogStore catalogs, CancellationToken cancellationToken)
    {
        var show = await ForecastOperations.ShowAsync(store, catalogs, idOrName, cancellationToken);
        return show is null
            ? Results.Json(new ProblemList([$"no forecast with id or name '{idOrName}': see GET /api/forecasts"]), EfficiencyJsonContext.Default.ProblemList, statusCode: StatusCodes.Status404NotFound)
            : Results.Json(show, ForecastOutputJsonContext.Default.ForecastShow);
    }

    /// <summary>
    /// <c>POST /api/forecasts</c> with a forecast file (YAML, as <c>forecast create</c> reads) as the body: validated,
    /// evaluated with its catalog version and stored; 201 with the evaluation, 400 listing every problem.
    /// </summary>
    private static async Task<IResult> ForecastCreateAsync(HttpRequest request, ForecastStore store, CatalogStore catalogs, CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(request.Body);
        var yaml = await reader.ReadToEndAsync(cancellationToken);
        try
        {
            var spec = ForecastFiles.Parse(yaml, "request body");
            var (catalog, _) = await ForecastOperations.CatalogForCreateAsync(catalogs, spec.CatalogVersion, cancellationToken);
            spec = spec with { CatalogVersion = catalog.Catalog.Version };
            var evaluation = ForecastPlanner.Evaluate(spec, catalog.Catalog, spec.Horizon.From);
            var (stored, _) = await store.AddAsync(spec, cancellationToken);
            return Results.Json(new ForecastShow(stored, evaluation, []), ForecastOutputJsonContext.Default.ForecastShow, statusCode: StatusCodes.Status201Created);
        }
        catch (ForecastException e)
        {
            return Results.Json(new ProblemList(e.Problems), EfficiencyJsonContext.Default.ProblemList, statusCode: StatusCodes.Status400BadRequest);
        }
        catch (CatalogException e)
        {
            return Results.Json(new ProblemList(e.Problems), EfficiencyJsonContext.Default.ProblemList, statusCode: StatusCodes.Status400BadRequest);
        }
    }

    private static async Task<IResult> ReadyAsync(SchemaState schema, ClickHouseClient clickHouse, KafkaProbe kafka, CancellationToken cancellationToken)
    {
        var problems = new List<string>();
        if (!schema.Ready) problems.Add("schema: migrations not applied yet");
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(2));
            if (!await clickHouse.PingAsync(null, timeout.Token)) problems.Add("clickhouse: ping failed");
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
        {
            problems.Add($"clickhouse: {e.Message}");
        }

        if (kafka.Check() is { } kafkaProblem) problems.Add($"kafka: {kafkaProblem}");
        return problems.Count == 0
            ? Results.Text("ready\n")
            : Results.Text(string.Join('\n', problems) + "\n", statusCode: StatusCodes.Status503ServiceUnavailable);
    }

    /// <summary>Asks the brokers for metadata (supported by every Kafka, including the sandbox's mock).</summary>
    internal sealed class KafkaProbe(IOptions<KafkaOptions> options) : IDisposable
    {
        private readonly Lazy<IAdminClient> _admin = new(() =>
        {
            var config = new AdminClientConfig();
            options.Value.ApplyTo(config);
            return new AdminClientBuilder(config).Build();
        });

        public string? Check()
        {
            try
            {
                var metadata = _admin.Value.GetMetadata(TimeSpan.FromSeconds(2));
                return metadata.Brokers.Count > 0 ? null : "no broker answered";
            }
            catch (KafkaException e)
            {
                return e.Error.Reason;
            }
        }

        public void Dispose()
        {
            if (_admin.IsValueCreated) _admin.Value.Dispose();
        }
    }
}
