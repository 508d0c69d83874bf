using System.Buffers;
using System.IO.Compression;
using K4os.Compression.LZ4.Streams;
using ZstdSharp;

namespace EfficiencyMonitor.Sandbox.ClickHouse;

/// <summary>
/// A request body read to its end (decompressed) before anything reaches the engine: an INSERT whose client gives up
/// half-way is never applied in part, and the engine is never held while a slow client sends.
/// Kept as pooled 1 MiB chunks (no large-object-heap copies).
/// </summary>
internal sealed class SpooledBody : IDisposable
{
    private const int ChunkSize = 1 << 20;
    private readonly List<byte[]> _chunks = [];

    private SpooledBody() { }

    public static SpooledBody Empty { get; } = new();

    public long Length { get; private set; }

    /// <summary>Reads <paramref name="body"/>, decoding <paramref name="contentEncoding"/>, refusing more than <paramref name="limit"/> bytes.</summary>
    /// <exception cref="ChdbException">Unknown encoding, corrupt compressed data, or a body over the limit.</exception>
    public static async Task<SpooledBody> ReadAsync(Stream body, string? contentEncoding, long limit, CancellationToken cancellationToken)
    {
        var spooled = new SpooledBody();
        try
        {
            await using var decoded = Decode(body, contentEncoding);
            while (true)
            {
                var chunk = ArrayPool<byte>.Shared.Rent(ChunkSize);
                spooled._chunks.Add(chunk);
                var filled = 0;
                while (filled < ChunkSize)
                {
                    var read = await decoded.ReadAsync(chunk.AsMemory(filled, ChunkSize - filled), cancellationToken).ConfigureAwait(false);
                    if (read == 0)
                    {
                        break;
                    }

                    filled += read;
                }

                spooled.Length += filled;
                if (spooled.Length > limit)
                {
                    throw new ChdbException(
                        1002, "UNKNOWN_EXCEPTION",
                        $"Code: 1002. DB::Exception: Request body of more than {limit} bytes is over the sandbox limit: split the insert into smaller batches. (UNKNOWN_EXCEPTION)");
                }

                if (filled < ChunkSize)
                {
                    return spooled;
                }
            }
        }
        catch (Exception e) when (e is InvalidDataException or ZstdException)
        {
            spooled.Dispose();
            throw new ChdbException(
                354, "CANNOT_DECOMPRESS",
                $"Code: 354. DB::Exception: Cannot decompress the request body (Content-Encoding: {contentEncoding}): {e.Message}. (CANNOT_DECOMPRESS)");
        }
        catch
        {
            spooled.Dispose();
            throw;
        }
    }

    /// <summary>The bytes from <paramref name="offset"/> on, as consecutive slices.</summary>
    public IEnumerable<ReadOnlyMemory<byte>> Slices(long offset)
    {
        var remaining = Length;
        var position = 0L;
        foreach (var chunk in _chunks)
        {
            var size = (int)Math.Min(ChunkSize, remaining);
            if (size <= 0)
            {
                yield break;
            }

            if (position + size > offset)
            {
                var skip = (int)Math.Max(0, offset - position);
                yield return chunk.AsMemory(skip, size - skip);
            }

            position += size;
            remaining -= size;
        }
    }

    /// <summary>Copies bytes from <paramref name="offset"/> on into <paramref name="destination"/> until it is full.</summary>
    public int CopyTo(Span<byte> destination, long offset = 0)
    {
        var written = 0;
        foreach (var slice in Slices(offset))
        {
            if (written == destination.Length)
            {
                break;
            }

            var take = Math.Min(slice.Length, destination.Length - written);
            slice.Span[..take].CopyTo(destination[written..]);
            written += take;
        }

        return written;
    }

    public void Dispose()
    {
        foreach (var chunk in _chunks)
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }

        _chunks.Clear();
        Length = 0;
    }

    private static Stream Decode(Stream body, string? contentEncoding)
    {
        var encoding = contentEncoding?.Trim().ToUpperInvariant();
        return encoding switch
        {
            null or "" or "IDENTITY" or "NONE" => new NonClosingStream(body),
            "GZIP" or "X-GZIP" => new GZipStream(body, CompressionMode.Decompress, leaveOpen: true),
            // HTTP's "deflate" is the zlib format (RFC 9110 §8.4.1.2); accept a raw deflate stream too, as browsers do.
            "DEFLATE" => new ZLibOrDeflateStream(body),
            "BR" => new BrotliStream(body, CompressionMode.Decompress, leaveOpen: true),
            "ZSTD" => new DecompressionStream(body, leaveOpen: true),
            "LZ4" => LZ4Stream.Decode(body, leaveOpen: true),
            _ => throw new ChdbException(
                1, "UNSUPPORTED_METHOD",
                $"Code: 1. DB::Exception: Unknown HTTP Content-Encoding '{contentEncoding}': use zstd, gzip, deflate, br, lz4 or none. (UNSUPPORTED_METHOD)"),
        };
    }

    /// <summary>Leaves the request stream to Kestrel.</summary>
    private sealed class NonClosingStream(Stream inner) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => inner.ReadAsync(buffer, cancellationToken);
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>zlib-wrapped deflate (the HTTP meaning), falling back to raw deflate when the zlib header is absent.</summary>
    private sealed class ZLibOrDeflateStream(Stream inner) : Stream
    {
        private Stream? _decoder;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_decoder is null)
            {
                var header = new byte[2];
                var got = 0;
                while (got < 2)
                {
                    var read = await inner.ReadAsync(header.AsMemory(got), cancellationToken).ConfigureAwait(false);
                    if (read == 0)
                    {
                        break;
                    }

                    got += read;
                }

                // RFC 1950: CMF byte 0x?8 and (CMF*256 + FLG) % 31 == 0.
                var isZlib = got == 2 && (header[0] & 0x0F) == 8 && ((header[0] << 8) | header[1]) % 31 == 0;
                var source = new PrefixedStream(header.AsMemory(0, got), inner);
                _decoder = isZlib
                    ? new ZLibStream(source, CompressionMode.Decompress, leaveOpen: true)
                    : new DeflateStream(source, CompressionMode.Decompress, leaveOpen: true);
            }

            return await _decoder.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _decoder?.Dispose();
            }

            base.Dispose(disposing);
        }
    }

    private sealed class PrefixedStream(ReadOnlyMemory<byte> prefix, Stream inner) : Stream
    {
        private ReadOnlyMemory<byte> _prefix = prefix;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_prefix.IsEmpty)
            {
                return inner.ReadAsync(buffer, cancellationToken);
            }

            var take = Math.Min(buffer.Length, _prefix.Length);
            _prefix.Span[..take].CopyTo(buffer.Span);
            _prefix = _prefix[take..];
            return ValueTask.FromResult(take);
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
