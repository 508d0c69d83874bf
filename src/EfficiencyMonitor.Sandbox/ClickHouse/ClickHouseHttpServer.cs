using System.Net;

namespace EfficiencyMonitor.Sandbox.ClickHouse;

/// <summary>
/// A loopback endpoint speaking ClickHouse's HTTP interface in front of <see cref="ChdbEngine"/>, so ClickHouse.Driver,
/// Dapper and curl work unchanged.
/// </summary>
public sealed class ClickHouseHttpServer : IAsyncDisposable
{
    private ClickHouseHttpServer() { }

    /// <summary>Base URL, e.g. <c>http://127.0.0.1:8123/</c>.</summary>
    public Uri Url { get; private set; } = null!;

    /// <summary>Starts listening on <paramref name="endpoint"/> (port 0 picks a free port).</summary>
    public static Task<ClickHouseHttpServer> StartAsync(ChdbEngine engine, IPEndPoint endpoint, CancellationToken cancellationToken)
        => throw new NotImplementedException();

    /// <summary>Stops accepting connections (the engine and its data stay); used to simulate an outage.</summary>
    public Task StopListeningAsync() => throw new NotImplementedException();

    /// <summary>Listens again on the same port after <see cref="StopListeningAsync"/>.</summary>
    public Task ResumeListeningAsync(CancellationToken cancellationToken) => throw new NotImplementedException();

    /// <inheritdoc />
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
