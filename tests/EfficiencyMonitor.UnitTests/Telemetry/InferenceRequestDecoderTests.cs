using System.Text;
using System.Text.Json.Nodes;
using EfficiencyMonitor.Core.Telemetry;
using Xunit;
using static EfficiencyMonitor.UnitTests.Telemetry.TelemetryTestData;

namespace EfficiencyMonitor.UnitTests.Telemetry;

/// <summary>One group per reason code, with the boundary on both sides where the rule has one.</summary>
public sealed class InferenceRequestDecoderTests
{
    private static readonly string[] RequiredFields =
    [
        "schema_version", "request_id", "tenant", "deployment", "model", "serving_pattern", "gpu_type", "region",
        "started_at", "finished_at", "input_tokens", "cached_input_tokens", "recomputed_input_tokens", "output_tokens",
        "reasoning_tokens", "queue_ms", "prefill_ms", "kv_load_ms", "decode_ms", "kv_bytes_transferred",
        "kv_compression_ratio", "status",
    ];

    public static TheoryData<string> Required() => new(RequiredFields);

    [Fact]
    public void Decode_DisaggregatedExample_FillsEveryField()
    {
        var arena = new Utf8Arena(16);
        var row = default(InferenceRequestRow);

        var result = new InferenceRequestDecoder().Decode(ReadExample(Requests, "valid", "disaggregated-kv-transfer.json"), Now, arena, ref row);

        AssertAccepted(result);
        Assert.Equal(1, row.SchemaVersion);
        Assert.Equal("req-1b2c3d4e-5f60-4718-8a9b-0c1d2e3f4a5b", arena.GetString(row.RequestId));
        Assert.Equal("sess-support-bot-88121", arena.GetString(row.SessionId));
        Assert.True(row.RetryOf.IsEmpty);
        Assert.Equal("globex-support", row.Tenant);
        Assert.Equal("deepseek-v3-disagg", row.Deployment);
        Assert.Equal("deepseek-ai/DeepSeek-V3", row.Model);
        Assert.Equal(ServingPattern.Disaggregated, row.ServingPattern);
        Assert.Equal("prefill-h200", row.PrefillPool);
        Assert.Equal("decode-h200", row.DecodePool);
        Assert.Equal("H200-SXM-141GB", row.GpuType);
        Assert.Equal("eu-west-4", row.Region);
        Assert.Equal(new DateTimeOffset(2025, 6, 1, 11, 40, 0, TimeSpan.Zero).ToUnixTimeMilliseconds(), row.StartedAtUnixMs);
        Assert.Equal(row.StartedAtUnixMs + 1250, row.FirstTokenAtUnixMs);
        Assert.Equal(row.StartedAtUnixMs + 9731, row.FinishedAtUnixMs);
        Assert.Equal(30000, row.InputTokens);
        Assert.Equal(new KvTierTokens(12000, 9000, 0, 6000), row.CachedInputTokens);
        Assert.Equal(512, row.RecomputedInputTokens);
        Assert.Equal(640, row.OutputTokens);
        Assert.Equal(0, row.ReasoningTokens);
        Assert.Equal(42, row.QueueMs);
        Assert.Equal(610.75, row.PrefillMs);
        Assert.Equal(38.2, row.KvTransferMs);
        Assert.Equal(new KvTierMilliseconds(0.9, 11.3, 0, 95.6), row.KvLoadMs);
        Assert.Equal(8481, row.DecodeMs);
        Assert.Equal(1862270976, row.KvBytesTransferred);
        Assert.Equal(9.8, row.KvCompressionRatio);
        Assert.Equal(RequestStatus.Ok, row.Status);
        Assert.Null(row.QualityScore);
        Assert.True(row.Accepted);
    }

