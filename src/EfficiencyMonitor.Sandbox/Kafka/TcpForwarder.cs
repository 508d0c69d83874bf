using System.Net;

namespace EfficiencyMonitor.Sandbox.Kafka;

/// <summary>
/// Forwards a fixed loopback port to the mock cluster's random one, so configs never change between runs.
/// </summary>
public sealed class TcpForwarder : IAsyncDisposable
{
    private TcpForwarder() { }

    /// <summary>The bound endpoint (the real port when 0 was asked for).</summary>
    public IPEndPoint LocalEndpoint { get; private set; } = null!;

    /// <summary>Listens on <paramref name="listen"/> and pipes every connection to <paramref name="target"/> (host:port).</summary>
    public static TcpForwarder Start(IPEndPoint listen, string target) => throw new NotImplementedException();

    /// <inheritdoc />
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
