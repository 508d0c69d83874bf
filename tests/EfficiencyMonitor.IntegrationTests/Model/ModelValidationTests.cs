using System.Diagnostics.Metrics;
using System.Globalization;
using ClickHouse.Driver;
using Dapper;
using EfficiencyMonitor.Core.Catalog;
using EfficiencyMonitor.Core.Model;
using EfficiencyMonitor.Jobs;
using EfficiencyMonitor.Jobs.Catalog;
using EfficiencyMonitor.Jobs.Efficiency;
using EfficiencyMonitor.Jobs.Validation;
using EfficiencyMonitor.Simulator.Generation;
using EfficiencyMonitor.Simulator.Scenarios;
using EfficiencyMonitor.Storage;
using EfficiencyMonitor.Storage.Migrations;
using EfficiencyMonitor.TestInfrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Xunit.Abstractions;

namespace EfficiencyMonitor.IntegrationTests.Model;

/// <summary>
/// The issue's acceptance on simulated traffic (deploy/scenarios/model-validation.yaml; the simulator's physics are its
/// own — throughput constants, an attention knee, load-dependent decode slowdown — not the roofline): four hours through
/// the real store and engine, the realized job, calibration on the first hour, then validation of every window. The
/// model's per-window error must stay within 10 % on quiet windows, and each injected incident must push |drift| over the
/// 10 % threshold within two windows with the decomposition naming the right factor.
/// </summary>
public sealed class ModelValidationTests(ITestOutputHelper output)
{
    private const int Window = 300;
    private const string Deployment = "llama-70b-chat-prod";
    private const double Threshold = 0.10;

    private sealed record Row(long StartS, double? ModelError, double? Drift, string TopFactor, string Explanation, double? RollingModelMape);

    /// <summary>The checked-in catalog with a serving section on the deployment (starting fractions calibration replaces).</summary>
    internal static LoadedCatalog CatalogWithServing()
    {
        var catalog = CatalogFiles.LoadDirectory(Path.Combine(ServiceProcess.RepositoryRoot, "deploy", "catalog")).Catalog;
        var deployments = catalog.Deployments.Select(d => d.Name == Deployment && d.Serving is null
            ? d with { Serving = new ServingEntry { GpuType = "H100-SXM5-80GB", Precision = "bf16", PrefillGpusPerInstance = 8, DecodeGpusPerInstance = 8, DecodeBatch = 64, PrefillMfu = 0.5, DecodeMbu = 0.5, DecodeMfu = 0.5 } }
            : d).ToList();
        return LoadedCatalog.From(catalog with { Version = catalog.Version + "-validation", Deployments = deployments }, "test");
    }

    [Fact]
    public async Task CalibratedOnFirstHour_ModelWithinTenPercent_IncidentsDriftAndNameTheirFactor()
    {
        var endpoints = await TestEngines.GetAsync();
        var options = new ClickHouseOptions { Url = endpoints.ClickHouseUrl.ToString(), Database = $"model_{Guid.NewGuid():N}"[..20] };
        await new MigrationRunner(options, NullLogger<MigrationRunner>.Instance).ApplyAsync(CancellationToken.None);
        using var client = new ClickHouseClient(options.ToConnectionString());

        var now = TimeProvider.System.GetUtcNow();
        var start = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, 0, 0, TimeSpan.Zero).AddHours(-5);
        var scenario = ScenarioLoader.LoadFile(Path.Combine(ServiceProcess.RepositoryRoot, "deploy", "scenarios", "model-validation.yaml"));
        var generator = new TraceGenerator(scenario, new GeneratorOptions { Rate = scenario.ReferenceRate, Seed = 11, Start = start, Duration = TimeSpan.FromHours(4) });
        var (requests, _) = await SimulatedTelemetry.InsertAsync(client, options, generator.Generate(), now);
        output.WriteLine($"{requests} requests simulated from {start:O}");

        var catalog = CatalogWithServing();
        var time = new ManualTime(start.AddHours(4).AddMinutes(10));
        var jobs = new JobsOptions { WindowMinutes = [5], MaxCatchUp = TimeSpan.FromDays(1), ValidationWindowMinutes = 5 };
        var meters = new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>();
        using var metrics = new JobsMetrics(meters);
        var catalogs = new CatalogStore(client, options, time);
        await catalogs.AddAsync(catalog, CancellationToken.None);
        var realized = new RealizedEfficiencyRunner(new EfficiencyStore(client, options), catalogs, Options.Create(jobs), time, metrics, NullLogger<RealizedEfficiencyRunner>.Instance);
        var summary = await realized.RunOnceAsync(CancellationToken.None);
        Assert.Equal(0, summary.Failed);

