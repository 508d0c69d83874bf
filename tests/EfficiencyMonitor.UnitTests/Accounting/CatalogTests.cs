using EfficiencyMonitor.Core.Catalog;
using EfficiencyMonitor.Jobs;
using EfficiencyMonitor.Jobs.Catalog;

namespace EfficiencyMonitor.UnitTests.Accounting;

public sealed class CatalogTests
{
    private static string RepoCatalog()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "EfficiencyMonitor.sln"))) dir = dir.Parent;
        return Path.Combine(dir!.FullName, "deploy", "catalog");
    }

    private const string Valid = """
        version: "t.1"
        success_policies:
          - { effective_from: 2024-01-01T00:00:00Z, statuses: [ok] }
        facilities:
          - { name: dc, effective_from: 2024-01-01T00:00:00Z, pue: 1.3, usd_per_kwh: 0.08, space_cooling_usd_per_kw_month: 150 }
        models:
          - { name: m, effective_from: 2024-01-01T00:00:00Z, total_params_b: 70, active_params_b: 70, layers: 80, attention_heads: 64, kv_heads: 8, head_dim: 128, weight_bytes_per_element: 2, kv_bytes_per_element: 2 }
        deployments:
          - { name: d, effective_from: 2024-01-01T00:00:00Z, model: m, facility: dc }
        """;

    [Fact]
    public void LoadDirectory_CheckedInCatalog_IsValidAndPricesTheSimulatorsDeployments()
    {
        var loaded = CatalogFiles.LoadDirectory(RepoCatalog());

        var at = new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);
        foreach (var (deployment, gpu) in new[] { ("llama-70b-chat-prod", "H100-SXM5-80GB"), ("deepseek-v3-agent", "H200-SXM-141GB"), ("deepseek-r1-reasoning", "MI300X-OAM-192GB") })
        {
            var pricing = loaded.Catalog.Resolve(deployment, at, [gpu]);
            Assert.True(pricing.Hardware[gpu].CapacityUsdPerGpuSecond() > 0);
        }

        Assert.Equal(327_680, loaded.Catalog.Models.Single(m => m.Name == "meta-llama/Llama-3.1-70B-Instruct").EffectiveKvBytesPerToken());
        Assert.Equal(64, loaded.Checksum.Length);
    }

    [Fact]
    public void Parse_SameContentTwice_SameChecksum()
    {
        var first = CatalogFiles.Parse([("c.yaml", Valid)], "x");
        var second = LoadedCatalog.FromJson(first.Json, "y");

        Assert.Equal(first.Checksum, second.Checksum);
    }

    [Fact]
    public void Parse_BrokenHardwareAndOverlappingDates_ListsEveryProblemWithFileLineAndFix()
    {
        const string hardware = """
            hardware:
              - gpu_type: X
                effective_from: 2024-01-01T00:00:00Z
                source: sheet
                hbm_gb: 80
                hbm_tb_per_s: 3.35
                tdp_watts: 0.7
                idle_watts: 90
                host_watts_per_gpu: 300
              - gpu_type: X
                effective_from: 2025-01-01T00:00:00Z
                source: sheet
                hbm_gb: 80
                hbm_tb_per_s: 3.35
                tdp_watts: 700
                idle_watts: 90
                host_watts_per_gpu: 300
                rental: { usd_per_gpu_hour: 2 }
            """;

        var e = Assert.Throws<CatalogException>(() => CatalogFiles.Parse([("c.yaml", Valid), ("hw.yaml", hardware)], "x"));

        Assert.Contains(e.Problems, p => p.StartsWith("hw.yaml:7:", StringComparison.Ordinal) && p.Contains("hardware[0].tdp_watts: 0.7 is out of range", StringComparison.Ordinal));
        Assert.Contains(e.Problems, p => p.Contains("hardware[0]: needs exactly one of ownership and rental", StringComparison.Ordinal));
        Assert.Contains(e.Problems, p => p.StartsWith("hw.yaml:11:", StringComparison.Ordinal) && p.Contains("overlaps hardware[0]", StringComparison.Ordinal) && p.Contains("fix: set effective_to", StringComparison.Ordinal));
    }

    [Fact]
    public void Parse_UnknownField_NamesItsPath()
    {
        var yaml = Valid.Replace("pue: 1.3", "pue: 1.3, pue_typo: 2", StringComparison.Ordinal);

        var e = Assert.Throws<CatalogException>(() => CatalogFiles.Parse([("c.yaml", yaml)], "x"));

        Assert.Contains("pue_typo", Assert.Single(e.Problems), StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_MissingHardware_SaysWhatToAdd()
    {
        var catalog = CatalogFiles.Parse([("c.yaml", Valid)], "x").Catalog;

        var e = Assert.Throws<CatalogException>(() => catalog.Resolve("d", new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero), ["B200"]));

        Assert.Contains("no hardware entry for gpu_type 'B200'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_JobsOptions_ListsEveryFailure()
    {
        var options = new JobsOptions { Interval = TimeSpan.Zero, MaxWindowsPerRun = 0, PowerLookback = TimeSpan.FromSeconds(1), WindowMinutes = [5, 60, 7] };

        var result = new JobsOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Equal(4, result.Failures!.Count());
    }
}

public sealed class CatalogResolutionTests
{
    private static readonly DateTimeOffset Change = new(2026, 6, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Resolve_PriceChangeMidHistory_EachWindowPricedByTheEntryInForceAtItsStart()
    {
        // Rental $2.00/h until 2026-06-01, $2.50/h from then on (effective_to exclusive, effective_from inclusive).
        var embedded = CatalogFiles.LoadEmbedded().Catalog;
        var h200 = embedded.Hardware.Single(h => h.GpuType == "H200-SXM-141GB");
        var catalog = embedded with
        {
            Hardware =
            [
                .. embedded.Hardware.Where(h => h.GpuType != "H200-SXM-141GB"),
                h200 with { EffectiveTo = Change, Rental = new RentalTerms { UsdPerGpuHour = 2.00 } },
                h200 with { EffectiveFrom = Change, Rental = new RentalTerms { UsdPerGpuHour = 2.50 } },
            ],
        };
        Assert.Empty(CatalogValidator.Validate(catalog));

        var before = catalog.Resolve("deepseek-v3-agent", Change.AddMinutes(-5), ["H200-SXM-141GB"]);
        var after = catalog.Resolve("deepseek-v3-agent", Change, ["H200-SXM-141GB"]);

        Assert.Equal(2.00 / 3600, before.Hardware["H200-SXM-141GB"].CapacityUsdPerGpuSecond(), 15);
        Assert.Equal(2.50 / 3600, after.Hardware["H200-SXM-141GB"].CapacityUsdPerGpuSecond(), 15);
    }

    [Fact]
    public void LoadEmbedded_SameContentAsTheCheckedInDirectory()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (!File.Exists(Path.Combine(dir!.FullName, "EfficiencyMonitor.sln"))) dir = dir.Parent;

        Assert.Equal(CatalogFiles.LoadDirectory(Path.Combine(dir.FullName, "deploy", "catalog")).Checksum, CatalogFiles.LoadEmbedded().Checksum);
    }

    [Fact]
    public void RealizedEfficiencyJob_IsNeverConcurrentWithItself()
    {
        Assert.NotNull(Attribute.GetCustomAttribute(typeof(RealizedEfficiencyJob), typeof(Quartz.DisallowConcurrentExecutionAttribute)));
    }
}
