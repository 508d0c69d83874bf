using System.Globalization;
using System.Text;
using EfficiencyMonitor.Core.Telemetry;

namespace EfficiencyMonitor.Storage.Telemetry;

/// <summary>
/// One insert's worth of decoded rows of one topic, with the Kafka position of every row and the offset range it covers
/// per partition (rows that were rejected or skipped as already stored count toward the range: their offsets may be
/// committed once the batch is durable). Reused between batches: arrays, arena and buffer keep their memory.
/// </summary>
/// <typeparam name="TRow">The decoded row type.</typeparam>
public sealed class TelemetryBatch<TRow> : IDisposable where TRow : struct
{
    private readonly Dictionary<int, OffsetRange> _ranges = [];
    private TRow[] _rows;
    private int[] _partitions;
    private long[] _offsets;
    private TRow _pending;

    /// <summary>Creates an empty batch with room for <paramref name="capacity"/> rows (it grows when needed).</summary>
    public TelemetryBatch(string topic, int capacity)
    {
        Topic = topic;
        _rows = new TRow[capacity];
        _partitions = new int[capacity];
        _offsets = new long[capacity];
    }

    /// <summary>Source topic.</summary>
    public string Topic { get; }

    /// <summary>UTF-8 ids of the rows (request ids and the like).</summary>
    public Utf8Arena Arena { get; } = new();

    /// <summary>RowBinary encoding of the rows, built once per batch and reused by insert retries.</summary>
    public RowBinaryBuffer Encoded { get; } = new();

    /// <summary>Rows held.</summary>
    public int Count { get; private set; }

    /// <summary>Bytes of the source records covered (rows, rejects and skips).</summary>
    public long SourceBytes { get; private set; }

    /// <summary>Records covered (rows, rejects and skips).</summary>
    public int Records { get; private set; }

    /// <summary>Timestamp (TimeProvider ticks) when the first record of the batch arrived; 0 when empty.</summary>
    public long OpenedAtTimestamp { get; private set; }

    /// <summary>The decode target for the next record; <see cref="Add"/> appends it.</summary>
    public ref TRow Pending => ref _pending;

    /// <summary>Offset ranges covered per partition.</summary>
    public IReadOnlyDictionary<int, OffsetRange> Ranges => _ranges;

    /// <summary>The row at <paramref name="index"/>.</summary>
    public ref readonly TRow this[int index] => ref _rows[index];

    /// <summary>Partition of the row at <paramref name="index"/>.</summary>
    public int PartitionAt(int index) => _partitions[index];

    /// <summary>Offset of the row at <paramref name="index"/>.</summary>
    public long OffsetAt(int index) => _offsets[index];

    /// <summary>Appends <see cref="Pending"/> as a row from <paramref name="partition"/>/<paramref name="offset"/>.</summary>
    public void Add(int partition, long offset, int sourceBytes, long timestamp)
    {
        if (Count == _rows.Length)
        {
            Array.Resize(ref _rows, _rows.Length * 2);
            Array.Resize(ref _partitions, _rows.Length);
            Array.Resize(ref _offsets, _rows.Length);
        }

        _rows[Count] = _pending;
        _partitions[Count] = partition;
        _offsets[Count] = offset;
        Count++;
        Cover(partition, offset, sourceBytes, timestamp);
    }

    /// <summary>Counts a record that produced no row (rejected, or already stored) toward the batch's offset ranges.</summary>
    public void Cover(int partition, long offset, int sourceBytes, long timestamp)
    {
        if (Records == 0) OpenedAtTimestamp = timestamp;
        Records++;
        SourceBytes += sourceBytes;
        _ranges[partition] = _ranges.TryGetValue(partition, out var range)
            ? range with { Last = offset }
            : new OffsetRange(offset, offset);
    }

    /// <summary>
    /// The <c>insert_deduplication_token</c> of this batch: topic plus the offset range per partition. Two inserts of
    /// the same batch (a retry after a lost response) carry the same token, so ClickHouse keeps one copy.
    /// </summary>
    public string DeduplicationToken()
    {
        var builder = new StringBuilder(Topic);
        foreach (var partition in _ranges.Keys.Order())
        {
            var range = _ranges[partition];
            builder.Append(CultureInfo.InvariantCulture, $"|{partition}:{range.First}-{range.Last}");
        }

        return builder.ToString();
    }

    /// <summary>Empties the batch for reuse.</summary>
    public void Reset()
    {
        Array.Clear(_rows, 0, Count);
        Count = 0;
        Records = 0;
        SourceBytes = 0;
        OpenedAtTimestamp = 0;
        _ranges.Clear();
        Arena.Reset();
        Encoded.Reset();
    }

    /// <inheritdoc />
    public void Dispose() => Encoded.Dispose();
}

/// <summary>First and last Kafka offset of one partition covered by a batch.</summary>
/// <param name="First">First offset.</param>
/// <param name="Last">Last offset (inclusive).</param>
public readonly record struct OffsetRange(long First, long Last);
