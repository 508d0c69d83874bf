using System.Globalization;
using System.Text.Json;
using EfficiencyMonitor.Simulator.Traces;
using Xunit.Abstractions;

namespace EfficiencyMonitor.UnitTests.Simulator.Traces;

public sealed class MooncakeTraceTests(ITestOutputHelper output)
{
    private const string Good = """{"timestamp": 0, "input_length": 1000, "output_length": 5, "hash_ids": [0, 1]}""";

    [Fact]
    public void Summarize_MooncakeTrace_UnboundedReuseEqualsIndependentPrefixComputation()
    {
        var path = TraceTestData.MooncakePath;
        var summary = TraceSummary.Compute(MooncakeTrace.Read(path, new TraceSelection()));
        output.WriteLine(summary.Format());

        // Independently: a set of whole prefixes (the id sequence up to each block, as text), parsed with JsonDocument, no
        // reliance on the ids being prefix-chained. A block is reusable when the whole prefix ending in it was seen before.
        var prefixes = new HashSet<string>(StringComparer.Ordinal);
        long input = 0, reusable = 0, requests = 0;
        foreach (var line in File.ReadLines(path))
        {
            using var doc = JsonDocument.Parse(line);
            var length = doc.RootElement.GetProperty("input_length").GetInt64();
            var ids = doc.RootElement.GetProperty("hash_ids").EnumerateArray().Select(e => e.GetInt64().ToString(CultureInfo.InvariantCulture)).ToList();
            requests++;
            input += length;
            var prefix = "";
            var matching = true;
            for (var k = 0; k < ids.Count; k++)
            {
                prefix += "/" + ids[k];
                var seen = !prefixes.Add(prefix);
                matching &= seen;
                if (matching)
                {
                    reusable += Math.Min(512, length - 512L * k);
                }
            }
        }

        Assert.Equal(TraceTestData.MooncakeRequests, summary.Requests);
        Assert.Equal(requests, summary.Requests);
        Assert.Equal(input, summary.InputTokens);
        Assert.Equal(reusable, summary.ReusableInputTokens);
        Assert.Equal(reusable / (double)input, summary.UnboundedReuse, 12);
    }

    [Fact]
    public void Summarize_MooncakeTrace_BurstierThanPoisson()
    {
        var summary = TraceSummary.Compute(MooncakeTrace.Read(TraceTestData.MooncakePath, new TraceSelection()));

        Assert.True(summary.InterArrivalCv > 1, $"CV {summary.InterArrivalCv}");
        Assert.True(summary.PeakPerSecond > 3 * summary.MeanRatePerSecond, $"peak {summary.PeakPerSecond} vs mean {summary.MeanRatePerSecond}");
        Assert.InRange(summary.Duration.TotalMinutes, 55, 60);
    }

    [Theory]
    [InlineData("""{"timestamp": 0, "input_length": "many", "output_length": 5, "hash_ids": [0, 1]}""", "input_length")]
    [InlineData("""{"timestamp": 0, "input_length": 1000, "hash_ids": [0, 1]}""", "output_length")]
    [InlineData("""{"timestamp": -3, "input_length": 1000, "output_length": 5, "hash_ids": [0, 1]}""", "timestamp")]
    [InlineData("""{"timestamp": 0, "input_length": 1000, "output_length": 5, "hash_ids": [0]}""", "hash_ids")]
    [InlineData("""{"timestamp": 0, "input_length": 1000, "output_length": 5, "hash_ids": [0, "x"]}""", "hash_ids")]
    [InlineData("""{"timestamp": 0, "input_length": 1000, "output_length": 5, "hash_ids": [0, 1]""", "json")]
    [InlineData("""[1, 2]""", "json")]
    public void Read_MalformedLine_ErrorNamesLineAndField(string bad, string field)
    {
        var text = string.Join('\n', Good, Good, bad, Good);

        var e = Assert.Throws<TraceFormatException>(() => MooncakeTrace.Read(() => new StringReader(text), new TraceSelection()).ToList());

        output.WriteLine(e.Message);
        Assert.Equal(3, e.Line);
        Assert.Equal(field, e.Field);
        Assert.StartsWith($"line 3: {field}: ", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_OutOfOrderTimestamp_ErrorNamesLine()
    {
        var text = string.Join('\n', Good.Replace("\"timestamp\": 0", "\"timestamp\": 5000", StringComparison.Ordinal), Good);

        var e = Assert.Throws<TraceFormatException>(() => MooncakeTrace.Read(() => new StringReader(text), new TraceSelection()).ToList());

        Assert.Equal(2, e.Line);
        Assert.Equal("timestamp", e.Field);
    }

    [Fact]
    public void Read_SkipMalformed_SkipsAndCountsBadLines()
    {
        var text = string.Join('\n', Good, "not json", Good, """{"timestamp": 0}""", "", Good);
        var stats = new TraceReadStats();

        var arrivals = MooncakeTrace.Read(() => new StringReader(text), new TraceSelection { SkipMalformed = true }, stats).ToList();

        Assert.Equal([1L, 3L, 6L], arrivals.Select(a => a.Line));
        Assert.Equal(2, stats.Skipped);
        Assert.Contains(stats.Examples, m => m.StartsWith("line 2: json", StringComparison.Ordinal));
        Assert.Contains(stats.Examples, m => m.StartsWith("line 4: input_length", StringComparison.Ordinal));
    }

    [Fact]
    public void Read_OffsetAndLimit_KeepsOrderFromTheOffset()
    {
        var lines = Enumerable.Range(0, 10).Select(i => $$"""{"timestamp": {{i * 1000}}, "input_length": 10, "output_length": 1, "hash_ids": [{{i}}]}""");
        var text = string.Join('\n', lines);

        var arrivals = MooncakeTrace.Read(() => new StringReader(text), new TraceSelection { Offset = TimeSpan.FromSeconds(3.5), Limit = 4 }).ToList();

        Assert.Equal([4000L, 5000L, 6000L, 7000L], arrivals.Select(a => a.TimestampMs));
    }

    [Fact]
    public void BlockTokenCount_LastBlockPartial_RestOfPrompt()
    {
        var a = MooncakeTrace.Parse("""{"timestamp": 0, "input_length": 1100, "output_length": 5, "hash_ids": [7, 8, 9]}"""u8, 1);

        Assert.Equal([512, 512, 76], Enumerable.Range(0, 3).Select(a.BlockTokenCount));
    }
}
