using ClickHouse.Driver.ADO;
using Dapper;
using EfficiencyMonitor.Storage;
using EfficiencyMonitor.Storage.Migrations;
using EfficiencyMonitor.TestInfrastructure;
using Microsoft.Extensions.Logging.Abstractions;

namespace EfficiencyMonitor.IntegrationTests.Storage;

public sealed class MigrationRunnerTests
{
    private static async Task<(ClickHouseOptions Options, ClickHouseConnection Connection)> FreshDatabaseAsync()
    {
        var endpoints = await TestEngines.GetAsync();
        // A name the runner itself must create: proves it creates the database before using it.
        var database = $"mig_{Guid.NewGuid():N}";
        var options = new ClickHouseOptions { Url = endpoints.ClickHouseUrl.ToString(), Database = database };
        var connection = new ClickHouseConnection(TestEngines.ConnectionString(endpoints.ClickHouseUrl, "default"));
        await connection.OpenAsync();
        return (options, connection);
    }

    [Fact]
    public async Task ApplyAsync_FreshDatabase_CreatesRawTablesAndRecordsVersions()
    {
        var (options, connection) = await FreshDatabaseAsync();
        await using var _ = connection;

        var report = await new MigrationRunner(options, NullLogger<MigrationRunner>.Instance).ApplyAsync(CancellationToken.None);

        Assert.Equal(Migration.LoadEmbedded().Count, report.Applied.Count);
        Assert.Empty(report.AlreadyApplied);
        var tables = (await connection.QueryAsync<string>(
            "SELECT name FROM system.tables WHERE database = @db ORDER BY name", new { db = options.Database })).ToList();
        Assert.Contains("inference_requests", tables);
        Assert.Contains("gpu_power_samples", tables);
        Assert.Contains("schema_migrations", tables);
        var versions = (await connection.QueryAsync<uint>($"SELECT version FROM {options.Database}.schema_migrations FINAL ORDER BY version")).ToList();
        Assert.Equal(Migration.LoadEmbedded().Select(m => (uint)m.Version), versions);
    }

    [Fact]
    public async Task ApplyAsync_RunTwice_SecondRunAppliesNothingAndKeepsOneLedgerRowPerVersion()
    {
        var (options, connection) = await FreshDatabaseAsync();
        await using var _ = connection;
        var runner = new MigrationRunner(options, NullLogger<MigrationRunner>.Instance);

        await runner.ApplyAsync(CancellationToken.None);
        var second = await runner.ApplyAsync(CancellationToken.None);

        Assert.Empty(second.Applied);
        Assert.Equal(Migration.LoadEmbedded().Count, second.AlreadyApplied.Count);
        var ledgerRows = await connection.ExecuteScalarAsync<ulong>($"SELECT count() FROM {options.Database}.schema_migrations FINAL");
        Assert.Equal((ulong)Migration.LoadEmbedded().Count, ledgerRows);
    }

    [Fact]
    public async Task ApplyAsync_StatementsRerunAfterCrashBeforeRecord_Converge()
    {
        // A crash between a migration's statements and its ledger row: the next run re-executes them; IF NOT EXISTS makes that safe.
        var (options, connection) = await FreshDatabaseAsync();
        await using var _ = connection;
        await connection.ExecuteAsync($"CREATE DATABASE {options.Database}");
        foreach (var statement in Migration.LoadEmbedded()[0].Render(options.Database, options.RawRetentionDays))
        {
            await connection.ExecuteAsync(statement);
        }

        var report = await new MigrationRunner(options, NullLogger<MigrationRunner>.Instance).ApplyAsync(CancellationToken.None);
        Assert.Contains(report.Applied, m => m.Version == 1);
    }

    [Fact]
    public async Task ApplyAsync_AppliedMigrationEdited_RefusesAndNamesTheFile()
    {
        var (options, connection) = await FreshDatabaseAsync();
        await using var _ = connection;
        var runner = new MigrationRunner(options, NullLogger<MigrationRunner>.Instance);
        var original = Migration.Parse("0001_probe.sql", "CREATE TABLE IF NOT EXISTS {database}.probe (x UInt8) ENGINE = MergeTree ORDER BY x");
        await runner.ApplyAsync([original], CancellationToken.None);

        var edited = Migration.Parse("0001_probe.sql", "CREATE TABLE IF NOT EXISTS {database}.probe (x UInt16) ENGINE = MergeTree ORDER BY x");
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => runner.ApplyAsync([edited], CancellationToken.None));
        Assert.Contains("0001_probe.sql was changed after it was applied", error.Message, StringComparison.Ordinal);
        Assert.Contains("add a new migration", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RawTables_ColumnTypes_AreTheModernOnes()
    {
        var (options, connection) = await FreshDatabaseAsync();
        await using var _ = connection;
        await new MigrationRunner(options, NullLogger<MigrationRunner>.Instance).ApplyAsync(CancellationToken.None);

        var columns = (await connection.QueryAsync<(string Name, string Type)>(
            "SELECT name, type FROM system.columns WHERE database = @db AND table = 'inference_requests'", new { db = options.Database }))
            .ToDictionary(c => c.Name, c => c.Type);
        Assert.Equal("DateTime64(3, 'UTC')", columns["started_at"]);
        Assert.Equal("Nullable(DateTime64(3, 'UTC'))", columns["first_token_at"]);
        Assert.Equal("LowCardinality(String)", columns["deployment"]);
        Assert.StartsWith("Enum8('ok' = 1", columns["status"], StringComparison.Ordinal);
        var ttl = await connection.ExecuteScalarAsync<string>(
            "SELECT create_table_query FROM system.tables WHERE database = @db AND name = 'inference_requests'", new { db = options.Database });
        Assert.Contains("TTL toDateTime(finished_at) + toIntervalDay(90)", ttl, StringComparison.Ordinal);
        Assert.Contains("PARTITION BY toYYYYMM(finished_at)", ttl, StringComparison.Ordinal);
    }
}
