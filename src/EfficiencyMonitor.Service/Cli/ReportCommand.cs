using System.CommandLine;
using System.Globalization;
using System.Text;
using EfficiencyMonitor.Jobs.Efficiency;
using Microsoft.Extensions.Logging;

namespace EfficiencyMonitor.Service.Cli;

/// <summary><c>efficiency-monitor report</c>: realized spend per successful output as a table in the terminal.</summary>
internal static class ReportCommand
{
    public static Command Create()
    {
        var url = EfficiencyCli.ClickHouseUrl();
        var database = EfficiencyCli.Database();
        var window = EfficiencyCli.Window();
        var deployment = EfficiencyCli.Deployment();
        var from = new Option<string?>("--from") { Description = "Start, ISO-8601 UTC (default: 24 windows before --to)." };
        var to = new Option<string?>("--to") { Description = "End, ISO-8601 UTC (default: now)." };
        var byTenant = new Option<bool>("--by-tenant") { Description = "Also show each window's tenant/model allocations." };
        var command = new Command("report", "Print realized spend per successful output per window and deployment (and, with --by-tenant, per tenant and model).")
        {
            url, database, window, deployment, from, to, byTenant,
        };
        command.SetAction((parse, cancellationToken) => CommandLine.GuardAsync(async () =>
        {
            var (query, problems) = EfficiencyQuery.Parse(parse.GetValue(deployment), parse.GetValue(from), parse.GetValue(to), parse.GetValue(window),
                parse.GetValue(byTenant) ? "true" : "false", TimeProvider.System.GetUtcNow());
            if (query is null)
            {
                foreach (var p in problems) await Console.Error.WriteLineAsync($"error: {p}");
                return CommandLine.BadConfiguration;
            }

            using var logs = LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true));
            using var toolkit = EfficiencyCli.Toolkit(parse, url, database, logs);
            var response = await toolkit.Queries.ReadAsync(query, cancellationToken);
            await Console.Out.WriteAsync(Render(response));
            return 0;
        }));
        return command;
    }

    /// <summary>Renders the rows as an aligned text table with a totals line per deployment.</summary>
    internal static string Render(EfficiencyResponse response)
    {
        var header = new[] { "window (UTC)", "deployment", "tenant/model", "GPUs", "util", "spend $", "capacity", "energy", "space", "tiers", "network", "ok outputs", "$/ok output", "$/M out tok", "out tok/J", "note" };
        var rows = new List<string[]>();
        foreach (var r in response.Rows)
        {
            rows.Add(
            [
                r.WindowStart.ToString("MM-dd HH:mm", CultureInfo.InvariantCulture),
                r.Tenant.Length == 0 ? r.Deployment : "",
                r.Tenant.Length == 0 ? "(all)" : $"  {r.Tenant} / {r.Model}",
                r.Tenant.Length == 0 ? r.Gpus.ToString(CultureInfo.InvariantCulture) : "",
                r.Tenant.Length == 0 ? r.Utilization.ToString("P0", CultureInfo.InvariantCulture) : "",
                Money(r.SpendUsd), Money(r.CostCapacityUsd), Money(r.CostEnergyUsd), Money(r.CostSpaceUsd),
                Money(r.CostTierDramUsd + r.CostTierLocalSsdUsd + r.CostTierRemoteUsd), Money(r.CostNetworkUsd),
                r.SuccessfulOutputs.ToString("N0", CultureInfo.InvariantCulture),
                r.SpendPerSuccessUsd is { } s ? s.ToString("0.000000", CultureInfo.InvariantCulture) : "n/a",
                r.UsdPerMOutputTokens is { } m ? m.ToString("0.00", CultureInfo.InvariantCulture) : "n/a",
                r.OutputTokensPerJoule is { } j ? j.ToString("0.000", CultureInfo.InvariantCulture) : "n/a",
                r.NoSuccess ? "NO SUCCESSFUL OUTPUT" : "",
            ]);
        }

        var widths = header.Select((h, i) => Math.Max(h.Length, rows.Count == 0 ? 0 : rows.Max(r => r[i].Length))).ToArray();
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"realized efficiency, {response.WindowSeconds / 60}-minute windows, {response.From:yyyy-MM-dd HH:mm} .. {response.To:yyyy-MM-dd HH:mm} UTC");
        void Line(string[] cells) => text.AppendLine(string.Join("  ", cells.Select((c, i) => i is 0 or 1 or 2 or 15 ? c.PadRight(widths[i]) : c.PadLeft(widths[i]))).TrimEnd());
        Line(header);
        Line(widths.Select(w => new string('-', w)).ToArray());
        foreach (var row in rows) Line(row);
        if (rows.Count == 0) text.AppendLine("(no windows: is the service running with Jobs enabled, and a catalog stored? `efficiency-monitor catalog list`)");
        var totals = response.Rows.Where(r => r.Tenant.Length == 0).ToList();
        if (totals.Count > 0)
        {
            var spend = totals.Sum(r => r.SpendUsd);
            var ok = totals.Sum(r => r.SuccessfulOutputs);
            text.AppendLine(CultureInfo.InvariantCulture, $"total: spend ${spend:N2}, {ok:N0} successful outputs, {(ok > 0 ? (spend / ok).ToString("0.000000", CultureInfo.InvariantCulture) : "n/a")} $/successful output");
        }

        return text.ToString();
    }

    private static string Money(double usd) => usd.ToString("0.0000", CultureInfo.InvariantCulture);
}
