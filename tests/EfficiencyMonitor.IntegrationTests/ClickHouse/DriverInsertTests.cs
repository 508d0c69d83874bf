using System.Diagnostics;
using ClickHouse.Driver;
using Xunit.Abstractions;

namespace EfficiencyMonitor.IntegrationTests.ClickHouse;

/// <summary>Bulk inserts through ClickHouse.Driver land exactly once, never truncated.</summary>
public sealed class DriverInsertTests(ClickHouseEndpointFixture endpoint, ITestOutputHelper output) : IClassFixture<ClickHouseEndpointFixture>
{
    private static readonly string[] Columns = ["id", "started_at", "model", "tokens", "kv_bytes", "latency_ms", "cost", "ok"];

    [Fact]
    public async Task InsertBinaryAsync_MillionRowsDefaultCompression_ExactCountAndSums()
    {
        const int rowCount = 1_000_000;
        var table = $"{endpoint.Database}.million";
        await CreateTableAsync(table);
        var models = new[] { "llama-3-70b", "mixtral-8x7b", "qwen-72b", "模型-🚀" };
        var start = new DateTime(2026, 3, 1, 0, 0, 0, DateTimeKind.Utc);
        var expected = new Sums();
        var rows = new List<object[]>(rowCount);
        var random = new Random(7);
        for (var i = 0; i < rowCount; i++)
        {
            var tokens = (uint)random.Next(0, 100_000);
            var kvBytes = (ulong)random.NextInt64(0, long.MaxValue) * 2 + (ulong)(i & 1);
            var latency = (float)(random.NextDouble() * 1000);
            var cost = random.NextDouble() * 1e-3;
            expected.Add((ulong)i, tokens, kvBytes, i % 3 == 0);
            rows.Add([(ulong)i, start.AddMilliseconds(i), models[i % models.Length], tokens, kvBytes, latency, cost, i % 3 == 0]);
        }

        using var client = new ClickHouseClient(endpoint.ConnectionString);
        var stopwatch = Stopwatch.StartNew();
        var inserted = await client.InsertBinaryAsync(table, Columns, rows, new InsertOptions(), CancellationToken.None);
        stopwatch.Stop();
        output.WriteLine($"1M rows: {stopwatch.Elapsed.TotalSeconds:F2} s, {rowCount / stopwatch.Elapsed.TotalSeconds:N0} rows/s");

        Assert.Equal(rowCount, inserted);
        var actual = await ReadSumsAsync(table);
        Assert.Equal(expected, actual);
        Assert.Equal((ulong)rowCount, (ulong)(await endpoint.ScalarAsync($"SELECT uniqExact(id) FROM {table}"))!);
        // Float columns: the very bits sent are stored (a sum of the bit patterns is exact, unlike a float sum whose order varies).
        var latencyBits = rows.Aggregate(0UL, (sum, r) => sum + BitConverter.SingleToUInt32Bits((float)r[5]));
        var costBits = rows.Aggregate(0UL, (sum, r) => unchecked(sum + BitConverter.DoubleToUInt64Bits((double)r[6])));
        Assert.Equal(latencyBits, (ulong)(await endpoint.ScalarAsync($"SELECT sum(reinterpretAsUInt32(latency_ms)) FROM {table}"))!);
        Assert.Equal(costBits, (ulong)(await endpoint.ScalarAsync($"SELECT sum(reinterpretAsUInt64(cost)) FROM {table}"))!);
    }

    [Fact]
    public async Task InsertBinaryAsync_EightConcurrentInserters_EveryRowExactlyOnce()
    {
        const int inserters = 8;
        const int rowsEach = 20_000;
        var table = $"{endpoint.Database}.concurrent";
        await CreateTableAsync(table);
        var start = new DateTime(2026, 3, 1, 0, 0, 0, DateTimeKind.Utc);
        var expected = new Sums();
        var batches = new List<object[]>[inserters];
        for (var w = 0; w < inserters; w++)
        {
            batches[w] = new List<object[]>(rowsEach);
            for (var i = 0; i < rowsEach; i++)
            {
                var id = (ulong)(w * rowsEach + i);
                expected.Add(id, (uint)i, id * 3, w % 2 == 0);
                batches[w].Add([id, start.AddSeconds(i), $"worker-{w}", (uint)i, id * 3, 1.5f, 0.5, w % 2 == 0]);
            }
        }

        using var client = new ClickHouseClient(endpoint.ConnectionString);
        // Each worker sends its rows in 4 requests; all 32 requests race for the one engine.
        var counts = await Task.WhenAll(batches.Select(batch => Task.Run(() =>
            client.InsertBinaryAsync(table, Columns, batch, new InsertOptions { BatchSize = rowsEach / 4 }, CancellationToken.None))));

        Assert.All(counts, c => Assert.Equal(rowsEach, c));
        Assert.Equal(expected, await ReadSumsAsync(table));
        Assert.Equal((ulong)(inserters * rowsEach), (ulong)(await endpoint.ScalarAsync($"SELECT uniqExact(id) FROM {table}"))!);
    }

    private Task CreateTableAsync(string table) => endpoint.ExecuteAsync($"""
        CREATE TABLE {table}
        (
            id UInt64,
            started_at DateTime64(3, 'UTC'),
            model LowCardinality(String),
            tokens UInt32,
            kv_bytes UInt64,
            latency_ms Float32,
            cost Float64,
            ok Bool
        )
        ENGINE = MergeTree ORDER BY id
        """);

    private async Task<Sums> ReadSumsAsync(string table)
    {
        await using var connection = await endpoint.DataSource.OpenConnectionAsync(CancellationToken.None);
        using var command = connection.CreateCommand();
        // UInt64 sums wrap modulo 2^64 in ClickHouse exactly as unchecked ulong addition does in C#.
        command.CommandText = $"SELECT count(), sum(id), sum(tokens), sum(kv_bytes), countIf(ok) FROM {table}";
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        return new Sums
        {
            Count = reader.GetFieldValue<ulong>(0),
            Ids = reader.GetFieldValue<ulong>(1),
            Tokens = reader.GetFieldValue<ulong>(2),
            KvBytes = reader.GetFieldValue<ulong>(3),
            Ok = reader.GetFieldValue<ulong>(4),
        };
    }

    private sealed record Sums
    {
        public ulong Count { get; set; }
        public ulong Ids { get; set; }
        public ulong Tokens { get; set; }
        public ulong KvBytes { get; set; }
        public ulong Ok { get; set; }

        public void Add(ulong id, uint tokens, ulong kvBytes, bool ok)
        {
            unchecked
            {
                Count++;
                Ids += id;
                Tokens += tokens;
                KvBytes += kvBytes;
                Ok += ok ? 1UL : 0UL;
            }
        }
    }
}
