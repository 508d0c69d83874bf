using System.CommandLine;
using System.Globalization;
using EfficiencyMonitor.Core.Catalog;
using EfficiencyMonitor.Core.Model;
using EfficiencyMonitor.Jobs.Efficiency;
using Microsoft.Extensions.Logging;

namespace EfficiencyMonitor.Service.Cli;

/// <summary>
/// <c>efficiency-monitor calibrate --from --to [--deployment] [--window 5m] [--catalog-version] [--new-version]</c>: fits
/// the model to the realized windows in the range and stores the result as a new catalog version (MODEL.md §4.1).
/// </summary>
internal static class CalibrateCommand
{
    public static Command Create()
    {
        var url = EfficiencyCli.ClickHouseUrl();
        var database = EfficiencyCli.Database();
        var deployment = EfficiencyCli.Deployment();
        var from = new Option<string>("--from") { Description = "Start of the calibration range, ISO-8601 UTC (a quiet stretch of production).", Required = true };
        var to = new Option<string>("--to") { Description = "End of the range, ISO-8601 UTC.", Required = true };
        var window = new Option<string>("--window") { Description = "Window length the realized windows were computed with.", DefaultValueFactory = _ => "5m" };
        var baseVersion = new Option<string?>("--catalog-version") { Description = "Catalog version to start from (default: the newest stored)." };
        var newVersion = new Option<string?>("--new-version") { Description = "Version label of the calibrated catalog (default: <base>-cal.<yyyyMMddHHmm of --to>)." };
        var command = new Command("calibrate", "Fit prefill MFU, decode MBU/MFU and effective tier bandwidths to production windows (median ratio estimator) and store them, with the plan drift is measured against, as a new catalog version.")
        {
            url, database, deployment, from, to, window, baseVersion, newVersion,
        };
        command.SetAction((parse, cancellationToken) => CommandLine.GuardAsync(async () =>
        {
            var problems = new List<string>();
            var range = EfficiencyCli.Range(parse, from, to, problems);
            var seconds = EfficiencyQuery.ParseWindow(parse.GetValue(window)!);
            if (seconds is null) problems.Add($"--window '{parse.GetValue(window)}' is not a window length (e.g. 5m)");
            if (problems.Count > 0)
            {
                foreach (var p in problems) await Console.Error.WriteLineAsync($"error: {p}");
                return CommandLine.BadConfiguration;
            }

            using var logs = LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true));
            using var toolkit = EfficiencyCli.Toolkit(parse, url, database, logs);
            var baseCatalog = await toolkit.Catalogs.GetAsync(parse.GetValue(baseVersion), cancellationToken);
            Jobs.Validation.CalibrationRun run;
            try
            {
                run = await toolkit.Calibrator.CalibrateAsync(range!.Value.From, range!.Value.To, seconds!.Value, parse.GetValue(deployment), parse.GetValue(baseVersion), parse.GetValue(newVersion), cancellationToken);
            }
            catch (CatalogException e)
            {
                await Console.Error.WriteLineAsync($"error: {e.Message}");
                return CommandLine.BadConfiguration;
            }

            foreach (var skip in run.Skipped) await Console.Out.WriteLineAsync($"skipped {skip}");
            if (run.Catalog is null)
            {
                await Console.Error.WriteLineAsync("error: no deployment could be calibrated (see above)");
                return CommandLine.BadConfiguration;
            }

            foreach (var r in run.Results)
            {
                var before = baseCatalog?.Catalog.Deployments.FirstOrDefault(d => d.Name == r.Deployment.Name);
                var b = before?.Serving;
                var a = r.Deployment.Serving!;
                var plan = r.Deployment.Plan!;
                var sps = EfficiencyProfile.FromPlan(plan).SpendPerSuccess(plan.Utilization);
                await Console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{r.Deployment.Name}: {r.Windows} windows"));
                await Console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  prefill MFU      {b?.PrefillMfu,8:0.####} -> {a.PrefillMfu:0.####}"));
                await Console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  decode MBU       {b?.DecodeMbu,8:0.####} -> {a.DecodeMbu:0.####}"));
                await Console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  decode MFU       {b?.DecodeMfu,8:0.####} -> {a.DecodeMfu:0.####}"));
                await Console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  decode batch     {b?.DecodeBatch,8} -> {a.DecodeBatch}"));
                foreach (var (name, old, now) in new[] { ("dram", before?.Tiers.Dram, r.Deployment.Tiers.Dram), ("local_ssd", before?.Tiers.LocalSsd, r.Deployment.Tiers.LocalSsd), ("remote", before?.Tiers.Remote, r.Deployment.Tiers.Remote) })
                {
                    if (now is null) continue;
                    await Console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  {name,-9} GB/s   {old?.BandwidthGbPerS,8:0.##} -> {now.BandwidthGbPerS:0.##}"));
                }

                await Console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"  plan: {plan.InputTokens:0} input / {plan.OutputTokens:0} output tokens per request, success {plan.SuccessRate:P1}, utilization {plan.Utilization:P1}, ${sps:0.######} per successful output"));
                foreach (var note in r.Notes) await Console.Out.WriteLineAsync($"  note: {note}");
            }

            await Console.Out.WriteLineAsync($"stored catalog version {run.Catalog.Catalog.Version} (newest: the jobs use it from their next run)");
            return 0;
        }));
        return command;
    }
}
