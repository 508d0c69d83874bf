using System.CommandLine;
using System.Globalization;
using ClickHouse.Driver.ADO;
using Confluent.Kafka;
using Dapper;
using EfficiencyMonitor.Core.Model;
using EfficiencyMonitor.Jobs.Catalog;
using EfficiencyMonitor.Jobs.Efficiency;
using EfficiencyMonitor.Jobs.Validation;
using EfficiencyMonitor.Service.Configuration;
using Microsoft.Extensions.DependencyInjection;
using EfficiencyMonitor.Simulator.Generation;
using EfficiencyMonitor.Simulator.Output;
using EfficiencyMonitor.Simulator.Scenarios;

namespace EfficiencyMonitor.Service.Cli;

/// <summary>
/// <c>efficiency-monitor demo</c>: the main job on the embedded default — the sandbox's real engines, the service
/// (migrations, Kafka → ClickHouse ingestion, <c>/metrics</c>) and the simulator producing a scenario's traffic, then what
/// landed, read back from ClickHouse.
/// </summary>
internal static class DemoCommand
{
    private const string TablesSql = """
        SELECT name AS Name, engine AS Engine, toUInt64(ifNull(total_rows, 0)) AS TotalRows
        FROM system.tables
        WHERE database = @database AND NOT is_temporary AND engine NOT IN ('MaterializedView')
        ORDER BY name
        """;

    // Read from the per-minute rollups, as the jobs will: requests, success, tokens by kind and cache tier, TTFT.
    private const string DeploymentsSql = """
        SELECT
            deployment AS Deployment,
            sum(requests) AS Requests,
            sum(status_ok) / greatest(sum(requests), 1) AS OkShare,
            sum(input_tokens) AS InputTokens,
            sum(cached_hbm_tokens) / greatest(sum(input_tokens), 1) AS HbmShare,
            sum(cached_dram_tokens) / greatest(sum(input_tokens), 1) AS DramShare,
            (sum(cached_local_ssd_tokens) + sum(cached_remote_tokens)) / greatest(sum(input_tokens), 1) AS FlashRemoteShare,
            sum(output_tokens) AS OutputTokens,
            sum(reasoning_tokens) / greatest(sum(output_tokens), 1) AS ReasoningShare,
            toFloat64(quantilesTDigestMerge(0.5, 0.9, 0.99)(ttft_ms_quantiles)[1]) AS TtftP50Ms
        FROM inference_requests_1m
        GROUP BY deployment
        ORDER BY deployment
        """;

    private const string EnergySql = """
        SELECT deployment AS Deployment, uniqExact(gpu_uuid) AS Gpus, sum(power_watts_sum) / greatest(sum(samples), 1) AS MeanWatts
        FROM gpu_power_1m
        GROUP BY deployment
        ORDER BY deployment
        """;

    internal static readonly Option<TimeSpan?> Duration = new("--duration")
    {
        Description = "Stop after this long in total (e.g. 30s, 5m, 00:05:00); default: run until Ctrl-C. The report is printed when the replay ends or the duration is up, whichever is first.",
        CustomParser = result => ParseDuration(result.Tokens.Single().Value, result),
    };

    private static readonly Option<double?> Rate = new("--rate")
    {
        Description = "Simulated requests per second of event time (default: the scenario's reference rate).",
    };

    private static readonly Option<TimeSpan?> History = new("--history")
    {
        Description = "Event time to replay, ending now (default 80m: a quiet calibration hour, then the incident).",
        CustomParser = result => ParseDuration(result.Tokens.Single().Value, result),
    };

    private static readonly Option<double> Speed = new("--speed")
    {
        Description = "Replay speed: event seconds per wall second.",
        DefaultValueFactory = _ => 60,
    };

    private static readonly Option<FileInfo?> Scenario = new("--scenario")
    {
        Description = "Scenario file (default: deploy/scenarios/demo.yaml, or the copy shipped beside the binary).",
    };

    /// <summary>The quiet stretch at the start of the history that calibrates the model.</summary>
    private static readonly TimeSpan CalibrationSpan = TimeSpan.FromHours(1);

