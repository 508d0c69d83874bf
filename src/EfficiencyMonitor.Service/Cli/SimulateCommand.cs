using System.CommandLine;
using System.Globalization;
using Confluent.Kafka;
using EfficiencyMonitor.Service.Configuration;
using EfficiencyMonitor.Simulator.Generation;
using EfficiencyMonitor.Simulator.Output;
using EfficiencyMonitor.Simulator.Scenarios;
using EfficiencyMonitor.Simulator.Traces;

namespace EfficiencyMonitor.Service.Cli;

/// <summary>
/// <c>efficiency-monitor simulate</c>: production-like telemetry from a scenario, paced to Kafka in real time (event time =
/// wall time from <c>--start</c>), or written as fast as possible to a JSONL file.
/// </summary>
internal static class SimulateCommand
{
    internal static readonly Option<string> Kafka = new("--kafka")
    {
        Description = "Kafka bootstrap servers (default: Kafka:BootstrapServers from configuration, or EM_KAFKA_BOOTSTRAP).",
    };

    internal static readonly Option<string?> RequestsTopic = new("--requests-topic")
    {
        Description = "Topic of request records (default: Kafka:RequestsTopic, inference-requests).",
    };

    internal static readonly Option<string?> PowerTopic = new("--power-topic")
    {
        Description = "Topic of GPU power samples (default: Kafka:PowerTopic, gpu-power).",
    };

    private static readonly Option<FileInfo> Scenario = new("--scenario")
    {
        Description = "Scenario file (YAML).",
        DefaultValueFactory = _ => new FileInfo(Path.Combine("deploy", "scenarios", "default.yaml")),
    };

    private static readonly Option<double> Rate = new("--rate")
    {
        Description = "Mean request records per second (event time; the scenario's diurnal shape modulates it). Power samples come on top.",
        DefaultValueFactory = _ => 100,
    };

    private static readonly Option<long?> Count = new("--count")
    {
        Description = "Stop after this many request records.",
    };

    private static readonly Option<ulong> Seed = new("--seed")
    {
        Description = "Seed: the same seed, scenario, rate and start give byte-identical records.",
        DefaultValueFactory = _ => 1,
    };

    private static readonly Option<FileInfo?> Out = new("--out")
    {
        Description = "Write JSONL (one record per line, both topics) to this file instead of producing to Kafka; needs --count or --duration.",
    };

    private static readonly Option<double> InvalidRate = new("--invalid-rate")
    {
        Description = "Share (0-1) of request records made deliberately invalid, cycling through the contract's reason codes (dead-letter tests).",
        DefaultValueFactory = _ => 0,
    };

    private static readonly Option<DateTimeOffset?> StartAt = new("--start")
    {
        Description = "Event time of the first instant, RFC 3339 (default: now). Records are paced relative to it.",
    };

    private static readonly Option<FileInfo?> Annotations = new("--annotations")
    {
        Description = "Also write the scenario's incident schedule (incl. price changes) as JSONL annotations to this file.",
    };

    private static readonly Option<bool> NoPower = new("--no-power")
    {
        Description = "Do not emit gpu-power samples.",
    };

    private static readonly Option<FileInfo?> TraceFile = new("--trace")
    {
        Description = "Drive the simulator with a production trace: it supplies arrivals, input/output lengths and prefix identity; the scenario (default deploy/scenarios/mooncake-conversation.yaml) supplies the rest.",
    };

    private static readonly Option<string> TraceFormat = new("--trace-format")
    {
        Description = "Format of --trace: mooncake (Mooncake FAST'25: timestamp ms, input_length, output_length, hash_ids of 512-token blocks).",
        DefaultValueFactory = _ => "mooncake",
    };

    private static readonly Option<double> Speed = new("--speed")
    {
        Description = "With --trace: playback speed to Kafka (60 = one trace hour in one minute); event times keep the trace's spacing.",
        DefaultValueFactory = _ => 1,
    };

    private static readonly Option<TimeSpan> TraceOffset = new("--trace-offset")
    {
        Description = "With --trace: skip this much trace time first (e.g. 600s, 10m, 00:10:00); the first kept arrival is the run's start.",
        CustomParser = result => ParseOffset(result.Tokens.Single().Value, result),
    };

    private static readonly Option<long?> TraceLimit = new("--trace-limit")
    {
        Description = "With --trace: use at most this many requests (after --trace-offset).",
    };