        var store = new ValidationStore(client, options);
        var validator = new ValidationRunner(store, catalogs, Options.Create(jobs), time, metrics, NullLogger<ValidationRunner>.Instance);
        Assert.Equal(0, await validator.RunOnceAsync(CancellationToken.None)); // no plan before calibration

        var run = await new Calibrator(store, catalogs).CalibrateAsync(start, start.AddHours(1), Window, Deployment, catalog.Catalog.Version, null, CancellationToken.None);
        var fit = Assert.Single(run.Results);
        var serving = fit.Deployment.Serving!;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"calibrated {run.Catalog!.Catalog.Version} on {fit.Windows} windows: prefill MFU {serving.PrefillMfu:0.###}, decode MBU {serving.DecodeMbu:0.###}, decode MFU {serving.DecodeMfu:0.###}, DRAM {fit.Deployment.Tiers.Dram!.BandwidthGbPerS:0.#} GB/s; notes: {string.Join(" | ", fit.Notes)}"));
        Assert.Equal(12, fit.Windows);

        // 48 windows of the four hours, plus the one holding requests that finished just after the last arrival.
        var validated = await validator.RunOnceAsync(CancellationToken.None);
        Assert.InRange(validated, 48, 49);
        Assert.Equal(0, await validator.RunOnceAsync(CancellationToken.None)); // resumes from its mark: nothing new, nothing stale

        using var connection = client.CreateConnection();
        var rows = (await connection.QueryAsync<Row>(string.Create(CultureInfo.InvariantCulture, $"""
            SELECT toInt64(toUnixTimestamp(window_start)) AS StartS, model_error AS ModelError, efficiency_drift_ratio AS Drift,
                   toString(top_factor) AS TopFactor, explanation AS Explanation, rolling_model_mape AS RollingModelMape
            FROM {options.Database}.forecast_validation FINAL WHERE forecast_id = '' AND deployment = '{Deployment}' AND window_seconds = {Window}
            ORDER BY window_start
            """))).ToList();
        var t0 = start.ToUnixTimeSeconds();
        rows = [.. rows.Where(r => r.StartS < t0 + 4 * 3600)];
        Assert.Equal(48, rows.Count);
        foreach (var r in rows)
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{(r.StartS - t0) / 60,4} min  model {r.ModelError,7:+0.0%;-0.0%;0.0%}  drift {r.Drift,7:+0.0%;-0.0%;0.0%}  {r.TopFactor,-14} {r.Explanation}"));

        // Incidents (event seconds): [start, end) of each, and the factors that may explain it.
        var incidents = new (string Name, long From, long To, string[] Factors)[]
        {
            ("tier degradation", 5400, 6600, [DriftFactor.KvLoadSpeed, DriftFactor.CacheHitMix]),
            ("reasoning surge", 9000, 10200, [DriftFactor.OutputLength]),
            ("throttling", 12600, 13800, [DriftFactor.DecodeSpeed, DriftFactor.PrefillSpeed]),
        };

        // Quiet windows after the calibration hour: not during an incident nor in the 10 minutes after one (caches refill).
        bool Quiet(Row r) => r.StartS - t0 >= 3600 && !incidents.Any(i => r.StartS + Window > t0 + i.From && r.StartS < t0 + i.To + 600);
        var quiet = rows.Where(Quiet).ToList();
        var mape = quiet.Average(r => Math.Abs(r.ModelError!.Value));
        var allAfter = rows.Where(r => r.StartS - t0 >= 3600).Average(r => Math.Abs(r.ModelError!.Value));
        var quietDrift = quiet.Select(r => Math.Abs(r.Drift!.Value)).Order().ToList();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"model MAPE over {quiet.Count} quiet windows after calibration: {mape:0.0%} (max {quiet.Max(r => Math.Abs(r.ModelError!.Value)):0.0%}); all {rows.Count(r => r.StartS - t0 >= 3600)} windows incl. incidents: {allAfter:0.0%}; quiet |drift| median {quietDrift[quietDrift.Count / 2]:0.0%}, max {quietDrift[^1]:0.0%}"));
        Assert.True(mape <= 0.10, $"model MAPE {mape:P1} over quiet windows exceeds 10 %");
        Assert.True(quietDrift[^1] < Threshold, $"a quiet window drifts {quietDrift[^1]:P1}: the alert would fire without an incident");

        foreach (var (name, from, _, factors) in incidents)
        {
            var firstTwo = rows.Where(r => r.StartS >= t0 + from).Take(2).ToList();
            var hit = firstTwo.FirstOrDefault(r => Math.Abs(r.Drift!.Value) > Threshold);
            Assert.True(hit is not null, $"{name}: |drift| stayed under {Threshold:P0} in the two windows after it started ({string.Join(", ", firstTwo.Select(r => $"{r.Drift:P1} {r.TopFactor}"))})");
            Assert.Contains(hit.TopFactor, factors);
        }
    }
}