    public static Command Create()
    {
        var command = new Command("demo", "Run the main job on the embedded sandbox: engines up, the service ingesting a replayed simulated history with one incident, the model calibrated on its first hour, and the efficiency report (realized vs predicted spend per successful output, drift and the factor that explains it); /metrics stays up until --duration or Ctrl-C.")
        {
            SandboxCommand.ClickHouseHttp,
            SandboxCommand.Kafka,
            SandboxCommand.Data,
            RunCommand.Urls,
            Duration,
            Rate,
            History,
            Speed,
            Scenario,
        };
        command.SetAction((parse, cancellationToken) => CommandLine.GuardAsync(() => RunAsync(parse, cancellationToken)));
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parse, CancellationToken cancellationToken)
    {
        var began = TimeProvider.System.GetUtcNow();
        var scenarioFile = parse.GetValue(Scenario)?.FullName ?? DefaultScenario();
        Scenario scenario;
        try
        {
            scenario = ScenarioLoader.LoadFile(scenarioFile);
        }
        catch (ScenarioException e)
        {
            await Console.Error.WriteLineAsync($"error: invalid scenario:\n  - {string.Join("\n  - ", e.Problems)}");
            return CommandLine.BadConfiguration;
        }

        var speed = parse.GetValue(Speed);
        if (!(speed > 0) || speed > 100_000)
        {
            await Console.Error.WriteLineAsync($"error: --speed {speed} is out of range: use 0 < speed <= 100000 (event seconds per wall second)");
            return CommandLine.BadConfiguration;
        }

        // --duration bounds everything from here; Ctrl-C too.
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (parse.GetValue(Duration) is { } total) bounded.CancelAfter(total);

        // A fresh ClickHouse folder per demo unless --data says otherwise: the mock broker starts empty every time, and a
        // demo's numbers should describe this run.
        var runData = Path.Combine(Path.GetTempPath(), "efficiency-monitor-demo", began.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture));
        await using var sandbox = await SandboxCommand.StartAsync(parse, cancellationToken, runData);
        var overrides = new Dictionary<string, string?>
        {
            ["ClickHouse:Url"] = sandbox.ClickHouseUrl.ToString(),
            ["Kafka:BootstrapServers"] = sandbox.KafkaBootstrap,
            // The demo drives the jobs itself (below) at replay speed; the scheduled ones would only race it.
            ["Jobs:Enabled"] = "false",
        };
        var options = ServiceConfiguration.ClickHouse(ServiceConfiguration.Build(overrides));
        var urls = parse.GetValue(RunCommand.Urls)!;
        await using var service = ServiceHost.Build(urls, overrides);
        await service.StartAsync(cancellationToken); // applies migrations, starts the consumers
        await Console.Out.WriteLineAsync($"service: {string.Join(' ', service.Urls)} (/metrics, /healthz, /readyz, /api/efficiency, /api/validation)");
        var catalogs = service.Services.GetRequiredService<CatalogStore>();
        var embedded = CatalogFiles.LoadEmbedded();
        await catalogs.AddAsync(embedded, cancellationToken);