    [Fact]
    public void Decode_EscapesReorderedFieldsAndIntegralFloats_DecodesLikeSchema()
    {
        var arena = new Utf8Arena();
        var row = default(InferenceRequestRow);

        var result = new InferenceRequestDecoder().Decode(ReadExample(Requests, "valid", "coding-agent-multi-tier.json"), Now, arena, ref row);

        AssertAccepted(result);
        Assert.Equal("umbrella/coding-agents", row.Tenant);
        Assert.Equal("kimi-k2-Agent", row.Deployment);
        Assert.Equal("req-agent-turn-0042", arena.GetString(row.RetryOf));
        Assert.Equal(1_500_000_000, row.KvBytesTransferred);
        Assert.Equal(new KvTierTokens(25400, 20000, 28000, 20000), row.CachedInputTokens);
        Assert.Equal(new DateTimeOffset(2025, 6, 1, 11, 59, 59, 900, TimeSpan.Zero).ToUnixTimeMilliseconds(), row.StartedAtUnixMs);
        Assert.Equal(new DateTimeOffset(2025, 6, 1, 12, 0, 0, 450, TimeSpan.Zero).ToUnixTimeMilliseconds(), row.FirstTokenAtUnixMs);
        Assert.False(row.Accepted);
    }

    [Fact]
    public void Decode_NullOptionalFields_TreatedAsAbsent()
    {
        var arena = new Utf8Arena();
        var row = default(InferenceRequestRow);

        var result = new InferenceRequestDecoder().Decode(ReadExample(Requests, "valid", "error-without-first-token.json"), Now, arena, ref row);

        AssertAccepted(result);
        Assert.True(row.SessionId.IsEmpty);
        Assert.Null(row.FirstTokenAtUnixMs);
        Assert.Null(row.QualityScore);
        Assert.Null(row.Accepted);
        Assert.Null(row.PrefillPool);
        Assert.Equal(RequestStatus.Error, row.Status);
    }

    [Fact]
    public void Decode_Rejected_RollsBackArenaAndResetsRow()
    {
        var decoder = new InferenceRequestDecoder();
        var arena = new Utf8Arena();
        var row = default(InferenceRequestRow);
        AssertAccepted(decoder.Decode(ReadExample(Requests, "valid", "aggregated-chat.json"), Now, arena, ref row));
        var length = arena.Length;
        var bad = AggregatedRequest();
        bad["reasoning_tokens"] = 9999;

        var result = decoder.Decode(Utf8(bad), Now, arena, ref row);

        AssertRejected(result, RejectReason.ReasoningExceedsOutput);
        Assert.Equal(length, arena.Length);
        Assert.Null(row.Tenant);
        Assert.Equal(0, row.InputTokens);
    }

    [Fact]
    public void Decode_NoArena_Throws()
    {
        var row = default(InferenceRequestRow);
        Assert.Throws<ArgumentNullException>(() => new InferenceRequestDecoder().Decode("{}"u8, Now, null!, ref row));
    }

    [Fact]
    public void Constructor_InvalidOptions_ListsEveryProblem()
    {
        var options = new TelemetryDecoderOptions { MaxRecordBytes = 1, MaxDepth = 1, MaxStringBytes = 0, MaxFutureSkew = TimeSpan.FromDays(-1), InternCapacity = 1 };

        Assert.Equal(5, options.Validate().Count);
        var ex = Assert.Throws<ArgumentException>(() => new InferenceRequestDecoder(options));
        Assert.Contains("MaxRecordBytes", ex.Message, StringComparison.Ordinal);
        Assert.Contains("InternCapacity", ex.Message, StringComparison.Ordinal);
        Assert.Empty(new TelemetryDecoderOptions().Validate());
    }

