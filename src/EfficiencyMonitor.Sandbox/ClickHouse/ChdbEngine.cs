using System.Runtime.InteropServices;
using System.Text;

namespace EfficiencyMonitor.Sandbox.ClickHouse;

/// <summary>
/// The one chDB engine of this process (chDB boots one engine, on one data path, per process), with every call serialized
/// onto it. Besides the primary connection that keeps the engine alive, callers may open short-lived connections: chDB gives
/// each connection its own settings and current database (chdb.h, <c>chdb_connect</c>), which is how the HTTP endpoint
/// scopes a request's settings without <c>SET</c> leaking into the next request.
/// </summary>
public sealed class ChdbEngine : IDisposable
{
    private static int s_opened;

    private readonly ChdbNative _native;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly HashSet<ChdbConnection> _connections = [];
    private readonly ChdbConnection _primary;
    private bool _disposed;

    private ChdbEngine(ChdbNative native, string dataDirectory, ChdbConnection primary, string version)
    {
        _native = native;
        DataDirectory = dataDirectory;
        _primary = primary;
        Version = version;
    }

    /// <summary>The engine's persistent data folder.</summary>
    public string DataDirectory { get; }

    /// <summary>The ClickHouse version of the engine, e.g. <c>26.7.2.1</c>.</summary>
    public string Version { get; }

    /// <summary>Loads <paramref name="libraryPath"/> and connects with persistent data under <paramref name="dataDir"/>.</summary>
    /// <exception cref="SandboxException">The library cannot be loaded or the engine refuses to start; the message says why.</exception>
    public static ChdbEngine Open(string libraryPath, string dataDir)
    {
        ArgumentException.ThrowIfNullOrEmpty(libraryPath);
        ArgumentException.ThrowIfNullOrEmpty(dataDir);
        if (Interlocked.Exchange(ref s_opened, 1) == 1)
        {
            throw new SandboxException(
                "a chDB engine is already open in this process (chDB runs one engine per process): reuse the open ChdbEngine instead of opening another");
        }

        try
        {
            var fullDataDir = Path.GetFullPath(dataDir);
            Directory.CreateDirectory(fullDataDir);
            var native = ChdbNative.Load(libraryPath);
            unsafe
            {
                // chDB installs process-wide handlers for SIGSEGV and friends by default; the .NET runtime needs its own
                // (NullReferenceException is a SIGSEGV, Process relies on SIGCHLD), so the engine must not take them (chdb.h).
                native.SetSignalHandlersEnabled(0);
            }

            var primary = Connect(native, ["clickhouse", $"--path={fullDataDir}"])
                ?? throw new SandboxException(
                    $"chDB failed to start on data folder '{fullDataDir}': check the folder is writable and not used by another process, or pass another --data folder");
            string version;
            try
            {
                var outcome = Run(native, primary, "SELECT version()"u8, "TabSeparated"u8, null);
                if (outcome.Error is not null)
                {
                    throw new SandboxException($"chDB started but cannot run a query ({FirstLine(outcome.Error)}): delete the data folder '{fullDataDir}' if it is corrupt");
                }

                version = Encoding.UTF8.GetString(outcome.Data).Trim();
            }
            catch
            {
                primary.CloseUnsafe(native);
                throw;
            }

            var engine = new ChdbEngine(native, fullDataDir, primary, version);
            engine._connections.Add(primary);
            return engine;
        }
        catch
        {
            Volatile.Write(ref s_opened, 0);
            throw;
        }
    }

