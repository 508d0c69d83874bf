using System.Text;
using EfficiencyMonitor.Core.Telemetry;
using Xunit;
using static EfficiencyMonitor.UnitTests.Telemetry.TelemetryTestData;

namespace EfficiencyMonitor.UnitTests.Telemetry;

/// <summary>
/// Seeded hostile input: the decoders must never throw and must always return either success or a named reason with
/// a message. A failure prints the seed and the input, so it replays.
/// </summary>
public sealed class TelemetryDecoderFuzzTests
{
    private const int Seed = 20250601;

    private readonly InferenceRequestDecoder _requests = new();
    private readonly GpuPowerDecoder _power = new();
    private readonly Utf8Arena _arena = new(1024);
    private int _decoded;

    [Fact]
    public void Decode_RandomBytes_NeverThrowsAlwaysNamesReason()
    {
        var random = new Random(Seed);
        for (var i = 0; i < 4000; i++)
        {
            var bytes = new byte[random.Next(0, 600)];
            random.NextBytes(bytes);
            if (i % 2 == 0 && bytes.Length > 0)
            {
                bytes[0] = (byte)'{'; // get past the first token more often
            }

            AssertHandled(bytes, mustReject: true);
        }

        Assert.Equal(8000, _decoded);
    }

    [Fact]
    public void Decode_EveryTruncationOfEveryValidExample_NeverThrowsAndRejects()
    {
        foreach (var (topic, file) in AllValidExamples())
        {
            var bytes = ReadExample(topic, "valid", file);
            var end = bytes.AsSpan().TrimEnd("\n "u8).Length;
            for (var length = 0; length < end; length++)
            {
                AssertHandled(bytes[..length], mustReject: true);
            }

            AssertHandled(bytes, mustReject: false);
        }

        Assert.True(_decoded > 5000, $"only {_decoded} decodes");
    }

    [Fact]
    public void Decode_RandomMutationsOfValidExamples_NeverThrow()
    {
        var random = new Random(Seed);
        var examples = AllValidExamples().Select(e => ReadExample(e.Topic, "valid", e.File)).ToArray();
        byte[] interesting = "{}[]\",:\\0123456789-+.eEtrufalsn \u0000"u8.ToArray();
        for (var i = 0; i < 5000; i++)
        {
            var bytes = (byte[])examples[random.Next(examples.Length)].Clone();
            for (var edits = random.Next(1, 4); edits > 0; edits--)
            {
                var at = random.Next(bytes.Length);
                bytes[at] = random.Next(3) == 0 ? (byte)random.Next(256) : interesting[random.Next(interesting.Length)];
            }

            AssertHandled(bytes, mustReject: false);
        }
    }

    [Theory]
    [InlineData("1e400")]
    [InlineData("-1e400")]
    [InlineData("1e-400")]
    [InlineData("99999999999999999999")]
    [InlineData("-99999999999999999999")]
    [InlineData("179769313486231570000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000")]
    [InlineData("0.0000000000000000000000000000000000000000000000000000000000000000000000001")]
    [InlineData("-0")]
    [InlineData("1E+2")]
    [InlineData("\"NaN\"")]
    [InlineData("\"Infinity\"")]
    [InlineData("NaN")]
    [InlineData("Infinity")]
    [InlineData("-Infinity")]
    [InlineData("0x10")]
    [InlineData("01")]
    public void Decode_HugeAndOddNumbersInEveryNumericField_NeverThrow(string number)
    {
        string[] requestFields = ["schema_version", "input_tokens", "recomputed_input_tokens", "output_tokens", "reasoning_tokens", "queue_ms", "prefill_ms", "kv_transfer_ms", "decode_ms", "kv_bytes_transferred", "kv_compression_ratio", "quality_score"];
        foreach (var field in requestFields)
        {
            var record = AggregatedRequest();
            record[field] = "@@";
            AssertHandled(Encoding.UTF8.GetBytes(record.ToJsonString().Replace("\"@@\"", number, StringComparison.Ordinal)), mustReject: false);
            var tiers = AggregatedRequest();
            tiers["cached_input_tokens"]!["dram"] = "@@";
            AssertHandled(Encoding.UTF8.GetBytes(tiers.ToJsonString().Replace("\"@@\"", number, StringComparison.Ordinal)), mustReject: false);
        }

        string[] powerFields = ["schema_version", "gpu_index", "power_watts", "energy_joules_total", "utilization", "memory_used_bytes"];
        foreach (var field in powerFields)
        {
            var sample = PowerSample();
            sample[field] = "@@";
            AssertHandled(Encoding.UTF8.GetBytes(sample.ToJsonString().Replace("\"@@\"", number, StringComparison.Ordinal)), mustReject: false);
        }
    }

