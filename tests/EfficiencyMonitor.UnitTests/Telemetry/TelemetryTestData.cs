using System.Text;
using System.Text.Json.Nodes;
using EfficiencyMonitor.Core.Telemetry;
using Json.Schema;
using Xunit;

namespace EfficiencyMonitor.UnitTests.Telemetry;

/// <summary>Example files, schemas and decoding helpers shared by the telemetry tests.</summary>
internal static class TelemetryTestData
{
    public const string Requests = "inference-requests";
    public const string Power = "gpu-power";

    /// <summary>The clock every example is written against: valid examples end a little before it.</summary>
    public static readonly DateTimeOffset Now = new(2025, 6, 1, 12, 0, 0, TimeSpan.Zero);

    private static readonly Lazy<string> TelemetryDirectory = new(FindTelemetryDirectory);
    private static readonly Lazy<JsonSchema> RequestsSchema = new(() => LoadSchema(Requests));
    private static readonly Lazy<JsonSchema> PowerSchema = new(() => LoadSchema(Power));

    public static string Directory => TelemetryDirectory.Value;

    public static JsonSchema Schema(string topic) => topic == Requests ? RequestsSchema.Value : PowerSchema.Value;

    public static string ExamplePath(string topic, string kind, string file) => Path.Combine(Directory, "examples", topic, kind, file);

    public static byte[] ReadExample(string topic, string kind, string file) => File.ReadAllBytes(ExamplePath(topic, kind, file));

    public static JsonObject LoadExample(string topic, string kind, string file)
        => JsonNode.Parse(ReadExample(topic, kind, file))!.AsObject();

    /// <summary>The aggregated chat example, a record every other rule can be tweaked from.</summary>
    public static JsonObject AggregatedRequest() => LoadExample(Requests, "valid", "aggregated-chat.json");

    public static JsonObject DisaggregatedRequest() => LoadExample(Requests, "valid", "disaggregated-kv-transfer.json");

    public static JsonObject PowerSample() => LoadExample(Power, "valid", "h100-with-energy-counter.json");

    public static byte[] Utf8(JsonNode node) => Encoding.UTF8.GetBytes(node.ToJsonString());

    public static IEnumerable<string> ExampleFiles(string topic, string kind)
        => System.IO.Directory.EnumerateFiles(Path.Combine(Directory, "examples", topic, kind), "*.json")
            .Select(Path.GetFileName)
            .Order(StringComparer.Ordinal)!;

    /// <summary>Evaluates an instance with format assertion on, so date-time is checked, not just annotated.</summary>
    public static EvaluationResults Evaluate(string topic, JsonNode? instance)
        => Schema(topic).Evaluate(instance, new EvaluationOptions { OutputFormat = OutputFormat.List, RequireFormatValidation = true });

    public static string DescribeErrors(EvaluationResults results)
        => string.Join("; ", results.Details.Where(d => d.Errors is not null).SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}")));

    public static DecodeResult DecodeRequest(byte[] utf8, out InferenceRequestRow row, TelemetryDecoderOptions? options = null, DateTimeOffset? now = null)
    {
        var decoder = new InferenceRequestDecoder(options);
        row = default;
        return decoder.Decode(utf8, now ?? Now, new Utf8Arena(), ref row);
    }

    public static DecodeResult DecodeRequest(JsonNode node, TelemetryDecoderOptions? options = null, DateTimeOffset? now = null)
        => DecodeRequest(Utf8(node), out _, options, now);

    public static DecodeResult DecodeRequest(string json) => DecodeRequest(Encoding.UTF8.GetBytes(json), out _);

    public static DecodeResult DecodePower(byte[] utf8, out GpuPowerRow row, TelemetryDecoderOptions? options = null, DateTimeOffset? now = null)
    {
        row = default;
        return new GpuPowerDecoder(options).Decode(utf8, now ?? Now, ref row);
    }

    public static DecodeResult DecodePower(JsonNode node, TelemetryDecoderOptions? options = null, DateTimeOffset? now = null)
        => DecodePower(Utf8(node), out _, options, now);

    public static void AssertRejected(DecodeResult result, RejectReason expected, string? field = null)
    {
        Assert.False(result.IsSuccess, $"expected {expected.ToCode()}, but the record was accepted");
        Assert.True(result.Reason == expected, $"expected {expected.ToCode()}, got {result}");
        Assert.False(string.IsNullOrWhiteSpace(result.Message));
        if (field is not null)
        {
            Assert.Equal(field, result.Field);
            Assert.Contains(field, result.Message, StringComparison.Ordinal);
        }
    }

    public static void AssertAccepted(DecodeResult result) => Assert.True(result.IsSuccess, $"expected success, got {result}");

    private static JsonSchema LoadSchema(string topic)
        => JsonSchema.FromText(File.ReadAllText(Path.Combine(Directory, $"{topic}.v1.schema.json")));

    private static string FindTelemetryDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "EfficiencyMonitor.sln")))
            {
                return Path.Combine(dir.FullName, "schemas", "telemetry");
            }
        }

        throw new InvalidOperationException($"No EfficiencyMonitor.sln above {AppContext.BaseDirectory}.");
    }
}
