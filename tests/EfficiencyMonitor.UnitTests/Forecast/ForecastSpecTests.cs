using EfficiencyMonitor.Core.Model;
using EfficiencyMonitor.Jobs.Forecasts;
using EfficiencyMonitor.Service.Cli;

namespace EfficiencyMonitor.UnitTests.Forecast;

public sealed class ForecastSpecTests
{
    private static string Repo(params string[] parts)
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "EfficiencyMonitor.sln"))) dir = dir.Parent;
        return Path.Combine([dir!.FullName, .. parts]);
    }

    private const string Minimal = """
        name: plan A
        deployment: d
        horizon: { from: 2027-01-01T00:00:00Z, to: 2027-04-01T00:00:00Z }
        requests_per_second: 10
        success_rate: 0.9
        utilization: 0.5
        classes:
          - { share: 1, input_tokens: 2000, output_tokens: 400 }
        """;

    [Fact]
    public void Parse_Minimal_DefaultsToleranceAndHitRates()
    {
        var spec = ForecastFiles.Parse(Minimal, "a.yaml");

        Assert.Equal(0.10, spec.Tolerance);
        Assert.Null(spec.CatalogVersion);
        Assert.Null(spec.Fleet);
        Assert.Equal(0, spec.Classes[0].HitRates.Total);
        Assert.Equal(new DateTimeOffset(2027, 4, 1, 0, 0, 0, TimeSpan.Zero), spec.Horizon.To);
    }

    [Fact]
    public void Parse_EveryProblemListedWithFileLinePathAndFix()
    {
        const string yaml = """
            name: ""
            deployment: d
            horizon: { from: 2027-04-01T00:00:00Z, to: 2027-01-01T00:00:00Z }
            tolerance: 0
            requests_per_second: -1
            success_rate: 1.5
            utilization: 0.5
            fleet: { gpus: 8 }
            classes:
              - { share: 0.5, input_tokens: 100, output_tokens: 10, reasoning_tokens: 20, hit_rates: { dram: 0.8, remote: 0.5 } }
            """;

        var e = Assert.Throws<ForecastException>(() => ForecastFiles.Parse(yaml, "bad.yaml"));

        var expected = new[]
        {
            "bad.yaml:1:7: name: missing",
            "bad.yaml:3:44: horizon.to: ",
            "bad.yaml:4:12: tolerance: 0 is out of range",
            "bad.yaml:5:22: requests_per_second: -1 is out of range",
            "bad.yaml:6:15: success_rate: 1.5",
            "fleet: both fleet and utilization are given",
            "classes[0].reasoning_tokens: 20 exceeds output_tokens 10",
            "classes[0].hit_rates: hit rates sum to 1.3 > 1",
            "classes: shares sum to 0.5, not 1",
        };
        Assert.Equal(expected.Length, e.Problems.Count);
        foreach (var (want, got) in expected.Zip(e.Problems)) Assert.Contains(want, got, StringComparison.Ordinal);
        Assert.All(e.Problems, p => Assert.Contains("; fix: ", p, StringComparison.Ordinal));
    }

    [Fact]
    public void Parse_UnknownFieldAndNeitherFleetNorUtilization_AreRefused()
    {
        var unknown = Assert.Throws<ForecastException>(() => ForecastFiles.Parse(Minimal + "\nrequests_per_minute: 3\n", "u.yaml"));
        Assert.Contains("requests_per_minute", unknown.Message, StringComparison.Ordinal);

        var neither = Assert.Throws<ForecastException>(() => ForecastFiles.Parse(Minimal.Replace("utilization: 0.5", "", StringComparison.Ordinal), "n.yaml"));
        Assert.Contains("neither fleet nor utilization", neither.Message, StringComparison.Ordinal);

        Assert.Throws<ForecastException>(() => ForecastFiles.Parse("name: [unclosed", "y.yaml"));
        Assert.Throws<ForecastException>(() => ForecastFiles.Load(Repo("deploy", "forecasts", "missing.yaml")));
    }

    [Fact]
    public void ExampleForecasts_LoadAndEvaluateWithTheCheckedInCatalog()
    {
        var catalog = Jobs.Catalog.CatalogFiles.LoadDirectory(Repo("deploy", "catalog")).Catalog;
        var files = Directory.GetFiles(Repo("deploy", "forecasts"), "*.yaml");
        Assert.True(files.Length >= 2);
        foreach (var file in files)
        {
            var spec = ForecastFiles.Load(file);
            var e = ForecastPlanner.Evaluate(spec, catalog, spec.Horizon.From);
            Assert.True(e.SpendPerSuccessUsd > 0, file);
            Assert.True(e.Plan.Utilization is > 0 and <= 1, file);
            Assert.Empty(e.Notes);
        }
    }

    [Fact]
    public void Id_SameSpecSameId_AnyChangeANewOne_CanonicalJsonRoundTrips()
    {
        var spec = ForecastFiles.Parse(Minimal, "a.yaml") with { CatalogVersion = "2026.12.3" };
        var id = ForecastJson.Id(spec);

        Assert.Matches("^plan-a-[0-9a-f]{10}$", id);
        Assert.Equal(id, ForecastJson.Id(ForecastJson.Parse(ForecastJson.Canonical(spec))));
        Assert.Equal(ForecastJson.Canonical(spec), ForecastJson.Canonical(ForecastJson.Parse(ForecastJson.Canonical(spec))));
        Assert.NotEqual(id, ForecastJson.Id(spec with { RequestsPerSecond = 11 }));
        Assert.Contains("\"requests_per_second\":10", ForecastJson.Canonical(spec), StringComparison.Ordinal);
        Assert.Equal("llama-chat-q1-2027", ForecastJson.Slug("  Llama chat / Q1 2027!"));
        Assert.Equal("forecast", ForecastJson.Slug("***"));
    }

    [Fact]
    public void ParseHitRates_PointsPerTier_BadOnesListed()
    {
        var shifts = ForecastOperations.ParseHitRates(["dram=+10", "local_ssd=-5", "dram=2.5"]);

        Assert.Equal(12.5, shifts[KvTier.Dram]);
        Assert.Equal(-5, shifts[KvTier.LocalSsd]);
        var e = Assert.Throws<ForecastException>(() => ForecastOperations.ParseHitRates(["tape=+1", "dram"]));
        Assert.Equal(2, e.Problems.Count);
    }
}