    /// <summary>
    /// Runs <paramref name="sql"/> on a fresh connection (so no setting or <c>USE</c> outlives it) and returns its output.
    /// </summary>
    /// <exception cref="ChdbException">The engine rejected the query; <see cref="ChdbException.Code"/> is ClickHouse's error code.</exception>
    public async Task<ChdbQueryResult> QueryAsync(string sql, string format = "TabSeparated", CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sql);
        ArgumentNullException.ThrowIfNull(format);
        using var lease = await AcquireAsync(cancellationToken).ConfigureAwait(false);
        using var connection = lease.OpenConnection();
        var outcome = lease.Query(connection, Encoding.UTF8.GetBytes(sql), format, null);
        return outcome.Error is null ? outcome.ToResult() : throw ChdbException.FromEngineMessage(outcome.Error);
    }

    /// <summary>Waits for exclusive use of the engine; every native call happens under such a lease.</summary>
    internal async Task<Lease> AcquireAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        if (_disposed)
        {
            _gate.Release();
            throw new ObjectDisposedException(nameof(ChdbEngine));
        }

        return new Lease(this);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _gate.Wait();
        try
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            // The primary connection goes last: closing the last connection shuts the engine down (chdb.h).
            foreach (var connection in _connections.Where(c => c != _primary).ToList())
            {
                connection.CloseUnsafe(_native);
            }

            _primary.CloseUnsafe(_native);
            _connections.Clear();
            Volatile.Write(ref s_opened, 0);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Closes a connection opened by a lease; the caller holds a lease.</summary>
    internal void CloseUnderLease(ChdbConnection connection)
    {
        if (connection == _primary || !_connections.Remove(connection))
        {
            return;
        }

        connection.CloseUnsafe(_native);
    }

    private static unsafe ChdbConnection? Connect(ChdbNative native, string[] args)
    {
        var pointers = new nint[args.Length];
        try
        {
            for (var i = 0; i < args.Length; i++)
            {
                pointers[i] = Marshal.StringToCoTaskMemUTF8(args[i]);
            }

            nint* handle;
            fixed (nint* argv = pointers)
            {
                handle = native.Connect(args.Length, (byte**)argv);
            }

            return handle == null || *handle == 0 ? null : new ChdbConnection(handle);
        }
        finally
        {
            foreach (var pointer in pointers)
            {
                Marshal.FreeCoTaskMem(pointer);
            }
        }
    }

    private static unsafe NativeOutcome Run(
        ChdbNative native,
        ChdbConnection connection,
        ReadOnlySpan<byte> sql,
        ReadOnlySpan<byte> format,
        IReadOnlyList<KeyValuePair<string, string>>? parameters)
    {
        nint result;
        fixed (byte* sqlPtr = sql)
        fixed (byte* formatPtr = format)
        {
            if (parameters is null || parameters.Count == 0)
            {
                result = native.QueryN(connection.Handle, sqlPtr, (nuint)sql.Length, formatPtr, (nuint)format.Length);
            }
            else
            {
                using var bound = new NativeParameters(parameters);
                result = native.QueryWithParamsN(
                    connection.Handle, sqlPtr, (nuint)sql.Length, formatPtr, (nuint)format.Length,
                    bound.Names, bound.NameLengths, bound.Values, bound.ValueLengths, (nuint)parameters.Count);
            }
        }

        return NativeOutcome.FromResult(native, result);
    }

    private static string FirstLine(string text)
    {
        var newline = text.IndexOf('\n', StringComparison.Ordinal);
        return newline < 0 ? text : text[..newline];
    }

    /// <summary>Exclusive use of the engine; disposing it lets the next caller in.</summary>
    internal sealed class Lease : IDisposable
    {
        private readonly ChdbEngine _engine;
        private bool _released;

        internal Lease(ChdbEngine engine) => _engine = engine;

        /// <summary>The engine's own connection (settings set on it persist; use for engine-wide work only).</summary>
        public ChdbConnection Primary => _engine._primary;

        public string Version => _engine.Version;

        /// <summary>Opens a connection with default settings and database <c>default</c>.</summary>
        public ChdbConnection OpenConnection()
        {
            var connection = Connect(_engine._native, ["clickhouse", $"--path={_engine.DataDirectory}"])
                ?? throw new ChdbException(1002, "UNKNOWN_EXCEPTION", "Code: 1002. DB::Exception: chDB refused a new connection. (UNKNOWN_EXCEPTION)");
            connection.Engine = _engine;
            _engine._connections.Add(connection);
            return connection;
        }

        public void Close(ChdbConnection connection) => _engine.CloseUnderLease(connection);

        public NativeOutcome Query(ChdbConnection connection, ReadOnlySpan<byte> sql, string format, IReadOnlyList<KeyValuePair<string, string>>? parameters)
        {
            Span<byte> formatBytes = stackalloc byte[Encoding.UTF8.GetMaxByteCount(format.Length)];
            var formatLength = Encoding.UTF8.GetBytes(format, formatBytes);
            return Run(_engine._native, connection, sql, formatBytes[..formatLength], parameters);
        }

        /// <summary>
        /// Streams <paramref name="chunks"/> (data in <paramref name="format"/>) into the INSERT <paramref name="insertPrefix"/>
        /// (the statement without its FORMAT clause) through chDB's binary-safe streaming insert API.
        /// </summary>
        public unsafe NativeOutcome Insert(
            ChdbConnection connection,
            ReadOnlySpan<byte> insertPrefix,
            string format,
            IReadOnlyList<KeyValuePair<string, string>>? parameters,
            IEnumerable<ReadOnlyMemory<byte>> chunks)
        {
            var native = _engine._native;
            var formatBytes = Encoding.UTF8.GetBytes(format);
            nint stream;
            fixed (byte* sqlPtr = insertPrefix)
            fixed (byte* formatPtr = formatBytes)
            {
                using var bound = new NativeParameters(parameters ?? []);
                stream = native.StreamInsertWithParamsN(
                    connection.Handle, sqlPtr, (nuint)insertPrefix.Length, formatPtr, (nuint)formatBytes.Length,
                    bound.Names, bound.NameLengths, bound.Values, bound.ValueLengths, (nuint)(parameters?.Count ?? 0));
            }

            try
            {
                var initError = native.StreamInsertError(stream);
                if (initError != null)
                {
                    return NativeOutcome.Failure(Marshal.PtrToStringUTF8((nint)initError) ?? "Code: 1002. DB::Exception: insert failed. (UNKNOWN_EXCEPTION)");
                }

                foreach (var chunk in chunks)
                {
                    if (chunk.IsEmpty)
                    {
                        continue;
                    }

                    int state;
                    fixed (byte* data = chunk.Span)
                    {
                        state = native.StreamAppend(stream, data, (nuint)chunk.Length);
                    }

                    if (state != 0)
                    {
                        var appendError = native.StreamInsertError(stream);
                        // Not finalized: destroying the stream below cancels it (chdb.h, chdb_destroy_insert_stream).
                        return NativeOutcome.Failure(appendError == null
                            ? "Code: 1002. DB::Exception: chDB refused insert data. (UNKNOWN_EXCEPTION)"
                            : Marshal.PtrToStringUTF8((nint)appendError) ?? "");
                    }
                }

                return NativeOutcome.FromResult(native, native.StreamDone(stream));
            }
            finally
            {
                native.DestroyInsertStream(stream);
            }
        }

        public void Dispose()
        {
            if (_released)
            {
                return;
            }

            _released = true;
            _engine._gate.Release();
        }
    }

    /// <summary>Parameter names and values pinned as native UTF-8 buffers for one call.</summary>
    private sealed unsafe class NativeParameters : IDisposable
    {
        private readonly nint[] _allocations;

        public NativeParameters(IReadOnlyList<KeyValuePair<string, string>> parameters)
        {
            var count = parameters.Count;
            _allocations = new nint[(count * 2) + 4];
            var names = (byte**)Alloc(0, sizeof(nint) * Math.Max(count, 1));
            var values = (byte**)Alloc(1, sizeof(nint) * Math.Max(count, 1));
            var nameLengths = (nuint*)Alloc(2, sizeof(nuint) * Math.Max(count, 1));
            var valueLengths = (nuint*)Alloc(3, sizeof(nuint) * Math.Max(count, 1));
            for (var i = 0; i < count; i++)
            {
                var name = Encoding.UTF8.GetBytes(parameters[i].Key);
                var value = Encoding.UTF8.GetBytes(parameters[i].Value);
                names[i] = Copy(4 + (2 * i), name);
                values[i] = Copy(5 + (2 * i), value);
                nameLengths[i] = (nuint)name.Length;
                valueLengths[i] = (nuint)value.Length;
            }

            Names = names;
            Values = values;
            NameLengths = nameLengths;
            ValueLengths = valueLengths;
        }

        public byte** Names { get; }
        public byte** Values { get; }
        public nuint* NameLengths { get; }
        public nuint* ValueLengths { get; }

        public void Dispose()
        {
            foreach (var allocation in _allocations)
            {
                if (allocation != 0)
                {
                    NativeMemory.Free((void*)allocation);
                }
            }
        }

        private nint Alloc(int slot, int bytes)
        {
            var pointer = (nint)NativeMemory.Alloc((nuint)Math.Max(bytes, 1));
            _allocations[slot] = pointer;
            return pointer;
        }

        private byte* Copy(int slot, byte[] bytes)
        {
            var pointer = (byte*)Alloc(slot, bytes.Length);
            bytes.CopyTo(new Span<byte>(pointer, bytes.Length));
            return pointer;
        }
    }
}

