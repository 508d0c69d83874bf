using System.Globalization;
using System.Text.RegularExpressions;
using EfficiencyMonitor.TestInfrastructure;

namespace EfficiencyMonitor.IntegrationTests.Ingestion;

public sealed partial class IngestionMetricsTests
{
    [Fact]
    public async Task Metrics_AfterIngesting_CountsStoredAndRejectedWithUnitsAndReady()
    {
        await using var harness = await IngestionHarness.CreateAsync("ing_metrics", partitions: 4);
        var now = TimeProvider.System.GetUtcNow();
        await harness.StartServiceAsync();
        await harness.Service.WaitForOutputAsync("Now listening on: ", TimeSpan.FromSeconds(30));
        var baseUrl = new Uri(ListeningOn().Match(harness.Service.Stdout).Groups[1].Value);

        const int valid = 1_000;
        const int bad = 7;
        using (var producer = TelemetryRecords.CreateProducer(harness.Endpoints.KafkaBootstrap))
        {
            TelemetryRecords.ProduceAll(producer, harness.RequestsTopic, harness.Partitions,
                Enumerable.Range(0, valid).Select(i => TelemetryRecords.Request("metrics", i, now))
                    .Concat(Enumerable.Range(0, bad).Select(_ => "{\"schema_version\":1"u8.ToArray())));
        }

        await harness.WaitForRowsAsync("inference_requests", valid, TimeSpan.FromSeconds(60));
        using var http = new HttpClient { BaseAddress = baseUrl };
        string metrics = "";
        var deadline = TimeProvider.System.GetUtcNow() + TimeSpan.FromSeconds(30);
        while (TimeProvider.System.GetUtcNow() < deadline)
        {
            metrics = await http.GetStringAsync(new Uri("/metrics", UriKind.Relative));
            if (Value(metrics, "em_ingest_records_total", harness.RequestsTopic, "outcome=\"stored\"") == valid
                && Value(metrics, "em_ingest_rejected_total", harness.RequestsTopic, "reason=\"malformed_json\"") == bad
                && metrics.Contains("em_ingest_lag{", StringComparison.Ordinal)) // the lag gauge is refreshed once a second
            {
                break;
            }

            await Task.Delay(500);
        }

        Assert.Equal(valid, Value(metrics, "em_ingest_records_total", harness.RequestsTopic, "outcome=\"stored\""));
        Assert.Equal(bad, Value(metrics, "em_ingest_records_total", harness.RequestsTopic, "outcome=\"rejected\""));
        Assert.Equal(bad, Value(metrics, "em_ingest_rejected_total", harness.RequestsTopic, "reason=\"malformed_json\""));
        Assert.Contains("# TYPE em_ingest_insert_duration_seconds histogram", metrics, StringComparison.Ordinal);
        Assert.Contains("# TYPE em_ingest_freshness_seconds histogram", metrics, StringComparison.Ordinal);
        Assert.Contains("em_ingest_batch_rows_sum{", metrics, StringComparison.Ordinal);
        var lagLines = string.Join('\n', metrics.Split('\n').Where(l => l.Contains("em_ingest_lag", StringComparison.Ordinal)));
        Assert.True(Regex.IsMatch(lagLines, @"em_ingest_lag\{[^}]*partition=""\d+""[^}]*\} \d+"), lagLines);

        Assert.Equal("ok\n", await http.GetStringAsync(new Uri("/healthz", UriKind.Relative)));
        using var ready = await http.GetAsync(new Uri("/readyz", UriKind.Relative));
        Assert.Equal(System.Net.HttpStatusCode.OK, ready.StatusCode);
    }

    private static double Value(string metrics, string name, string topic, string label)
    {
        foreach (var line in metrics.Split('\n'))
        {
            if (line.StartsWith(name + "{", StringComparison.Ordinal) && line.Contains($"topic=\"{topic}\"", StringComparison.Ordinal) && line.Contains(label, StringComparison.Ordinal))
            {
                return double.Parse(line[(line.LastIndexOf('}') + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
            }
        }

        return double.NaN;
    }

    [GeneratedRegex(@"Now listening on: (http://\S+)")]
    private static partial Regex ListeningOn();
}
