using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using EfficiencyMonitor.Core.Model;
using EfficiencyMonitor.Jobs.Validation;

namespace EfficiencyMonitor.Jobs;

/// <summary>
/// Owns the jobs' <see cref="Meter"/>: job health (run duration, windows done, lag, last success) and the efficiency of
/// the latest validated window per deployment (realized/model/plan spend per successful output, drift and its factors,
/// hit rates, utilization, tokens per joule, break-even bandwidth) and per forecast (MAPE, bias, tolerance). Labels are
/// bounded: deployments and forecasts come from the catalog and the forecasts table, factors and tiers are fixed sets.
/// </summary>
public sealed class JobsMetrics : IDisposable
{
    /// <summary>Meter name to enable in OpenTelemetry.</summary>
    public const string MeterName = "EfficiencyMonitor.Jobs";

    private static readonly string[] TierNames = ["hbm", "dram", "local_ssd", "remote"];

    private readonly Meter _meter;
    private readonly Histogram<double> _duration;
    private readonly Counter<long> _windows;
    private readonly ConcurrentDictionary<(int Window, string Deployment), double> _lag = new();
    private readonly ConcurrentDictionary<string, double> _lastSuccess = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (ValidationRow Row, long EndS)> _baseline = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Forecast, string Deployment), ValidationRow> _forecasts = new();

    /// <summary>Creates the instruments on a meter from <paramref name="meterFactory"/>.</summary>
    public JobsMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        _meter = meterFactory.Create(MeterName);
        _duration = _meter.CreateHistogram<double>("em.jobs.run.duration", "s", "Wall time of one realized-efficiency run.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300] });
        _windows = _meter.CreateCounter<long>("em.jobs.windows", "{window}", "Windows handled, by window length and outcome (computed, recomputed, failed).");
        _meter.CreateObservableGauge("em.jobs.lag", ObserveLag, "s", "Closed windows with data not yet computed, in seconds of event time (0 = caught up), per window length and deployment.");
        _meter.CreateObservableGauge("em.jobs.last_success.timestamp", () => _lastSuccess.Select(kv => new Measurement<double>(kv.Value, new KeyValuePair<string, object?>("job_name", kv.Key))),
            "s", "Unix time of the job's last successful run (realized_efficiency, forecast_validation).");

        // Efficiency of the latest validated window (baseline plan) per deployment. Units are annotations ({USD},
        // {ratio}) so the Prometheus names stay as documented: the currency is in the name.
        _meter.CreateObservableGauge("em.efficiency.spend_per_success.usd", ObserveSpend, "{USD}",
            "Spend per successful output of the latest validated window: basis realized_bill (as billed), realized_work (busy time at the planned utilization), model (model on the observed mix), plan.");
        _meter.CreateObservableGauge("em.efficiency.drift_ratio", () => Baseline(r => r.DriftRatio), "{ratio}",
            "realized_work / plan − 1 of spend per successful output (the headline efficiency drift).");
        _meter.CreateObservableGauge("em.efficiency.drift_contribution", ObserveFactors, "{ratio}",
            "Log-ratio each factor contributes to the drift; they sum to ln(1 + drift).");
        _meter.CreateObservableGauge("em.efficiency.model_mape", () => Baseline(r => r.RollingModelMape), "{ratio}",
            "Rolling mean |realized_work / model − 1| (model accuracy on the observed mix).");
        _meter.CreateObservableGauge("em.efficiency.output_tokens_per_joule", () => Baseline(r => r.OutputTokensPerJoule), "{tokens_per_joule}",
            "Output tokens per facility joule in the latest validated window.");
        _meter.CreateObservableGauge("em.efficiency.cache_hit_ratio", ObserveHits, "{ratio}", "Share of input tokens served from each KV tier.");
        _meter.CreateObservableGauge("em.efficiency.utilization", ObserveUtilization, "{ratio}", "Busy / provisioned GPU time: realized and planned.");
        _meter.CreateObservableGauge("em.efficiency.break_even_bandwidth.gigabytes_per_second", ObserveBreakEven, "{GB/s}",
            "Tier bandwidth above which loading a cached prefix beats recomputing it (mean prefix of the window).");
        _meter.CreateObservableGauge("em.efficiency.window_end.timestamp", () => _baseline.Select(kv => new Measurement<double>(kv.Value.EndS, Dep(kv.Key))), "s",
            "Unix time of the end of the latest validated window.");
        _meter.CreateObservableGauge("em.forecast.mape", () => Forecast(r => r.RollingPlanMape), "{ratio}", "Rolling mean |realized_work / forecast − 1|.");
        _meter.CreateObservableGauge("em.forecast.bias", () => Forecast(r => r.RollingPlanBias), "{ratio}", "Rolling mean realized_work / forecast − 1 (signed).");
        _meter.CreateObservableGauge("em.forecast.within_tolerance", () => Forecast(r => r.WithinTolerance ? 1 : 0), "{boolean}", "1 when the latest window is within the forecast's tolerance.");
    }

    /// <summary>Records a run's duration.</summary>
    public void RunDuration(double seconds) => _duration.Record(seconds);

    /// <summary>Counts a window.</summary>
    public void Window(int windowSeconds, string outcome) => _windows.Add(1, new("window_s", windowSeconds), new("outcome", outcome));

    /// <summary>Sets how far behind a series is.</summary>
    public void Lag(int windowSeconds, string deployment, double seconds) => _lag[(windowSeconds, deployment)] = seconds;

    /// <summary>Marks a successful run of <paramref name="job"/>.</summary>
    public void JobSucceeded(string job, DateTimeOffset at) => _lastSuccess[job] = at.ToUnixTimeMilliseconds() / 1000.0;

    /// <summary>Publishes the latest validated window of a deployment (baseline) or forecast.</summary>
    public void Validated(ValidationRow row, long windowEndS)
    {
        ArgumentNullException.ThrowIfNull(row);
        if (row.ForecastId.Length == 0) _baseline[row.Deployment] = (row, windowEndS);
        else _forecasts[(row.ForecastId, row.Deployment)] = row;
    }

    /// <inheritdoc />
    public void Dispose() => _meter.Dispose();

    private static KeyValuePair<string, object?> Dep(string deployment) => new("deployment", deployment);

    private IEnumerable<Measurement<double>> ObserveLag() =>
        _lag.Select(kv => new Measurement<double>(kv.Value, new("window_s", kv.Key.Window), new("deployment", kv.Key.Deployment)));

    private IEnumerable<Measurement<double>> Baseline(Func<ValidationRow, double?> pick)
    {
        foreach (var (deployment, (row, _)) in _baseline)
        {
            if (pick(row) is { } v && double.IsFinite(v)) yield return new Measurement<double>(v, Dep(deployment));
        }
    }

    private IEnumerable<Measurement<double>> Forecast(Func<ValidationRow, double?> pick)
    {
        foreach (var ((forecast, deployment), row) in _forecasts)
        {
            if (pick(row) is { } v && double.IsFinite(v)) yield return new Measurement<double>(v, new("forecast", forecast), Dep(deployment));
        }
    }

    private IEnumerable<Measurement<double>> ObserveSpend()
    {
        foreach (var (deployment, (row, _)) in _baseline)
        {
            foreach (var (basis, value) in new[] { ("realized_bill", row.RealizedBill), ("realized_work", row.RealizedWork), ("model", row.Model), ("plan", row.Plan) })
            {
                if (value is { } v && double.IsFinite(v)) yield return new Measurement<double>(v, Dep(deployment), new("basis", basis));
            }
        }
    }

    private IEnumerable<Measurement<double>> ObserveFactors()
    {
        foreach (var (deployment, (row, _)) in _baseline)
        {
            foreach (var factor in DriftFactor.All)
            {
                if (row.Factors.TryGetValue(factor, out var v)) yield return new Measurement<double>(v, Dep(deployment), new("factor", factor));
            }
        }
    }

    private IEnumerable<Measurement<double>> ObserveHits()
    {
        foreach (var (deployment, (row, _)) in _baseline)
        {
            for (var t = 0; t < TierNames.Length; t++) yield return new Measurement<double>(row.HitRates[t], Dep(deployment), new("tier", TierNames[t]));
        }
    }

    private IEnumerable<Measurement<double>> ObserveUtilization()
    {
        foreach (var (deployment, (row, _)) in _baseline)
        {
            yield return new Measurement<double>(row.UtilizationRealized, Dep(deployment), new("basis", "realized"));
            yield return new Measurement<double>(row.UtilizationPlanned, Dep(deployment), new("basis", "planned"));
        }
    }

    private IEnumerable<Measurement<double>> ObserveBreakEven()
    {
        foreach (var (deployment, (row, _)) in _baseline)
        {
            for (var t = 0; t < 3; t++)
            {
                if (double.IsFinite(row.BreakEvenGbps[t])) yield return new Measurement<double>(row.BreakEvenGbps[t], Dep(deployment), new("tier", TierNames[t + 1]));
            }
        }
    }
}
