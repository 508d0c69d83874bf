using EfficiencyMonitor.Core.Catalog;
using EfficiencyMonitor.Jobs.Catalog;

namespace EfficiencyMonitor.UnitTests.Model;

/// <summary>The catalog's serving and plan sections (MODEL.md §1, §3): each problem names its path and file position.</summary>
public sealed class ServingCatalogValidationTests
{
    private const string Base = """
        version: "t.1"
        success_policies:
          - { effective_from: 2024-01-01T00:00:00Z, statuses: [ok] }
        facilities:
          - { name: dc, effective_from: 2024-01-01T00:00:00Z, pue: 1.3, usd_per_kwh: 0.08, space_cooling_usd_per_kw_month: 150 }
        hardware:
          - gpu_type: H100-SXM5-80GB
            effective_from: 2024-01-01T00:00:00Z
            source: sheet
            peak_dense_tflops: { bf16: 989, fp8: 1979 }
            hbm_gb: 80
            hbm_tb_per_s: 3.35
            tdp_watts: 700
            idle_watts: 90
            host_watts_per_gpu: 300
            rental: { usd_per_gpu_hour: 2 }
        models:
          - { name: m, effective_from: 2024-01-01T00:00:00Z, total_params_b: 70.6, active_params_b: 70.6, layers: 80, attention_heads: 64, kv_heads: 8, head_dim: 128, weight_bytes_per_element: 2, kv_bytes_per_element: 2 }
        """;

    private const string Serving = """
            serving:
              gpu_type: H100-SXM5-80GB
              precision: bf16
              disaggregated: false
              prefill_gpus_per_instance: 8
              decode_gpus_per_instance: 8
              decode_batch: 64
              prefill_mfu: 0.4
              decode_mbu: 0.6
              decode_mfu: 0.5
        """;

    private const string Plan = """
            plan:
              success_rate: 0.95
              utilization: 0.6
              input_tokens: 4000
              output_tokens: 500
              reasoning_tokens: 200
              hit_rate_hbm: 0.1
              hit_rate_dram: 0.3
              prefill_gpu_seconds_per_token: 3.6e-4
              decode_gpu_seconds_per_token: 1.85e-3
              fixed_usd_per_gpu_second: 4.2e-4
              energy_usd_per_busy_gpu_second: 2.0e-5
        """;

    private static string Catalog(string serving, string plan) =>
        Base + "\ndeployments:\n  - name: d\n    effective_from: 2024-01-01T00:00:00Z\n    model: m\n    facility: dc\n" + serving + (serving.Length > 0 ? "\n" : "") + plan + "\n";

    private static IReadOnlyList<string> Problems(string yaml) =>
        Assert.Throws<CatalogException>(() => CatalogFiles.Parse([("c.yaml", yaml)], "test")).Problems;

    private static void HasProblem(IReadOnlyList<string> problems, string path, string text) =>
        Assert.True(
            problems.Any(p => p.StartsWith("c.yaml:", StringComparison.Ordinal) && p.Contains($": {path}: ", StringComparison.Ordinal) && p.Contains(text, StringComparison.Ordinal) && p.Contains("; fix: ", StringComparison.Ordinal)),
            $"no problem at {path} saying '{text}' in:\n{string.Join("\n", problems)}");

    [Fact]
    public void Parse_ValidServingAndPlan_Loads()
    {
        var catalog = CatalogFiles.Parse([("c.yaml", Catalog(Serving, Plan))], "test").Catalog;

        var d = Assert.Single(catalog.Deployments);
        Assert.Equal(64, d.Serving!.DecodeBatch);
        Assert.Equal(0.3, d.Plan!.HitRateDram);
        Assert.Empty(CatalogValidator.Validate(catalog));
    }

    [Fact]
    public void Parse_UnknownGpuType_NamesServingGpuType()
    {
        var problems = Problems(Catalog(Serving.Replace("gpu_type: H100-SXM5-80GB", "gpu_type: B200", StringComparison.Ordinal), Plan));

        HasProblem(problems, "deployments[0].serving.gpu_type", "gpu_type 'B200' is not in hardware");
        // Located at the value itself: line 25 (the serving block's first field), column 17.
        Assert.Contains(problems, p => p.StartsWith("c.yaml:25:17: deployments[0].serving.gpu_type", StringComparison.Ordinal));
    }