    private static readonly Option<bool> Summarize = new("--summarize")
    {
        Description = "With --trace: print the trace's summary (requests, duration, tokens, burstiness, unbounded-cache prefix reuse) and exit.",
    };

    private static readonly Option<bool> SkipMalformed = new("--skip-malformed")
    {
        Description = "With --trace: skip malformed lines (counted and reported) instead of stopping at the first.",
    };

    public static Command Create()
    {
        var command = new Command("simulate", "Generate production-like telemetry from a scenario: to Kafka, paced in real time, or to a JSONL file.")
        {
            Scenario, Rate, Count, DemoCommand.Duration, Seed, Kafka, Out, InvalidRate, StartAt, RequestsTopic, PowerTopic, Annotations, NoPower,
            TraceFile, TraceFormat, Speed, TraceOffset, TraceLimit, Summarize, SkipMalformed,
        };
        command.SetAction((parse, cancellationToken) => CommandLine.GuardAsync(async () =>
        {
            if (parse.GetValue(TraceFile) is { } traceFile)
            {
                return await RunTraceAsync(parse, traceFile, cancellationToken);
            }

            Scenario scenario;
            try
            {
                scenario = ScenarioLoader.LoadFile(parse.GetValue(Scenario)!.FullName);
            }
            catch (ScenarioException e)
            {
                await Console.Error.WriteLineAsync($"error: invalid scenario:\n  - {string.Join("\n  - ", e.Problems)}");
                return CommandLine.BadConfiguration;
            }

            var outFile = parse.GetValue(Out);
            var count = parse.GetValue(Count);
            var duration = parse.GetValue(DemoCommand.Duration);
            var problems = new List<string>();
            if (outFile is not null && parse.GetResult(Kafka) is not null)
            {
                problems.Add("--out and --kafka exclude each other: write a file or produce to Kafka");
            }

            if (outFile is not null && count is null && duration is null)
            {
                problems.Add("--out needs --count or --duration (a file cannot grow forever)");
            }

            var options = new GeneratorOptions
            {
                Rate = parse.GetValue(Rate),
                Seed = parse.GetValue(Seed),
                Start = parse.GetValue(StartAt) ?? TimeProvider.System.GetUtcNow(),
                Count = count,
                Duration = duration,
                InvalidRate = parse.GetValue(InvalidRate),
                PowerSamples = !parse.GetValue(NoPower),
            };
            problems.AddRange(options.Validate());
            if (problems.Count > 0)
            {
                await Console.Error.WriteLineAsync($"error: invalid arguments:\n  - {string.Join("\n  - ", problems)}");
                return CommandLine.BadConfiguration;
            }

            if (parse.GetValue(Annotations) is { } annotations)
            {
                await using var stream = annotations.Create();
                ScenarioAnnotations.Write(stream, scenario, options.Start);
            }

            var generator = new TraceGenerator(scenario, options);
            await Console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"scenario {scenario.Name}: {scenario.Workloads.Count} workloads, {scenario.Deployments.Count} deployments, {scenario.Incidents.Count} incidents; rate {options.Rate}/s, seed {options.Seed}, start {options.Start.UtcDateTime:O}"));
            if (outFile is not null)
            {
                var started = TimeProvider.System.GetTimestamp();
                long written;
                await using (var stream = new BufferedStream(outFile.Create(), 1 << 20))
                {
                    written = JsonlTrace.Write(stream, generator.Generate(), cancellationToken);
                }

                var elapsed = TimeProvider.System.GetElapsedTime(started);
                await Console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"wrote {written:N0} records ({generator.RequestCount:N0} requests) to {outFile.FullName} in {elapsed.TotalSeconds:0.0}s ({written / Math.Max(elapsed.TotalSeconds, 0.001):N0}/s)"));
                return 0;
            }

