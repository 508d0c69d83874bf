using System.CommandLine;
using EfficiencyMonitor.Simulator.Output;

namespace EfficiencyMonitor.Service.Cli;

/// <summary>
/// <c>efficiency-monitor replay</c>: sends a JSONL trace (from <c>simulate --out</c>, or one recorded from production: one
/// raw record per line, either topic) to Kafka, preserving the records' relative timing scaled by <c>--speed</c>.
/// </summary>
internal static class ReplayCommand
{
    private static readonly Option<FileInfo> Trace = new("--trace")
    {
        Description = "JSONL trace: one inference-requests or gpu-power record per line, in time order.",
        Required = true,
    };

    private static readonly Option<double> Speed = new("--speed")
    {
        Description = "Playback speed: 1 = as recorded, 10 = ten times faster.",
        DefaultValueFactory = _ => 1,
    };

    public static Command Create()
    {
        var command = new Command("replay", "Send a JSONL trace to Kafka, preserving its relative timing (scaled by --speed).")
        {
            Trace, Speed, SimulateCommand.Kafka, SimulateCommand.RequestsTopic, SimulateCommand.PowerTopic,
        };
        command.SetAction((parse, cancellationToken) => CommandLine.GuardAsync(async () =>
        {
            var trace = parse.GetValue(Trace)!;
            var speed = parse.GetValue(Speed);
            if (!trace.Exists || !(speed is > 0 and <= 1_000_000))
            {
                await Console.Error.WriteLineAsync(!trace.Exists
                    ? $"error: the trace {trace.FullName} does not exist; pass a JSONL file (e.g. from `efficiency-monitor simulate --out FILE`)"
                    : $"error: --speed {speed} must be above 0 (1 = as recorded)");
                return CommandLine.BadConfiguration;
            }

            await Console.Out.WriteLineAsync($"replaying {trace.FullName} at {speed}x");
            return await SimulateCommand.PumpAsync(parse, JsonlTrace.Read(trace.FullName), new PumpOptions { Speed = speed }, cancellationToken);
        }));
        return command;
    }
}