        var history = parse.GetValue(History) ?? TimeSpan.FromMinutes(80);
        var rate = parse.GetValue(Rate) ?? scenario.ReferenceRate;
        var start = Floor(began - history, TimeSpan.FromMinutes(5));
        var generator = new TraceGenerator(scenario, new GeneratorOptions { Rate = rate, Seed = 1, Start = start, Duration = began - start });
        await Console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"replaying scenario '{scenario.Name}' from {start:HH:mm} to {began:HH:mm} UTC at {rate}/s, {speed}x speed: {scenario.Deployments.Count} deployments, {scenario.Workloads.Count} workload classes, {scenario.Incidents.Count} incidents"));
        foreach (var incident in scenario.Incidents)
        {
            await Console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"  incident {incident.Kind} at {start.AddSeconds(incident.AtSeconds):HH:mm} for {incident.DurationSeconds / 60:0} min: {incident.Note}"));
        }

        var realized = service.Services.GetRequiredService<RealizedEfficiencyRunner>();
        var validator = service.Services.GetRequiredService<ValidationRunner>();
        var calibrator = service.Services.GetRequiredService<Calibrator>();
        var sent = 0L;
        var replayedUntil = began;
        var replayStarted = TimeProvider.System.GetUtcNow();
        var requestsSent = 0L;
        try
        {
            using var producer = new ProducerBuilder<string, byte[]>(KafkaPump.DefaultConfig(sandbox.KafkaBootstrap)).Build();
            var lastShown = TimeSpan.Zero;
            var result = await new KafkaPump(producer, new PumpOptions { Speed = speed }, TimeProvider.System).RunAsync(generator.Generate(), progress =>
            {
                // The generator may be one record ahead of the pump when it stops: count what was produced.
                requestsSent = progress.Requests;
                if (progress.Elapsed - lastShown < TimeSpan.FromSeconds(10)) return;
                lastShown = progress.Elapsed;
                Console.Out.WriteLine(progress.Format());
            }, bounded.Token);
            sent = requestsSent;
            await Console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"sent {result.Produced:N0} records ({requestsSent:N0} requests), {result.Delivered:N0} acknowledged"));
            if (bounded.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                // The pump stops quietly on cancellation: the replay reached only part of the history.
                replayedUntil = start + (TimeProvider.System.GetUtcNow() - replayStarted) * speed;
                await Console.Out.WriteLineAsync("--duration reached during the replay: reporting on what was sent");
            }
        }
        catch (OperationCanceledException) when (bounded.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            sent = requestsSent;
            replayedUntil = start + (TimeProvider.System.GetUtcNow() - replayStarted) * speed;
            await Console.Out.WriteLineAsync($"--duration reached during the replay: reporting on what was sent ({requestsSent:N0} requests)");
        }

        // Reading back and reporting get their own short budget, so a --duration reached mid-replay still reports.
        using var report = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        using var reportToken = CancellationTokenSource.CreateLinkedTokenSource(report.Token, cancellationToken);
        await WaitForIngestionAsync(options, sent, reportToken.Token);
        var deployments = scenario.Deployments.Select(d => d.Name).ToHashSet(StringComparer.Ordinal);
        var efficiency = await ComputeEfficiencyAsync(realized, validator, calibrator, deployments, start, replayedUntil, reportToken.Token);
        await PrintSummaryAsync(options, reportToken.Token);
        await PrintEfficiencyAsync(options, efficiency, start, reportToken.Token);

        if (!bounded.IsCancellationRequested)
        {
            await Console.Out.WriteLineAsync($"metrics: {service.Urls.First()}/metrics (em_efficiency_*); {(parse.GetValue(Duration) is null ? "Ctrl-C to stop" : "until --duration")}");
            try
            {
                await Task.Delay(Timeout.InfiniteTimeSpan, bounded.Token);
            }
            catch (OperationCanceledException)
            {
            }
        }

        await Console.Out.WriteLineAsync("stopping");
        await service.StopAsync(CancellationToken.None);
        return 0;
    }

    /// <summary>Waits (bounded) until every request sent is queryable, so the report describes the whole replay.</summary>
    private static async Task WaitForIngestionAsync(Storage.ClickHouseOptions options, long sent, CancellationToken cancellationToken)
    {
        await using var connection = new ClickHouseConnection(options.ToConnectionString());
        var until = TimeProvider.System.GetUtcNow() + TimeSpan.FromSeconds(30);
        while (TimeProvider.System.GetUtcNow() < until && !cancellationToken.IsCancellationRequested)
        {
            var stored = await connection.ExecuteScalarAsync<ulong>(new CommandDefinition($"SELECT count() FROM {options.Database}.inference_requests", cancellationToken: cancellationToken));
            if ((long)stored >= sent) return;
            await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken);
        }
    }

    /// <summary>
    /// Computes the realized windows, then — when the replay covered the calibration hour and some time after it —
    /// calibrates the scenario's deployments on that hour and validates every window. Returns what to print.
    /// </summary>
    private static async Task<List<string>> ComputeEfficiencyAsync(
        RealizedEfficiencyRunner realized, ValidationRunner validator, Calibrator calibrator, IReadOnlySet<string> deployments,
        DateTimeOffset start, DateTimeOffset replayedUntil, CancellationToken cancellationToken)
    {
        var lines = new List<string>();
        await realized.RunOnceAsync(cancellationToken);
        await realized.RunOnceAsync(cancellationToken); // late rows of the windows computed while the replay ran
        var calibrationEnd = start + CalibrationSpan;
        if (replayedUntil - start < CalibrationSpan + TimeSpan.FromMinutes(10))
        {
            lines.Add(string.Create(CultureInfo.InvariantCulture,
                $"efficiency: {(replayedUntil - start).TotalMinutes:0} minutes replayed, too few to calibrate on an hour and validate after it (use --history 80m and a --duration that lets the replay finish)"));
            return lines;
        }

        var run = await calibrator.CalibrateAsync(start, calibrationEnd, 300, deployments.Count == 1 ? deployments.Single() : null, null, null, cancellationToken);
        lines.AddRange(run.Skipped.Where(s => deployments.Any(d => s.StartsWith(d + ":", StringComparison.Ordinal))).Select(s => $"not calibrated: {s}"));
        if (run.Catalog is null) return lines;
        foreach (var r in run.Results)
        {
            var s = r.Deployment.Serving!;
            var plan = r.Deployment.Plan!;
            lines.Add(string.Create(CultureInfo.InvariantCulture,
                $"calibrated {r.Deployment.Name} on {r.Windows} windows {start:HH:mm}-{calibrationEnd:HH:mm}: prefill MFU {s.PrefillMfu:0.###}, decode MBU {s.DecodeMbu:0.###}, decode batch {s.DecodeBatch}; plan ${EfficiencyProfile.FromPlan(plan).SpendPerSuccess(plan.Utilization):0.000000} per successful output at {plan.Utilization:P0} utilization -> catalog {run.Catalog.Catalog.Version}"));
        }

        await validator.RunOnceAsync(cancellationToken);
        return lines;
    }

    /// <summary>
    /// Prints the validated windows after the calibration hour: realized spend per successful output (billed, and at the
    /// planned utilization), the model's and the plan's, the drift and what explains it.
    /// </summary>
    private static async Task PrintEfficiencyAsync(Storage.ClickHouseOptions options, List<string> lines, DateTimeOffset start, CancellationToken cancellationToken)
    {
        foreach (var line in lines) await Console.Out.WriteLineAsync(line);
        if (!lines.Any(l => l.StartsWith("calibrated ", StringComparison.Ordinal))) return;
        var calibrationEnd = start + CalibrationSpan;
        await using var connection = new ClickHouseConnection(options.ToConnectionString());
        var rows = (await connection.QueryAsync<ReportRow>(new CommandDefinition(
            string.Format(CultureInfo.InvariantCulture, ReportSql, options.Database), new { fromS = calibrationEnd.ToUnixTimeSeconds() }, cancellationToken: cancellationToken))).ToList();
        await Console.Out.WriteLineAsync("efficiency report (5-minute windows after calibration; USD per successful output):");
        await Console.Out.WriteLineAsync($"  {"deployment",-22} {"window",6} {"billed",10} {"realized",10} {"model",10} {"plan",10} {"drift",8}  explanation");
        foreach (var r in rows)
        {
            await Console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"  {r.Deployment,-22} {DateTimeOffset.FromUnixTimeSeconds(r.StartS):HH:mm} {r.Bill,10:0.000000} {r.Work,10:0.000000} {r.Model,10:0.000000} {r.Plan,10:0.000000} {r.Drift,8:+0.0%;-0.0%;0.0%}  {r.Explanation}"));
        }

        if (rows.Where(r => r.Drift is not null).MaxBy(r => Math.Abs(r.Drift!.Value)) is { } worst)
        {
            await Console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"largest drift: {worst.Deployment} {DateTimeOffset.FromUnixTimeSeconds(worst.StartS):HH:mm} realized ${worst.Work:0.000000} vs predicted ${worst.Plan:0.000000} per successful output ({worst.Drift:+0.0%;-0.0%;0.0%}), explained by {worst.TopFactor}: {worst.Explanation}"));
            await Console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"model accuracy: mean |realized/model - 1| over these windows {rows.Where(r => r.ModelError is not null).Select(r => Math.Abs(r.ModelError!.Value)).DefaultIfEmpty().Average():0.0%}"));
        }
    }

    private const string ReportSql = """
        SELECT toString(deployment) AS Deployment, toInt64(toUnixTimestamp(window_start)) AS StartS,
               realized_bill_spend_per_success_usd AS Bill, realized_work_spend_per_success_usd AS Work,
               model_spend_per_success_usd AS Model, plan_spend_per_success_usd AS Plan, efficiency_drift_ratio AS Drift,
               model_error AS ModelError, toString(top_factor) AS TopFactor, explanation AS Explanation
        FROM {0}.forecast_validation FINAL
        WHERE forecast_id = '' AND window_seconds = 300 AND window_start >= toDateTime(@fromS, 'UTC')
        ORDER BY deployment, window_start
        """;

    private static DateTimeOffset Floor(DateTimeOffset t, TimeSpan step) => DateTimeOffset.FromUnixTimeSeconds(t.ToUnixTimeSeconds() / (long)step.TotalSeconds * (long)step.TotalSeconds);

    private static async Task PrintSummaryAsync(Storage.ClickHouseOptions options, CancellationToken cancellationToken)
    {
        await using var connection = new ClickHouseConnection(options.ToConnectionString());
        var tables = (await connection.QueryAsync<TableRow>(new CommandDefinition(TablesSql, new { database = options.Database }, cancellationToken: cancellationToken))).ToList();
        await Console.Out.WriteLineAsync($"tables in {options.Database}:");
        await Console.Out.WriteLineAsync($"  {"table",-28} {"engine",-24} {"rows",12}");
        foreach (var table in tables)
        {
            await Console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  {table.Name,-28} {table.Engine,-24} {table.TotalRows,12:N0}"));
        }

        var deployments = (await connection.QueryAsync<DeploymentRow>(new CommandDefinition(DeploymentsSql, cancellationToken: cancellationToken))).ToList();
        await Console.Out.WriteLineAsync("per deployment (from the per-minute rollups):");
        await Console.Out.WriteLineAsync($"  {"deployment",-28} {"requests",9} {"ok",6} {"input tok",12} {"hbm",6} {"dram",6} {"ssd+rem",8} {"output tok",11} {"reason",7} {"ttft p50",9}");
        foreach (var d in deployments)
        {
            await Console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"  {d.Deployment,-28} {d.Requests,9:N0} {d.OkShare,6:P0} {d.InputTokens,12:N0} {d.HbmShare,6:P0} {d.DramShare,6:P0} {d.FlashRemoteShare,8:P0} {d.OutputTokens,11:N0} {d.ReasoningShare,7:P0} {d.TtftP50Ms,7:N0}ms"));
        }

        var energy = (await connection.QueryAsync<EnergyRow>(new CommandDefinition(EnergySql, cancellationToken: cancellationToken))).ToList();
        foreach (var e in energy)
        {
            await Console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  {e.Deployment,-28} {e.Gpus,4} GPUs reporting, mean {e.MeanWatts:N0} W per sample"));
        }
    }

    private static string DefaultScenario()
    {
        var inRepository = Path.Combine("deploy", "scenarios", "demo.yaml");
        return File.Exists(inRepository) ? Path.GetFullPath(inRepository) : Path.Combine(AppContext.BaseDirectory, "scenarios", "demo.yaml");
    }

    private static TimeSpan? ParseDuration(string value, System.CommandLine.Parsing.ArgumentResult result)
    {
        var trimmed = value.Trim();
        var (number, unit) = trimmed.Length > 0 && char.IsLetter(trimmed[^1]) ? (trimmed[..^1], trimmed[^1]) : (trimmed, '\0');
        if (unit != '\0' && double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var n) && n >= 0)
        {
            switch (unit)
            {
                case 's': return TimeSpan.FromSeconds(n);
                case 'm': return TimeSpan.FromMinutes(n);
                case 'h': return TimeSpan.FromHours(n);
            }
        }
        else if (TimeSpan.TryParse(trimmed, CultureInfo.InvariantCulture, out var span) && span >= TimeSpan.Zero)
        {
            return span;
        }

        result.AddError($"--duration '{value}' is not a duration: use e.g. 30s, 5m, 1h or 00:05:00");
        return null;
    }

    private sealed record ReportRow(string Deployment, long StartS, double? Bill, double? Work, double? Model, double? Plan, double? Drift, double? ModelError, string TopFactor, string Explanation);

    private sealed record TableRow(string Name, string Engine, ulong TotalRows);

    private sealed record DeploymentRow(string Deployment, ulong Requests, double OkShare, ulong InputTokens, double HbmShare, double DramShare,
        double FlashRemoteShare, ulong OutputTokens, double ReasoningShare, double TtftP50Ms);

    private sealed record EnergyRow(string Deployment, ulong Gpus, double MeanWatts);
}
