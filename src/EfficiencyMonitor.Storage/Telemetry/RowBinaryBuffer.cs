using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace EfficiencyMonitor.Storage.Telemetry;

/// <summary>
/// A reusable, growable buffer that encodes ClickHouse's RowBinary format (little-endian fixed-width numbers, strings as
/// LEB128 length + bytes, Nullable as a 0/1 flag before the value). One per batch, reset between batches, so the
/// insert path allocates nothing per row.
/// </summary>
public sealed class RowBinaryBuffer : IDisposable
{
    private byte[] _buffer;

    /// <summary>Creates a buffer with <paramref name="initialCapacity"/> bytes rented from the shared pool.</summary>
    public RowBinaryBuffer(int initialCapacity = 1 << 20)
    {
        _buffer = ArrayPool<byte>.Shared.Rent(initialCapacity);
    }

    /// <summary>Bytes written since the last <see cref="Reset"/>.</summary>
    public int Length { get; private set; }

    /// <summary>The encoded bytes.</summary>
    public ReadOnlyMemory<byte> Written => _buffer.AsMemory(0, Length);

    /// <summary>Forgets the content, keeps the memory.</summary>
    public void Reset() => Length = 0;

    /// <summary>UInt8 / Bool / Enum8 / Nullable flag.</summary>
    public void WriteByte(byte value) => Reserve(1)[0] = value;

    /// <summary>UInt16.</summary>
    public void WriteUInt16(ushort value) => BinaryPrimitives.WriteUInt16LittleEndian(Reserve(2), value);

    /// <summary>UInt32.</summary>
    public void WriteUInt32(uint value) => BinaryPrimitives.WriteUInt32LittleEndian(Reserve(4), value);

    /// <summary>UInt64.</summary>
    public void WriteUInt64(ulong value) => BinaryPrimitives.WriteUInt64LittleEndian(Reserve(8), value);

    /// <summary>Int64 (and DateTime64(3) as Unix milliseconds).</summary>
    public void WriteInt64(long value) => BinaryPrimitives.WriteInt64LittleEndian(Reserve(8), value);

    /// <summary>Float32.</summary>
    public void WriteFloat32(float value) => BinaryPrimitives.WriteSingleLittleEndian(Reserve(4), value);

    /// <summary>Float64.</summary>
    public void WriteFloat64(double value) => BinaryPrimitives.WriteDoubleLittleEndian(Reserve(8), value);

    /// <summary>String from UTF-8 bytes.</summary>
    public void WriteString(ReadOnlySpan<byte> utf8)
    {
        WriteLength(utf8.Length);
        utf8.CopyTo(Reserve(utf8.Length));
    }

    /// <summary>String from a .NET string (encoded straight into the buffer); null is written as empty.</summary>
    public void WriteString(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            WriteByte(0);
            return;
        }

        var byteCount = Encoding.UTF8.GetByteCount(value);
        WriteLength(byteCount);
        Encoding.UTF8.GetBytes(value, Reserve(byteCount));
    }

    private void WriteLength(int length)
    {
        // Unsigned LEB128, as ClickHouse's writeVarUInt.
        var value = (uint)length;
        while (value >= 0x80)
        {
            WriteByte((byte)(value | 0x80));
            value >>= 7;
        }

        WriteByte((byte)value);
    }

    private Span<byte> Reserve(int count)
    {
        if (Length + count > _buffer.Length)
        {
            var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, Length + count));
            _buffer.AsSpan(0, Length).CopyTo(bigger);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = bigger;
        }

        var span = _buffer.AsSpan(Length, count);
        Length += count;
        return span;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = [];
        Length = 0;
    }
}
