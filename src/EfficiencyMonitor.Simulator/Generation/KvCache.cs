namespace EfficiencyMonitor.Simulator.Generation;

/// <summary>A cached prefix segment (a run of tokens whose KV is stored as one unit) in one tier's LRU list.</summary>
internal sealed class KvEntry
{
    public ulong Key;
    public long Bytes;
    public int Tier = -1;
    public KvEntry? Prev;
    public KvEntry? Next;
}

/// <summary>An intrusive doubly linked LRU list with a byte total (head = most recently used).</summary>
internal sealed class LruList
{
    private KvEntry? _head;
    private KvEntry? _tail;

    public long Bytes { get; private set; }

    public KvEntry? Tail => _tail;

    public void AddFirst(KvEntry e)
    {
        e.Prev = null;
        e.Next = _head;
        if (_head is not null)
        {
            _head.Prev = e;
        }

        _head = e;
        _tail ??= e;
        Bytes += e.Bytes;
    }

    public void Remove(KvEntry e)
    {
        if (e.Prev is not null)
        {
            e.Prev.Next = e.Next;
        }
        else
        {
            _head = e.Next;
        }

        if (e.Next is not null)
        {
            e.Next.Prev = e.Prev;
        }
        else
        {
            _tail = e.Prev;
        }

        e.Prev = null;
        e.Next = null;
        Bytes -= e.Bytes;
    }
}

/// <summary>The deployment-wide shared tier (<c>remote</c>): one LRU over every instance's spilled segments.</summary>
internal sealed class RemoteKvStore(long capacityBytes)
{
    private readonly Dictionary<ulong, KvEntry> _entries = [];
    private readonly LruList _lru = new();

    public long Capacity { get; set; } = capacityBytes;

    public bool Contains(ulong key) => Capacity > 0 && _entries.ContainsKey(key);

    public void Put(ulong key, long bytes)
    {
        if (Capacity <= 0 || bytes > Capacity)
        {
            return;
        }

        if (_entries.TryGetValue(key, out var e))
        {
            _lru.Remove(e);
        }
        else
        {
            e = new KvEntry { Key = key, Bytes = bytes, Tier = 3 };
            _entries.Add(key, e);
        }

        _lru.AddFirst(e);
        Trim();
    }

    public void Touch(ulong key)
    {
        if (_entries.TryGetValue(key, out var e))
        {
            _lru.Remove(e);
            _lru.AddFirst(e);
        }
    }

    public void Trim()
    {
        while (_lru.Bytes > Capacity && _lru.Tail is { } victim)
        {
            _lru.Remove(victim);
            _entries.Remove(victim.Key);
        }
    }
}

/// <summary>
/// One serving instance's KV hierarchy: <c>hbm → dram → local_ssd</c> as exclusive LRU tiers with byte capacities, spilling
/// into the deployment's shared <see cref="RemoteKvStore"/>. A used segment moves to HBM (most recently used); overflow
/// demotes each tier's least recently used segment one tier down, so hit rates per tier emerge from traffic and capacity.
/// </summary>
internal sealed class InstanceKvCache
{
    private readonly Dictionary<ulong, KvEntry> _entries = [];
    private readonly LruList[] _tiers = [new(), new(), new()];
    private readonly long[] _capacity = new long[3];
    private readonly RemoteKvStore _remote;

    public InstanceKvCache(long hbm, long dram, long ssd, RemoteKvStore remote)
    {
        _capacity[0] = hbm;
        _capacity[1] = dram;
        _capacity[2] = ssd;
        _remote = remote;
    }

    /// <summary>Bytes held in HBM (for GPU memory use).</summary>
    public long HbmBytes => _tiers[0].Bytes;

    /// <summary>Sets a local tier's capacity (an incident shrinks it); the next use trims it.</summary>
    public void SetCapacity(int tier, long bytes)
    {
        if (_capacity[tier] != bytes)
        {
            _capacity[tier] = bytes;
            Cascade(tier);
        }
    }

    /// <summary>The tier holding <paramref name="key"/> (0-2 local, 3 remote), or -1.</summary>
    public int Find(ulong key)
    {
        if (_entries.TryGetValue(key, out var e))
        {
            return e.Tier;
        }

        return _remote.Contains(key) ? 3 : -1;
    }

    /// <summary>Marks a segment used: it moves to (or is inserted at) the head of HBM and overflow cascades down.</summary>
    public void Use(ulong key, long bytes)
    {
        if (_entries.TryGetValue(key, out var e))
        {
            _tiers[e.Tier].Remove(e);
        }
        else
        {
            e = new KvEntry { Key = key, Bytes = bytes };
            _entries.Add(key, e);
            _remote.Touch(key);
        }

        Place(e, 0);
        Cascade(0);
    }

    private void Place(KvEntry e, int tier)
    {
        // Skip tiers that are absent or too small for the segment.
        while (tier < 3 && _capacity[tier] < e.Bytes)
        {
            tier++;
        }

        if (tier == 3)
        {
            _entries.Remove(e.Key);
            _remote.Put(e.Key, e.Bytes);
            return;
        }

        e.Tier = tier;
        _tiers[tier].AddFirst(e);
    }

    private void Cascade(int from)
    {
        for (var t = from; t < 3; t++)
        {
            var list = _tiers[t];
            while (list.Bytes > _capacity[t] && list.Tail is { } victim)
            {
                list.Remove(victim);
                Place(victim, t + 1);
            }
        }
    }
}
