using EfficiencyMonitor.Core.Model;
using EfficiencyMonitor.Service.Cli;
using static EfficiencyMonitor.UnitTests.Forecast.ForecastTestData;

namespace EfficiencyMonitor.UnitTests.Forecast;

public sealed class ForecastReportTests
{
    private static StoredForecast Stored(ForecastSpec spec) => new()
    {
        ForecastId = ForecastJson.Id(spec), Name = spec.Name, Deployment = spec.Deployment, CatalogVersion = "t.1",
        HorizonFrom = spec.Horizon.From, HorizonTo = spec.Horizon.To, Tolerance = spec.Tolerance, Spec = spec, CreatedAt = At,
    };

    [Fact]
    public void Show_NoValidationYet_SaysSoAndPrintsThePrediction()
    {
        var spec = Spec() with { CatalogVersion = "t.1" };
        var evaluation = ForecastPlanner.Evaluate(spec, Catalog(), At);

        var text = ForecastReport.Show(new ForecastShow(Stored(spec), evaluation, []));

        Assert.Contains("no window validated yet", text, StringComparison.Ordinal);
        Assert.Contains("predicted spend per successful output: " + evaluation.SpendPerSuccessUsd!.Value.ToString("0.000000", System.Globalization.CultureInfo.InvariantCulture), text, StringComparison.Ordinal);
        Assert.Contains("GPUs needed: " + evaluation.GpusNeeded, text, StringComparison.Ordinal);
        Assert.Contains("(predicted figures unavailable", ForecastReport.Show(new ForecastShow(Stored(spec), null, [])), StringComparison.Ordinal);
    }

    [Fact]
    public void Show_ValidatedWindows_RollingFiguresToleranceAndLastWindows()
    {
        var spec = Spec() with { CatalogVersion = "t.1" };
        var rows = Enumerable.Range(0, 15).Select(i => new ForecastValidationRow
        {
            WindowSeconds = 300, Deployment = "d", WindowStart = At.UtcDateTime.AddMinutes(5 * i), CatalogVersion = "t.1", Requests = 1000, SuccessfulOutputs = 900,
            RealizedWorkSpendPerSuccessUsd = 0.0031, PlanSpendPerSuccessUsd = 0.0025, EfficiencyDriftRatio = 0.24, ModelError = 0.01, TopFactor = "dram_hit_rate",
            Explanation = "DRAM tier hit rate -20 points", RollingPlanMape = 0.24, RollingPlanBias = 0.24, RollingModelMape = 0.01, WithinTolerance = false,
        }).ToList();

        var text = ForecastReport.Show(new ForecastShow(Stored(spec), null, rows), lastWindows: 5);

        Assert.Contains("15 window(s) validated", text, StringComparison.Ordinal);
        Assert.Contains("rolling plan MAPE 24.0 %, plan bias +24.0 %, model MAPE 1.0 %", text, StringComparison.Ordinal);
        Assert.Contains("within tolerance (±10 %): NO", text, StringComparison.Ordinal);
        Assert.Contains("last 5 window(s):", text, StringComparison.Ordinal);
        Assert.Equal(5, text.Split('\n').Count(l => l.Contains("dram_hit_rate", StringComparison.Ordinal)));
        Assert.Contains("latest: DRAM tier hit rate -20 points", text, StringComparison.Ordinal);
        Assert.DoesNotContain("no window validated yet", text, StringComparison.Ordinal);
    }

    [Fact]
    public void WhatIfAndJson_SideBySideWithDeltas()
    {
        var comparison = ForecastOperations.Compare(Spec(), Catalog(), new ForecastVariant { GpuType = "G2" });

        var text = ForecastReport.WhatIf(comparison);
        Assert.Contains("GPU G2", text, StringComparison.Ordinal);
        Assert.Contains("spend per successful output $", text, StringComparison.Ordinal);
        Assert.Contains("busy GPU-s/request: prefill", text, StringComparison.Ordinal);
        Assert.Contains("break-even GB/s dram", text, StringComparison.Ordinal);
        Assert.Contains(" %", text, StringComparison.Ordinal);

        var json = ForecastJson.Serialize(comparison);
        Assert.Contains("\"gpu_type\": \"G2\"", json, StringComparison.Ordinal);
        Assert.Contains("\"break_even_gb_per_s\": \"NaN\"", json, StringComparison.Ordinal); // the deployment has no remote tier

        Assert.Contains("no forecast stored", ForecastReport.List([]), StringComparison.Ordinal);
    }

    [Fact]
    public void WhatIfVerb_ParsesRepeatedHitRatesBeforeTheFile()
    {
        var parse = CommandLine.Build().Parse(["forecast", "what-if", "--hit-rate", "dram=+10", "--hit-rate", "remote=-5", "f.yaml", "--disaggregated", "false"]);

        Assert.Empty(parse.Errors);
        Assert.Equal("f.yaml", parse.GetValue<string?>("file"));
        Assert.Equal(["dram=+10", "remote=-5"], parse.GetValue<string[]>("--hit-rate")!);
        Assert.False(parse.GetValue<bool?>("--disaggregated"));
    }
}
