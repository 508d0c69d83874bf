using System.Net;
using System.Net.Sockets;
using System.Text;

namespace EfficiencyMonitor.TestInfrastructure;

/// <summary>
/// Asks the Docker engine's <c>/_ping</c> over its socket with a short timeout. Testcontainers' own detection throws
/// after ~0.65 s; this answers "no" in a few milliseconds when the socket is absent and within the timeout otherwise.
/// </summary>
public static class DockerProbe
{
    /// <summary>True when a Docker engine answers <c>OK</c> to <c>GET /_ping</c> within <paramref name="timeout"/>.</summary>
    public static bool Answers(TimeSpan timeout)
    {
        var host = Environment.GetEnvironmentVariable("DOCKER_HOST");
        EndPoint? endpoint = host switch
        {
            null or "" => File.Exists("/var/run/docker.sock") ? new UnixDomainSocketEndPoint("/var/run/docker.sock") : null,
            _ when host.StartsWith("unix://", StringComparison.Ordinal) => new UnixDomainSocketEndPoint(host["unix://".Length..]),
            _ when host.StartsWith("tcp://", StringComparison.Ordinal) && Uri.TryCreate(host, UriKind.Absolute, out var uri)
                => new DnsEndPoint(uri.Host, uri.Port),
            _ => null,
        };
        if (endpoint is null) return false;

        try
        {
            using var socket = endpoint is UnixDomainSocketEndPoint
                ? new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified)
                : new Socket(SocketType.Stream, ProtocolType.Tcp);
            using var cts = new CancellationTokenSource(timeout);
            socket.ConnectAsync(endpoint, cts.Token).AsTask().GetAwaiter().GetResult();
            socket.Send("GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n"u8);
            var buffer = new byte[512];
            var read = socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token).AsTask().GetAwaiter().GetResult();
            var response = Encoding.ASCII.GetString(buffer, 0, read);
            return response.StartsWith("HTTP/1.", StringComparison.Ordinal) && response.Contains(" 200 ", StringComparison.Ordinal);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or IOException)
        {
            return false;
        }
    }
}
