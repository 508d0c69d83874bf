using System.Diagnostics;
using System.Diagnostics.Metrics;
using ClickHouse.Driver;
using ClickHouse.Driver.ADO;
using Dapper;
using EfficiencyMonitor.Jobs;
using EfficiencyMonitor.Jobs.Catalog;
using EfficiencyMonitor.Core.Model;
using EfficiencyMonitor.Jobs.Efficiency;
using EfficiencyMonitor.Jobs.Forecasts;
using EfficiencyMonitor.Jobs.Validation;
using EfficiencyMonitor.Simulator.Generation;
using EfficiencyMonitor.Simulator.Scenarios;
using EfficiencyMonitor.Storage;
using EfficiencyMonitor.Storage.Migrations;
using EfficiencyMonitor.TestInfrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace EfficiencyMonitor.IntegrationTests.Dashboards;

/// <summary>
/// A database the dashboards' SQL runs on, built once per test class: 30 minutes of the default scenario
/// (<c>deploy/scenarios/default.yaml</c>, low rate) ending ~10 minutes ago, inserted through the real store (rollups and
/// watermarks are the materialized views of that insert), the catalog stored, the realized-efficiency job run (5-minute and
/// 1-hour windows), and the validation job's rows after calibrating on the first 15 minutes (<see cref="ValidateAsync"/>).
/// </summary>
public sealed class DashboardDataFixture : IAsyncLifetime
{
    /// <summary>The deployment the dashboards' <c>$deployment</c> variable is set to.</summary>
    public const string Deployment = "llama-70b-chat-prod";

    /// <summary>The id of the stored forecast the validation job validated.</summary>
    public string ForecastId { get; private set; } = "";

    private const double Rate = 5;
    private static readonly TimeSpan Duration = TimeSpan.FromMinutes(30);

    private ClickHouseClient? _client;
    private ClickHouseConnection? _connection;

    /// <summary>The database's options (its name is unique to this fixture).</summary>
    public ClickHouseOptions Options { get; private set; } = new();

    /// <summary>An open connection to the database (the default database of every statement).</summary>
    public ClickHouseConnection Connection => _connection ?? throw new InvalidOperationException("not initialized");

    /// <summary>Event time of the first simulated request.</summary>
    public DateTimeOffset DataStart { get; private set; }

    /// <summary>Event time the simulation stopped starting requests.</summary>
    public DateTimeOffset DataEnd { get; private set; }

    /// <summary>The dashboard time range the tests use (covers the data and its ingest times).</summary>
    public (DateTimeOffset From, DateTimeOffset To) Range { get; private set; }

    /// <summary>Every deployment with efficiency windows.</summary>
    public IReadOnlyList<string> Deployments { get; private set; } = [];

    /// <summary>What building the data took, per step.</summary>
    public string Timings { get; private set; } = "";

