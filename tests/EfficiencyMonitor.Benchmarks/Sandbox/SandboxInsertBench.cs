using System.Diagnostics;
using ClickHouse.Driver;

namespace EfficiencyMonitor.Benchmarks.Sandbox;

/// <summary>Figures of one bulk-insert measurement.</summary>
/// <param name="Rows">Rows inserted per run.</param>
/// <param name="RunSeconds">Wall time of each run.</param>
public sealed record InsertBenchResult(long Rows, IReadOnlyList<double> RunSeconds)
{
    /// <summary>Median rows per second over the runs.</summary>
    public double MedianRowsPerSecond => Rows / Median(RunSeconds);

    internal static double Median(IReadOnlyList<double> values)
    {
        var sorted = values.OrderBy(v => v).ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}

/// <summary>
/// Bulk insert through ClickHouse.Driver's <c>InsertBinaryAsync</c> (RowBinary, default zstd request compression) into a
/// MergeTree table shaped like the raw requests table, then a count and sum check so a lost or doubled row fails the run.
/// </summary>
public static class SandboxInsertBench
{
    private sealed class Row
    {
        public ulong id { get; set; }
        public string tenant { get; set; } = "";
        public string model { get; set; } = "";
        public DateTime finished_at { get; set; }
        public uint input_tokens { get; set; }
        public uint output_tokens { get; set; }
        public float decode_ms { get; set; }
    }

    /// <summary>Runs <paramref name="runs"/> inserts of <paramref name="rows"/> rows each into a fresh table.</summary>
    public static async Task<InsertBenchResult> RunAsync(Uri clickHouseUrl, long rows, int runs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(clickHouseUrl);
        using var client = new ClickHouseClient($"Host={clickHouseUrl.Host};Port={clickHouseUrl.Port};Protocol={clickHouseUrl.Scheme};Database=default");
        client.RegisterBinaryInsertType<Row>();
        var database = $"bench_{Guid.NewGuid():N}"[..20];
        await client.ExecuteNonQueryAsync($"CREATE DATABASE {database}", cancellationToken: cancellationToken);
        var times = new List<double>();
        var start = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        for (var run = 0; run < runs; run++)
        {
            var table = $"{database}.rows_{run}";
            await client.ExecuteNonQueryAsync(
                $"CREATE TABLE {table} (id UInt64, tenant LowCardinality(String), model LowCardinality(String), finished_at DateTime64(3, 'UTC'), input_tokens UInt32, output_tokens UInt32, decode_ms Float32) ENGINE = MergeTree ORDER BY (tenant, finished_at)",
                cancellationToken: cancellationToken);
            var watch = Stopwatch.StartNew();
            var inserted = await client.InsertBinaryAsync(table, Generate(rows, start), new InsertOptions
            {
                BatchSize = 100_000,
                ColumnTypes = new Dictionary<string, string>
                {
                    ["id"] = "UInt64", ["tenant"] = "LowCardinality(String)", ["model"] = "LowCardinality(String)",
                    ["finished_at"] = "DateTime64(3, 'UTC')", ["input_tokens"] = "UInt32", ["output_tokens"] = "UInt32", ["decode_ms"] = "Float32",
                },
            }, cancellationToken);
            watch.Stop();
            var count = Convert.ToInt64(await client.ExecuteScalarAsync($"SELECT count() FROM {table}", cancellationToken: cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
            var sum = Convert.ToDecimal(await client.ExecuteScalarAsync($"SELECT sum(toUInt64(input_tokens)) FROM {table}", cancellationToken: cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
            var expectedSum = ExpectedInputSum(rows);
            if (inserted != rows || count != rows || sum != expectedSum)
            {
                throw new InvalidOperationException($"insert lost or doubled rows: asked {rows}, driver reported {inserted}, table has {count} rows, input sum {sum} (expected {expectedSum})");
            }

            times.Add(watch.Elapsed.TotalSeconds);
        }

        await client.ExecuteNonQueryAsync($"DROP DATABASE {database}", cancellationToken: cancellationToken);
        return new InsertBenchResult(rows, times);
    }

    private static IEnumerable<Row> Generate(long rows, DateTime start)
    {
        string[] tenants = ["acme", "globex", "initech", "umbrella"];
        string[] models = ["llama-3.1-70b", "deepseek-r1", "qwen3-32b"];
        for (long i = 0; i < rows; i++)
        {
            yield return new Row
            {
                id = (ulong)i,
                tenant = tenants[i % tenants.Length],
                model = models[i % models.Length],
                finished_at = start.AddMilliseconds(i),
                input_tokens = (uint)(i % 32_768),
                output_tokens = (uint)(i % 2_048),
                decode_ms = i % 1000 / 10f,
            };
        }
    }

    private static decimal ExpectedInputSum(long rows)
    {
        decimal sum = 0;
        for (long i = 0; i < rows; i++) sum += i % 32_768;
        return sum;
    }
}
