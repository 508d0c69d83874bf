using System.Runtime.InteropServices;

namespace EfficiencyMonitor.Sandbox.ClickHouse;

/// <summary>
/// Function pointers into <c>libchdb.so</c>, resolved once with <see cref="NativeLibrary"/>. Signatures follow chDB's
/// <c>chdb.h</c> (26.7): <c>chdb_connection</c> is an opaque pointer, <c>chdb_connect</c> returns a pointer to one,
/// results are opaque <c>chdb_result*</c> read through accessor functions and freed with <c>chdb_destroy_query_result</c>.
/// </summary>
internal sealed unsafe class ChdbNative
{
    private ChdbNative(nint library)
    {
        Library = library;
        SetSignalHandlersEnabled = (delegate* unmanaged<int, void>)Export(library, "chdb_set_signal_handlers_enabled");
        Connect = (delegate* unmanaged<int, byte**, nint*>)Export(library, "chdb_connect");
        CloseConn = (delegate* unmanaged<nint*, void>)Export(library, "chdb_close_conn");
        QueryN = (delegate* unmanaged<nint, byte*, nuint, byte*, nuint, nint>)Export(library, "chdb_query_n");
        QueryWithParamsN = (delegate* unmanaged<nint, byte*, nuint, byte*, nuint, byte**, nuint*, byte**, nuint*, nuint, nint>)
            Export(library, "chdb_query_with_params_n");
        StreamInsertWithParamsN = (delegate* unmanaged<nint, byte*, nuint, byte*, nuint, byte**, nuint*, byte**, nuint*, nuint, nint>)
            Export(library, "chdb_stream_insert_with_params_n");
        StreamAppend = (delegate* unmanaged<nint, byte*, nuint, int>)Export(library, "chdb_stream_append");
        StreamDone = (delegate* unmanaged<nint, nint>)Export(library, "chdb_stream_done");
        StreamInsertError = (delegate* unmanaged<nint, byte*>)Export(library, "chdb_stream_insert_error");
        DestroyInsertStream = (delegate* unmanaged<nint, void>)Export(library, "chdb_destroy_insert_stream");
        ResultBuffer = (delegate* unmanaged<nint, byte*>)Export(library, "chdb_result_buffer");
        ResultLength = (delegate* unmanaged<nint, nuint>)Export(library, "chdb_result_length");
        ResultElapsed = (delegate* unmanaged<nint, double>)Export(library, "chdb_result_elapsed");
        ResultRowsRead = (delegate* unmanaged<nint, ulong>)Export(library, "chdb_result_rows_read");
        ResultBytesRead = (delegate* unmanaged<nint, ulong>)Export(library, "chdb_result_bytes_read");
        ResultStorageRowsRead = (delegate* unmanaged<nint, ulong>)Export(library, "chdb_result_storage_rows_read");
        ResultStorageBytesRead = (delegate* unmanaged<nint, ulong>)Export(library, "chdb_result_storage_bytes_read");
        ResultRowsWritten = (delegate* unmanaged<nint, ulong>)Export(library, "chdb_result_rows_written");
        ResultBytesWritten = (delegate* unmanaged<nint, ulong>)Export(library, "chdb_result_bytes_written");
        ResultError = (delegate* unmanaged<nint, byte*>)Export(library, "chdb_result_error");
        DestroyQueryResult = (delegate* unmanaged<nint, void>)Export(library, "chdb_destroy_query_result");
    }

    public nint Library { get; }
    public delegate* unmanaged<int, void> SetSignalHandlersEnabled { get; }
    public delegate* unmanaged<int, byte**, nint*> Connect { get; }
    public delegate* unmanaged<nint*, void> CloseConn { get; }
    public delegate* unmanaged<nint, byte*, nuint, byte*, nuint, nint> QueryN { get; }
    public delegate* unmanaged<nint, byte*, nuint, byte*, nuint, byte**, nuint*, byte**, nuint*, nuint, nint> QueryWithParamsN { get; }
    public delegate* unmanaged<nint, byte*, nuint, byte*, nuint, byte**, nuint*, byte**, nuint*, nuint, nint> StreamInsertWithParamsN { get; }
    public delegate* unmanaged<nint, byte*, nuint, int> StreamAppend { get; }
    public delegate* unmanaged<nint, nint> StreamDone { get; }
    public delegate* unmanaged<nint, byte*> StreamInsertError { get; }
    public delegate* unmanaged<nint, void> DestroyInsertStream { get; }
    public delegate* unmanaged<nint, byte*> ResultBuffer { get; }
    public delegate* unmanaged<nint, nuint> ResultLength { get; }
    public delegate* unmanaged<nint, double> ResultElapsed { get; }
    public delegate* unmanaged<nint, ulong> ResultRowsRead { get; }
    public delegate* unmanaged<nint, ulong> ResultBytesRead { get; }
    public delegate* unmanaged<nint, ulong> ResultStorageRowsRead { get; }
    public delegate* unmanaged<nint, ulong> ResultStorageBytesRead { get; }
    public delegate* unmanaged<nint, ulong> ResultRowsWritten { get; }
    public delegate* unmanaged<nint, ulong> ResultBytesWritten { get; }
    public delegate* unmanaged<nint, byte*> ResultError { get; }
    public delegate* unmanaged<nint, void> DestroyQueryResult { get; }

    public static ChdbNative Load(string libraryPath)
    {
        nint library;
        try
        {
            library = NativeLibrary.Load(libraryPath);
        }
        catch (DllNotFoundException e)
        {
            throw new SandboxException(
                $"cannot load chDB library '{libraryPath}' ({e.Message}): reinstall it (delete the cache folder) or point EM_CHDB_LIBRARY at a valid libchdb.so", e);
        }
        catch (BadImageFormatException e)
        {
            throw new SandboxException(
                $"'{libraryPath}' is not a loadable libchdb.so ({e.Message}): delete the chDB cache folder so it is reinstalled", e);
        }

        try
        {
            return new ChdbNative(library);
        }
        catch (EntryPointNotFoundException e)
        {
            throw new SandboxException(
                $"'{libraryPath}' lacks the chDB C API this sandbox needs ({e.Message}): use {ChdbInstaller.PackageSpec}", e);
        }
    }

    private static nint Export(nint library, string name) => NativeLibrary.GetExport(library, name);
}