    /// <summary>Expands macros and variables with the test time range, a 60 s interval, and the given deployments.</summary>
    /// <param name="deployments">The selected deployments.</param>
    /// <param name="windowSeconds">The <c>$window</c> selection; with 3600 the range starts an hour earlier, at the hourly window.</param>
    public GrafanaMacros Macros(IReadOnlyList<string> deployments, int windowSeconds = 300) =>
        new(windowSeconds == 300 ? Range.From : Range.From.AddHours(-1), Range.To, 60, new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal)
        {
            ["deployment"] = deployments,
            ["window"] = [windowSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)],
            ["forecast"] = ["baseline"],
        });

    /// <inheritdoc />
    public async Task InitializeAsync()
    {
        var clock = Stopwatch.StartNew();
        var timings = new List<string>();
        void Step(string name)
        {
            timings.Add($"{name} {clock.Elapsed.TotalSeconds:F1}s");
            clock.Restart();
        }

        var endpoints = await TestEngines.GetAsync();
        Options = new ClickHouseOptions { Url = endpoints.ClickHouseUrl.ToString(), Database = $"dash_{Guid.NewGuid():N}"[..20] };
        await new MigrationRunner(Options, NullLogger<MigrationRunner>.Instance).ApplyAsync(CancellationToken.None);
        _client = new ClickHouseClient(Options.ToConnectionString());
        _connection = new ClickHouseConnection(Options.ToConnectionString(Options.Database));
        await _connection.OpenAsync();
        Step("engine+migrations");

        // Recent event times (raw tables drop rows older than their TTL), ending early enough that the longest simulated
        // request (reasoning: minutes of decode) still finishes before now (records from the future are rejected).
        var now = TimeProvider.System.GetUtcNow();
        var aligned = DateTimeOffset.FromUnixTimeSeconds(now.ToUnixTimeSeconds() / 300 * 300);
        DataStart = aligned - Duration - TimeSpan.FromMinutes(10);
        DataEnd = DataStart + Duration;
        await InsertSimulatedTelemetryAsync(now);
        Step("simulate+insert");

        var catalog = CatalogFiles.LoadDirectory(Path.Combine(ServiceProcess.RepositoryRoot, "deploy", "catalog"));
        await new CatalogStore(_client, Options, TimeProvider.System).AddAsync(catalog, CancellationToken.None);

        // The job as scheduled, its clock an hour past the data so the 1-hour window holding it is closed too.
        var jobTime = new ManualTime(DataEnd.AddMinutes(65));
        var jobs = new JobsOptions { MaxCatchUp = TimeSpan.FromDays(1), WindowMinutes = [5, 60] };
        var meters = new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>();
        var runner = new RealizedEfficiencyRunner(
            new EfficiencyStore(_client, Options), new CatalogStore(_client, Options, jobTime), Microsoft.Extensions.Options.Options.Create(jobs), jobTime,
            new JobsMetrics(meters), NullLogger<RealizedEfficiencyRunner>.Instance);
        var summary = await runner.RunOnceAsync(CancellationToken.None);
        if (summary.Computed == 0 || summary.Failed > 0) throw new InvalidOperationException($"realized-efficiency job: {summary}");
        Step($"efficiency job ({summary.Computed} windows)");

        ForecastId = await ValidateAsync(jobTime, jobs, new JobsMetrics(meters));
        Step("calibration+validation");

        Deployments = (await _connection.QueryAsync<string>("SELECT DISTINCT toString(deployment) FROM efficiency_windows ORDER BY 1")).ToList();
        if (!Deployments.Contains(Deployment)) throw new InvalidOperationException($"no windows for {Deployment}: {string.Join(", ", Deployments)}");
        Range = (DataStart.AddMinutes(-10), now.AddMinutes(10));
        Timings = string.Join(", ", timings);
    }

    /// <summary>
    /// The validation job for real: calibrates every deployment on the first 15 minutes (a new catalog version with the
    /// plan), stores the checked-in Llama forecast with its horizon moved over the data, and validates every 5-minute
    /// window against the baseline and the forecast. Returns the forecast's id.
    /// </summary>
    private async Task<string> ValidateAsync(TimeProvider jobTime, JobsOptions jobs, JobsMetrics metrics)
    {
        var catalogs = new CatalogStore(_client!, Options, jobTime);
        var validation = new ValidationStore(_client!, Options);
        var run = await new Calibrator(validation, catalogs).CalibrateAsync(DataStart, DataStart.AddMinutes(15), 300, null, null, null, CancellationToken.None);
        if (run.Results.Count == 0) throw new InvalidOperationException($"calibration: {string.Join("; ", run.Skipped)}");
        var spec = ForecastFiles.Load(Path.Combine(ServiceProcess.RepositoryRoot, "deploy", "forecasts", "llama-chat-2027q1.yaml")) with
        {
            CatalogVersion = run.Catalog!.Catalog.Version,
            Horizon = new ForecastHorizon { From = DataStart, To = DataEnd.AddHours(1) },
        };
        var forecasts = new ForecastStore(_client!, Options, jobTime);
        var (forecast, _) = await forecasts.AddAsync(spec, CancellationToken.None);
        var runner = new ValidationRunner(validation, catalogs, Microsoft.Extensions.Options.Options.Create(jobs), jobTime, metrics, NullLogger<ValidationRunner>.Instance)
        {
            ForecastSource = new ForecastPlans(forecasts, catalogs, NullLogger<ForecastPlans>.Instance).GetAsync,
        };
        if (await runner.RunOnceAsync(CancellationToken.None) == 0) throw new InvalidOperationException("validation job validated no window");
        var forecastRows = await _connection!.ExecuteScalarAsync<ulong>("SELECT count() FROM forecast_validation FINAL WHERE forecast_id = @id", new { id = forecast.ForecastId });
        if (forecastRows == 0) throw new InvalidOperationException($"the stored forecast {forecast.ForecastId} was not validated");
        return forecast.ForecastId;
    }

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        if (_connection is not null)
        {
            try
            {
                await _connection.ExecuteAsync($"DROP DATABASE IF EXISTS {Options.Database}");
            }
            catch (ClickHouseServerException)
            {
                // Best effort: the sandbox's data directory is temporary anyway.
            }

            await _connection.DisposeAsync();
        }

        _client?.Dispose();
    }

    private async Task InsertSimulatedTelemetryAsync(DateTimeOffset now)
    {
        var scenario = ScenarioLoader.LoadFile(Path.Combine(ServiceProcess.RepositoryRoot, "deploy", "scenarios", "default.yaml"));
        var generator = new TraceGenerator(scenario, new GeneratorOptions { Rate = Rate, Seed = 7, Start = DataStart, Duration = Duration });
        await SimulatedTelemetry.InsertAsync(_client!, Options, generator.Generate(), now);
    }
}
