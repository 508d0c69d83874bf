using System.Text;

namespace EfficiencyMonitor.Core.Telemetry;

/// <summary>
/// Bounded cache from UTF-8 bytes to strings for low-cardinality values (tenant, deployment, model, pool, node...).
/// A hit allocates nothing. When <see cref="Capacity"/> distinct values are held the cache is cleared, so a stream of
/// hostile distinct values costs allocations but never unbounded memory. Hashing uses <see cref="HashCode"/>, seeded
/// per process, so inputs cannot be crafted to collide. Not thread-safe: one per decoder.
/// </summary>
public sealed class Utf8StringInterner
{
    private readonly int _mask;
    private readonly int[] _hashes;
    private readonly byte[]?[] _keys;
    private readonly string?[] _values;

    /// <summary>Creates an interner.</summary>
    /// <param name="capacity">Distinct values kept before the cache is cleared.</param>
    public Utf8StringInterner(int capacity = 16_384)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(capacity, 1 << 24);
        Capacity = capacity;

        // Open addressing at load factor <= 0.5 keeps probe chains short.
        var size = (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)capacity * 2);
        _mask = size - 1;
        _hashes = new int[size];
        _keys = new byte[size][];
        _values = new string[size];
    }

    /// <summary>Distinct values kept before the cache is cleared.</summary>
    public int Capacity { get; }

    /// <summary>Distinct values held now.</summary>
    public int Count { get; private set; }

    /// <summary>Returns the string for <paramref name="utf8"/>, creating and caching it on a miss.</summary>
    /// <param name="utf8">Valid UTF-8 bytes.</param>
    /// <returns>The cached string.</returns>
    public string GetOrAdd(ReadOnlySpan<byte> utf8)
    {
        var hash = Hash(utf8);
        var index = hash & _mask;
        while (_keys[index] is { } key)
        {
            if (_hashes[index] == hash && utf8.SequenceEqual(key))
            {
                return _values[index]!;
            }

            index = (index + 1) & _mask;
        }

        if (Count >= Capacity)
        {
            Clear();
            index = hash & _mask;
        }

        var value = Encoding.UTF8.GetString(utf8);
        _keys[index] = utf8.ToArray();
        _hashes[index] = hash;
        _values[index] = value;
        Count++;
        return value;
    }

    /// <summary>Drops every cached value.</summary>
    public void Clear()
    {
        Array.Clear(_keys);
        Array.Clear(_values);
        Count = 0;
    }

    private static int Hash(ReadOnlySpan<byte> utf8)
    {
        var hash = default(HashCode);
        hash.AddBytes(utf8);
        return hash.ToHashCode();
    }
}
