using System.Diagnostics;
using System.Globalization;
using System.Net;
using ClickHouse.Driver;
using ClickHouse.Driver.ADO;
using Dapper;
using EfficiencyMonitor.Core.Telemetry;
using EfficiencyMonitor.Jobs;
using EfficiencyMonitor.Jobs.Catalog;
using EfficiencyMonitor.Sandbox;
using EfficiencyMonitor.Simulator.Generation;
using EfficiencyMonitor.Simulator.Scenarios;
using EfficiencyMonitor.Storage;
using EfficiencyMonitor.Storage.Migrations;
using EfficiencyMonitor.Storage.Telemetry;
using Microsoft.Extensions.Logging.Abstractions;

namespace EfficiencyMonitor.Benchmarks.Spend;

/// <summary>
/// <c>spend [--hours 2] [--rate 10] [--runs 5]</c>: the 1-hour realized-efficiency job with 1× and 10× raw history
/// behind it (issue 5: cost must follow the window, not the history; target ratio ≤ 1.3).
/// For each factor f: a fresh database with f·hours of simulated history plus one more hour (default scenario),
/// the history's hourly windows computed first (catch-up, untimed), then the job's run that closes the one new hour
/// is timed, <c>--runs</c> times (the progress mark is reset between runs; the late-data check runs each time).
/// </summary>
internal static class SpendJobBench
{
    private sealed class ManualTime(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;

        public override DateTimeOffset GetUtcNow() => Now;
    }

    public static async Task<int> MainAsync(string[] args)
    {
        var hours = Arg(args, "--hours", 2);
        var rate = Arg(args, "--rate", 10);
        var runs = Arg(args, "--runs", 5);
        var root = Root();
        var data = Path.Combine(Path.GetTempPath(), "em-spend-bench", $"{Environment.ProcessId}");
        await using var sandbox = await SandboxHost.StartAsync(
            new SandboxOptions { ClickHouseHttp = new IPEndPoint(IPAddress.Loopback, 0), Kafka = new IPEndPoint(IPAddress.Loopback, 0), DataDirectory = data },
            TextWriter.Null, CancellationToken.None);
        var results = new List<(int Factor, long Requests, long Samples, double[] Seconds)>();
        foreach (var factor in new[] { 1, 10 })
        {
            var options = new ClickHouseOptions { Url = sandbox.ClickHouseUrl.ToString(), Database = $"spend_bench_{factor}x_{Environment.ProcessId}" };
            await new MigrationRunner(options, NullLogger<MigrationRunner>.Instance).ApplyAsync(CancellationToken.None);
            var now = TimeProvider.System.GetUtcNow();
            var end = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, 0, 0, TimeSpan.Zero).AddHours(-1);
            var start = end.AddHours(-(factor * hours + 1));
            var (requests, samples) = await InsertHistoryAsync(options, root, start, end, rate, now);
            var jobs = new JobsOptions { WindowMinutes = [60], MaxCatchUp = TimeSpan.FromDays(30), MaxWindowsPerRun = 100_000 };
            var time = new ManualTime(end.AddHours(-1).AddMinutes(3));
            using var toolkit = new EfficiencyToolkit(options, jobs, time, NullLoggerFactory.Instance);
            await toolkit.Catalogs.AddAsync(CatalogFiles.LoadDirectory(Path.Combine(root, "deploy", "catalog")), CancellationToken.None);
            var catchUp = await toolkit.Runner.RunOnceAsync(CancellationToken.None);
            Console.WriteLine($"{factor,2}x: {requests:N0} requests, {samples:N0} power samples over {factor * hours + 1} h; history catch-up computed {catchUp.Computed} hourly windows");

            await using var connection = new ClickHouseConnection(options.ToConnectionString());
            await connection.OpenAsync();
            var marks = (await connection.QueryAsync<(string Deployment, long DoneS)>(
                $"SELECT deployment, toInt64(toUnixTimestamp(max(done_until))) FROM {options.Database}.efficiency_progress GROUP BY deployment")).ToList();
            time.Now = end.AddMinutes(3);
            var seconds = new double[runs];
            for (var run = 0; run < runs; run++)
            {
                await connection.ExecuteAsync($"TRUNCATE TABLE {options.Database}.efficiency_progress");
                foreach (var (deployment, doneS) in marks)
                {
                    await toolkit.Store.SaveProgressAsync(deployment, 3600, doneS, time.Now, CancellationToken.None);
                }

                var watch = Stopwatch.StartNew();
                var summary = await toolkit.Runner.RunOnceAsync(CancellationToken.None);
                seconds[run] = watch.Elapsed.TotalSeconds;
                if (summary.Computed != marks.Count || summary.Failed != 0) throw new InvalidOperationException($"run {run}: {summary}, expected {marks.Count} windows");
            }

            Console.WriteLine($"{factor,2}x: 1-hour job closing one hour for {marks.Count} deployments: {string.Join(", ", seconds.Select(s => s.ToString("0.000", CultureInfo.InvariantCulture)))} s (median {Median(seconds):0.000} s)");
            results.Add((factor, requests, samples, seconds));
        }