    [Theory]
    [InlineData("[", "]")]
    [InlineData("{\"a\":", "}")]
    [InlineData("[{\"a\":", "}]")]
    public void Decode_TenThousandLevelsAnywhere_RejectsWithoutThrowing(string open, string close)
    {
        var nested = string.Concat(Enumerable.Repeat(open, 10_000)) + "1" + string.Concat(Enumerable.Repeat(close, 10_000));
        AssertHandled(Encoding.UTF8.GetBytes(nested), mustReject: true);
        foreach (var field in new[] { "tenant", "cached_input_tokens", "unknown" })
        {
            var record = AggregatedRequest();
            record[field] = "@@";
            AssertHandled(Encoding.UTF8.GetBytes(record.ToJsonString().Replace("\"@@\"", nested, StringComparison.Ordinal)), mustReject: true);
        }

        // Unclosed: the reader would hit the end first, the depth limit must still win or the JSON error must.
        AssertHandled(Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat(open, 10_000))), mustReject: true);
    }

    [Theory]
    [InlineData(new byte[] { 0xEF, 0xBB, 0xBF })]
    [InlineData(new byte[] { 0x00 })]
    [InlineData(new byte[] { 0xC0, 0xAF })]
    [InlineData(new byte[] { 0xE0, 0x80, 0xAF })]
    [InlineData(new byte[] { 0xF0, 0x80, 0x80, 0xAF })]
    [InlineData(new byte[] { 0xED, 0xA0, 0x80 })]
    [InlineData(new byte[] { 0xFE, 0xFF })]
    [InlineData(new byte[] { 0xF4, 0x90, 0x80, 0x80 })]
    [InlineData(new byte[] { 0x7F })]
    [InlineData(new byte[] { 0xC3 })]
    public void Decode_OddBytesInEveryPosition_NeverThrow(byte[] odd)
    {
        foreach (var (topic, file) in AllValidExamples())
        {
            var bytes = ReadExample(topic, "valid", file);
            for (var at = 0; at < bytes.Length; at += 7)
            {
                AssertHandled([.. bytes.AsSpan(0, at), .. odd, .. bytes.AsSpan(at)], mustReject: true);
            }
        }
    }

    [Theory]
    [InlineData("\\ud800")]
    [InlineData("\\udfff")]
    [InlineData("\\ud800\\ud800")]
    [InlineData("\\udc00\\ud800")]
    [InlineData("\\ud83d\\ude00")]
    [InlineData("\\u0000")]
    [InlineData("\\u001f")]
    [InlineData("\\u007f")]
    [InlineData("\\u00e9")]
    [InlineData("\\ufeff")]
    [InlineData("\\uffff")]
    [InlineData("\\b\\f\\n\\r\\t")]
    public void Decode_OddEscapesInEveryStringAndName_RejectsWithoutThrowing(string escape)
    {
        string[] requestFields = ["request_id", "session_id", "retry_of", "tenant", "deployment", "model", "serving_pattern", "gpu_type", "region", "started_at", "status"];
        foreach (var field in requestFields)
        {
            var record = AggregatedRequest();
            record[field] = "@@";
            var text = record.ToJsonString().Replace("@@", "x" + escape + "y", StringComparison.Ordinal);
            AssertHandled(Encoding.UTF8.GetBytes(text), mustReject: true);
        }

        var named = AggregatedRequest().ToJsonString().Replace("\"tenant\"", "\"ten" + escape + "ant\"", StringComparison.Ordinal);
        AssertHandled(Encoding.UTF8.GetBytes(named), mustReject: true);

        var sample = PowerSample();
        sample["gpu_uuid"] = "@@";
        AssertHandled(Encoding.UTF8.GetBytes(sample.ToJsonString().Replace("@@", escape, StringComparison.Ordinal)), mustReject: true);
    }

    private static IEnumerable<(string Topic, string File)> AllValidExamples()
        => ExampleFiles(Requests, "valid").Select(f => (Requests, f)).Concat(ExampleFiles(Power, "valid").Select(f => (Power, f)));

    /// <summary>Decodes with both decoders (each input is hostile to both), checking the never-throw contract.</summary>
    private void AssertHandled(byte[] bytes, bool mustReject)
    {
        var requestRow = default(InferenceRequestRow);
        var powerRow = default(GpuPowerRow);
        DecodeResult requests;
        DecodeResult power;
        try
        {
            requests = _requests.Decode(bytes, Now, _arena, ref requestRow);
            power = _power.Decode(bytes, Now, ref powerRow);
        }
        catch (Exception ex)
        {
            Assert.Fail($"seed {Seed}: decoder threw {ex.GetType().Name}: {ex.Message}\ninput: {Convert.ToBase64String(bytes)}");
            return;
        }

        _decoded += 2;
        _arena.Reset();
        Check(requests, bytes);
        Check(power, bytes);
        if (mustReject)
        {
            Assert.False(requests.IsSuccess && power.IsSuccess, $"accepted hostile input {Convert.ToBase64String(bytes)}");
            Assert.False(requests.IsSuccess, $"inference-requests accepted hostile input {Encoding.UTF8.GetString(bytes)}");
        }
    }

    private static void Check(DecodeResult result, byte[] bytes)
    {
        if (result.IsSuccess)
        {
            return;
        }

        Assert.True(Enum.IsDefined(result.Reason!.Value), $"undefined reason {result.Reason} for {Convert.ToBase64String(bytes)}");
        Assert.NotEqual("unknown", result.Reason.Value.ToCode());
        Assert.False(string.IsNullOrWhiteSpace(result.Message), $"no message for {Convert.ToBase64String(bytes)}");
    }
}
