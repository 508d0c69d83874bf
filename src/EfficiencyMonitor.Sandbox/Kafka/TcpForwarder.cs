using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace EfficiencyMonitor.Sandbox.Kafka;

/// <summary>
/// Forwards a fixed loopback port to the mock cluster's random one, so configs never change between runs.
/// </summary>
/// <remarks>
/// <para>
/// Every accepted connection gets its own upstream connection to the target and two pumps (one per direction)
/// that move bytes through pooled 64 KiB buffers with Nagle off on both sockets (Kafka is request/response,
/// so latency matters more than packet count). End of stream on one side is passed on as a half-close
/// (<c>shutdown(SHUT_WR)</c>) so the protocol can finish; an error on either side aborts both.
/// </para>
/// <para>
/// The mock advertises its own address in metadata, so a Kafka client bootstrapping through the forwarder makes
/// only its first requests here and then connects to the broker's random port directly (fine on one machine;
/// see <see cref="MockKafkaCluster.AdvertiseBroker"/> to route everything through the forwarder).
/// </para>
/// <para>
/// <see cref="DisposeAsync"/> stops accepting, closes every live connection on both sides and waits for their
/// pumps to end; no socket outlives it.
/// </para>
/// </remarks>
public sealed class TcpForwarder : IAsyncDisposable
{
    private const int BufferSize = 64 * 1024;

    private readonly Socket _listener;
    private readonly EndPoint _target;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<long, Task> _connections = new();
    private readonly Task _acceptLoop;
    private long _nextId;
    private long _accepted;
    private int _disposed;

    private TcpForwarder(Socket listener, EndPoint target)
    {
        _listener = listener;
        _target = target;
        LocalEndpoint = (IPEndPoint)listener.LocalEndPoint!;
        _acceptLoop = Task.Run(AcceptLoopAsync);
    }

    /// <summary>The bound endpoint (the real port when 0 was asked for).</summary>
    public IPEndPoint LocalEndpoint { get; }

    /// <summary>The address connections are forwarded to.</summary>
    public string Target => _target.ToString() ?? "";

    /// <summary>Connections currently being forwarded.</summary>
    public int ActiveConnections => _connections.Count;

    /// <summary>Connections accepted since start.</summary>
    public long AcceptedConnections => Interlocked.Read(ref _accepted);

    /// <summary>Listens on <paramref name="listen"/> and pipes every connection to <paramref name="target"/> (host:port).</summary>
    /// <param name="listen">Where to listen, e.g. <c>127.0.0.1:9092</c>; port 0 picks a free one.</param>
    /// <param name="target"><c>host:port</c> (an IP literal or a name), e.g. <see cref="MockKafkaCluster.Bootstraps"/> of a one-broker cluster.</param>
    /// <exception cref="SandboxException">The port is taken or cannot be bound.</exception>
    public static TcpForwarder Start(IPEndPoint listen, string target)
    {
        ArgumentNullException.ThrowIfNull(listen);
        var targetEndPoint = ParseTarget(target);

        var listener = new Socket(listen.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            listener.Bind(listen);
            listener.Listen(512);
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            listener.Dispose();
            throw new SandboxException(
                $"{Format(listen)} is in use: stop the process holding it or pass --kafka {listen.Address}:<free port>", ex);
        }
        catch (SocketException ex)
        {
            listener.Dispose();
            throw new SandboxException(
                $"cannot listen on {Format(listen)} ({ex.SocketErrorCode}): pass --kafka 127.0.0.1:<free port> with a port above 1023", ex);
        }

        return new TcpForwarder(listener, targetEndPoint);
    }

    /// <summary>Stops accepting, closes every live connection on both sides and waits for them to end.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync();
        _listener.Dispose();
        await _acceptLoop;
        // Each connection disposes its sockets when the stop token fires; wait until every one has.
        await Task.WhenAll(_connections.Values);
        _stopping.Dispose();
    }

    /// <inheritdoc />
    public override string ToString() => $"{Format(LocalEndpoint)} -> {Target}";

    private static string Format(IPEndPoint endPoint) => endPoint.ToString();

    private static EndPoint ParseTarget(string target)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(target);
        if (target.Contains(',', StringComparison.Ordinal))
        {
            throw new ArgumentException(
                $"target '{target}' lists several brokers: forward to one host:port (one forwarder per broker)", nameof(target));
        }

        if (IPEndPoint.TryParse(target, out var ip) && ip.Port != 0)
        {
            return ip;
        }

        var colon = target.LastIndexOf(':');
        if (colon > 0
            && int.TryParse(target.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port)
            && port is > 0 and <= 65535)
        {
            return new DnsEndPoint(target[..colon], port);
        }

        throw new ArgumentException($"target '{target}' is not host:port", nameof(target));
    }

    private async Task AcceptLoopAsync()
    {
        var stop = _stopping.Token;
        while (!stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(stop);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            catch (ObjectDisposedException)
            {
                break;
            }
            catch (SocketException)
            {
                // Transient (a peer reset before accept, or out of descriptors): back off briefly, keep serving.
                try
                {
                    await Task.Delay(50, stop);
                }
                catch (OperationCanceledException)
                {
                    break;
                }

                continue;
            }

            Interlocked.Increment(ref _accepted);
            var id = Interlocked.Increment(ref _nextId);
            // Registered before it runs so DisposeAsync always sees it; it removes itself when done.
            var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _connections[id] = ForwardAsync(id, client, started.Task, stop);
            started.SetResult();
        }
    }

    private async Task ForwardAsync(long id, Socket client, Task registered, CancellationToken stop)
    {
        await registered;
        var upstream = new Socket(SocketType.Stream, ProtocolType.Tcp);
        using var abort = CancellationTokenSource.CreateLinkedTokenSource(stop);
        try
        {
            client.NoDelay = true;
            upstream.NoDelay = true;
            await upstream.ConnectAsync(_target, abort.Token);

            var toUpstream = PumpAsync(client, upstream, abort);
            var toClient = PumpAsync(upstream, client, abort);
            await Task.WhenAll(toUpstream, toClient);
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The target is gone or the forwarder is stopping: closing the client tells it to reconnect.
        }
        finally
        {
            upstream.Dispose();
            client.Dispose();
            _connections.TryRemove(id, out _);
        }
    }

    /// <summary>Copies <paramref name="from"/> to <paramref name="to"/> until end of stream, then half-closes <paramref name="to"/>.</summary>
    private static async Task PumpAsync(Socket from, Socket to, CancellationTokenSource abort)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            while (true)
            {
                var read = await from.ReceiveAsync(buffer.AsMemory(), SocketFlags.None, abort.Token);
                if (read == 0)
                {
                    // Orderly end: pass the FIN on and let the other direction drain.
                    to.Shutdown(SocketShutdown.Send);
                    return;
                }

                var sent = 0;
                while (sent < read)
                {
                    sent += await to.SendAsync(buffer.AsMemory(sent, read - sent), SocketFlags.None, abort.Token);
                }
            }
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // A reset or a stop on either side ends both directions.
            await abort.CancelAsync();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