    [Fact]
    public void Parse_PrecisionTheGpuLacks_NamesServingPrecisionAndTheChoices()
    {
        var problems = Problems(Catalog(Serving.Replace("precision: bf16", "precision: fp4", StringComparison.Ordinal), Plan));

        HasProblem(problems, "deployments[0].serving.precision", "'fp4' has no peak_dense_tflops on H100-SXM5-80GB");
        Assert.Contains(problems, p => p.Contains("fix: use one of bf16, fp8", StringComparison.Ordinal));
    }

    [Fact]
    public void Parse_PrecisionOmitted_DefaultsToBf16()
    {
        var yaml = Catalog(Serving.Replace("      precision: bf16\n", "", StringComparison.Ordinal), Plan);
        Assert.DoesNotContain("precision", yaml, StringComparison.Ordinal);

        var catalog = CatalogFiles.Parse([("c.yaml", yaml)], "test").Catalog;

        Assert.Equal("bf16", catalog.Deployments[0].Serving!.Precision);
    }

    // `precision: ~` (or an empty `precision:`) deserializes to null: reported as a problem, not an ArgumentNullException.
    [Fact]
    public void Parse_PrecisionNull_NamesServingPrecision()
    {
        var problems = Problems(Catalog(Serving.Replace("precision: bf16", "precision: ~", StringComparison.Ordinal), Plan));

        HasProblem(problems, "deployments[0].serving.precision", "no peak_dense_tflops on H100-SXM5-80GB");
    }

    [Fact]
    public void Parse_FractionsOutOfRange_EachNamesItsPath()
    {
        var serving = Serving
            .Replace("prefill_mfu: 0.4", "prefill_mfu: 1.4", StringComparison.Ordinal)
            .Replace("decode_mbu: 0.6", "decode_mbu: 0", StringComparison.Ordinal)
            .Replace("decode_batch: 64", "decode_batch: 0", StringComparison.Ordinal);
        var plan = Plan
            .Replace("success_rate: 0.95", "success_rate: 1.2", StringComparison.Ordinal)
            .Replace("utilization: 0.6", "utilization: 60", StringComparison.Ordinal)
            .Replace("hit_rate_dram: 0.3", "hit_rate_dram: 0.95", StringComparison.Ordinal)
            .Replace("hit_rate_hbm: 0.1", "hit_rate_hbm: -0.1", StringComparison.Ordinal)
            .Replace("reasoning_tokens: 200", "reasoning_tokens: 600", StringComparison.Ordinal);

        var problems = Problems(Catalog(serving, plan));

        HasProblem(problems, "deployments[0].serving.prefill_mfu", "1.4 is out of range");
        HasProblem(problems, "deployments[0].serving.decode_mbu", "0 is out of range");
        HasProblem(problems, "deployments[0].serving.decode_batch", "0 is out of range");
        HasProblem(problems, "deployments[0].plan.success_rate", "1.2 is out of range");
        HasProblem(problems, "deployments[0].plan.utilization", "60 is out of range");
        HasProblem(problems, "deployments[0].plan.hit_rate_hbm", "-0.1 is out of range");
        HasProblem(problems, "deployments[0].plan.reasoning_tokens", "600 is out of range");
        Assert.DoesNotContain(problems, p => p.Contains("plan.hit_rate_dram:", StringComparison.Ordinal));

        // Each in range but together more than all the input.
        var sum = Problems(Catalog(Serving, Plan.Replace("hit_rate_dram: 0.3", "hit_rate_dram: 0.95", StringComparison.Ordinal)));
        HasProblem(sum, "deployments[0].plan.hit_rate_*", "hit rates sum to 1.05 > 1");
    }

    [Fact]
    public void Parse_PlanWithoutServing_NamesThePlan()
    {
        var problems = Problems(Catalog("", Plan));

        HasProblem(problems, "deployments[0].plan", "a plan needs the deployment's serving section");
    }

    [Fact]
    public void Parse_DisaggregatedWithoutNetwork_NamesServingDisaggregated()
    {
        var problems = Problems(Catalog(Serving.Replace("disaggregated: false", "disaggregated: true", StringComparison.Ordinal), Plan));

        HasProblem(problems, "deployments[0].serving.disaggregated", "no network");
    }
}
