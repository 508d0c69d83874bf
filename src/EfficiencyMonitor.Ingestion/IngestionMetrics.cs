using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace EfficiencyMonitor.Ingestion;

/// <summary>
/// Owns the ingestion <see cref="Meter"/> (OpenTelemetry names with units). Tag arrays are cached per topic and reason,
/// so the hot path records without allocating.
/// </summary>
public sealed class IngestionMetrics : IDisposable
{
    /// <summary>Meter name to enable in OpenTelemetry.</summary>
    public const string MeterName = "EfficiencyMonitor.Ingestion";

    private readonly Meter _meter;
    private readonly Counter<long> _records;
    private readonly Counter<long> _rejected;
    private readonly Counter<long> _insertFailures;
    private readonly Histogram<long> _batchRows;
    private readonly Histogram<double> _insertDuration;
    private readonly Histogram<double> _freshness;
    private readonly ConcurrentDictionary<(string Topic, string Outcome), KeyValuePair<string, object?>[]> _outcomeTags = new();
    private readonly ConcurrentDictionary<(string Topic, string Reason), KeyValuePair<string, object?>[]> _reasonTags = new();
    private readonly ConcurrentDictionary<string, KeyValuePair<string, object?>[]> _topicTags = new();
    private readonly ConcurrentDictionary<(string Topic, int Partition), long> _lag = new();

    /// <summary>Creates the instruments on a meter from <paramref name="meterFactory"/>.</summary>
    public IngestionMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        _meter = meterFactory.Create(MeterName);
        _records = _meter.CreateCounter<long>("em.ingest.records", "{record}", "Records consumed, by topic and outcome (stored, rejected, replay_skipped).");
        _rejected = _meter.CreateCounter<long>("em.ingest.rejected", "{record}", "Records sent to the dead-letter topic, by topic and reason code.");
        _insertFailures = _meter.CreateCounter<long>("em.ingest.insert.failures", "{attempt}", "Failed insert attempts (each is retried with backoff; offsets do not move).");
        _batchRows = _meter.CreateHistogram<long>("em.ingest.batch.rows", "{row}", "Rows per inserted batch.",
            advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = [1, 10, 100, 1_000, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 1_000_000] });
        _insertDuration = _meter.CreateHistogram<double>("em.ingest.insert.duration", "s", "Wall time of a successful batch insert.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] });
        _freshness = _meter.CreateHistogram<double>("em.ingest.freshness", "s", "Event time (request finish / sample time) to queryable in ClickHouse.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600] });
        _meter.CreateObservableGauge("em.ingest.lag", ObserveLag, "{record}", "Records behind the partition's high watermark.");
    }

    /// <summary>Counts <paramref name="count"/> records of <paramref name="topic"/> with <paramref name="outcome"/>.</summary>
    public void Records(string topic, string outcome, long count)
    {
        if (count == 0) return;
        _records.Add(count, _outcomeTags.GetOrAdd((topic, outcome), static k => [new("topic", k.Topic), new("outcome", k.Outcome)]));
    }

    /// <summary>Counts one rejected record.</summary>
    public void Rejected(string topic, string reason)
    {
        _records.Add(1, _outcomeTags.GetOrAdd((topic, "rejected"), static k => [new("topic", k.Topic), new("outcome", k.Outcome)]));
        _rejected.Add(1, _reasonTags.GetOrAdd((topic, reason), static k => [new("topic", k.Topic), new("reason", k.Reason)]));
    }

    /// <summary>Records a successful insert.</summary>
    public void Inserted(string topic, int rows, TimeSpan duration)
    {
        var tags = TopicTags(topic);
        _batchRows.Record(rows, tags);
        _insertDuration.Record(duration.TotalSeconds, tags);
    }

    /// <summary>Records one row's event-to-queryable delay.</summary>
    public void Freshness(string topic, double seconds) => _freshness.Record(seconds, TopicTags(topic));

    /// <summary>Counts a failed insert attempt.</summary>
    public void InsertFailed(string topic) => _insertFailures.Add(1, TopicTags(topic));

    /// <summary>Sets the lag of one partition.</summary>
    public void Lag(string topic, int partition, long lag) => _lag[(topic, partition)] = lag;

    /// <summary>Forgets the lag of a partition this instance no longer owns.</summary>
    public void ForgetLag(string topic, int partition) => _lag.TryRemove((topic, partition), out _);

    private KeyValuePair<string, object?>[] TopicTags(string topic) => _topicTags.GetOrAdd(topic, static t => [new("topic", t)]);

    private IEnumerable<Measurement<long>> ObserveLag()
    {
        foreach (var ((topic, partition), lag) in _lag)
        {
            yield return new Measurement<long>(lag, new KeyValuePair<string, object?>("topic", topic), new KeyValuePair<string, object?>("partition", partition));
        }
    }

    /// <inheritdoc />
    public void Dispose() => _meter.Dispose();
}
