using System.Globalization;
using System.Text;

namespace EfficiencyMonitor.Core.Model;

/// <summary>
/// Plain-text rendering of forecasts for the terminal (and any HTTP route that wants text): the predicted figures, the
/// validation so far, what-if comparisons and model figures. Pure functions of the records, no I/O.
/// </summary>
public static class ForecastReport
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>What <c>forecast create</c> prints after storing <paramref name="evaluation"/> as <paramref name="forecastId"/>.</summary>
    /// <param name="forecastId">Its id.</param>
    /// <param name="evaluation">Its predicted figures.</param>
    /// <param name="stored">False when the same spec was stored already.</param>
    public static string Created(string forecastId, ForecastEvaluation evaluation, bool stored = true)
    {
        ArgumentNullException.ThrowIfNull(evaluation);
        var text = new StringBuilder();
        text.AppendLine(Inv, $"forecast {forecastId} {(stored ? "stored" : "was already stored with the same content")}");
        AppendPrediction(text, evaluation);
        text.AppendLine(Inv, $"validation starts as windows of {evaluation.Deployment} close; see `efficiency-monitor forecast show {forecastId}`");
        return text.ToString();
    }

    /// <summary>What <c>forecast show</c> prints.</summary>
    public static string Show(ForecastShow show, int lastWindows = 10)
    {
        ArgumentNullException.ThrowIfNull(show);
        var f = show.Forecast;
        var text = new StringBuilder();
        text.AppendLine(Inv, $"forecast {f.ForecastId}: {f.Name}");
        text.AppendLine(Inv, $"  deployment {f.Deployment}, catalog {f.CatalogVersion}, horizon {f.HorizonFrom:yyyy-MM-dd HH:mm} .. {f.HorizonTo:yyyy-MM-dd HH:mm} UTC, tolerance ±{f.Tolerance:P0}, created {f.CreatedAt:yyyy-MM-dd HH:mm:ss}Z");
        var s = f.Spec;
        text.AppendLine(Inv, $"  plan: {s.RequestsPerSecond:0.###} requests/s, success rate {s.SuccessRate:P1}, {(s.Fleet is { } fl ? $"fleet {fl.Gpus} GPUs" : $"utilization {s.Utilization:P0}")}, {s.Classes.Count} class(es)");
        foreach (var c in s.Classes)
        {
            var h = c.HitRates ?? new ForecastHitRates();
            text.AppendLine(Inv, $"    {c.Share,6:P1}  in {c.InputTokens,8:0} tok  out {c.OutputTokens,7:0} tok (reasoning {c.ReasoningTokens:0})  hits hbm {h.Hbm:P0} dram {h.Dram:P0} ssd {h.LocalSsd:P0} remote {h.Remote:P0}");
        }

        if (show.Evaluation is { } e) AppendPrediction(text, e);
        else text.AppendLine("  (predicted figures unavailable: the forecast's catalog version could not be loaded)");

        text.AppendLine();
        var rows = show.Validation;
        if (rows.Count == 0)
        {
            text.AppendLine("validation: no window validated yet (windows are validated as they close inside the horizon; the validation job must be running)");
            return text.ToString();
        }

        var last = rows[^1];
        var drifts = rows.Where(r => r.EfficiencyDriftRatio is not null).ToList();
        var within = rows.Count(r => r.WithinTolerance);
        text.AppendLine(Inv, $"validation: {rows.Count} window(s) validated, {rows[0].WindowStart:yyyy-MM-dd HH:mm} .. {last.WindowStart:yyyy-MM-dd HH:mm} UTC; {within} within tolerance");
        text.AppendLine(Inv, $"  rolling plan MAPE {Pct(last.RollingPlanMape)}, plan bias {SignedPct(last.RollingPlanBias)}, model MAPE {Pct(last.RollingModelMape)}");
        var inside = last.RollingPlanMape is { } mape ? mape <= f.Tolerance : last.WithinTolerance;
        text.AppendLine(Inv, $"  within tolerance (±{f.Tolerance:P0}): {(inside ? "yes" : "NO")}");
        if (drifts.Count == 0) text.AppendLine("  (no window had successful outputs to compare)");
        text.AppendLine();
        text.AppendLine(Inv, $"last {Math.Min(lastWindows, rows.Count)} window(s):");
        var header = new[] { "window (UTC)", "len", "requests", "ok", "realized $/ok", "plan $/ok", "drift", "model err", "ok?", "top factor" };
        var table = rows.Skip(Math.Max(0, rows.Count - lastWindows)).Select(r => new[]
        {
            r.WindowStart.ToString("MM-dd HH:mm", Inv),
            r.WindowSeconds >= 3600 && r.WindowSeconds % 3600 == 0 ? $"{r.WindowSeconds / 3600}h" : $"{r.WindowSeconds / 60}m",
            r.Requests.ToString("N0", Inv),
            r.SuccessfulOutputs.ToString("N0", Inv),
            Usd(r.RealizedWorkSpendPerSuccessUsd),
            Usd(r.PlanSpendPerSuccessUsd),
            SignedPct(r.EfficiencyDriftRatio),
            SignedPct(r.ModelError),
            r.WithinTolerance ? "yes" : "no",
            r.TopFactor.Length == 0 ? "-" : r.TopFactor,
        }).ToList();
        AppendTable(text, header, table, leftColumns: [0, 9]);
        if (last.Explanation.Length > 0) text.AppendLine(Inv, $"latest: {last.Explanation}");
        return text.ToString();
    }

    /// <summary>What <c>forecast list</c> prints.</summary>
    public static string List(IReadOnlyList<StoredForecast> forecasts)
    {
        ArgumentNullException.ThrowIfNull(forecasts);
        if (forecasts.Count == 0) return "no forecast stored: create one with `efficiency-monitor forecast create deploy/forecasts/llama-chat-2027q1.yaml`\n";
        var text = new StringBuilder();
        var header = new[] { "id", "name", "deployment", "catalog", "horizon (UTC)", "tolerance", "created (UTC)" };
        var rows = forecasts.Select(f => new[]
        {
            f.ForecastId, f.Name, f.Deployment, f.CatalogVersion,
            $"{f.HorizonFrom:yyyy-MM-dd} .. {f.HorizonTo:yyyy-MM-dd}", f.Tolerance.ToString("P0", Inv), f.CreatedAt.ToString("yyyy-MM-dd HH:mm", Inv),
        }).ToList();
        AppendTable(text, header, rows, leftColumns: [0, 1, 2, 3, 4, 6]);
        return text.ToString();
    }

    /// <summary>Baseline and variant side by side with the change in %.</summary>
    public static string WhatIf(ForecastComparison comparison)
    {
        ArgumentNullException.ThrowIfNull(comparison);
        var (b, v) = (comparison.Baseline, comparison.Variant);
        var text = new StringBuilder();
        text.AppendLine(Inv, $"what-if for forecast {b.Name} ({b.Deployment}, catalog {b.CatalogVersion}): {comparison.Change}");
        var rows = new List<string[]>();
        void Row(string label, double? baseline, double? variant, Func<double?, string> format) =>
            rows.Add([label, format(baseline), format(variant), Delta(baseline, variant)]);
        Row("spend per successful output $", b.SpendPerSuccessUsd, v.SpendPerSuccessUsd, Usd);
        Row("spend per hour $", b.SpendUsdPerHour, v.SpendUsdPerHour, x => x is { } d ? d.ToString("N2", Inv) : "n/a");
        Row("busy GPU-s/request: prefill", b.WorkPerRequest.Prefill, v.WorkPerRequest.Prefill, GpuSeconds);
        Row("  KV load hbm", b.WorkPerRequest.LoadHbm, v.WorkPerRequest.LoadHbm, GpuSeconds);
        Row("  KV load dram", b.WorkPerRequest.LoadDram, v.WorkPerRequest.LoadDram, GpuSeconds);
        Row("  KV load local_ssd", b.WorkPerRequest.LoadLocalSsd, v.WorkPerRequest.LoadLocalSsd, GpuSeconds);
        Row("  KV load remote", b.WorkPerRequest.LoadRemote, v.WorkPerRequest.LoadRemote, GpuSeconds);
        Row("  decode", b.WorkPerRequest.Decode, v.WorkPerRequest.Decode, GpuSeconds);
        Row("  total", b.WorkPerRequest.Busy, v.WorkPerRequest.Busy, GpuSeconds);
        Row("GPUs busy", b.BusyGpus, v.BusyGpus, x => x is { } d ? d.ToString("0.0", Inv) : "n/a");
        Row("GPUs needed", b.GpusNeeded, v.GpusNeeded, x => x is { } d ? d.ToString("0", Inv) : "n/a");
        Row("utilization", b.Plan.Utilization, v.Plan.Utilization, x => x is { } d ? d.ToString("P1", Inv) : "n/a");
        Row("KV bytes/token", b.KvBytesPerToken, v.KvBytesPerToken, x => x is { } d ? d.ToString("N0", Inv) : "n/a");
        Row("output tokens/request", b.Plan.OutputTokens, v.Plan.OutputTokens, x => x is { } d ? d.ToString("N0", Inv) : "n/a");
        foreach (var (bt, vt) in b.BreakEven.Zip(v.BreakEven))
            Row($"break-even GB/s {bt.Tier} (tier {Gbps(bt.TierGbPerS)})", bt.BreakEvenGbPerS, vt.BreakEvenGbPerS, x => Gbps(x ?? double.NaN));
        AppendTable(text, ["", "baseline", "variant", "delta"], rows, leftColumns: [0]);
        foreach (var note in b.Notes) text.AppendLine(Inv, $"note (baseline): {note}");
        foreach (var note in v.Notes) text.AppendLine(Inv, $"note (variant): {note}");
        return text.ToString();
    }

    /// <summary>Model figures (<c>forecast what-if --model</c>).</summary>
    public static string Model(ModelFigureSet figures)
    {
        ArgumentNullException.ThrowIfNull(figures);
        var text = new StringBuilder();
        text.AppendLine(Inv, $"model {figures.Model} (KV dtype {figures.KvDtype})");
        text.AppendLine(Inv, $"  KV bytes per token        {figures.KvBytesPerToken:N0}");
        text.AppendLine(Inv, $"  dense FLOPs per token     {figures.DenseFlopsPerToken:0.###e+0} (2·P_act)");
        text.AppendLine(Inv, $"  weights                   {figures.WeightBytes / 1e9:N1} GB");
        text.AppendLine(Inv, $"  critical decode batch on  {figures.GpuType ?? "(no GPU: pass --gpu-type)"}{(figures.EfficiencySource is { } s ? $" — {s}" : "")}");
        var rows = figures.Contexts.Select(c => new[]
        {
            c.Tokens.ToString("N0", Inv),
            c.AttentionFlopsPerToken.ToString("0.###e+0", Inv),
            (c.AttentionFlopsPerToken / figures.DenseFlopsPerToken).ToString("P0", Inv),
            (c.KvBytesPerSequence / 1e9).ToString("0.###", Inv),
            c.CriticalBatch is { } batch ? double.IsPositiveInfinity(batch) ? "never (memory-bound)" : batch.ToString("0.#", Inv) : "n/a",
        }).ToList();
        AppendTable(text, ["context tok", "attn FLOPs/tok", "attn/dense", "KV GB/seq", "critical batch"], rows, leftColumns: []);
        return text.ToString();
    }

    private static void AppendPrediction(StringBuilder text, ForecastEvaluation e)
    {
        var p = e.Plan;
        text.AppendLine(Inv, $"  evaluated with catalog {e.CatalogVersion} at {e.At:yyyy-MM-dd HH:mm}Z: {e.Model} on {e.GpuType}{(e.Disaggregated ? " (disaggregated)" : "")}");
        text.AppendLine(Inv, $"  predicted spend per successful output: {Usd(e.SpendPerSuccessUsd)} USD ({e.SpendUsdPerHour:N2} USD/hour)");
        text.AppendLine(Inv, $"  GPUs needed: {e.GpusNeeded} ({e.BusyGpus:0.0} busy on average, fleet {e.FleetGpus:0.0} GPUs at utilization {p.Utilization:P1}; instances of {e.GpusPerInstance})");
        var w = e.WorkPerRequest;
        text.AppendLine(Inv, $"  busy GPU-s per request: {w.Busy:0.####} = prefill {w.Prefill:0.####} + KV loads {w.LoadHbm + w.LoadDram + w.LoadLocalSsd + w.LoadRemote:0.####} + decode {w.Decode:0.####}");
        text.AppendLine(Inv, $"  KV {e.KvBytesPerToken:N0} B/token; {e.FlopsPerToken:0.###e+0} FLOPs/token at the mean context of {e.MeanContextTokens:N0} tokens; decode {(e.DecodeMemoryBound ? "memory" : "compute")}-bound at batch {e.DecodeBatch} (critical batch {(double.IsPositiveInfinity(e.CriticalBatch) ? "∞" : e.CriticalBatch.ToString("0", Inv))})");
        text.AppendLine("  break-even bandwidth (loading beats recomputing above it):");
        var rows = e.BreakEven.Select(t => new[]
        {
            t.Tier, t.TokensPerRequest.ToString("N0", Inv), Gbps(t.BreakEvenGbPerS), Gbps(t.TierGbPerS),
            t.LoadBeatsRecompute switch { true => "load", false => "recompute", null => "-" },
        }).ToList();
        var table = new StringBuilder();
        AppendTable(table, ["tier", "tokens/request", "break-even GB/s", "tier GB/s", "better"], rows, leftColumns: [0, 4]);
        foreach (var line in table.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries)) text.AppendLine(Inv, $"    {line}");
        foreach (var note in e.Notes) text.AppendLine(Inv, $"  note: {note}");
    }

    private static void AppendTable(StringBuilder text, string[] header, IReadOnlyList<string[]> rows, int[] leftColumns)
    {
        var widths = header.Select((h, i) => Math.Max(h.Length, rows.Count == 0 ? 0 : rows.Max(r => r[i].Length))).ToArray();
        void Line(string[] cells) => text.AppendLine(string.Join("  ", cells.Select((c, i) => leftColumns.Contains(i) ? c.PadRight(widths[i]) : c.PadLeft(widths[i]))).TrimEnd());
        Line(header);
        Line([.. widths.Select(w => new string('-', w))]);
        foreach (var row in rows) Line(row);
    }

    private static string Usd(double? usd) => usd is { } u && double.IsFinite(u) ? u.ToString(u < 0.01 ? "0.000000" : "0.0000", Inv) : "n/a";

    private static string GpuSeconds(double? s) => s is { } v ? v.ToString("0.000000", Inv) : "n/a";

    private static string Gbps(double gbps) => double.IsNaN(gbps) ? "-" : double.IsPositiveInfinity(gbps) ? "∞" : gbps.ToString("0.##", Inv);

    private static string Pct(double? x) => x is { } v && double.IsFinite(v) ? v.ToString("P1", Inv) : "n/a";

    private static string SignedPct(double? x) => x is { } v && double.IsFinite(v) ? (v >= 0 ? "+" : "") + v.ToString("P1", Inv) : "n/a";

    private static string Delta(double? baseline, double? variant)
    {
        if (baseline is not { } b || variant is not { } v || !double.IsFinite(b) || !double.IsFinite(v)) return "";
        if (b == 0) return v == 0 ? "0.0%" : "new";
        return SignedPct(v / b - 1);
    }
}
