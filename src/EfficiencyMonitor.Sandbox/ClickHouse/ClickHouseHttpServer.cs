using System.Globalization;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Primitives;

namespace EfficiencyMonitor.Sandbox.ClickHouse;

/// <summary>
/// A loopback endpoint speaking ClickHouse's HTTP interface in front of <see cref="ChdbEngine"/>, so ClickHouse.Driver,
/// Dapper and curl work unchanged.
/// </summary>
/// <remarks>
/// Each request runs on a fresh chDB connection (its own settings and current database, ~1 ms to open), so URL settings,
/// <c>database</c> and any <c>SET</c> in the request end with it, as on a real server. A <c>session_id</c> keeps its own
/// connection until <c>session_timeout</c> (default 60 s) passes without a request. Request bodies are read to the end
/// before the engine is touched; an INSERT's data goes through chDB's binary-safe streaming insert API.
/// </remarks>
public sealed partial class ClickHouseHttpServer : IAsyncDisposable
{
    /// <summary>The largest request body (after decompression) accepted.</summary>
    public const long MaxRequestBodyBytes = 1L << 30;

    private const int HeadBytes = 1 << 20;
    private const string DisplayName = "efficiency-monitor-sandbox";

    // URL parameters of ClickHouse's HTTP interface that are not settings (src/Server/HTTPHandler.cpp, ClickHouse docs).
    private static readonly HashSet<string> s_reservedParameters = new(StringComparer.Ordinal)
    {
        "query", "database", "default_format", "session_id", "session_timeout", "session_check", "query_id", "user",
        "password", "quota_key", "compress", "decompress", "enable_http_compression", "wait_end_of_query", "buffer_size",
        "stacktrace", "role", "client_protocol_version", "close_session", "http_response_buffer_size",
    };

    private readonly ChdbEngine _engine;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private readonly ChdbSessions _sessions;
    private readonly SemaphoreSlim _lifecycle = new(1, 1);
    private WebApplication? _app;
    private IPEndPoint _endpoint;
    private bool _disposed;

    private ClickHouseHttpServer(ChdbEngine engine, IPEndPoint endpoint, ILogger logger, TimeProvider timeProvider)
    {
        _engine = engine;
        _endpoint = endpoint;
        _logger = logger;
        _timeProvider = timeProvider;
        _sessions = new ChdbSessions(timeProvider);
    }

    /// <summary>Base URL, e.g. <c>http://127.0.0.1:8123/</c>.</summary>
    public Uri Url { get; private set; } = null!;

    /// <summary>True while the endpoint accepts connections.</summary>
    public bool IsListening => _app is not null;

    /// <summary>Starts listening on <paramref name="endpoint"/> (port 0 picks a free port).</summary>
    public static Task<ClickHouseHttpServer> StartAsync(ChdbEngine engine, IPEndPoint endpoint, CancellationToken cancellationToken)
        => StartAsync(engine, endpoint, NullLogger.Instance, TimeProvider.System, cancellationToken);

    /// <summary>Starts listening on <paramref name="endpoint"/> (port 0 picks a free port), logging request failures to <paramref name="logger"/>.</summary>
    /// <exception cref="SandboxException">The port is taken or cannot be bound.</exception>
    public static async Task<ClickHouseHttpServer> StartAsync(
        ChdbEngine engine, IPEndPoint endpoint, ILogger logger, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(logger);
        ArgumentNullException.ThrowIfNull(timeProvider);
        var server = new ClickHouseHttpServer(engine, endpoint, logger, timeProvider);
        await server.ListenAsync(cancellationToken).ConfigureAwait(false);
        return server;
    }