        var ratio = Median(results[1].Seconds) / Median(results[0].Seconds);
        Console.WriteLine($"ratio 10x/1x (median): {ratio:0.00} (target <= 1.3)");
        return 0;
    }

    private static async Task<(long Requests, long Samples)> InsertHistoryAsync(ClickHouseOptions options, string root, DateTimeOffset start, DateTimeOffset end, int rate, DateTimeOffset now)
    {
        var scenario = ScenarioLoader.LoadFile(Path.Combine(root, "deploy", "scenarios", "default.yaml"));
        var generator = new TraceGenerator(scenario, new GeneratorOptions { Rate = rate, Seed = 9, Start = start, Duration = end - start });
        using var client = new ClickHouseClient(options.ToConnectionString());
        var store = new TelemetryStore(client, options);
        var requestDecoder = new InferenceRequestDecoder();
        var powerDecoder = new GpuPowerDecoder();
        using var requests = new TelemetryBatch<InferenceRequestRow>("bench-requests", 100_000);
        using var power = new TelemetryBatch<GpuPowerRow>("bench-power", 100_000);
        long offset = 0, requestCount = 0, sampleCount = 0;
        foreach (var record in generator.Generate())
        {
            var json = record.Payload.Span;
            if (record.Topic == TraceTopic.InferenceRequests)
            {
                if (!requestDecoder.Decode(json, now, requests.Arena, ref requests.Pending).IsSuccess) continue;
                requests.Add(0, offset++, json.Length, 0);
                requestCount++;
                if (requests.Count == 100_000) await FlushAsync(store, new InferenceRequestEncoder(), requests);
            }
            else
            {
                if (!powerDecoder.Decode(json, now, ref power.Pending).IsSuccess) continue;
                power.Add(0, offset++, json.Length, 0);
                sampleCount++;
                if (power.Count == 100_000) await FlushAsync(store, new GpuPowerEncoder(), power);
            }
        }

        await FlushAsync(store, new InferenceRequestEncoder(), requests);
        await FlushAsync(store, new GpuPowerEncoder(), power);
        return (requestCount, sampleCount);
    }

    private static async Task FlushAsync<TRow>(TelemetryStore store, IRowBinaryEncoder<TRow> encoder, TelemetryBatch<TRow> batch)
        where TRow : struct
    {
        await store.InsertAsync(encoder, batch, CancellationToken.None);
        batch.Reset();
    }

    private static double Median(double[] values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static int Arg(string[] args, string name, int fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
    }

    private static string Root()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "EfficiencyMonitor.sln"))) return dir.FullName;
        }

        throw new DirectoryNotFoundException("EfficiencyMonitor.sln not found");
    }
}