/// <summary>One chDB connection (its own settings and current database). Used only under an engine lease.</summary>
internal sealed unsafe class ChdbConnection : IDisposable
{
    private nint* _handle;

    internal ChdbConnection(nint* handle) => _handle = handle;

    internal ChdbEngine? Engine { get; set; }

    internal nint Handle => _handle == null ? throw new ObjectDisposedException(nameof(ChdbConnection)) : *_handle;

    internal bool IsOpen => _handle != null;

    internal void CloseUnsafe(ChdbNative native)
    {
        if (_handle == null)
        {
            return;
        }

        native.CloseConn(_handle);
        _handle = null;
    }

    /// <summary>Closes the connection; the caller must hold an engine lease.</summary>
    public void Dispose() => Engine?.CloseUnderLease(this);
}

/// <summary>What one native call returned: output bytes and statistics, or the engine's error text.</summary>
internal sealed class NativeOutcome
{
    public byte[] Data { get; private init; } = [];
    public string? Error { get; private init; }
    public double ElapsedSeconds { get; private init; }
    public ulong RowsRead { get; private init; }
    public ulong BytesRead { get; private init; }
    public ulong StorageRowsRead { get; private init; }
    public ulong StorageBytesRead { get; private init; }
    public ulong RowsWritten { get; private init; }
    public ulong BytesWritten { get; private init; }