    /// <summary>Stops accepting connections (the engine and its data stay); used to simulate an outage.</summary>
    public async Task StopListeningAsync()
    {
        await _lifecycle.WaitAsync().ConfigureAwait(false);
        try
        {
            await StopAppAsync().ConfigureAwait(false);
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    /// <summary>Listens again on the same port after <see cref="StopListeningAsync"/>.</summary>
    public async Task ResumeListeningAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_app is null)
        {
            await ListenAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _lifecycle.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            await StopAppAsync().ConfigureAwait(false);
        }
        finally
        {
            _lifecycle.Release();
        }

        try
        {
            using var lease = await _engine.AcquireAsync(CancellationToken.None).ConfigureAwait(false);
            _sessions.CloseAll(lease);
        }
        catch (ObjectDisposedException)
        {
            // The engine went first; its Dispose closed every connection.
        }
    }

    private async Task ListenAsync(CancellationToken cancellationToken)
    {
        await _lifecycle.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_app is not null)
            {
                return;
            }

            var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = DisplayName });
            var endpoint = _endpoint;
            builder.WebHost.UseKestrelCore().ConfigureKestrel(options =>
            {
                options.AddServerHeader = false;
                // Our own limit applies after decompression (MaxRequestBodyBytes); big batches must not hit Kestrel's 30 MB default.
                options.Limits.MaxRequestBodySize = null;
                // ClickHouse accepts URIs up to http_max_uri_size = 1 MiB (query and param_* travel in the URL);
                // Kestrel's 8 KiB default answered 414 to a catalog passed as a parameter.
                options.Limits.MaxRequestLineSize = 1024 * 1024;
                options.Limits.MaxRequestHeadersTotalSize = 1024 * 1024 + 64 * 1024;
                options.Limits.MaxRequestBufferSize = 2 * 1024 * 1024; // must hold the longest request line + headers
                options.Listen(endpoint);
            });
            // The default ConsoleLifetime would take over SIGTERM/Ctrl-C and stop this endpoint behind its host's back:
            // the process that embeds the sandbox owns its signals.
            builder.Services.AddSingleton<IHostLifetime, EmbeddedLifetime>();
            var app = builder.Build();
            app.Run(HandleAsync);
            try
            {
                await app.StartAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (IOException e)
            {
                await app.DisposeAsync().ConfigureAwait(false);
                throw new SandboxException(
                    $"cannot listen on {endpoint} for the ClickHouse HTTP endpoint ({e.Message}): stop whatever uses that port or choose another with --clickhouse-http", e);
            }

            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            var bound = new Uri(address);
            _endpoint = new IPEndPoint(endpoint.Address, bound.Port);
            Url = new Uri($"http://{(endpoint.Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{endpoint.Address}]" : endpoint.Address.ToString())}:{bound.Port}/");
            _app = app;
            LogListening(_logger, Url);
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    private async Task StopAppAsync()
    {
        var app = _app;
        if (app is null)
        {
            return;
        }

        _app = null;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            await app.StopAsync(timeout.Token).ConfigureAwait(false);
        }
        finally
        {
            await app.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var response = context.Response;
        response.Headers["X-ClickHouse-Server-Display-Name"] = DisplayName;
        var path = request.Path.Value ?? "/";
        if (path is "/ping" or "/replicas_status")
        {
            await WriteTextAsync(response, StatusCodes.Status200OK, "Ok.\n").ConfigureAwait(false);
            return;
        }

        if (path is not ("/" or ""))
        {
            await WriteTextAsync(response, StatusCodes.Status404NotFound, $"There is no handle {path}\n\nUse / or /ping for health checks.\n").ConfigureAwait(false);
            return;
        }

        var isPost = HttpMethods.IsPost(request.Method);
        if (!isPost && !HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method))
        {
            await WriteTextAsync(response, StatusCodes.Status405MethodNotAllowed, "Only GET, HEAD and POST are supported.\n").ConfigureAwait(false);
            return;
        }

        var query = request.Query;
        var queryText = Last(query["query"]) ?? "";
        if (!isPost && queryText.Length == 0)
        {
            await WriteTextAsync(response, StatusCodes.Status200OK, "Ok.\n").ConfigureAwait(false);
            return;
        }

        var queryId = Last(query["query_id"]) is { Length: > 0 } givenId ? givenId : Guid.NewGuid().ToString();
        response.Headers["X-ClickHouse-Query-Id"] = queryId;
        response.Headers["X-ClickHouse-Timezone"] = "UTC";
        try
        {
            var body = isPost
                ? await SpooledBody.ReadAsync(request.Body, request.Headers.ContentEncoding.ToString(), MaxRequestBodyBytes, context.RequestAborted).ConfigureAwait(false)
                : SpooledBody.Empty;
            try
            {
                var call = ParseRequest(request, queryText, body, isPost);
                var outcome = await ExecuteAsync(call, body, context.RequestAborted).ConfigureAwait(false);
                await WriteOutcomeAsync(response, call, outcome, HttpMethods.IsHead(request.Method), context.RequestAborted).ConfigureAwait(false);
            }
            finally
            {
                if (body != SpooledBody.Empty)
                {
                    body.Dispose();
                }
            }
        }
        catch (ChdbException e)
        {
            await WriteErrorAsync(response, e.Message, e.Code).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away; nothing reached the engine, or what did has finished.
        }
        catch (IOException e) when (context.RequestAborted.IsCancellationRequested || e is Microsoft.AspNetCore.Http.BadHttpRequestException)
        {
            LogRequestBodyFailed(_logger, queryId, e.Message);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            LogRequestFailed(_logger, e, queryId);
            await WriteErrorAsync(response, $"Code: 1001. DB::Exception: {e.GetType().Name}: {e.Message}. (STD_EXCEPTION)", 1001).ConfigureAwait(false);
        }
    }

    private RequestCall ParseRequest(HttpRequest request, string queryText, SpooledBody body, bool isPost)
    {
        var query = request.Query;
        // ClickHouse ends the query parameter with a line feed before appending the body (src/Server/HTTPHandler.cpp), so
        // "?query=INSERT INTO t FORMAT TSV" plus a body reads as the statement, a newline, then the data.
        var queryBytes = queryText.Length == 0 ? [] : Encoding.UTF8.GetBytes(queryText + "\n");
        var headLength = (int)Math.Min(queryBytes.Length + body.Length, queryBytes.Length + (long)HeadBytes);
        var head = new byte[headLength];
        queryBytes.CopyTo(head, 0);
        body.CopyTo(head.AsSpan(queryBytes.Length));
        if (head.Length == 0)
        {
            throw new ChdbException(62, "SYNTAX_ERROR", "Code: 62. DB::Exception: Empty query. (SYNTAX_ERROR)");
        }

        var shape = ClickHouseSqlShape.Analyze(head, queryBytes.Length);
        if (shape.IsMultiStatement)
        {
            // chDB would run them all; a real server refuses, and code written against the sandbox must work on one.
            throw new ChdbException(62, "SYNTAX_ERROR", "Code: 62. DB::Exception: Syntax error (Multi-statements are not allowed). (SYNTAX_ERROR)");
        }

        var settings = new List<KeyValuePair<string, string>>();
        var parameters = new List<KeyValuePair<string, string>>();
        foreach (var (name, values) in query)
        {
            var value = Last(values) ?? "";
            if (name.StartsWith("param_", StringComparison.Ordinal))
            {
                parameters.Add(new(name["param_".Length..], value));
            }
            else if (!s_reservedParameters.Contains(name))
            {
                settings.Add(new(name, value));
            }
        }

        var sessionId = Last(query["session_id"]);
        if (!isPost && string.IsNullOrEmpty(sessionId) && !settings.Exists(s => s.Key == "readonly"))
        {
            // ClickHouse runs GET requests with readonly=2 (read and change settings only): a write sent as GET fails here as there.
            settings.Insert(0, new("readonly", "2"));
        }

        var database = Last(query["database"]);
        if (string.IsNullOrEmpty(database))
        {
            database = request.Headers["X-ClickHouse-Database"].ToString();
        }

        var defaultFormat = Last(query["default_format"]);
        if (string.IsNullOrEmpty(defaultFormat))
        {
            defaultFormat = request.Headers["X-ClickHouse-Format"].ToString();
        }

        var sessionTimeout = TimeSpan.FromSeconds(60);
        if (Last(query["session_timeout"]) is { Length: > 0 } timeoutText)
        {
            if (!double.TryParse(timeoutText, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) || seconds < 0 || seconds > 3600)
            {
                throw new ChdbException(
                    36, "BAD_ARGUMENTS",
                    $"Code: 36. DB::Exception: Invalid session timeout: '{timeoutText}', must be between 0 and 3600 seconds. (BAD_ARGUMENTS)");
            }

            sessionTimeout = TimeSpan.FromSeconds(seconds);
        }

        return new RequestCall(
            queryBytes,
            head,
            shape,
            settings,
            parameters,
            string.IsNullOrEmpty(database) ? null : database,
            string.IsNullOrEmpty(defaultFormat) ? "TabSeparated" : defaultFormat,
            string.IsNullOrEmpty(sessionId) ? null : sessionId,
            sessionTimeout,
            Last(query["session_check"]) is "1" or "true");
    }

    private async Task<NativeOutcome> ExecuteAsync(RequestCall call, SpooledBody body, CancellationToken cancellationToken)
    {
        using var lease = await _engine.AcquireAsync(cancellationToken).ConfigureAwait(false);
        _sessions.CloseExpired(lease);
        ChdbConnection connection;
        ChdbSessions.SessionState? restore = null;
        if (call.SessionId is null)
        {
            connection = lease.OpenConnection();
        }
        else
        {
            connection = _sessions.Get(lease, call.SessionId, call.SessionTimeout, call.SessionCheck);
            restore = _sessions.Snapshot(lease, connection, call.Settings, call.Database is not null);
        }

        try
        {
            if (call.Database is not null)
            {
                var use = lease.Query(connection, Encoding.UTF8.GetBytes($"USE {QuoteIdentifier(call.Database)}"), "TabSeparated", null);
                if (use.Error is not null)
                {
                    return use;
                }
            }

            if (call.Settings.Count > 0)
            {
                var set = lease.Query(connection, Encoding.UTF8.GetBytes(SetStatement(call.Settings)), "TabSeparated", null);
                if (set.Error is not null)
                {
                    return set;
                }
            }

            // chDB binds query parameters only while a streaming insert starts, but VALUES rows such as ({id:UInt32}, …) are
            // parsed later: with parameters, VALUES text goes through the ordinary (binary-safe, parameter-aware) query call.
            var valuesWithParameters = call.Parameters.Count > 0 && call.Shape.InsertFormat.Equals("Values", StringComparison.OrdinalIgnoreCase);
            if (call.Shape.HasInlineData && !valuesWithParameters)
            {
                var prefix = call.Head.AsSpan(0, call.Shape.InsertPrefixLength);
                return lease.Insert(connection, prefix, call.Shape.InsertFormat, call.Parameters, InsertData(call, body));
            }

            var sql = call.QueryBytes.Length + body.Length == call.Head.Length ? call.Head : Concatenate(call.QueryBytes, body);
            return lease.Query(connection, sql, call.DefaultFormat, call.Parameters);
        }
        finally
        {
            if (restore is null)
            {
                lease.Close(connection);
            }
            else
            {
                _sessions.Restore(lease, connection, restore);
            }
        }
    }

    private static IEnumerable<ReadOnlyMemory<byte>> InsertData(RequestCall call, SpooledBody body)
    {
        var offset = call.Shape.DataOffset;
        if (offset < call.QueryBytes.Length)
        {
            yield return call.QueryBytes.AsMemory(offset);
        }

        foreach (var slice in body.Slices(Math.Max(0, offset - call.QueryBytes.Length)))
        {
            yield return slice;
        }
    }

    private static byte[] Concatenate(byte[] queryBytes, SpooledBody body)
    {
        var all = GC.AllocateUninitializedArray<byte>(checked((int)(queryBytes.Length + body.Length)));
        queryBytes.CopyTo(all, 0);
        body.CopyTo(all.AsSpan(queryBytes.Length));
        return all;
    }

    private async Task WriteOutcomeAsync(HttpResponse response, RequestCall call, NativeOutcome outcome, bool headOnly, CancellationToken cancellationToken)
    {
        if (outcome.Error is not null)
        {
            var (code, _) = ChdbException.ParseCode(outcome.Error);
            await WriteErrorAsync(response, outcome.Error, code).ConfigureAwait(false);
            return;
        }

        var format = call.Shape.HasInlineData ? call.DefaultFormat : call.Shape.OutputFormat ?? call.DefaultFormat;
        response.StatusCode = StatusCodes.Status200OK;
        response.Headers["X-ClickHouse-Format"] = format;
        response.Headers.ContentType = ContentTypeOf(format);
        response.Headers["X-ClickHouse-Summary"] = Summary(outcome);
        response.ContentLength = outcome.Data.Length;
        if (!headOnly && outcome.Data.Length > 0)
        {
            await response.Body.WriteAsync(outcome.Data, cancellationToken).ConfigureAwait(false);
        }
    }

    private static string Summary(NativeOutcome outcome)
    {
        var inv = CultureInfo.InvariantCulture;
        var elapsedNs = (long)(outcome.ElapsedSeconds * 1e9);
        // Same keys and string-encoded numbers as ClickHouse's X-ClickHouse-Summary (src/IO/Progress.cpp).
        return string.Create(inv,
            $"{{\"read_rows\":\"{outcome.StorageRowsRead}\",\"read_bytes\":\"{outcome.StorageBytesRead}\",\"written_rows\":\"{outcome.RowsWritten}\",\"written_bytes\":\"{outcome.BytesWritten}\",\"total_rows_to_read\":\"{outcome.StorageRowsRead}\",\"result_rows\":\"{outcome.RowsRead}\",\"result_bytes\":\"{outcome.BytesRead}\",\"elapsed_ns\":\"{elapsedNs}\"}}");
    }

    private async Task WriteErrorAsync(HttpResponse response, string engineMessage, int code)
    {
        if (response.HasStarted)
        {
            return;
        }

        var text = engineMessage.TrimEnd();
        if (!text.StartsWith("Code:", StringComparison.Ordinal))
        {
            text = $"Code: {code}. DB::Exception: {text}";
        }

        if (!text.Contains("(version ", StringComparison.Ordinal))
        {
            text += $" (version {_engine.Version} (chDB sandbox))";
        }

        response.Headers["X-ClickHouse-Exception-Code"] = code.ToString(CultureInfo.InvariantCulture);
        await WriteTextAsync(response, StatusOf(code), text + "\n").ConfigureAwait(false);
    }

    private static async Task WriteTextAsync(HttpResponse response, int status, string text)
    {
        response.StatusCode = status;
        response.ContentType = "text/plain; charset=UTF-8";
        var bytes = Encoding.UTF8.GetBytes(text);
        response.ContentLength = bytes.Length;
        if (!HttpMethods.IsHead(response.HttpContext.Request.Method))
        {
            await response.Body.WriteAsync(bytes).ConfigureAwait(false);
        }
    }

    /// <summary>The HTTP status ClickHouse answers an error code with (src/Server/HTTPHandler.cpp, exceptionCodeToHTTPStatus).</summary>
    internal static int StatusOf(int code) => code switch
    {
        164 or 497 => StatusCodes.Status403Forbidden, // READONLY, ACCESS_DENIED
        192 or 193 or 516 => StatusCodes.Status401Unauthorized, // UNKNOWN_USER, WRONG_PASSWORD, AUTHENTICATION_FAILED
        6 or 25 or 26 or 27 or 32 or 36 or 38 or 41 or 42 or 43 or 44 or 53 or 62 or 69 or 70 or 72 or 73 or 80 or 115 or 117
            or 129 or 130 or 131 or 132 or 190 or 306 or 354 or 456 or 457 or 472 => StatusCodes.Status400BadRequest,
        46 or 47 or 50 or 60 or 63 or 81 or 82 or 372 => StatusCodes.Status404NotFound,
        // TOO_MANY_SIMULTANEOUS_QUERIES, TIMEOUT_EXCEEDED and friends are 503 on a real server; everything else is 500.
        202 or 159 => StatusCodes.Status503ServiceUnavailable,
        _ => StatusCodes.Status500InternalServerError,
    };

    private static string ContentTypeOf(string format)
    {
        if (format.StartsWith("TabSeparated", StringComparison.OrdinalIgnoreCase) || format.StartsWith("TSV", StringComparison.OrdinalIgnoreCase))
        {
            return "text/tab-separated-values; charset=UTF-8";
        }

        if (format.StartsWith("CSV", StringComparison.OrdinalIgnoreCase))
        {
            return format.Contains("WithNames", StringComparison.OrdinalIgnoreCase) ? "text/csv; charset=UTF-8; header=present" : "text/csv; charset=UTF-8; header=absent";
        }

        if (format.Contains("EachRow", StringComparison.OrdinalIgnoreCase) && format.StartsWith("JSON", StringComparison.OrdinalIgnoreCase))
        {
            return "application/x-ndjson; charset=UTF-8";
        }

        if (format.StartsWith("JSON", StringComparison.OrdinalIgnoreCase))
        {
            return "application/json; charset=UTF-8";
        }

        if (format.Equals("XML", StringComparison.OrdinalIgnoreCase))
        {
            return "application/xml; charset=UTF-8";
        }

        return format.StartsWith("Pretty", StringComparison.OrdinalIgnoreCase) || format is "Vertical" or "Markdown" or "Null"
            ? "text/plain; charset=UTF-8"
            : "application/octet-stream";
    }

    internal static string SetStatement(IReadOnlyList<KeyValuePair<string, string>> settings)
    {
        var builder = new StringBuilder("SET ");
        for (var i = 0; i < settings.Count; i++)
        {
            if (i > 0)
            {
                builder.Append(", ");
            }

            // A string literal: ClickHouse converts it to the setting's type exactly as it parses a URL parameter.
            builder.Append(QuoteIdentifier(settings[i].Key)).Append(" = ").Append(QuoteString(settings[i].Value));
        }

        return builder.ToString();
    }

    internal static string QuoteString(string value) =>
        "'" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "\\'", StringComparison.Ordinal) + "'";

    internal static string QuoteIdentifier(string name) =>
        "`" + name.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("`", "\\`", StringComparison.Ordinal) + "`";

    private static string? Last(StringValues values) => values.Count == 0 ? null : values[^1];

    [LoggerMessage(EventId = 1100, Level = LogLevel.Information, Message = "ClickHouse HTTP endpoint listening on {Url}")]
    private static partial void LogListening(ILogger logger, Uri url);

    [LoggerMessage(EventId = 1101, Level = LogLevel.Error, Message = "ClickHouse HTTP request {QueryId} failed unexpectedly")]
    private static partial void LogRequestFailed(ILogger logger, Exception exception, string queryId);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Debug, Message = "ClickHouse HTTP request {QueryId}: the body could not be read ({Reason})")]
    private static partial void LogRequestBodyFailed(ILogger logger, string queryId, string reason);

    /// <summary>A host lifetime that registers no signal handlers.</summary>
    private sealed class EmbeddedLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    private sealed record RequestCall(
        byte[] QueryBytes,
        byte[] Head,
        ClickHouseSqlShape Shape,
        List<KeyValuePair<string, string>> Settings,
        List<KeyValuePair<string, string>> Parameters,
        string? Database,
        string DefaultFormat,
        string? SessionId,
        TimeSpan SessionTimeout,
        bool SessionCheck);
}
