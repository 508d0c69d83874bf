using Dapper;

namespace EfficiencyMonitor.IntegrationTests.ClickHouse;

/// <summary>
/// Dapper over ClickHouse.Driver: parameters reach the engine byte-exact. Dapper drops members of a parameter object that
/// the SQL does not mention as <c>@name</c>, so Dapper SQL uses <c>@name</c> (the driver turns it into <c>{name:Type}</c>).
/// </summary>
public sealed class DapperTests(ClickHouseEndpointFixture endpoint) : IClassFixture<ClickHouseEndpointFixture>
{
    private static readonly string[] Awkward =
    [
        "it's a 'quote'",
        "back\\slash \\' \\n not-a-newline",
        "line one\nline two\r\nline three",
        "tab\tseparated\tvalues",
        "nul\0inside\0",
        "emoji 🚀🔥 and CJK 雪花 漢字 and RTL שלום",
        "{braces:String} $1 ? @p -- not a comment /* nor this */",
        "\"double\" `back` quotes;",
        "",
    ];

    public static TheoryData<string> AwkwardStrings => new(Awkward);

    [Theory]
    [MemberData(nameof(AwkwardStrings))]
    public async Task QueryAsync_AwkwardStringParameter_RoundTripsExactly(string value)
    {
        await using var connection = await endpoint.DataSource.OpenConnectionAsync(CancellationToken.None);

        var echoed = await connection.QuerySingleAsync<string>("SELECT @v", new { v = value });

        Assert.Equal(value, echoed);
    }

    [Fact]
    public async Task ExecuteAsync_InsertAndFilterWithAwkwardParameters_StoresAndFindsExactValues()
    {
        var table = $"{endpoint.Database}.notes";
        await endpoint.ExecuteAsync($"CREATE TABLE {table} (id UInt32, note String, model LowCardinality(String)) ENGINE = MergeTree ORDER BY id");
        await using var connection = await endpoint.DataSource.OpenConnectionAsync(CancellationToken.None);
        var values = Awkward.ToList();
        for (var i = 0; i < values.Count; i++)
        {
            await connection.ExecuteAsync(
                $"INSERT INTO {table} (id, note, model) VALUES (@id, @note, @model)",
                new { id = (uint)i, note = values[i], model = values[i] });
        }

        var stored = (await connection.QueryAsync<(uint Id, string Note, string Model)>($"SELECT id, note, model FROM {table} ORDER BY id")).ToList();
        Assert.Equal(values, stored.Select(r => r.Note));
        Assert.Equal(values, stored.Select(r => r.Model));
        foreach (var value in values)
        {
            var count = await connection.ExecuteScalarAsync<ulong>($"SELECT count() FROM {table} WHERE note = @note", new { note = value });
            Assert.Equal(1UL, count);
        }
    }

    [Fact]
    public async Task QueryAsync_TypedParameters_FilterAndAggregate()
    {
        await using var connection = await endpoint.DataSource.OpenConnectionAsync(CancellationToken.None);

        var rows = (await connection.QueryAsync<(ulong Bucket, ulong Total)>(
            "SELECT number % 3 AS bucket, sum(number) AS total FROM numbers(@n) WHERE number >= @from GROUP BY bucket ORDER BY bucket",
            new { n = 1000UL, from = 10UL })).ToList();

        Assert.Equal(3, rows.Count);
        Assert.Equal(Enumerable.Range(10, 990).Select(i => (ulong)i).Aggregate(0UL, (a, b) => a + b), rows.Aggregate(0UL, (a, r) => a + r.Total));
    }
}