    public static NativeOutcome Failure(string error) => new() { Error = error };

    public static unsafe NativeOutcome FromResult(ChdbNative native, nint result)
    {
        if (result == 0)
        {
            return Failure("Code: 1002. DB::Exception: chDB returned no result. (UNKNOWN_EXCEPTION)");
        }

        try
        {
            var error = native.ResultError(result);
            if (error != null)
            {
                return Failure(Marshal.PtrToStringUTF8((nint)error) ?? "");
            }

            var buffer = native.ResultBuffer(result);
            var length = (long)native.ResultLength(result);
            byte[] data = [];
            if (buffer != null && length > 0)
            {
                data = GC.AllocateUninitializedArray<byte>(checked((int)length));
                new ReadOnlySpan<byte>(buffer, data.Length).CopyTo(data);
            }

            return new NativeOutcome
            {
                Data = data,
                ElapsedSeconds = native.ResultElapsed(result),
                RowsRead = native.ResultRowsRead(result),
                BytesRead = native.ResultBytesRead(result),
                StorageRowsRead = native.ResultStorageRowsRead(result),
                StorageBytesRead = native.ResultStorageBytesRead(result),
                RowsWritten = native.ResultRowsWritten(result),
                BytesWritten = native.ResultBytesWritten(result),
            };
        }
        finally
        {
            native.DestroyQueryResult(result);
        }
    }

    public ChdbQueryResult ToResult() => new(Data, TimeSpan.FromSeconds(ElapsedSeconds), RowsRead, BytesRead, RowsWritten, BytesWritten);
}

/// <summary>The output of a query run directly on the engine.</summary>
/// <param name="Data">The output, in the requested format.</param>
/// <param name="Elapsed">Engine-side execution time.</param>
/// <param name="ResultRows">Rows in the result.</param>
/// <param name="ResultBytes">Bytes of the result in the engine's internal representation.</param>
/// <param name="WrittenRows">Rows written (INSERT).</param>
/// <param name="WrittenBytes">Bytes written (INSERT).</param>
public sealed record ChdbQueryResult(byte[] Data, TimeSpan Elapsed, ulong ResultRows, ulong ResultBytes, ulong WrittenRows, ulong WrittenBytes)
{
    /// <summary>The output as UTF-8 text.</summary>
    public string Text => Encoding.UTF8.GetString(Data);
}
