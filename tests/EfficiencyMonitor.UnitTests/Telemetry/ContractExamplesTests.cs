using System.Text.Json;
using System.Text.Json.Nodes;
using EfficiencyMonitor.Core.Telemetry;
using Xunit;

namespace EfficiencyMonitor.UnitTests.Telemetry;

/// <summary>Every example file against both the JSON Schema and the decoder, so the two cannot drift apart.</summary>
public sealed class ContractExamplesTests
{
    /// <summary>
    /// Rules JSON Schema cannot express; schemas/telemetry/README.md marks the same ones "decoder only".
    /// malformed_json is here because there is no instance to evaluate: the test checks the JSON parser refuses it.
    /// </summary>
    private static readonly HashSet<RejectReason> DecoderOnly =
    [
        RejectReason.MalformedJson,
        RejectReason.Oversized,
        RejectReason.DuplicateField,
        RejectReason.TimestampsOutOfOrder,
        RejectReason.TimestampInFuture,
        RejectReason.CachedExceedsInput,
        RejectReason.RecomputedExceedsUncachedInput,
        RejectReason.ReasoningExceedsOutput,
    ];

    public static TheoryData<string, string> ValidExamples() => Examples("valid");

    public static TheoryData<string, string> InvalidExamples() => Examples("invalid");

    [Theory]
    [MemberData(nameof(ValidExamples))]
    public void ValidExample_SchemaAndDecoder_BothAccept(string topic, string file)
    {
        var bytes = TelemetryTestData.ReadExample(topic, "valid", file);

        var schema = TelemetryTestData.Evaluate(topic, JsonNode.Parse(bytes));
        Assert.True(schema.IsValid, $"{topic}/{file}: schema rejects it: {TelemetryTestData.DescribeErrors(schema)}");

        var result = Decode(topic, bytes);
        Assert.True(result.IsSuccess, $"{topic}/{file}: decoder rejects it: {result}");
    }

    [Theory]
    [MemberData(nameof(InvalidExamples))]
    public void InvalidExample_Decoder_RejectsWithReasonInFileName(string topic, string file)
    {
        var expected = ReasonOf(file);

        var result = Decode(topic, TelemetryTestData.ReadExample(topic, "invalid", file));

        Assert.True(result.Reason == expected, $"{topic}/{file}: expected {expected.ToCode()}, got {result}");
        Assert.False(string.IsNullOrWhiteSpace(result.Message));
    }

    [Theory]
    [MemberData(nameof(InvalidExamples))]
    public void InvalidExample_Schema_RejectsUnlessDecoderOnly(string topic, string file)
    {
        var reason = ReasonOf(file);
        var bytes = TelemetryTestData.ReadExample(topic, "invalid", file);
        if (reason == RejectReason.MalformedJson)
        {
            Assert.ThrowsAny<JsonException>(() => JsonNode.Parse(bytes));
            return;
        }

        if (DecoderOnly.Contains(reason))
        {
            // Semantic rule (cross-field, clock or byte-level): only the decoder can enforce it.
            return;
        }

        var schema = TelemetryTestData.Evaluate(topic, JsonNode.Parse(bytes));
        Assert.False(schema.IsValid, $"{topic}/{file}: the schema accepts a record the decoder rejects as {reason.ToCode()}");
    }

    [Fact]
    public void InvalidExamples_EveryApplicableReason_HasAnExample()
    {
        var requestReasons = TelemetryTestData.ExampleFiles(TelemetryTestData.Requests, "invalid").Select(ReasonOf).ToHashSet();
        var powerReasons = TelemetryTestData.ExampleFiles(TelemetryTestData.Power, "invalid").Select(ReasonOf).ToHashSet();

        // Every reason applies to inference-requests; gpu-power has no enums and no cross-field rules.
        Assert.Equal(RejectReasonCodes.All.OrderBy(r => r), requestReasons.OrderBy(r => r));
        RejectReason[] power =
        [
            RejectReason.MalformedJson, RejectReason.Oversized, RejectReason.NestingTooDeep, RejectReason.UnknownSchemaVersion,
            RejectReason.MissingField, RejectReason.WrongType, RejectReason.UnknownField, RejectReason.DuplicateField,
            RejectReason.InvalidNumber, RejectReason.InvalidString, RejectReason.InvalidTimestamp, RejectReason.TimestampInFuture,
        ];
        Assert.Equal(power.OrderBy(r => r), powerReasons.OrderBy(r => r));
    }

    [Fact]
    public void Examples_ValidSets_CoverTheRequiredShapes()
    {
        var valid = TelemetryTestData.ExampleFiles(TelemetryTestData.Requests, "valid").ToList();
        Assert.Contains("aggregated-chat.json", valid);
        Assert.Contains("disaggregated-kv-transfer.json", valid);
        Assert.Contains("reasoning-heavy.json", valid);
        Assert.Contains("error-without-first-token.json", valid);
        Assert.True(TelemetryTestData.ExampleFiles(TelemetryTestData.Power, "valid").Count() >= 2);
    }

    [Fact]
    public void Readme_EveryReasonCode_IsDocumented()
    {
        var readme = File.ReadAllText(Path.Combine(TelemetryTestData.Directory, "README.md"));
        foreach (var reason in RejectReasonCodes.All)
        {
            Assert.Contains($"`{reason.ToCode()}`", readme, StringComparison.Ordinal);
        }
    }

    private static DecodeResult Decode(string topic, byte[] bytes)
        => topic == TelemetryTestData.Requests
            ? TelemetryTestData.DecodeRequest(bytes, out _)
            : TelemetryTestData.DecodePower(bytes, out _);

    private static RejectReason ReasonOf(string file)
    {
        var code = Path.GetFileNameWithoutExtension(file).Split('-')[0];
        Assert.True(RejectReasonCodes.TryParse(code, out var reason), $"{file} does not start with a reason code");
        return reason;
    }

    private static TheoryData<string, string> Examples(string kind)
    {
        var data = new TheoryData<string, string>();
        foreach (var topic in new[] { TelemetryTestData.Requests, TelemetryTestData.Power })
        {
            foreach (var file in TelemetryTestData.ExampleFiles(topic, kind))
            {
                data.Add(topic, file);
            }
        }

        return data;
    }
}
