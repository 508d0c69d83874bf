using EfficiencyMonitor.Simulator.Generation;
using EfficiencyMonitor.Simulator.Output;
using EfficiencyMonitor.Simulator.Scenarios;

namespace EfficiencyMonitor.UnitTests.Simulator;

public sealed class ScenarioLoaderTests
{
    public static TheoryData<string> ScenarioFiles()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.EnumerateFiles(SimulatorTestData.ScenarioDirectory, "*.yaml").Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetFileNameWithoutExtension(file));
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(ScenarioFiles))]
    public void LoadFile_CheckedInScenario_LoadsAndGenerates(string name)
    {
        var scenario = SimulatorTestData.Load(name);

        var records = SimulatorTestData.Generate(scenario, SimulatorTestData.Options(500));

        Assert.Equal(500, records.Count(r => r.Topic == TraceTopic.InferenceRequests));
    }

    [Fact]
    public void Parse_ScenarioWithSeveralProblems_ListsEachWithFileLinePathAndFix()
    {
        const string yaml = """
            name: broken
            reference_rate: -5
            gpu_types:
              - { name: H100, idle_watts: 90, max_watts: 700, memory_gb: 80 }
            models:
              - { name: m, kv_bytes_per_token: 1000 }
            tenants:
              - { name: t }
            deployments:
              - name: d
                model: missing-model
                region: r
                pools:
                  - { name: p, role: aggregated, gpu_type: H100, instances: 2 }
                kv_cache:
                  tiers:
                    hbm: { capacity_gb: 10, bandwidth_gb_s: 1000 }
                    dram: { capacity_gb: 10, bandwidth_gb_s: 50, latencyms: 1 }
                physics: { prefill_tokens_per_s: 1000, decode_ms_per_token: 10 }
            workloads:
              - { name: w, kind: chat, weight: 1, deployment: d, first_input_tokens: 10, output_tokens: { dist: gamma } }
            incidents:
              - { kind: tier_shrunk, at_s: 10, tier: dram, factor: 2 }
            """;

        var e = Assert.Throws<ScenarioException>(() => ScenarioLoader.Parse(yaml, "broken.yaml"));

        Assert.Contains(e.Problems, p => p.StartsWith("broken.yaml:2:", StringComparison.Ordinal) && p.Contains("reference_rate", StringComparison.Ordinal) && p.Contains("fix:", StringComparison.Ordinal));
        Assert.Contains(e.Problems, p => p.Contains("deployments[0].model", StringComparison.Ordinal) && p.Contains("missing-model", StringComparison.Ordinal));
        Assert.Contains(e.Problems, p => p.Contains("deployments[0].kv_cache.tiers.dram.latencyms: unknown key", StringComparison.Ordinal));
        Assert.Contains(e.Problems, p => p.Contains("workloads[0].output_tokens.dist", StringComparison.Ordinal) && p.Contains("gamma", StringComparison.Ordinal));
        Assert.Contains(e.Problems, p => p.Contains("incidents[0].factor", StringComparison.Ordinal) && p.Contains("does not shrink", StringComparison.Ordinal));
        Assert.Equal(5, e.Problems.Count);
    }

    [Fact]
    public void Parse_NotYaml_ReportsLineAndColumn()
    {
        var e = Assert.Throws<ScenarioException>(() => ScenarioLoader.Parse("name: [unclosed\n", "bad.yaml"));

        Assert.StartsWith("bad.yaml:", e.Problems[0], StringComparison.Ordinal);
    }

    [Fact]
    public void JsonlTrace_WriteThenRead_KeepsTopicsKeysTimesAndBytes()
    {
        var records = SimulatorTestData.Generate(SimulatorTestData.Quiet(), SimulatorTestData.Options(2_000, invalidRate: 0.05));
        var path = Path.Combine(Path.GetTempPath(), $"sim-trace-{Guid.NewGuid():N}.jsonl");
        try
        {
            using (var stream = File.Create(path))
            {
                JsonlTrace.Write(stream, records);
            }

            var read = JsonlTrace.Read(path).ToList();

            Assert.Equal(records.Count, read.Count);
            for (var i = 0; i < records.Count; i++)
            {
                Assert.True(records[i].Payload.Span.SequenceEqual(read[i].Payload.Span));
                Assert.Equal(records[i].Topic, read[i].Topic);
                if (records[i].IntendedReason is null)
                {
                    Assert.Equal(records[i].Key, read[i].Key);
                    Assert.Equal(records[i].EventTimeUnixMs, read[i].EventTimeUnixMs);
                }
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void ScenarioAnnotations_DefaultScenario_OneLinePerIncidentIncludingPriceChange()
    {
        using var stream = new MemoryStream();

        var count = ScenarioAnnotations.Write(stream, SimulatorTestData.Load("default"), SimulatorTestData.Start);

        var lines = System.Text.Encoding.UTF8.GetString(stream.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(count, lines.Length);
        Assert.Contains(lines, l => l.Contains("\"kind\":\"price_change\"", StringComparison.Ordinal) && l.Contains("gpu_hour:H100-SXM5-80GB", StringComparison.Ordinal));
    }
}
