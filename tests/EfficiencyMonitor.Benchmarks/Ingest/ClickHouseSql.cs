using System.Globalization;
using System.Net.Http.Headers;
using System.Text;

namespace EfficiencyMonitor.Benchmarks.Ingest;

/// <summary>
/// Plain SQL over ClickHouse's HTTP interface (the sandbox endpoint): DDL and small checks, with the server's error text
/// in the exception. Each request runs on its own chDB connection unless <paramref name="sessionId"/> is given.
/// </summary>
public sealed class ClickHouseSql(Uri baseUrl, string? sessionId = null) : IDisposable
{
    private readonly HttpClient _http = new() { BaseAddress = baseUrl, Timeout = TimeSpan.FromMinutes(10) };

    /// <summary>Runs <paramref name="sql"/> and returns its TabSeparated output.</summary>
    public async Task<string> QueryAsync(string sql, CancellationToken cancellationToken = default)
    {
        var url = "/?default_format=TabSeparated" + (sessionId is null ? "" : "&session_id=" + Uri.EscapeDataString(sessionId) + "&session_timeout=3600");
        using var content = new StringContent(sql, Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue("text/plain");
        using var response = await _http.PostAsync(new Uri(url, UriKind.Relative), content, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"ClickHouse rejected `{Shorten(sql)}`: {text.Trim()}");
        }

        return text;
    }

    /// <summary>The numbers of the first output row.</summary>
    public async Task<double[]> NumbersAsync(string sql, CancellationToken cancellationToken = default)
    {
        var text = (await QueryAsync(sql, cancellationToken)).Trim();
        return text.Length == 0
            ? []
            : text.Split('\n')[0].Split('\t').Select(v => v is "nan" or "\\N" ? double.NaN : double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
    }

    public void Dispose() => _http.Dispose();

    private static string Shorten(string sql)
    {
        var flat = string.Join(' ', sql.Split((char[])['\n', '\r', ' '], StringSplitOptions.RemoveEmptyEntries));
        return flat.Length <= 160 ? flat : flat[..160] + "…";
    }
}
