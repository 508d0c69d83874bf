using System.Net.Sockets;
using System.Net;
using EfficiencyMonitor.Sandbox.Kafka;
using EfficiencyMonitor.Sandbox;
using Xunit;

namespace EfficiencyMonitor.IntegrationTests.Kafka;

/// <summary>The loopback forwarder in front of the mock's random port, tested against a local echo server.</summary>
public sealed class TcpForwarderTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(5);

    [Fact]
    public void Start_PortInUse_ThrowsOneLineCauseAndFix()
    {
        using var holder = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        holder.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        holder.Listen();
        var taken = (IPEndPoint)holder.LocalEndPoint!;

        var error = Assert.Throws<SandboxException>(() => TcpForwarder.Start(taken, "127.0.0.1:1"));

        Assert.Equal(
            $"127.0.0.1:{taken.Port} is in use: stop the process holding it or pass --kafka 127.0.0.1:<free port>",
            error.Message);
    }

    [Fact]
    public async Task Forward_ManyConnections_BytesRoundTripBothWaysIntact()
    {
        await using var echo = EchoServer.Start();
        await using var forwarder = TcpForwarder.Start(new IPEndPoint(IPAddress.Loopback, 0), $"127.0.0.1:{echo.Port}");
        Assert.NotEqual(0, forwarder.LocalEndpoint.Port);

        var payload = new byte[1 << 20];
        new Random(42).NextBytes(payload);
        await Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
        {
            using var client = new TcpClient();
            await client.ConnectAsync(forwarder.LocalEndpoint);
            var stream = client.GetStream();
            var writer = Task.Run(async () =>
            {
                await stream.WriteAsync(payload);
                client.Client.Shutdown(SocketShutdown.Send);
            });
            using var received = new MemoryStream();
            using var timeout = new CancellationTokenSource(Patience);
            await stream.CopyToAsync(received, timeout.Token);
            await writer;
            Assert.True(payload.AsSpan().SequenceEqual(received.ToArray()), "echoed bytes differ");
        }));

        await WaitUntilAsync(() => forwarder.ActiveConnections == 0);
        Assert.Equal(8, forwarder.AcceptedConnections);
    }

    [Fact]
    public async Task DisposeAsync_LiveConnections_ClosesThemAndStopsAccepting()
    {
        await using var echo = EchoServer.Start();
        var forwarder = TcpForwarder.Start(new IPEndPoint(IPAddress.Loopback, 0), $"127.0.0.1:{echo.Port}");
        var endpoint = forwarder.LocalEndpoint;
        using var client = new TcpClient();
        await client.ConnectAsync(endpoint);
        var stream = client.GetStream();
        await stream.WriteAsync("ping"u8.ToArray());
        var buffer = new byte[16];
        Assert.Equal(4, await stream.ReadAsync(buffer));
        Assert.Equal(1, forwarder.ActiveConnections);

        await forwarder.DisposeAsync();

        Assert.Equal(0, forwarder.ActiveConnections);
        using var timeout = new CancellationTokenSource(Patience);
        // The client sees its connection end (EOF or reset), never a hang.
        try
        {
            Assert.Equal(0, await stream.ReadAsync(buffer, timeout.Token));
        }
        catch (IOException)
        {
        }

        await WaitUntilAsync(() => echo.ActiveConnections == 0);
        using var late = new TcpClient();
        await Assert.ThrowsAnyAsync<SocketException>(async () => await late.ConnectAsync(endpoint));
    }

    [Fact]
    public async Task Forward_TargetDown_ClosesClientConnection()
    {
        // A port that was free a moment ago: connecting to it is refused.
        int deadPort;
        using (var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            deadPort = ((IPEndPoint)probe.LocalEndPoint!).Port;
        }

        await using var forwarder = TcpForwarder.Start(new IPEndPoint(IPAddress.Loopback, 0), $"127.0.0.1:{deadPort}");
        using var client = new TcpClient();
        await client.ConnectAsync(forwarder.LocalEndpoint);
        using var timeout = new CancellationTokenSource(Patience);
        try
        {
            Assert.Equal(0, await client.GetStream().ReadAsync(new byte[4], timeout.Token));
        }
        catch (IOException)
        {
        }

        await WaitUntilAsync(() => forwarder.ActiveConnections == 0);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = Environment.TickCount64 + (long)Patience.TotalMilliseconds;
        while (!condition())
        {
            Assert.True(Environment.TickCount64 < deadline, "condition not met in time");
            await Task.Delay(10);
        }
    }

    /// <summary>Echoes every connection back until the peer half-closes.</summary>
    private sealed class EchoServer : IAsyncDisposable
    {
        private readonly TcpListener _listener;
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _loop;
        private int _active;

        private EchoServer()
        {
            _listener = new TcpListener(IPAddress.Loopback, 0);
            _listener.Start();
            _loop = Task.Run(LoopAsync);
        }

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        public int ActiveConnections => Volatile.Read(ref _active);

        public static EchoServer Start() => new();

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            _listener.Stop();
            try
            {
                await _loop;
            }
            catch (OperationCanceledException)
            {
            }

            _stop.Dispose();
        }

        private async Task LoopAsync()
        {
            while (!_stop.IsCancellationRequested)
            {
                TcpClient client;
                try
                {
                    client = await _listener.AcceptTcpClientAsync(_stop.Token);
                }
                catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
                {
                    return;
                }

                Interlocked.Increment(ref _active);
                _ = Task.Run(async () =>
                {
                    using (client)
                    {
                        try
                        {
                            var stream = client.GetStream();
                            await stream.CopyToAsync(stream, _stop.Token);
                            client.Client.Shutdown(SocketShutdown.Send);
                        }
                        catch (Exception ex) when (ex is IOException or OperationCanceledException or SocketException or ObjectDisposedException)
                        {
                        }
                        finally
                        {
                            Interlocked.Decrement(ref _active);
                        }
                    }
                });
            }
        }
    }
}