            return await PumpAsync(parse, generator.Generate(), new PumpOptions(), cancellationToken);
        }));
        return command;
    }

    /// <summary><c>simulate --trace</c>: validates and summarizes the trace in one pass, then generates from it.</summary>
    private static async Task<int> RunTraceAsync(ParseResult parse, FileInfo traceFile, CancellationToken cancellationToken)
    {
        var problems = new List<string>();
        var format = parse.GetValue(TraceFormat) ?? "mooncake";
        var speed = parse.GetValue(Speed);
        if (!traceFile.Exists)
        {
            problems.Add($"--trace {traceFile.FullName} does not exist");
        }

        if (!TraceReplay.Formats.Contains(format))
        {
            problems.Add($"--trace-format {format} is not supported; use one of: {string.Join(", ", TraceReplay.Formats)}");
        }

        if (!(speed is > 0 and <= 1_000_000))
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"--speed {speed} must be above 0 (1 = as recorded)"));
        }

        if (parse.GetValue(TraceLimit) is < 1)
        {
            problems.Add("--trace-limit must be at least 1");
        }

        if (parse.GetResult(Rate) is { Implicit: false } || parse.GetValue(Count) is not null || parse.GetValue(DemoCommand.Duration) is not null || parse.GetValue(InvalidRate) > 0)
        {
            problems.Add("--rate, --count, --duration and --invalid-rate do not apply to --trace (the trace sets arrivals; use --trace-offset and --trace-limit)");
        }

        if (parse.GetValue(Out) is not null && parse.GetResult(Kafka) is not null)
        {
            problems.Add("--out and --kafka exclude each other: write a file or produce to Kafka");
        }

        if (problems.Count > 0)
        {
            await Console.Error.WriteLineAsync($"error: invalid arguments:\n  - {string.Join("\n  - ", problems)}");
            return CommandLine.BadConfiguration;
        }

        var selection = new TraceSelection
        {
            Offset = parse.GetValue(TraceOffset),
            Limit = parse.GetValue(TraceLimit),
            SkipMalformed = parse.GetValue(SkipMalformed),
        };

        // First pass: validate every line before anything is sent, and summarize.
        var stats = new TraceReadStats();
        TraceSummary summary;
        try
        {
            summary = TraceSummary.Compute(MooncakeTrace.Read(traceFile.FullName, selection, stats));
        }
        catch (TraceFormatException e)
        {
            await Console.Error.WriteLineAsync($"error: {traceFile.FullName}: {e.Message} (--skip-malformed skips such lines)");
            return CommandLine.BadConfiguration;
        }

        if (stats.Skipped > 0)
        {
            await Console.Error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"warning: skipped {stats.Skipped:N0} malformed lines of {traceFile.FullName}, e.g.:\n  - {string.Join("\n  - ", stats.Examples)}"));
        }

        if (parse.GetValue(Summarize))
        {
            await Console.Out.WriteLineAsync($"trace {traceFile.FullName} ({format}{(selection.Offset > TimeSpan.Zero ? $", from {selection.Offset}" : "")}{(selection.Limit is { } l ? $", first {l}" : "")}):");
            await Console.Out.WriteLineAsync(summary.Format());
            return 0;
        }

        if (summary.Requests == 0)
        {
            await Console.Error.WriteLineAsync("error: the selected part of the trace has no requests (check --trace-offset)");
            return CommandLine.BadConfiguration;
        }

        var scenarioFile = parse.GetResult(Scenario) is { Implicit: false }
            ? parse.GetValue(Scenario)!
            : new FileInfo(Path.Combine("deploy", "scenarios", "mooncake-conversation.yaml"));
        Scenario scenario;
        try
        {
            scenario = ScenarioLoader.LoadFile(scenarioFile.FullName);
        }
        catch (ScenarioException e)
        {
            await Console.Error.WriteLineAsync($"error: invalid scenario:\n  - {string.Join("\n  - ", e.Problems)}");
            return CommandLine.BadConfiguration;
        }

        var options = new GeneratorOptions
        {
            Rate = scenario.ReferenceRate,
            Seed = parse.GetValue(Seed),
            Start = parse.GetValue(StartAt) ?? TraceReplay.DefaultStart(TimeProvider.System.GetUtcNow(), summary.Duration, speed),
            PowerSamples = !parse.GetValue(NoPower),
        };
        if (parse.GetValue(Annotations) is { } annotations)
        {
            await using var stream = annotations.Create();
            ScenarioAnnotations.Write(stream, scenario, options.Start);
        }

        await Console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"trace {traceFile.Name}: {summary.Requests:N0} requests over {summary.Duration.TotalSeconds:N0} s; unbounded-cache reuse {summary.UnboundedReuse:P2}; start {options.Start.UtcDateTime:O}, seed {options.Seed}"));
        await Console.Out.WriteLineAsync(TraceReplay.DescribeProvenance(scenario));
        var generator = TraceReplay.CreateGenerator(scenario, options, MooncakeTrace.Read(traceFile.FullName, selection));
        if (parse.GetValue(Out) is { } outFile)
        {
            var started = TimeProvider.System.GetTimestamp();
            long written;
            await using (var stream = new BufferedStream(outFile.Create(), 1 << 20))
            {
                written = JsonlTrace.Write(stream, generator.Generate(), cancellationToken);
            }

            var elapsed = TimeProvider.System.GetElapsedTime(started);
            await Console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"wrote {written:N0} records ({generator.RequestCount:N0} requests) to {outFile.FullName} in {elapsed.TotalSeconds:0.0}s"));
            return 0;
        }

        await Console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"replaying at {speed}x: about {summary.Duration.TotalSeconds / speed:N0} s"));
        return await PumpAsync(parse, generator.Generate(), new PumpOptions { Speed = speed }, cancellationToken);
    }

    private static TimeSpan ParseOffset(string value, System.CommandLine.Parsing.ArgumentResult result)
    {
        var trimmed = value.Trim();
        var (number, unit) = trimmed.Length > 0 && char.IsLetter(trimmed[^1]) ? (trimmed[..^1], trimmed[^1]) : (trimmed, 's');
        if (double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var n) && n >= 0 && unit is 's' or 'm' or 'h')
        {
            return unit switch { 'm' => TimeSpan.FromMinutes(n), 'h' => TimeSpan.FromHours(n), _ => TimeSpan.FromSeconds(n) };
        }

        if (TimeSpan.TryParse(trimmed, CultureInfo.InvariantCulture, out var span) && span >= TimeSpan.Zero)
        {
            return span;
        }

        result.AddError($"--trace-offset '{value}' is not a duration: use e.g. 600 (seconds), 10m, 1h or 00:10:00");
        return TimeSpan.Zero;
    }

    /// <summary>Produces records to Kafka with a live progress display; shared with <c>replay</c>.</summary>
    internal static async Task<int> PumpAsync(ParseResult parse, IEnumerable<SimulatedRecord> records, PumpOptions pumpOptions, CancellationToken cancellationToken)
    {
        var overrides = new Dictionary<string, string?>();
        if (parse.GetValue(Kafka) is { Length: > 0 } bootstrap)
        {
            overrides["Kafka:BootstrapServers"] = bootstrap;
        }

        var configuration = ServiceConfiguration.Build(overrides);
        var kafka = ServiceConfiguration.Kafka(configuration);

        var config = KafkaPump.DefaultConfig(kafka.BootstrapServers);
        kafka.ApplyTo(config);
        pumpOptions = pumpOptions with
        {
            RequestsTopic = parse.GetValue(RequestsTopic) ?? kafka.RequestsTopic,
            PowerTopic = parse.GetValue(PowerTopic) ?? kafka.PowerTopic,
        };
        await Console.Out.WriteLineAsync($"kafka {kafka.BootstrapServers}: topics {pumpOptions.RequestsTopic}, {pumpOptions.PowerTopic}; Ctrl-C stops cleanly");
        using var producer = new ProducerBuilder<string, byte[]>(config).Build();
        var terminal = !Console.IsOutputRedirected;
        var lastPlain = TimeSpan.Zero;
        void Show(PumpProgress p)
        {
            if (terminal)
            {
                Console.Out.Write("\r" + p.Format());
            }
            else if (p.Elapsed - lastPlain >= TimeSpan.FromSeconds(5))
            {
                lastPlain = p.Elapsed;
                Console.Out.WriteLine(p.Format());
            }
        }

        var result = await new KafkaPump(producer, pumpOptions, TimeProvider.System).RunAsync(records, Show, cancellationToken);
        if (terminal)
        {
            await Console.Out.WriteLineAsync();
        }

        await Console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"{(result.Cancelled ? "stopped" : "done")}: {result.Produced:N0} sent, {result.Delivered:N0} delivered, {result.Failed:N0} failed in {result.Elapsed.TotalSeconds:0.0}s ({result.Produced / Math.Max(result.Elapsed.TotalSeconds, 0.001):N0}/s)"));
        if (result.Delivered < result.Produced)
        {
            await Console.Error.WriteLineAsync($"warning: {result.Produced - result.Delivered:N0} records were not acknowledged (is Kafka reachable at {kafka.BootstrapServers}?)");
            return CommandLine.Failed;
        }

        return 0;
    }
}
