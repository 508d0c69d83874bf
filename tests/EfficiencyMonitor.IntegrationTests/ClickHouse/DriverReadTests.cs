using System.Globalization;
using ClickHouse.Driver.ADO;
using ClickHouse.Driver.ADO.Readers;
using ClickHouse.Driver.Utility;

namespace EfficiencyMonitor.IntegrationTests.ClickHouse;

/// <summary>ClickHouse.Driver reads every column type the schema uses, with exact values.</summary>
public sealed class DriverReadTests(ClickHouseEndpointFixture endpoint) : IClassFixture<ClickHouseEndpointFixture>
{
    [Fact]
    public async Task ExecuteReader_EverySchemaColumnType_ReadsExactValues()
    {
        var table = $"{endpoint.Database}.all_types";
        await endpoint.ExecuteAsync($"""
            CREATE TABLE {table}
            (
                ts DateTime64(3, 'UTC') CODEC(DoubleDelta, ZSTD(1)),
                model LowCardinality(String),
                text String,
                u8 UInt8, u16 UInt16, u32 UInt32 CODEC(T64, ZSTD(1)), u64 UInt64,
                i64 Int64,
                f32 Float32, f64 Float64,
                flag Bool,
                status Enum8('ok' = 1, 'error' = 2, 'timeout' = 3),
                maybe_ts Nullable(DateTime64(3, 'UTC')),
                maybe_f32 Nullable(Float32),
                maybe_flag Nullable(Bool),
                maybe_f64 Nullable(Float64),
                id UUID,
                counts Array(UInt64),
                tags Map(String, UInt64)
            )
            ENGINE = MergeTree ORDER BY ts
            """);
        await endpoint.ExecuteAsync($$"""
            INSERT INTO {{table}} VALUES
            ('2026-03-01 12:34:56.789', 'llama-3-70b', 'tab\there, ''quote'', 雪 🚀', 255, 65535, 4294967295, 18446744073709551615,
             -9223372036854775808, 1.5, 0.1, true, 'timeout', '2026-03-01 12:34:57.001', 0.25, false, NULL,
             '6f1c2a3b-4d5e-4f60-8a9b-0c1d2e3f4a5b', [1, 18446744073709551615], {'a': 1, 'b': 2}),
            ('2026-03-01 12:34:57.000', 'mixtral', '', 0, 0, 0, 0, 9223372036854775807, -0, -1e300, false, 'ok', NULL, NULL, NULL, 2.5,
             '00000000-0000-0000-0000-000000000000', [], {})
            """);

        await using var connection = await endpoint.DataSource.OpenConnectionAsync(CancellationToken.None);
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT * FROM {table} ORDER BY ts";
        await using var reader = (ClickHouseDataReader)await command.ExecuteReaderAsync();

        Assert.True(await reader.ReadAsync());
        var ts = reader.GetDateTime(reader.GetOrdinal("ts"));
        Assert.Equal(new DateTime(2026, 3, 1, 12, 34, 56, 789, DateTimeKind.Utc), ts.ToUniversalTime());
        Assert.Equal("llama-3-70b", reader.GetString(reader.GetOrdinal("model")));
        Assert.Equal("tab\there, 'quote', 雪 🚀", reader.GetString(reader.GetOrdinal("text")));
        Assert.Equal((byte)255, reader.GetFieldValue<byte>(reader.GetOrdinal("u8")));
        Assert.Equal((ushort)65535, reader.GetFieldValue<ushort>(reader.GetOrdinal("u16")));
        Assert.Equal(uint.MaxValue, reader.GetFieldValue<uint>(reader.GetOrdinal("u32")));
        Assert.Equal(ulong.MaxValue, reader.GetFieldValue<ulong>(reader.GetOrdinal("u64")));
        Assert.Equal(long.MinValue, reader.GetInt64(reader.GetOrdinal("i64")));
        Assert.Equal(1.5f, reader.GetFloat(reader.GetOrdinal("f32")));
        Assert.Equal(0.1, reader.GetDouble(reader.GetOrdinal("f64")));
        Assert.True(reader.GetBoolean(reader.GetOrdinal("flag")));
        Assert.Equal("timeout", Convert.ToString(reader.GetValue(reader.GetOrdinal("status")), CultureInfo.InvariantCulture));
        Assert.Equal(new DateTime(2026, 3, 1, 12, 34, 57, 1, DateTimeKind.Utc), reader.GetDateTime(reader.GetOrdinal("maybe_ts")).ToUniversalTime());
        Assert.Equal(0.25f, reader.GetFloat(reader.GetOrdinal("maybe_f32")));
        Assert.False(reader.GetBoolean(reader.GetOrdinal("maybe_flag")));
        Assert.True(reader.IsDBNull(reader.GetOrdinal("maybe_f64")));
        Assert.Equal(Guid.Parse("6f1c2a3b-4d5e-4f60-8a9b-0c1d2e3f4a5b"), reader.GetGuid(reader.GetOrdinal("id")));
        Assert.Equal([1UL, ulong.MaxValue], (ulong[])reader.GetValue(reader.GetOrdinal("counts")));
        var tags = (IDictionary<string, ulong>)reader.GetValue(reader.GetOrdinal("tags"));
        Assert.Equal(2, tags.Count);
        Assert.Equal(1UL, tags["a"]);
        Assert.Equal(2UL, tags["b"]);

        Assert.True(await reader.ReadAsync());
        Assert.Equal("", reader.GetString(reader.GetOrdinal("text")));
        Assert.Equal(long.MaxValue, reader.GetInt64(reader.GetOrdinal("i64")));
        Assert.Equal(-1e300, reader.GetDouble(reader.GetOrdinal("f64")));
        Assert.Equal("ok", Convert.ToString(reader.GetValue(reader.GetOrdinal("status")), CultureInfo.InvariantCulture));
        Assert.True(reader.IsDBNull(reader.GetOrdinal("maybe_ts")));
        Assert.True(reader.IsDBNull(reader.GetOrdinal("maybe_f32")));
        Assert.True(reader.IsDBNull(reader.GetOrdinal("maybe_flag")));
        Assert.Equal(2.5, reader.GetDouble(reader.GetOrdinal("maybe_f64")));
        Assert.Equal(Guid.Empty, reader.GetGuid(reader.GetOrdinal("id")));
        Assert.Empty((ulong[])reader.GetValue(reader.GetOrdinal("counts")));
        Assert.Empty((IDictionary<string, ulong>)reader.GetValue(reader.GetOrdinal("tags")));
        Assert.False(await reader.ReadAsync());
    }

