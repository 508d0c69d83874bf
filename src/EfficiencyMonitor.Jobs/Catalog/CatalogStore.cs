using ClickHouse.Driver;
using Dapper;
using EfficiencyMonitor.Core.Catalog;
using EfficiencyMonitor.Storage;

namespace EfficiencyMonitor.Jobs.Catalog;

/// <summary>A stored catalog version.</summary>
/// <param name="Version">Version label.</param>
/// <param name="Checksum">SHA-256 of the canonical JSON.</param>
/// <param name="Description">What changed.</param>
/// <param name="Source">Where it was loaded from.</param>
/// <param name="LoadedAt">When it was stored.</param>
public sealed record CatalogVersionInfo(string Version, string Checksum, string Description, string Source, DateTime LoadedAt);

/// <summary>Catalog versions in ClickHouse (<c>catalog_versions</c>, migration 0003).</summary>
public sealed class CatalogStore(ClickHouseClient client, ClickHouseOptions options, TimeProvider time)
{
    private const string ListSql = """
        SELECT version AS Version, checksum AS Checksum, description AS Description, source AS Source, toDateTime(loaded_at) AS LoadedAt
        FROM {0}.catalog_versions FINAL ORDER BY loaded_at, version
        """;

    private const string ContentSql = "SELECT content FROM {0}.catalog_versions FINAL WHERE version = @version";

    private const string LatestSql = "SELECT content FROM {0}.catalog_versions FINAL ORDER BY loaded_at DESC, version DESC LIMIT 1";

    private const string InsertSql = """
        INSERT INTO {0}.catalog_versions (version, checksum, description, source, content, loaded_at)
        VALUES (@version, @checksum, @description, @source, @content, fromUnixTimestamp64Milli(@loadedAtMs, 'UTC'))
        """;

    /// <summary>Stores <paramref name="catalog"/> unless its version is stored already; a known version with different content is refused.</summary>
    /// <returns>True when stored now, false when the same content was already there.</returns>
    public async Task<bool> AddAsync(LoadedCatalog catalog, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        var existing = (await ListAsync(cancellationToken)).FirstOrDefault(v => v.Version == catalog.Catalog.Version);
        if (existing is not null)
        {
            if (existing.Checksum == catalog.Checksum) return false;
            throw new CatalogException(
                $"{catalog.Source}: version: catalog version '{catalog.Catalog.Version}' is already stored with different content (checksum {existing.Checksum[..12]}, now {catalog.Checksum[..12]}); fix: bump `version` in catalog.yaml");
        }

        await using var connection = client.CreateConnection();
        await connection.ExecuteAsync(new CommandDefinition(Sql(InsertSql), new
        {
            version = catalog.Catalog.Version,
            checksum = catalog.Checksum,
            description = catalog.Catalog.Description,
            source = catalog.Source,
            content = catalog.Json,
            loadedAtMs = time.GetUtcNow().ToUnixTimeMilliseconds(),
        }, cancellationToken: cancellationToken));
        return true;
    }

    /// <summary>Every stored version, oldest first.</summary>
    public async Task<IReadOnlyList<CatalogVersionInfo>> ListAsync(CancellationToken cancellationToken)
    {
        await using var connection = client.CreateConnection();
        return [.. await connection.QueryAsync<CatalogVersionInfo>(new CommandDefinition(Sql(ListSql), cancellationToken: cancellationToken))];
    }

    /// <summary>The version <paramref name="version"/>, or the most recently stored one when null; null when none is stored.</summary>
    public async Task<LoadedCatalog?> GetAsync(string? version, CancellationToken cancellationToken)
    {
        await using var connection = client.CreateConnection();
        var content = version is null
            ? await connection.QueryFirstOrDefaultAsync<string>(new CommandDefinition(Sql(LatestSql), cancellationToken: cancellationToken))
            : await connection.QueryFirstOrDefaultAsync<string>(new CommandDefinition(Sql(ContentSql), new { version }, cancellationToken: cancellationToken));
        return content is null ? null : LoadedCatalog.FromJson(content, $"catalog_versions:{version ?? "latest"}");
    }

    private string Sql(string format) => string.Format(System.Globalization.CultureInfo.InvariantCulture, format, options.Database);
}
