using ClickHouse.Driver;

namespace EfficiencyMonitor.IntegrationTests.ClickHouse;

/// <summary>Engine errors reach the driver as <see cref="ClickHouseServerException"/> with ClickHouse's own error code.</summary>
public sealed class ServerErrorTests(ClickHouseEndpointFixture endpoint) : IClassFixture<ClickHouseEndpointFixture>
{
    [Theory]
    [InlineData("SELEC 1", 62)] // SYNTAX_ERROR
    [InlineData("SELECT * FROM no_such_table_here", 60)] // UNKNOWN_TABLE
    [InlineData("SELECT no_such_column FROM system.one", 47)] // UNKNOWN_IDENTIFIER
    [InlineData("SELECT no_such_function(1)", 46)] // UNKNOWN_FUNCTION
    [InlineData("SELECT * FROM no_such_db_here.t", 81)] // UNKNOWN_DATABASE
    [InlineData("SELECT 1 SETTINGS no_such_setting = 1", 115)] // UNKNOWN_SETTING
    [InlineData("SELECT throwIf(1, 'boom')", 395)] // FUNCTION_THROW_IF_VALUE_IS_NON_ZERO
    public async Task ExecuteScalar_BadSql_ThrowsServerExceptionWithClickHouseCode(string sql, int code)
    {
        var exception = await Assert.ThrowsAsync<ClickHouseServerException>(() => endpoint.ScalarAsync(sql));

        Assert.Equal(code, exception.ErrorCode);
        Assert.StartsWith($"Code: {code}. DB::Exception:", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InsertBinaryAsync_UnknownColumn_ThrowsServerExceptionAndInsertsNothing()
    {
        var table = $"{endpoint.Database}.strict";
        await endpoint.ExecuteAsync($"CREATE TABLE {table} (id UInt64) ENGINE = MergeTree ORDER BY id");
        using var client = new ClickHouseClient(endpoint.ConnectionString);

        var exception = await Assert.ThrowsAsync<ClickHouseServerException>(() =>
            client.InsertBinaryAsync(table, ["id", "missing"], [[1UL, 2UL]], new InsertOptions(), CancellationToken.None));

        Assert.True(exception.ErrorCode is 16 or 47, $"code {exception.ErrorCode}: {exception.Message}"); // NO_SUCH_COLUMN_IN_TABLE / UNKNOWN_IDENTIFIER
        Assert.Equal(0UL, (ulong)(await endpoint.ScalarAsync($"SELECT count() FROM {table}"))!);
    }
}
