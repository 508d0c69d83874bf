using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using EfficiencyMonitor.TestInfrastructure;
using Xunit.Abstractions;

namespace EfficiencyMonitor.IntegrationTests.Cli;

/// <summary>
/// The README's first command, end to end in bounded time: the demo replays 75 minutes of the demo scenario at 100×
/// through the sandbox's Kafka and the service, calibrates on the first hour and prints the efficiency report naming the
/// incident's factor; while it keeps running, the real app's /metrics carries the efficiency gauges with the values the
/// report printed, and /api/validation serves the validated windows.
/// </summary>
public sealed partial class DemoTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Demo_ReplaysCalibratesReportsTheIncidentAndServesMetrics()
    {
        var data = Path.Combine(Path.GetTempPath(), "em-demo-report", Guid.NewGuid().ToString("N"));
        await using var demo = ServiceProcess.Start([
            "demo", "--clickhouse-http", "127.0.0.1:0", "--kafka", "127.0.0.1:0", "--urls", "http://127.0.0.1:0", "--data", data,
            "--history", "75m", "--speed", "100", "--duration", "150s",
        ]);
        try
        {
            await demo.WaitForOutputAsync("metrics: http", TimeSpan.FromSeconds(140));
        }
        finally
        {
            output.WriteLine(demo.Stdout);
        }

        var stdout = demo.Stdout;
        Assert.Contains("calibrated llama-70b-chat-prod on 12 windows", stdout, StringComparison.Ordinal);
        Assert.Contains("efficiency report", stdout, StringComparison.Ordinal);
        var largest = LargestDrift().Match(stdout);
        Assert.True(largest.Success, stdout);
        var drift = double.Parse(largest.Groups["drift"].Value, CultureInfo.InvariantCulture) / 100;
        Assert.True(drift > 0.10, $"the reasoning surge should drift spend per success by more than 10 %, report says {drift:P1}");
        Assert.Equal("output_length", largest.Groups["factor"].Value);
        Assert.Contains("reasoning depth +", stdout, StringComparison.Ordinal);

        var url = MetricsUrl().Match(stdout).Groups[1].Value;
        using var http = new HttpClient { BaseAddress = new Uri(url) };
        var metrics = await http.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        const string Dep = "deployment=\"llama-70b-chat-prod\"";
        var gauge = Value(metrics, "em_efficiency_drift_ratio", Dep);
        Assert.True(gauge > 0.10, $"em_efficiency_drift_ratio {gauge}");
        foreach (var basis in new[] { "realized_bill", "realized_work", "model", "plan" })
            Assert.True(Value(metrics, "em_efficiency_spend_per_success_usd", Dep, $"basis=\"{basis}\"") > 0, basis);
        // The factors sum to ln(1 + drift), and output length leads.
        var factors = new[] { "price", "energy", "success_rate", "input_length", "output_length", "cache_hit_mix", "prefill_speed", "kv_load_speed", "decode_speed" }
            .ToDictionary(f => f, f => Value(metrics, "em_efficiency_drift_contribution", Dep, $"factor=\"{f}\""));
        Assert.Equal(Math.Log(1 + gauge), factors.Values.Sum(), 6);
        Assert.Equal("output_length", factors.MaxBy(kv => Math.Abs(kv.Value)).Key);
        Assert.InRange(Value(metrics, "em_efficiency_model_mape", Dep), 0, 0.5);
        Assert.InRange(Value(metrics, "em_efficiency_cache_hit_ratio", Dep, "tier=\"hbm\""), 0.01, 1);
        Assert.InRange(Value(metrics, "em_efficiency_utilization", Dep, "basis=\"planned\""), 0.01, 1);
        Assert.True(Value(metrics, "em_efficiency_output_tokens_per_joule", Dep) > 0);
        Assert.True(Value(metrics, "em_efficiency_break_even_bandwidth_gigabytes_per_second", Dep, "tier=\"dram\"") > 0);
        var windowEnd = Value(metrics, "em_efficiency_window_end_timestamp_seconds", Dep);
        Assert.InRange(windowEnd, TimeProvider.System.GetUtcNow().AddHours(-1).ToUnixTimeSeconds(), TimeProvider.System.GetUtcNow().ToUnixTimeSeconds());
        Assert.True(Value(metrics, "em_jobs_last_success_timestamp_seconds", "job_name=\"forecast_validation\"") > windowEnd - 3600);

        var json = await http.GetStringAsync(new Uri("/api/validation?deployment=llama-70b-chat-prod&window=5m", UriKind.Relative));
        using (var doc = JsonDocument.Parse(json))
        {
            var windows = doc.RootElement.GetProperty("windows");
            Assert.True(windows.GetArrayLength() >= 12, json);
            var last = windows[windows.GetArrayLength() - 1];
            Assert.Equal(gauge, last.GetProperty("efficiency_drift_ratio").GetDouble(), 9);
            Assert.Equal("output_length", last.GetProperty("top_factor").GetString());
        }

        // Ctrl-C-like stop while /metrics is up: a clean exit.
        demo.Signal(15);
        Assert.Equal(0, await demo.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains("stopping", demo.Stdout, StringComparison.Ordinal);
    }

    /// <summary>The value of the sample of <paramref name="name"/> whose labels include every one of <paramref name="labels"/>.</summary>
    private static double Value(string metrics, string name, params string[] labels)
    {
        foreach (var line in metrics.Split('\n'))
        {
            if (!line.StartsWith(name + "{", StringComparison.Ordinal) || !labels.All(l => line.Contains(l, StringComparison.Ordinal))) continue;
            return double.Parse(line[(line.LastIndexOf('}') + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        }

        throw new Xunit.Sdk.XunitException($"no sample {name}{{{string.Join(",", labels)}}} in /metrics:\n{metrics}");
    }

    [GeneratedRegex(@"largest drift: \S+ \S+ realized \$[\d.]+ vs predicted \$[\d.]+ per successful output \((?<drift>[+-][\d.]+)%\), explained by (?<factor>\w+)")]
    private static partial Regex LargestDrift();

    [GeneratedRegex(@"metrics: (http://\S+)/metrics")]
    private static partial Regex MetricsUrl();
}