    [Fact]
    public async Task ExecuteScalar_UseSessionConnection_SetPersistsOnThatConnectionOnly()
    {
        var sessionDataSource = new ClickHouseDataSource(endpoint.ConnectionString + ";UseSession=true");
        await using var session = await sessionDataSource.OpenConnectionAsync(CancellationToken.None);
        await using var plain = await endpoint.DataSource.OpenConnectionAsync(CancellationToken.None);

        await session.ExecuteStatementAsync("SET max_block_size = 31337");
        var inSession = await session.ExecuteScalarAsync("SELECT getSetting('max_block_size')");
        var elsewhere = await plain.ExecuteScalarAsync("SELECT getSetting('max_block_size')");

        Assert.Equal(31337UL, Convert.ToUInt64(inSession, CultureInfo.InvariantCulture));
        Assert.NotEqual(31337UL, Convert.ToUInt64(elsewhere, CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task ExecuteNonQuery_InsertValuesWithTypedParameters_StoresThem()
    {
        var table = $"{endpoint.Database}.values_params";
        await endpoint.ExecuteAsync($"CREATE TABLE {table} (version UInt32, name String, applied_at DateTime64(3, 'UTC')) ENGINE = MergeTree ORDER BY version");
        await using var connection = await endpoint.DataSource.OpenConnectionAsync(CancellationToken.None);
        using var command = connection.CreateCommand();
        command.CommandText = $"INSERT INTO {table} (version, name, applied_at) VALUES ({{version:UInt32}}, {{name:String}}, {{at:DateTime64(3, 'UTC')}})";
        command.AddParameter("version", 7u);
        command.AddParameter("name", "0001_raw_tables.sql");
        command.AddParameter("at", new DateTime(2026, 3, 1, 0, 0, 0, 5, DateTimeKind.Utc));

        await command.ExecuteNonQueryAsync();

        Assert.Equal("7|0001_raw_tables.sql|2026-03-01 00:00:00.005", await endpoint.ScalarAsync($"SELECT concat(toString(version), '|', name, '|', toString(applied_at)) FROM {table}"));
    }

    [Fact]
    public async Task ExecuteReader_TypedQueryParameters_BoundByTheEngine()
    {
        await using var connection = await endpoint.DataSource.OpenConnectionAsync(CancellationToken.None);
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT {n:UInt64} + 1 AS n, {s:String} AS s, {t:DateTime64(3, 'UTC')} AS t";
        command.AddParameter("n", ulong.MaxValue - 1);
        command.AddParameter("s", "it's {not} a placeholder");
        command.AddParameter("t", new DateTime(2026, 1, 2, 3, 4, 5, 678, DateTimeKind.Utc));
        await using var reader = await command.ExecuteReaderAsync();

        Assert.True(await reader.ReadAsync());
        Assert.Equal(ulong.MaxValue, reader.GetFieldValue<ulong>(0));
        Assert.Equal("it's {not} a placeholder", reader.GetString(1));
        Assert.Equal(new DateTime(2026, 1, 2, 3, 4, 5, 678, DateTimeKind.Utc), reader.GetDateTime(2).ToUniversalTime());
    }
}
