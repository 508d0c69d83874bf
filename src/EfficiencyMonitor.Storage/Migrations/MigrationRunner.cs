using ClickHouse.Driver.ADO;
using Dapper;
using Microsoft.Extensions.Logging;

namespace EfficiencyMonitor.Storage.Migrations;

/// <summary>What <see cref="MigrationRunner.ApplyAsync(CancellationToken)"/> did.</summary>
/// <param name="Applied">Migrations applied by this call.</param>
/// <param name="AlreadyApplied">Migrations found applied before.</param>
public sealed record MigrationReport(IReadOnlyList<Migration> Applied, IReadOnlyList<Migration> AlreadyApplied);

/// <summary>
/// Applies the ordered migrations of <c>schemas/clickhouse</c> and records each applied version in
/// <c>{database}.schema_migrations</c>. Every statement is idempotent (<c>IF NOT EXISTS</c>), so two instances migrating
/// at once, or a crash between a statement and its record, leave a correct schema when run again.
/// </summary>
public sealed partial class MigrationRunner(ClickHouseOptions options, ILogger<MigrationRunner> logger)
{
    private const string CreateLedgerSql = """
        CREATE TABLE IF NOT EXISTS {0}.schema_migrations
        (
            version    UInt32,
            name       String,
            checksum   String,
            applied_at DateTime64(3, 'UTC') DEFAULT now64(3)
        )
        ENGINE = ReplacingMergeTree(applied_at)
        ORDER BY version
        """;

    private const string ReadLedgerSql = "SELECT version AS Version, name AS Name, checksum AS Checksum FROM {0}.schema_migrations FINAL ORDER BY version";

    private const string RecordSql = "INSERT INTO {0}.schema_migrations (version, name, checksum) VALUES ({{version:UInt32}}, {{name:String}}, {{checksum:String}})";

    /// <summary>Applies every pending embedded migration.</summary>
    public Task<MigrationReport> ApplyAsync(CancellationToken cancellationToken) => ApplyAsync(Migration.LoadEmbedded(), cancellationToken);

    /// <summary>Applies every pending migration of <paramref name="migrations"/> in version order.</summary>
    public async Task<MigrationReport> ApplyAsync(IReadOnlyList<Migration> migrations, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(migrations);
        var database = options.Database;
        if (!ClickHouseOptionsValidator.IsIdentifier(database))
        {
            throw new InvalidOperationException($"ClickHouse:Database '{database}' is not a plain identifier: use letters, digits and '_'");
        }

        // The target database may not exist yet, so connect to 'default' until it does.
        await using var connection = new ClickHouseConnection(options.ToConnectionString("default"));
        await connection.OpenAsync(cancellationToken);
        await ExecuteAsync(connection, $"CREATE DATABASE IF NOT EXISTS {database}", cancellationToken);
        await ExecuteAsync(connection, string.Format(System.Globalization.CultureInfo.InvariantCulture, CreateLedgerSql, database), cancellationToken);

        var ledger = (await connection.QueryAsync<LedgerRow>(new CommandDefinition(
            string.Format(System.Globalization.CultureInfo.InvariantCulture, ReadLedgerSql, database), cancellationToken: cancellationToken)))
            .ToDictionary(r => (int)r.Version);

        var applied = new List<Migration>();
        var already = new List<Migration>();
        foreach (var migration in migrations)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (ledger.TryGetValue(migration.Version, out var row))
            {
                if (!string.Equals(row.Checksum, migration.Checksum, StringComparison.Ordinal))
                {
                    throw new InvalidOperationException(
                        $"Migration {migration.Name} was changed after it was applied to '{database}' (checksum {row.Checksum[..12]} applied, {migration.Checksum[..12]} now): add a new migration instead of editing an applied one");
                }

                already.Add(migration);
                continue;
            }

            LogApplying(logger, migration.Name, database);
            foreach (var statement in migration.Render(database, options.RawRetentionDays))
            {
                await ExecuteAsync(connection, statement, cancellationToken);
            }

            await connection.ExecuteAsync(new CommandDefinition(
                string.Format(System.Globalization.CultureInfo.InvariantCulture, RecordSql, database),
                new { version = (uint)migration.Version, name = migration.Name, checksum = migration.Checksum },
                cancellationToken: cancellationToken));
            applied.Add(migration);
        }

        LogDone(logger, database, applied.Count, already.Count);
        return new MigrationReport(applied, already);
    }

    private static Task ExecuteAsync(ClickHouseConnection connection, string sql, CancellationToken cancellationToken) =>
        connection.ExecuteAsync(new CommandDefinition(sql, cancellationToken: cancellationToken));

    private sealed record LedgerRow(uint Version, string Name, string Checksum);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Applying migration {Migration} to database {Database}")]
    private static partial void LogApplying(ILogger logger, string migration, string database);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Information, Message = "Migrations of {Database}: {Applied} applied now, {AlreadyApplied} already applied")]
    private static partial void LogDone(ILogger logger, string database, int applied, int alreadyApplied);
}
