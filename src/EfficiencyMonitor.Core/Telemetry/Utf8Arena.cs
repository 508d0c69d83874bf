namespace EfficiencyMonitor.Core.Telemetry;

/// <summary>A slice of a <see cref="Utf8Arena"/>. <see cref="Length"/> 0 means absent: the contract forbids empty ids.</summary>
/// <param name="Offset">Start of the bytes in the arena.</param>
/// <param name="Length">Number of bytes.</param>
public readonly record struct Utf8Slice(int Offset, int Length)
{
    /// <summary>Whether the slice is empty (the optional value was absent).</summary>
    public bool IsEmpty => Length == 0;
}

/// <summary>
/// Growable byte buffer owned by one batch. High-cardinality ids (request_id, session_id, retry_of) are copied here
/// instead of becoming strings, so decoding does not allocate per record; the writer reads them back with
/// <see cref="GetSpan"/> and the batch calls <see cref="Reset"/> once its rows are stored. Not thread-safe.
/// </summary>
public sealed class Utf8Arena
{
    private byte[] _buffer;

    /// <summary>Creates an arena.</summary>
    /// <param name="initialCapacity">Initial size in bytes; it doubles as needed.</param>
    public Utf8Arena(int initialCapacity = 64 * 1024)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(initialCapacity);
        _buffer = new byte[initialCapacity];
    }

    /// <summary>Bytes in use.</summary>
    public int Length { get; private set; }

    /// <summary>Bytes allocated.</summary>
    public int Capacity => _buffer.Length;

    /// <summary>Copies <paramref name="utf8"/> into the arena.</summary>
    /// <param name="utf8">The bytes.</param>
    /// <returns>Where they were stored.</returns>
    public Utf8Slice Append(ReadOnlySpan<byte> utf8)
    {
        if (utf8.Length > _buffer.Length - Length)
        {
            Grow(utf8.Length);
        }

        utf8.CopyTo(_buffer.AsSpan(Length));
        var slice = new Utf8Slice(Length, utf8.Length);
        Length += utf8.Length;
        return slice;
    }

    /// <summary>The bytes of <paramref name="slice"/>; valid until <see cref="Reset"/> or <see cref="Truncate"/> drops them.</summary>
    /// <param name="slice">A slice returned by <see cref="Append"/>.</param>
    /// <returns>The bytes.</returns>
    public ReadOnlySpan<byte> GetSpan(Utf8Slice slice) => _buffer.AsSpan(slice.Offset, slice.Length);

    /// <summary>The bytes of <paramref name="slice"/> as memory, for asynchronous writers.</summary>
    /// <param name="slice">A slice returned by <see cref="Append"/>.</param>
    /// <returns>The bytes.</returns>
    public ReadOnlyMemory<byte> GetMemory(Utf8Slice slice) => _buffer.AsMemory(slice.Offset, slice.Length);

    /// <summary>Decodes <paramref name="slice"/> to a string (allocates; for writers that need strings and for diagnostics).</summary>
    /// <param name="slice">A slice returned by <see cref="Append"/>.</param>
    /// <returns>The string.</returns>
    public string GetString(Utf8Slice slice) => System.Text.Encoding.UTF8.GetString(GetSpan(slice));

    /// <summary>Forgets every slice, keeping the buffer for the next batch.</summary>
    public void Reset() => Length = 0;

    /// <summary>Forgets the slices appended after <paramref name="length"/> (used to drop a rejected record's ids).</summary>
    /// <param name="length">A previous <see cref="Length"/>.</param>
    public void Truncate(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, Length);
        Length = length;
    }

    private void Grow(int needed)
    {
        var size = Math.Max(_buffer.Length * 2L, (long)Length + needed);
        if (size > Array.MaxLength)
        {
            throw new InvalidOperationException("Utf8Arena cannot grow past Array.MaxLength; reset it between batches.");
        }

        Array.Resize(ref _buffer, (int)size);
    }
}
