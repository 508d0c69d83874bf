using System.Security.Cryptography;
using System.Text;
using EfficiencyMonitor.Service.Configuration;
using Microsoft.Extensions.Options;

namespace EfficiencyMonitor.Service;

/// <summary>
/// Requires <c>Api:Key</c> on every request except the open endpoints (<see cref="IsOpen"/>) when a key is configured:
/// <c>X-Api-Key: &lt;key&gt;</c> or <c>Authorization: Bearer &lt;key&gt;</c>, compared in constant time; anything else gets
/// 401 with a JSON problem. Everything that is not open is protected (not only <c>/api/*</c>), so a new endpoint or an
/// odd spelling of a path (case, trailing slash) can never slip past the check.
/// </summary>
public sealed partial class ApiKeyAuthentication
{
    /// <summary>Header carrying the key.</summary>
    public const string HeaderName = "X-Api-Key";

    private readonly RequestDelegate _next;
    private readonly byte[]? _keyHash;
    private readonly ILogger<ApiKeyAuthentication> _logger;

    /// <summary>Creates the middleware; no key configured means every request passes.</summary>
    public ApiKeyAuthentication(RequestDelegate next, IOptions<ApiOptions> options, ILogger<ApiKeyAuthentication> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _next = next;
        _logger = logger;
        _keyHash = options.Value.KeyRequired ? Hash(options.Value.Key!) : null;
    }

    /// <summary>
    /// Paths served without a key: probes (<c>/healthz</c>, <c>/readyz</c>) must work for the orchestrator, and
    /// <c>/metrics</c> for Prometheus scrapers, which carry no credentials by default. They expose no tenant data: the
    /// metrics are aggregates labelled by topic, deployment, window length and job.
    /// </summary>
    public static bool IsOpen(PathString path) =>
        path.Equals("/healthz", StringComparison.OrdinalIgnoreCase)
        || path.Equals("/readyz", StringComparison.OrdinalIgnoreCase)
        || path.Equals("/metrics", StringComparison.OrdinalIgnoreCase);

    /// <summary>Passes the request on when it is open or carries the key; otherwise answers 401.</summary>
    public Task InvokeAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (_keyHash is null || IsOpen(context.Request.Path)) return _next(context);

        var presented = PresentedKey(context.Request);
        if (presented is not null && CryptographicOperations.FixedTimeEquals(Hash(presented), _keyHash)) return _next(context);

        LogRejected(_logger, context.Request.Method, context.Request.Path, presented is null ? "no key" : "wrong key");
        context.Response.Headers.WWWAuthenticate = "Bearer realm=\"efficiency-monitor\"";
        return Results.Problem(
                statusCode: StatusCodes.Status401Unauthorized,
                title: "API key required",
                detail: presented is null
                    ? $"This endpoint needs the API key: send it in the {HeaderName} header or as Authorization: Bearer <key>."
                    : "The API key is not valid.")
            .ExecuteAsync(context);
    }

    /// <summary>The key from <c>X-Api-Key</c> (when present it decides) or from <c>Authorization: Bearer</c>; null when none.</summary>
    private static string? PresentedKey(HttpRequest request)
    {
        if (request.Headers.TryGetValue(HeaderName, out var header)) return header.Count == 1 ? header[0] : "";
        var authorization = request.Headers.Authorization;
        if (authorization.Count != 1 || authorization[0] is not { } value) return null;
        const string scheme = "Bearer ";
        return value.StartsWith(scheme, StringComparison.OrdinalIgnoreCase) ? value[scheme.Length..].Trim() : "";
    }

    // Hashing first makes the comparison independent of the lengths as well as the contents.
    private static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    [LoggerMessage(EventId = 7100, Level = LogLevel.Debug, Message = "Rejected {Method} {Path}: {Reason}")]
    private static partial void LogRejected(ILogger logger, string method, PathString path, string reason);
}
