using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace EfficiencyMonitor.Jobs;

/// <summary>Owns the jobs' <see cref="Meter"/>: run duration, windows done, and how far behind each window series is.</summary>
public sealed class JobsMetrics : IDisposable
{
    /// <summary>Meter name to enable in OpenTelemetry.</summary>
    public const string MeterName = "EfficiencyMonitor.Jobs";

    private readonly Meter _meter;
    private readonly Histogram<double> _duration;
    private readonly Counter<long> _windows;
    private readonly ConcurrentDictionary<(int Window, string Deployment), double> _lag = new();

    /// <summary>Creates the instruments on a meter from <paramref name="meterFactory"/>.</summary>
    public JobsMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        _meter = meterFactory.Create(MeterName);
        _duration = _meter.CreateHistogram<double>("em.jobs.run.duration", "s", "Wall time of one realized-efficiency run.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300] });
        _windows = _meter.CreateCounter<long>("em.jobs.windows", "{window}", "Windows handled, by window length and outcome (computed, recomputed, failed).");
        _meter.CreateObservableGauge("em.jobs.lag", ObserveLag, "s", "Closed windows with data not yet computed, in seconds of event time (0 = caught up), per window length and deployment.");
    }

    /// <summary>Records a run's duration.</summary>
    public void RunDuration(double seconds) => _duration.Record(seconds);

    /// <summary>Counts a window.</summary>
    public void Window(int windowSeconds, string outcome) => _windows.Add(1, new("window_s", windowSeconds), new("outcome", outcome));

    /// <summary>Sets how far behind a series is.</summary>
    public void Lag(int windowSeconds, string deployment, double seconds) => _lag[(windowSeconds, deployment)] = seconds;

    /// <inheritdoc />
    public void Dispose() => _meter.Dispose();

    private IEnumerable<Measurement<double>> ObserveLag() =>
        _lag.Select(kv => new Measurement<double>(kv.Value, new("window_s", kv.Key.Window), new("deployment", kv.Key.Deployment)));
}
