using System.IO.Compression;
using System.Net;
using System.Text;
using System.Text.Json;

namespace EfficiencyMonitor.IntegrationTests.ClickHouse;

/// <summary>
/// The endpoint as curl sees it: ClickHouse's HTTP interface with query in the URL and/or body, settings as URL parameters,
/// sessions, compressed bodies, headers. Each test asserts what a real ClickHouse server answers.
/// </summary>
public sealed class RawHttpTests(ClickHouseEndpointFixture endpoint) : IClassFixture<ClickHouseEndpointFixture>, IDisposable
{
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(60) };

    public void Dispose() => _http.Dispose();

    [Fact]
    public async Task Ping_Get_AnswersOk()
    {
        var ping = await _http.GetStringAsync(new Uri(endpoint.Url, "/ping"));
        var root = await _http.GetStringAsync(endpoint.Url);

        Assert.Equal("Ok.\n", ping);
        Assert.Equal("Ok.\n", root);
    }

    [Fact]
    public async Task Post_QueryInUrlAndDataInBody_InsertsAndSelects()
    {
        var table = $"{endpoint.Database}.curl_rows";
        await PostAsync($"CREATE TABLE {table} (id UInt32, s String) ENGINE = MergeTree ORDER BY id");

        await PostAsync("1\tone\n2\ttwo\\ttab\n", query: $"INSERT INTO {table} FORMAT TabSeparated");
        await PostAsync("(3, 'three'), (4, 'it''s')", query: $"INSERT INTO {table} VALUES");
        await PostAsync($"INSERT INTO {table} FORMAT CSV\n5,\"five\"\n");
        await PostAsync($"INSERT INTO {table} VALUES (6, 'six')");

        var text = await PostAsync($"SELECT id, s FROM {table} ORDER BY id");
        Assert.Equal("1\tone\n2\ttwo\\ttab\n3\tthree\n4\tit\\'s\n5\tfive\n6\tsix\n", text);
    }

    [Fact]
    public async Task Post_GzipAndZstdBodies_Decompressed()
    {
        var table = $"{endpoint.Database}.compressed_rows";
        await PostAsync($"CREATE TABLE {table} (id UInt32) ENGINE = MergeTree ORDER BY id");
        var rows = string.Concat(Enumerable.Range(0, 10_000).Select(i => $"{i}\n"));

        await SendAsync(Compress(rows, "gzip"), "gzip", $"INSERT INTO {table} FORMAT TSV");
        await SendAsync(Compress(rows, "zstd"), "zstd", $"INSERT INTO {table} FORMAT TSV");
        await SendAsync(Compress(rows, "br"), "br", $"INSERT INTO {table} FORMAT TSV");
        await SendAsync(Compress(rows, "deflate"), "deflate", $"INSERT INTO {table} FORMAT TSV");
        await SendAsync(Compress($"SELECT count(), sum(id) FROM {table}", "gzip"), "gzip", null);

        var text = await PostAsync($"SELECT count(), sum(id) FROM {table}");
        Assert.Equal($"40000\t{4L * 9999 * 10000 / 2}\n", text);
    }

    [Fact]
    public async Task Get_SettingOnOneRequest_DoesNotLeakToTheNext()
    {
        var withSetting = await GetAsync("SELECT getSetting('max_block_size')", "max_block_size=12345");
        var without = await GetAsync("SELECT getSetting('max_block_size')");
        var setInBody = await PostAsync("SET max_block_size = 777");
        var afterSet = await GetAsync("SELECT getSetting('max_block_size')");

        Assert.Equal("12345\n", withSetting);
        Assert.NotEqual("12345\n", without);
        Assert.Equal("", setInBody);
        Assert.Equal(without, afterSet);
    }

    [Fact]
    public async Task Post_SessionSetting_PersistsInSessionOnly()
    {
        var session = $"s-{Guid.NewGuid():N}";
        var other = $"s-{Guid.NewGuid():N}";

        await PostAsync("SET max_block_size = 4242", query: null, extra: $"session_id={session}");
        var inSession = await PostAsync("SELECT getSetting('max_block_size')", query: null, extra: $"session_id={session}");
        var urlSettingInSession = await PostAsync("SELECT getSetting('max_block_size')", query: null, extra: $"session_id={session}&max_block_size=99");
        var inSessionAgain = await PostAsync("SELECT getSetting('max_block_size')", query: null, extra: $"session_id={session}");
        var otherSession = await PostAsync("SELECT getSetting('max_block_size')", query: null, extra: $"session_id={other}");
        var noSession = await PostAsync("SELECT getSetting('max_block_size')");

        Assert.Equal("4242\n", inSession);
        Assert.Equal("99\n", urlSettingInSession);
        Assert.Equal("4242\n", inSessionAgain);
        Assert.NotEqual("4242\n", otherSession);
        Assert.NotEqual("4242\n", noSession);
    }

    [Fact]
    public async Task Post_SessionTemporaryTable_VisibleInSessionOnly()
    {
        var session = $"s-{Guid.NewGuid():N}";
        await PostAsync("CREATE TEMPORARY TABLE scratch (x UInt8)", query: null, extra: $"session_id={session}");
        await PostAsync("INSERT INTO scratch VALUES (1), (2)", query: null, extra: $"session_id={session}");

        var inSession = await PostAsync("SELECT sum(x) FROM scratch", query: null, extra: $"session_id={session}");
        var outside = await SendRawAsync(new StringContent("SELECT sum(x) FROM scratch"), "");

        Assert.Equal("3\n", inSession);
        Assert.Equal(HttpStatusCode.NotFound, outside.StatusCode);
        Assert.Equal("60", outside.Headers.GetValues("X-ClickHouse-Exception-Code").Single());
    }

    [Fact]
    public async Task Get_DatabaseAndDefaultFormatAndParams_AppliedToThatRequest()
    {
        var table = $"{endpoint.Database}.fmt";
        await PostAsync($"CREATE TABLE {table} (id UInt32, s String) ENGINE = MergeTree ORDER BY id");
        await PostAsync($"INSERT INTO {table} VALUES (1, 'a'), (2, 'b')");

        var response = await SendRawAsync(null, $"query={Uri.EscapeDataString("SELECT id, s FROM fmt WHERE id = {id:UInt32}")}&database={endpoint.Database}&default_format=JSONEachRow&param_id=2&query_id=my-query-1", HttpMethod.Get);
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("{\"id\":2,\"s\":\"b\"}\n", body);
        Assert.Equal("my-query-1", response.Headers.GetValues("X-ClickHouse-Query-Id").Single());
        Assert.Equal("JSONEachRow", response.Headers.GetValues("X-ClickHouse-Format").Single());
        Assert.Equal("UTC", response.Headers.GetValues("X-ClickHouse-Timezone").Single());
        using var summary = JsonDocument.Parse(response.Headers.GetValues("X-ClickHouse-Summary").Single());
        Assert.Equal("1", summary.RootElement.GetProperty("result_rows").GetString());
        Assert.Equal(JsonValueKind.String, summary.RootElement.GetProperty("elapsed_ns").ValueKind);
        Assert.Equal("default\n", await GetAsync("SELECT currentDatabase()"));
    }

    [Fact]
    public async Task Get_Write_RefusedAsReadonlyLikeClickHouse()
    {
        var response = await SendRawAsync(null, $"query={Uri.EscapeDataString($"CREATE TABLE {endpoint.Database}.via_get (x UInt8) ENGINE = Memory")}", HttpMethod.Get);

        Assert.False(response.IsSuccessStatusCode);
        Assert.Equal("164", response.Headers.GetValues("X-ClickHouse-Exception-Code").Single()); // READONLY
    }

    [Fact]
    public async Task Post_UnknownSetting_ClickHouseError()
    {
        var response = await SendRawAsync(new StringContent("SELECT 1"), "no_such_setting_xyz=1");
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("115", response.Headers.GetValues("X-ClickHouse-Exception-Code").Single());
        Assert.StartsWith("Code: 115. DB::Exception:", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Post_MultipleStatements_RefusedLikeClickHouse()
    {
        var response = await SendRawAsync(new StringContent("SELECT 1; SELECT 2"), "");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("62", response.Headers.GetValues("X-ClickHouse-Exception-Code").Single());
        Assert.Equal("1\n", await PostAsync("SELECT 1;"));
    }

    [Fact]
    public async Task Post_Lz4Body_Decompressed()
    {
        var table = $"{endpoint.Database}.lz4_rows";
        await PostAsync($"CREATE TABLE {table} (id UInt32) ENGINE = MergeTree ORDER BY id");
        using var compressed = new MemoryStream();
        await using (var lz4 = K4os.Compression.LZ4.Streams.LZ4Stream.Encode(compressed, leaveOpen: true))
        {
            await lz4.WriteAsync(Encoding.UTF8.GetBytes(string.Concat(Enumerable.Range(1, 1000).Select(i => $"{i}\n"))));
        }

        await SendAsync(compressed.ToArray(), "lz4", $"INSERT INTO {table} FORMAT TSV");

        Assert.Equal("1000\t500500\n", await PostAsync($"SELECT count(), sum(id) FROM {table}"));
    }

    private async Task<string> GetAsync(string query, string extra = "")
    {
        var response = await SendRawAsync(null, $"query={Uri.EscapeDataString(query)}{(extra.Length > 0 ? "&" + extra : "")}", HttpMethod.Get);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        return text;
    }

    private async Task<string> PostAsync(string body, string? query = null, string extra = "")
    {
        var parameters = string.Join('&', new[] { query is null ? null : $"query={Uri.EscapeDataString(query)}", extra.Length > 0 ? extra : null }.Where(p => p is not null));
        var response = await SendRawAsync(new StringContent(body, Encoding.UTF8), parameters);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        return text;
    }

    private async Task SendAsync(byte[] compressed, string encoding, string? query)
    {
        var content = new ByteArrayContent(compressed);
        content.Headers.ContentEncoding.Add(encoding);
        var response = await SendRawAsync(content, query is null ? "" : $"query={Uri.EscapeDataString(query)}");
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    private async Task<HttpResponseMessage> SendRawAsync(HttpContent? content, string parameters, HttpMethod? method = null)
    {
        using var request = new HttpRequestMessage(method ?? HttpMethod.Post, new Uri(endpoint.Url, "/?" + parameters)) { Content = content };
        var response = await _http.SendAsync(request);
        await response.Content.LoadIntoBufferAsync();
        return response;
    }

    private static byte[] Compress(string text, string encoding)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        if (encoding == "zstd")
        {
            using var compressor = new ZstdSharp.Compressor(3);
            return compressor.Wrap(bytes).ToArray();
        }

        using var output = new MemoryStream();
        using (Stream stream = encoding switch
        {
            "gzip" => new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true),
            "br" => new BrotliStream(output, CompressionLevel.Fastest, leaveOpen: true),
            _ => new ZLibStream(output, CompressionLevel.Fastest, leaveOpen: true),
        })
        {
            stream.Write(bytes);
        }

        return output.ToArray();
    }
}
