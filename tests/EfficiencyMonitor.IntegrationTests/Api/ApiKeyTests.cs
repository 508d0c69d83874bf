using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.RegularExpressions;
using EfficiencyMonitor.TestInfrastructure;

namespace EfficiencyMonitor.IntegrationTests.Api;

/// <summary>
/// <c>Api:Key</c> on the real binary (<c>efficiency-monitor run</c> against the test engines): <c>/api/*</c> needs the key,
/// probes and <c>/metrics</c> stay open, a short key stops the service at start, and the default bind is loopback.
/// </summary>
public sealed partial class ApiKeyTests
{
    private const string Key = "it-0123456789abcdef-0123456789abcdef";
    private const string Efficiency = "/api/efficiency?window=5m&allocations=false";

    [Fact]
    public async Task Run_WithApiKey_ApiNeedsTheKeyAndProbesAndMetricsStayOpen()
    {
        await using var service = await StartAsync(new() { ["EM_Api__Key"] = Key });
        using var http = Client(service);

        // No key, a wrong key, a wrong scheme, the key in the query string: 401 with a JSON problem.
        using (var response = await http.GetAsync(new Uri(Efficiency, UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.Equal("Bearer", Assert.Single(response.Headers.WwwAuthenticate).Scheme);
            using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            Assert.Equal(401, problem.RootElement.GetProperty("status").GetInt32());
            Assert.Contains("X-Api-Key", problem.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(http, Efficiency, ("X-Api-Key", Key[..^1])));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(http, Efficiency, ("X-Api-Key", Key + "0")));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(http, Efficiency, ("Authorization", "Bearer not-the-key-0123456789")));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(http, Efficiency, ("Authorization", "Basic " + Key)));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(http, $"{Efficiency}&api_key={Key}"));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(http, "/API/efficiency?window=5m"));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(http, "/api/no-such-endpoint"));

        // The right key, in either header: the real answer (200 with rows; 400 for bad parameters, past the check).
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(http, Efficiency, ("X-Api-Key", Key)));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(http, Efficiency, ("Authorization", "Bearer " + Key)));
        Assert.Equal(HttpStatusCode.BadRequest, await StatusAsync(http, "/api/efficiency?window=fortnight", ("X-Api-Key", Key)));
        Assert.Equal(HttpStatusCode.NotFound, await StatusAsync(http, "/api/no-such-endpoint", ("X-Api-Key", Key)));

        // Probes and the scrape endpoint need no key.
        Assert.Equal("ok\n", await http.GetStringAsync(new Uri("/healthz", UriKind.Relative)));
        await WaitReadyAsync(http, service);
        var metrics = await http.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        Assert.Contains("# TYPE", metrics, StringComparison.Ordinal);
        Assert.DoesNotContain(Key, service.Stdout + service.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_WithEmApiKeyVariable_ApiNeedsTheKey()
    {
        await using var service = await StartAsync(new() { ["EM_API_KEY"] = Key, ["EM_Api__Key"] = "overridden-by-EM_API_KEY" });
        using var http = Client(service);
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(http, Efficiency));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(http, Efficiency, ("X-Api-Key", "overridden-by-EM_API_KEY")));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(http, Efficiency, ("X-Api-Key", Key)));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(http, "/healthz"));
    }

    [Fact]
    public async Task Run_WithoutApiKey_ApiIsOpen()
    {
        await using var service = await StartAsync([]);
        using var http = Client(service);
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(http, Efficiency));
    }

    [Theory]
    [InlineData("EM_Api__Key", "too-short")]
    [InlineData("EM_API_KEY", "0123456789abcde")]
    public async Task Run_WithShortApiKey_StopsAtStartNamingTheSettingAndTheFix(string variable, string key)
    {
        var endpoints = await TestEngines.GetAsync();
        await using var service = ServiceProcess.Start(["run", "--urls", "http://127.0.0.1:0"], new Dictionary<string, string>
        {
            ["EM_CLICKHOUSE_URL"] = endpoints.ClickHouseUrl.ToString(),
            ["EM_KAFKA_BOOTSTRAP"] = endpoints.KafkaBootstrap,
            ["EM_ClickHouse__Database"] = "apikey_never_created",
            ["EM_ClickHouse__MigrateAtStart"] = "false",
            ["EM_Jobs__Enabled"] = "false",
            [variable] = key,
        });
        Assert.Equal(2, await service.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains("invalid configuration", service.Stderr, StringComparison.Ordinal);
        Assert.Contains($"Api:Key (EM_API_KEY / EM_Api__Key) is {key.Length} characters long: use at least 16", service.Stderr, StringComparison.Ordinal);
        Assert.Contains("openssl rand -hex 32", service.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(key, service.Stdout + service.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Now listening on", service.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_WithoutUrls_BindsLoopbackPort9464Only()
    {
        // Either the service gets 127.0.0.1:9464 (and nothing else), or the port is taken on this shared machine and the
        // bind error names the address it tried: both show the default without depending on a free port.
        var endpoints = await TestEngines.GetAsync();
        var database = await TestEngines.CreateDatabaseAsync("apikey_bind");
        await using var service = ServiceProcess.Start(["run"], new Dictionary<string, string>
        {
            ["EM_CLICKHOUSE_URL"] = endpoints.ClickHouseUrl.ToString(),
            ["EM_KAFKA_BOOTSTRAP"] = endpoints.KafkaBootstrap,
            ["EM_ClickHouse__Database"] = database,
            ["EM_Kafka__GroupId"] = $"g-{database}",
            ["EM_Jobs__Enabled"] = "false",
            ["ASPNETCORE_URLS"] = "http://0.0.0.0:9465", // ignored: --urls (default loopback) wins
        });
        var deadline = TimeProvider.System.GetUtcNow() + TimeSpan.FromSeconds(60);
        while (!service.Stdout.Contains("Now listening on", StringComparison.Ordinal) && !service.Stderr.Contains("9464", StringComparison.Ordinal)
               && TimeProvider.System.GetUtcNow() < deadline)
        {
            await Task.Delay(100);
        }

        if (service.Stdout.Contains("Now listening on", StringComparison.Ordinal))
        {
            var addresses = ListeningOn().Matches(service.Stdout).Select(m => m.Groups[1].Value).ToList();
            Assert.Equal(["http://127.0.0.1:9464"], addresses);
            Assert.False(await AcceptsOnAsync(NonLoopbackAddress(), 9464), "the default bind answers on a non-loopback address");
        }
        else
        {
            var output = service.Stdout + service.Stderr;
            Assert.True(output.Contains("127.0.0.1:9464", StringComparison.Ordinal), $"neither listening nor a bind error naming 127.0.0.1:9464:\n{output}");
        }
    }

    private static async Task<ServiceProcess> StartAsync(Dictionary<string, string> extra)
    {
        var endpoints = await TestEngines.GetAsync();
        var database = await TestEngines.CreateDatabaseAsync("apikey");
        var environment = new Dictionary<string, string>
        {
            ["EM_CLICKHOUSE_URL"] = endpoints.ClickHouseUrl.ToString(),
            ["EM_KAFKA_BOOTSTRAP"] = endpoints.KafkaBootstrap,
            ["EM_ClickHouse__Database"] = database,
            ["EM_Kafka__GroupId"] = $"g-{database}",
            ["EM_Jobs__Enabled"] = "false",
        };
        foreach (var (name, value) in extra) environment[name] = value;
        var service = ServiceProcess.Start(["run", "--urls", "http://127.0.0.1:0"], environment);
        try
        {
            await service.WaitForOutputAsync("Now listening on: ", TimeSpan.FromSeconds(60));
            return service;
        }
        catch
        {
            await service.DisposeAsync();
            throw;
        }
    }

    private static HttpClient Client(ServiceProcess service) =>
        new() { BaseAddress = new Uri(ListeningOn().Match(service.Stdout).Groups[1].Value), Timeout = TimeSpan.FromSeconds(30) };

    private static async Task<HttpStatusCode> StatusAsync(HttpClient http, string path, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(path, UriKind.Relative));
        foreach (var (name, value) in headers) request.Headers.TryAddWithoutValidation(name, value);
        using var response = await http.SendAsync(request);
        return response.StatusCode;
    }

    private static async Task WaitReadyAsync(HttpClient http, ServiceProcess service)
    {
        var deadline = TimeProvider.System.GetUtcNow() + TimeSpan.FromSeconds(60);
        while (await StatusAsync(http, "/readyz") != HttpStatusCode.OK)
        {
            Assert.True(TimeProvider.System.GetUtcNow() < deadline, $"/readyz never answered 200 without a key:\n{service.Stdout}\n{service.Stderr}");
            await Task.Delay(250);
        }
    }

    /// <summary>An IPv4 address of this machine that is not loopback (the default route's), or null when it has none.</summary>
    private static IPAddress? NonLoopbackAddress()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            socket.Connect("192.0.2.1", 9); // TEST-NET-1: no packet is sent for UDP connect
            return socket.LocalEndPoint is IPEndPoint { Address: var address } && !IPAddress.IsLoopback(address) ? address : null;
        }
        catch (SocketException)
        {
            return null;
        }
    }

    private static async Task<bool> AcceptsOnAsync(IPAddress? address, int port)
    {
        if (address is null) return false;
        using var client = new TcpClient();
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await client.ConnectAsync(address, port, timeout.Token);
            return true;
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            return false;
        }
    }

    [GeneratedRegex(@"Now listening on: (http://\S+)")]
    private static partial Regex ListeningOn();
}
