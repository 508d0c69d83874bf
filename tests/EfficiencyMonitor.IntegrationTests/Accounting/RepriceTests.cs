using Dapper;
using EfficiencyMonitor.Core.Catalog;
using EfficiencyMonitor.Jobs;
using EfficiencyMonitor.Jobs.Catalog;
using EfficiencyMonitor.TestInfrastructure;
using Microsoft.Extensions.Logging.Abstractions;

namespace EfficiencyMonitor.IntegrationTests.Accounting;

/// <summary>A new catalog version re-prices stored history on request; catalog versions are immutable once stored.</summary>
public sealed class RepriceTests
{
    // A version label of the test's own, so the checked-in catalog can move on without touching this test.
    private const string RenewedVersion = "2099.1.1-h200-renewal";

    private const string CapacitySql = """
        SELECT toInt64(toUnixTimestamp(window_start)) AS StartS, cost_capacity_usd AS Capacity, catalog_version AS Version
        FROM {0}.efficiency_windows FINAL
        WHERE window_seconds = 300 AND deployment = 'deepseek-v3-agent' AND tenant = '' AND gpus > 0
        ORDER BY StartS
        """;

    [Fact]
    public async Task RepriceAsync_RentalPriceUp25Percent_CapacityUp25PercentAndVersionRecordedWithoutDuplicates()
    {
        var s = await RealizedEfficiencyJobTests.SetUpAsync();
        await using var connection = s.Connection;
        using var client = s.Client;
        var time = new ManualTime(s.Start.AddMinutes(65));
        var jobs = new JobsOptions { WindowMinutes = [5], MaxCatchUp = TimeSpan.FromDays(1) };
        using var toolkit = new EfficiencyToolkit(s.Options, jobs, time, NullLoggerFactory.Instance);
        await toolkit.Runner.RunOnceAsync(CancellationToken.None);
        var sql = string.Format(System.Globalization.CultureInfo.InvariantCulture, CapacitySql, s.Options.Database);
        var before = (await connection.QueryAsync<(long StartS, double Capacity, string Version)>(sql)).ToList();
        var rowsBefore = await connection.ExecuteScalarAsync<ulong>($"SELECT count() FROM {s.Options.Database}.efficiency_windows");

        // Version 2: the H200 rental renewed 25 % higher from the start of the simulated history.
        var v1 = s.Catalog.Catalog;
        var h200 = v1.Hardware.Single(h => h.GpuType == "H200-SXM-141GB");
        var v2 = v1 with
        {
            Version = RenewedVersion,
            Hardware =
            [
                .. v1.Hardware.Where(h => h != h200),
                h200 with { EffectiveTo = s.Start },
                h200 with { EffectiveFrom = s.Start, Rental = new RentalTerms { UsdPerGpuHour = h200.Rental!.UsdPerGpuHour * 1.25 } },
            ],
        };
        Assert.Empty(CatalogValidator.Validate(v2));
        var loaded = LoadedCatalog.From(v2, "test");
        Assert.True(await toolkit.Catalogs.AddAsync(loaded, CancellationToken.None));
        Assert.False(await toolkit.Catalogs.AddAsync(loaded, CancellationToken.None));
        var clash = LoadedCatalog.From(v2 with { Description = "other content" }, "test");
        var refused = await Assert.ThrowsAsync<CatalogException>(() => toolkit.Catalogs.AddAsync(clash, CancellationToken.None));
        Assert.Contains("bump `version`", refused.Message, StringComparison.Ordinal);

        var stored = await toolkit.Catalogs.GetAsync(RenewedVersion, CancellationToken.None);
        var repriced = await toolkit.Runner.RepriceAsync(300, s.Start, s.Start.AddMinutes(60), stored!.Catalog, "deepseek-v3-agent", CancellationToken.None);

        Assert.Equal(7, repriced); // 30 simulated minutes: windows :00 … :30 (the last power sample is at :30:00)
        var after = (await connection.QueryAsync<(long StartS, double Capacity, string Version)>(sql)).ToList();
        Assert.Equal(before.Count, after.Count);
        Assert.True(before.Count >= 6);
        foreach (var (b, a) in before.Zip(after))
        {
            Assert.Equal(v1.Version, b.Version);
            Assert.Equal(RenewedVersion, a.Version);
            Assert.Equal(b.Capacity * 1.25, a.Capacity, 9);
        }

        var versions = await toolkit.Catalogs.ListAsync(CancellationToken.None);
        Assert.Equal(new[] { v1.Version, RenewedVersion }.Order(StringComparer.Ordinal), versions.Select(v => v.Version).Order(StringComparer.Ordinal));
        var duplicates = await connection.ExecuteScalarAsync<ulong>(
            $"SELECT count() FROM (SELECT window_seconds, deployment, window_start, tenant, model, count() AS c FROM {s.Options.Database}.efficiency_windows FINAL GROUP BY ALL HAVING c > 1)");
        Assert.Equal(0UL, duplicates);
        Assert.True(await connection.ExecuteScalarAsync<ulong>($"SELECT count() FROM {s.Options.Database}.efficiency_windows") > rowsBefore);
    }
}