    // malformed_json

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("{")]
    [InlineData("{\"schema_version\": 1,}")]
    [InlineData("{\"schema_version\": NaN}")]
    [InlineData("{\"schema_version\": Infinity}")]
    [InlineData("{\"schema_version\": 1} {}")]
    [InlineData("{\"schema_version\": 1} x")]
    [InlineData("{'schema_version': 1}")]
    [InlineData("{\"schema_version\": 1 /* c */}")]
    public void Decode_NotJson_RejectsMalformedJson(string text)
        => AssertRejected(DecodeRequest(text), RejectReason.MalformedJson);

    [Fact]
    public void Decode_Utf8Bom_RejectsMalformedJson()
    {
        var bytes = ReadExample(Requests, "valid", "aggregated-chat.json");
        AssertRejected(DecodeRequest([0xEF, 0xBB, 0xBF, .. bytes], out _), RejectReason.MalformedJson);
    }

    // oversized

    [Fact]
    public void Decode_ExactlyMaxRecordBytes_Accepted()
    {
        var options = new TelemetryDecoderOptions { MaxRecordBytes = 4096 };
        var padded = PadTo(Utf8(AggregatedRequest()), 4096);

        AssertAccepted(DecodeRequest(padded, out _, options));
    }

    [Fact]
    public void Decode_OneByteOverMaxRecordBytes_RejectsOversized()
    {
        var options = new TelemetryDecoderOptions { MaxRecordBytes = 4096 };
        var padded = PadTo(Utf8(AggregatedRequest()), 4097);

        AssertRejected(DecodeRequest(padded, out _, options), RejectReason.Oversized);
    }

    // nesting_too_deep

    [Fact]
    public void Decode_NestingAtMaxDepth_IsJustAnUnknownField()
    {
        var record = AggregatedRequest();
        record["extra"] = JsonNode.Parse("[[[1]]]"); // root + 3 = 4 levels = MaxDepth

        AssertRejected(DecodeRequest(record), RejectReason.UnknownField);
    }

    [Fact]
    public void Decode_NestingOneOverMaxDepth_RejectsNestingTooDeep()
    {
        var record = AggregatedRequest();
        record["extra"] = JsonNode.Parse("[[[[1]]]]");

        AssertRejected(DecodeRequest(record), RejectReason.NestingTooDeep);
    }

    [Fact]
    public void Decode_TenThousandLevels_RejectsNestingTooDeep()
    {
        var deep = "{\"schema_version\":1,\"tenant\":" + new string('[', 10_000) + new string(']', 10_000) + "}";
        AssertRejected(DecodeRequest(deep), RejectReason.NestingTooDeep);
    }

    // unknown_schema_version

    [Theory]
    [InlineData("2")]
    [InlineData("0")]
    [InlineData("-1")]
    [InlineData("1.5")]
    [InlineData("1e400")]
    public void Decode_SchemaVersionNotOne_RejectsUnknownSchemaVersion(string version)
    {
        var text = Encoding.UTF8.GetString(Utf8(AggregatedRequest())).Replace("\"schema_version\":1", "\"schema_version\":" + version, StringComparison.Ordinal);
        AssertRejected(DecodeRequest(text), RejectReason.UnknownSchemaVersion, "schema_version");
    }

    [Fact]
    public void Decode_SchemaVersionOneAsFloat_Accepted()
    {
        var text = Encoding.UTF8.GetString(Utf8(AggregatedRequest())).Replace("\"schema_version\":1", "\"schema_version\":1.0", StringComparison.Ordinal);
        AssertAccepted(DecodeRequest(text));
    }

    [Fact]
    public void Decode_NewVersionAfterOtherProblems_ReportsUnknownSchemaVersion()
    {
        // A v2 record may legitimately carry fields v1 does not know: the version, not the field, is the reason.
        var record = AggregatedRequest();
        record.Remove("schema_version");
        record["tokens_per_expert"] = 12;
        record["input_tokens"] = "many";
        record["schema_version"] = 2;

        AssertRejected(DecodeRequest(record), RejectReason.UnknownSchemaVersion);
    }

    // missing_field

    [Theory]
    [MemberData(nameof(Required))]
    public void Decode_RequiredFieldAbsent_RejectsMissingField(string field)
    {
        var record = AggregatedRequest();
        Assert.True(record.Remove(field));

        AssertRejected(DecodeRequest(record), RejectReason.MissingField, field);
    }

    [Theory]
    [MemberData(nameof(Required))]
    public void Decode_RequiredFieldNull_RejectsMissingField(string field)
    {
        var record = AggregatedRequest();
        record[field] = null;

        AssertRejected(DecodeRequest(record), RejectReason.MissingField, field);
    }

    [Theory]
    [InlineData("prefill_pool")]
    [InlineData("decode_pool")]
    [InlineData("kv_transfer_ms")]
    public void Decode_DisaggregatedWithoutPoolOrTransfer_RejectsMissingField(string field)
    {
        var record = DisaggregatedRequest();
        record[field] = null;

        AssertRejected(DecodeRequest(record), RejectReason.MissingField, field);
    }

    [Theory]
    [InlineData("cached_input_tokens", "dram")]
    [InlineData("kv_load_ms", "remote")]
    public void Decode_TierAbsent_RejectsMissingField(string parent, string tier)
    {
        var record = AggregatedRequest();
        record[parent]!.AsObject().Remove(tier);

        AssertRejected(DecodeRequest(record), RejectReason.MissingField, $"{parent}.{tier}");
    }

    // wrong_type

    [Theory]
    [InlineData("input_tokens", "\"2048\"")]
    [InlineData("queue_ms", "true")]
    [InlineData("tenant", "42")]
    [InlineData("tenant", "{\"name\":\"acme\"}")]
    [InlineData("started_at", "1748779083120")]
    [InlineData("cached_input_tokens", "[0,0,0,0]")]
    [InlineData("accepted", "\"yes\"")]
    [InlineData("accepted", "1")]
    [InlineData("status", "1")]
    [InlineData("schema_version", "\"1\"")]
    public void Decode_WrongJsonType_RejectsWrongType(string field, string json)
    {
        var record = AggregatedRequest();
        record[field] = JsonNode.Parse(json);

        AssertRejected(DecodeRequest(record), RejectReason.WrongType, field);
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("42")]
    [InlineData("\"record\"")]
    [InlineData("null")]
    public void Decode_RootNotObject_RejectsWrongType(string json)
        => AssertRejected(DecodeRequest(json), RejectReason.WrongType);

    // unknown_field

    [Fact]
    public void Decode_UnknownTopLevelField_RejectsUnknownField()
    {
        var record = AggregatedRequest();
        record["gpu_count"] = 8;

        var result = DecodeRequest(record);

        AssertRejected(result, RejectReason.UnknownField);
        Assert.Contains("gpu_count", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_UnknownTierField_RejectsUnknownField()
    {
        var record = AggregatedRequest();
        record["kv_load_ms"]!["g5"] = 0;

        AssertRejected(DecodeRequest(record), RejectReason.UnknownField, "kv_load_ms");
    }

    [Fact]
    public void Decode_FieldNameWithDifferentCase_RejectsUnknownField()
    {
        var text = Encoding.UTF8.GetString(Utf8(AggregatedRequest())).Replace("\"tenant\"", "\"Tenant\"", StringComparison.Ordinal);
        AssertRejected(DecodeRequest(text), RejectReason.UnknownField);
    }

    [Fact]
    public void Decode_EscapedFieldName_MatchesLikeAnyJsonParser()
    {
        var text = Encoding.UTF8.GetString(Utf8(AggregatedRequest())).Replace("\"tenant\"", "\"\\u0074enant\"", StringComparison.Ordinal);
        AssertAccepted(DecodeRequest(text));
    }

    // duplicate_field

    [Fact]
    public void Decode_DuplicateTopLevelField_RejectsDuplicateField()
    {
        var text = Encoding.UTF8.GetString(Utf8(AggregatedRequest())).Replace("\"model\":", "\"model\":\"other\",\"model\":", StringComparison.Ordinal);
        AssertRejected(DecodeRequest(text), RejectReason.DuplicateField, "model");
    }

    [Fact]
    public void Decode_DuplicateTierField_RejectsDuplicateField()
    {
        var text = Encoding.UTF8.GetString(Utf8(AggregatedRequest())).Replace("\"dram\":0,", "\"dram\":0,\"dram\":0,", StringComparison.Ordinal);
        AssertRejected(DecodeRequest(text), RejectReason.DuplicateField);
    }

    // invalid_number

    [Theory]
    [InlineData("input_tokens", "-1")]
    [InlineData("input_tokens", "2048.5")]
    [InlineData("input_tokens", "2147483648")]
    [InlineData("input_tokens", "99999999999999999999")]
    [InlineData("input_tokens", "1e400")]
    [InlineData("queue_ms", "-0.001")]
    [InlineData("queue_ms", "1e400")]
    [InlineData("queue_ms", "-1e400")]
    [InlineData("queue_ms", "86400000.001")]
    [InlineData("kv_bytes_transferred", "9007199254740992")]
    [InlineData("kv_compression_ratio", "0.999")]
    [InlineData("quality_score", "1.0000001")]
    [InlineData("quality_score", "-0.1")]
    public void Decode_NumberOutOfContract_RejectsInvalidNumber(string field, string number)
    {
        var text = Encoding.UTF8.GetString(Utf8(WithPlaceholder(field))).Replace("\"@@\"", number, StringComparison.Ordinal);
        AssertRejected(DecodeRequest(text), RejectReason.InvalidNumber, field);
    }

    [Theory]
    [InlineData("queue_ms", "86400000")]
    [InlineData("queue_ms", "0")]
    [InlineData("queue_ms", "-0")]
    [InlineData("queue_ms", "1e-400")]
    [InlineData("kv_bytes_transferred", "9007199254740991")]
    [InlineData("kv_bytes_transferred", "1e3")]
    [InlineData("kv_compression_ratio", "1")]
    [InlineData("kv_compression_ratio", "1000")]
    [InlineData("quality_score", "1")]
    [InlineData("quality_score", "0")]
    public void Decode_NumberAtContractBoundary_Accepted(string field, string number)
    {
        var text = Encoding.UTF8.GetString(Utf8(WithPlaceholder(field))).Replace("\"@@\"", number, StringComparison.Ordinal);
        AssertAccepted(DecodeRequest(text));
    }

    [Fact]
    public void Decode_TokenCountsAtIntMax_AcceptedWithoutOverflow()
    {
        var record = AggregatedRequest();
        record["input_tokens"] = int.MaxValue;
        record["cached_input_tokens"] = JsonNode.Parse($"{{\"hbm\":{int.MaxValue - 3},\"dram\":1,\"local_ssd\":1,\"remote\":1}}");
        record["output_tokens"] = int.MaxValue;
        record["reasoning_tokens"] = int.MaxValue;
        record["kv_load_ms"] = JsonNode.Parse("{\"hbm\":0,\"dram\":0,\"local_ssd\":0,\"remote\":0}");

        AssertAccepted(DecodeRequest(record));
    }

    [Fact]
    public void Decode_TierSumOverflowsInt_RejectsCachedExceedsInput()
    {
        var record = AggregatedRequest();
        record["input_tokens"] = int.MaxValue;
        record["cached_input_tokens"] = JsonNode.Parse($"{{\"hbm\":{int.MaxValue},\"dram\":{int.MaxValue},\"local_ssd\":0,\"remote\":0}}");

        AssertRejected(DecodeRequest(record), RejectReason.CachedExceedsInput);
    }

    // unknown_enum_value

    [Theory]
    [InlineData("status", "success")]
    [InlineData("status", "OK")]
    [InlineData("status", "")]
    [InlineData("serving_pattern", "Aggregated")]
    [InlineData("serving_pattern", "hybrid")]
    public void Decode_EnumValueOutsideSet_RejectsUnknownEnumValue(string field, string value)
    {
        var record = AggregatedRequest();
        record[field] = value;

        AssertRejected(DecodeRequest(record), RejectReason.UnknownEnumValue, field);
    }

    [Theory]
    [InlineData("ok", RequestStatus.Ok)]
    [InlineData("error", RequestStatus.Error)]
    [InlineData("timeout", RequestStatus.Timeout)]
    [InlineData("cancelled", RequestStatus.Cancelled)]
    [InlineData("filtered", RequestStatus.Filtered)]
    public void Decode_EveryStatus_Mapped(string value, RequestStatus expected)
    {
        var record = AggregatedRequest();
        record["status"] = value;

        AssertAccepted(DecodeRequest(Utf8(record), out var row));
        Assert.Equal(expected, row.Status);
    }

    // invalid_string

    [Theory]
    [InlineData("request_id", "\"\"")]
    [InlineData("tenant", "\"\"")]
    [InlineData("tenant", "\"acme\\u0000\"")]
    [InlineData("tenant", "\"acme\\n\"")]
    [InlineData("tenant", "\"acme\\u007f\"")]
    [InlineData("model", "\"\\ud800\"")]
    [InlineData("model", "\"\\udfff\\ud800\"")]
    [InlineData("model", "\"\\ud83d\\ude00\"")]
    [InlineData("region", "\"s\u00e3o-paulo\"")]
    [InlineData("session_id", "\"\"")]
    public void Decode_BadString_RejectsInvalidString(string field, string json)
    {
        var text = Encoding.UTF8.GetString(Utf8(WithPlaceholder(field))).Replace("\"@@\"", json, StringComparison.Ordinal);
        AssertRejected(DecodeRequest(text), RejectReason.InvalidString, field);
    }

    [Theory]
    [InlineData(new byte[] { 0xC0, 0xAF })]
    [InlineData(new byte[] { 0xFF })]
    [InlineData(new byte[] { 0xED, 0xA0, 0x80 })]
    public void Decode_InvalidUtf8InString_Rejected(byte[] bad)
    {
        var text = Encoding.UTF8.GetString(Utf8(WithPlaceholder("tenant")));
        var parts = text.Split("@@");
        byte[] bytes = [.. Encoding.UTF8.GetBytes(parts[0]), .. bad, .. Encoding.UTF8.GetBytes(parts[1])];

        var result = DecodeRequest(bytes, out _);

        // Utf8JsonReader may flag it as malformed before the ASCII check does; either way it is refused by name.
        Assert.True(result.Reason is RejectReason.InvalidString or RejectReason.MalformedJson, result.ToString());
    }

    [Fact]
    public void Decode_StringOf256Characters_Accepted()
    {
        var record = AggregatedRequest();
        record["request_id"] = new string('r', 256);
        record["tenant"] = new string('t', 256);

        AssertAccepted(DecodeRequest(record));
    }

    [Theory]
    [InlineData("request_id")]
    [InlineData("tenant")]
    public void Decode_StringOf257Characters_RejectsInvalidString(string field)
    {
        var record = AggregatedRequest();
        record[field] = new string('x', 257);

        AssertRejected(DecodeRequest(record), RejectReason.InvalidString, field);
    }

    [Fact]
    public void Decode_EscapedStringOver256AfterUnescaping_RejectsInvalidString()
    {
        var text = Encoding.UTF8.GetString(Utf8(WithPlaceholder("tenant")))
            .Replace("\"@@\"", "\"" + string.Concat(Enumerable.Repeat("\\u0041", 257)) + "\"", StringComparison.Ordinal);
        AssertRejected(DecodeRequest(text), RejectReason.InvalidString, "tenant");
    }

    // invalid_timestamp

    [Theory]
    [InlineData("2025-06-01 11:58:03.120Z")]
    [InlineData("2025-06-01T11:58:03.120")]
    [InlineData("2025-06-01T11:58:03.120+00:00")]
    [InlineData("2025-06-01T11:58:03.120z")]
    [InlineData("2025-06-01t11:58:03.120Z")]
    [InlineData("2025-06-01T11:58:03.1201Z")]
    [InlineData("2025-06-01T11:58:03.Z")]
    [InlineData("2025-06-01T11:58:60Z")]
    [InlineData("2025-06-01T24:00:00Z")]
    [InlineData("2025-02-29T00:00:00Z")]
    [InlineData("2100-02-29T00:00:00Z")]
    [InlineData("2025-04-31T00:00:00Z")]
    [InlineData("2025-13-01T00:00:00Z")]
    [InlineData("1969-12-31T23:59:59.999Z")]
    [InlineData("2025-6-1T11:58:03Z")]
    [InlineData("")]
    [InlineData("yesterday")]
    public void Decode_BadTimestamp_RejectsInvalidTimestamp(string value)
    {
        var record = AggregatedRequest();
        record["started_at"] = value;

        AssertRejected(DecodeRequest(record), RejectReason.InvalidTimestamp, "started_at");
        Assert.False(Evaluate(Requests, record).IsValid, "the schema must refuse the same timestamp");
    }

    [Theory]
    [InlineData("2024-02-29T00:00:00Z")]
    [InlineData("2000-02-29T00:00:00.5Z")]
    [InlineData("1970-01-01T00:00:00.000Z")]
    public void Decode_CalendarEdgeTimestamps_Accepted(string value)
    {
        var record = AggregatedRequest();
        record["started_at"] = value;
        record.Remove("first_token_at");
        record["output_tokens"] = 0;
        record["decode_ms"] = 0;

        AssertAccepted(DecodeRequest(record));
        Assert.True(Evaluate(Requests, record).IsValid);
    }

    // timestamps_out_of_order

    [Fact]
    public void Decode_AllTimestampsEqual_Accepted()
    {
        var record = AggregatedRequest();
        record["started_at"] = record["first_token_at"]!.GetValue<string>();
        record["finished_at"] = record["first_token_at"]!.GetValue<string>();

        AssertAccepted(DecodeRequest(record));
    }

    [Theory]
    [InlineData("first_token_at", "2025-06-01T11:58:03.119Z")]
    [InlineData("first_token_at", "2025-06-01T11:58:07.906Z")]
    [InlineData("finished_at", "2025-06-01T11:58:03.411Z")]
    public void Decode_TimestampOneMillisecondOutOfOrder_RejectsTimestampsOutOfOrder(string field, string value)
    {
        var record = AggregatedRequest();
        record[field] = value;

        AssertRejected(DecodeRequest(record), RejectReason.TimestampsOutOfOrder);
    }

    [Fact]
    public void Decode_FinishedBeforeStartedWithoutFirstToken_RejectsTimestampsOutOfOrder()
    {
        var record = LoadExample(Requests, "valid", "error-without-first-token.json");
        record["finished_at"] = "2025-06-01T11:58:03.119Z";

        AssertRejected(DecodeRequest(record), RejectReason.TimestampsOutOfOrder, "finished_at");
    }

    // timestamp_in_future

    [Fact]
    public void Decode_FinishedExactlyAtSkewLimit_Accepted()
    {
        var finished = DateTimeOffset.FromUnixTimeMilliseconds(DecodeRequest(Utf8(AggregatedRequest()), out var row).IsSuccess ? row.FinishedAtUnixMs : 0);
        var now = finished - TimeSpan.FromMinutes(5);

        AssertAccepted(DecodeRequest(AggregatedRequest(), now: now));
    }

    [Fact]
    public void Decode_FinishedOneMillisecondPastSkewLimit_RejectsTimestampInFuture()
    {
        DecodeRequest(Utf8(AggregatedRequest()), out var row);
        var now = DateTimeOffset.FromUnixTimeMilliseconds(row.FinishedAtUnixMs) - TimeSpan.FromMinutes(5) - TimeSpan.FromMilliseconds(1);

        AssertRejected(DecodeRequest(AggregatedRequest(), now: now), RejectReason.TimestampInFuture, "finished_at");
    }

    [Fact]
    public void Decode_ZeroSkewConfigured_RejectsAnyFutureMillisecond()
    {
        DecodeRequest(Utf8(AggregatedRequest()), out var row);
        var options = new TelemetryDecoderOptions { MaxFutureSkew = TimeSpan.Zero };
        var finished = DateTimeOffset.FromUnixTimeMilliseconds(row.FinishedAtUnixMs);

        AssertAccepted(DecodeRequest(AggregatedRequest(), options, finished));
        AssertRejected(DecodeRequest(AggregatedRequest(), options, finished.AddMilliseconds(-1)), RejectReason.TimestampInFuture);
    }

    // cached_exceeds_input, recomputed_exceeds_uncached_input, reasoning_exceeds_output

    [Fact]
    public void Decode_CachedEqualsInput_Accepted()
    {
        var record = AggregatedRequest();
        record["cached_input_tokens"] = Tiers(1536, 256, 128, 128);

        AssertAccepted(DecodeRequest(record));
    }

    [Fact]
    public void Decode_CachedOneOverInput_RejectsCachedExceedsInput()
    {
        var record = AggregatedRequest();
        record["cached_input_tokens"] = Tiers(1536, 256, 128, 129);

        AssertRejected(DecodeRequest(record), RejectReason.CachedExceedsInput, "cached_input_tokens");
    }

    [Fact]
    public void Decode_CachedPlusRecomputedEqualsInput_Accepted()
    {
        var record = AggregatedRequest();
        record["recomputed_input_tokens"] = 512;

        AssertAccepted(DecodeRequest(record));
    }

    [Fact]
    public void Decode_RecomputedOneOverUncached_RejectsRecomputedExceedsUncachedInput()
    {
        var record = AggregatedRequest();
        record["recomputed_input_tokens"] = 513;

        AssertRejected(DecodeRequest(record), RejectReason.RecomputedExceedsUncachedInput, "recomputed_input_tokens");
    }

    [Fact]
    public void Decode_ReasoningEqualsOutput_Accepted()
    {
        var record = AggregatedRequest();
        record["reasoning_tokens"] = 412;

        AssertAccepted(DecodeRequest(record));
    }

    [Fact]
    public void Decode_ReasoningOneOverOutput_RejectsReasoningExceedsOutput()
    {
        var record = AggregatedRequest();
        record["reasoning_tokens"] = 413;

        AssertRejected(DecodeRequest(record), RejectReason.ReasoningExceedsOutput, "reasoning_tokens");
    }

    // kv_load_without_cached_tokens

    [Theory]
    [InlineData(0, "hbm")]
    [InlineData(1, "dram")]
    [InlineData(2, "local_ssd")]
    [InlineData(3, "remote")]
    public void Decode_LoadTimeOnTierWithoutTokens_RejectsKvLoadWithoutCachedTokens(int tier, string name)
    {
        var record = AggregatedRequest();
        var load = new double[4];
        load[tier] = 0.001;
        record["cached_input_tokens"] = Tiers(0, 0, 0, 0);
        record["kv_load_ms"] = Tiers(load[0], load[1], load[2], load[3]);

        AssertRejected(DecodeRequest(record), RejectReason.KvLoadWithoutCachedTokens, "kv_load_ms." + name);
        Assert.False(Evaluate(Requests, record).IsValid);
    }

    [Fact]
    public void Decode_TokensOnTierWithoutLoadTime_Accepted()
    {
        var record = AggregatedRequest();
        record["cached_input_tokens"] = Tiers(100, 100, 100, 100);
        record["kv_load_ms"] = Tiers(0, 0, 0, 0);

        AssertAccepted(DecodeRequest(record));
    }

    // first_token_mismatch

    [Fact]
    public void Decode_OutputWithoutFirstToken_RejectsFirstTokenMismatch()
    {
        var record = AggregatedRequest();
        record.Remove("first_token_at");

        AssertRejected(DecodeRequest(record), RejectReason.FirstTokenMismatch, "first_token_at");
    }

    [Fact]
    public void Decode_FirstTokenWithoutOutput_RejectsFirstTokenMismatch()
    {
        var record = AggregatedRequest();
        record["output_tokens"] = 0;

        AssertRejected(DecodeRequest(record), RejectReason.FirstTokenMismatch, "first_token_at");
    }

    // kv_transfer_in_aggregated

    [Fact]
    public void Decode_AggregatedWithZeroTransfer_Accepted()
    {
        var record = AggregatedRequest();
        record["kv_transfer_ms"] = 0;

        AssertAccepted(DecodeRequest(record));
    }

    [Fact]
    public void Decode_AggregatedWithTransferTime_RejectsKvTransferInAggregated()
    {
        var record = AggregatedRequest();
        record["kv_transfer_ms"] = 0.001;

        AssertRejected(DecodeRequest(record), RejectReason.KvTransferInAggregated, "kv_transfer_ms");
    }

    private static JsonObject Tiers(double hbm, double dram, double localSsd, double remote)
        => new() { ["hbm"] = hbm, ["dram"] = dram, ["local_ssd"] = localSsd, ["remote"] = remote };

    /// <summary>The aggregated example with <paramref name="field"/> set to "@@", for raw JSON substitution.</summary>
    private static JsonObject WithPlaceholder(string field)
    {
        var record = AggregatedRequest();
        record[field] = "@@";
        return record;
    }

    private static byte[] PadTo(byte[] json, int size)
    {
        // Whitespace before the closing brace keeps the record valid JSON of exactly `size` bytes.
        var padded = new byte[size];
        json.AsSpan(0, json.Length - 1).CopyTo(padded);
        padded.AsSpan(json.Length - 1, size - json.Length).Fill((byte)' ');
        padded[^1] = (byte)'}';
        return padded;
    }
}
