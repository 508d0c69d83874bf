using System.Text;
using System.Text.Json.Nodes;
using EfficiencyMonitor.Core.Telemetry;
using Xunit;
using static EfficiencyMonitor.UnitTests.Telemetry.TelemetryTestData;

namespace EfficiencyMonitor.UnitTests.Telemetry;

public sealed class GpuPowerDecoderTests
{
    public static TheoryData<string> Required() => new(
        "schema_version", "node", "gpu_index", "gpu_uuid", "gpu_type", "pool", "deployment", "sampled_at", "power_watts",
        "utilization", "memory_used_bytes");

    [Fact]
    public void Decode_H100Example_FillsEveryField()
    {
        AssertAccepted(DecodePower(ReadExample(Power, "valid", "h100-with-energy-counter.json"), out var row));

        Assert.Equal(1, row.SchemaVersion);
        Assert.Equal("gpu-node-a17", row.Node);
        Assert.Equal(3, row.GpuIndex);
        Assert.Equal("GPU-5fd4a2b1-93c0-7e21-4b6d-0a8e7c9f1d23", row.GpuUuid);
        Assert.Equal("H100-SXM5-80GB", row.GpuType);
        Assert.Equal("decode-h100", row.Pool);
        Assert.Equal("llama-70b-chat-prod", row.Deployment);
        Assert.Equal(new DateTimeOffset(2025, 6, 1, 11, 59, 55, TimeSpan.Zero).ToUnixTimeMilliseconds(), row.SampledAtUnixMs);
        Assert.Equal(612.4, row.PowerWatts);
        Assert.Equal(48812345.25, row.EnergyJoulesTotal);
        Assert.Equal(0.87, row.Utilization);
        Assert.Equal(76235669504, row.MemoryUsedBytes);
    }

    [Fact]
    public void Decode_WithoutEnergyCounter_EnergyIsNull()
    {
        AssertAccepted(DecodePower(ReadExample(Power, "valid", "mi300x-without-energy-counter.json"), out var row));
        Assert.Null(row.EnergyJoulesTotal);
    }

    [Theory]
    [MemberData(nameof(Required))]
    public void Decode_RequiredFieldAbsent_RejectsMissingField(string field)
    {
        var sample = PowerSample();
        sample.Remove(field);

        AssertRejected(DecodePower(sample), RejectReason.MissingField, field);
    }

    [Theory]
    [InlineData("utilization", "1.0000001")]
    [InlineData("utilization", "-0.01")]
    [InlineData("power_watts", "-1")]
    [InlineData("power_watts", "10000.5")]
    [InlineData("power_watts", "1e400")]
    [InlineData("energy_joules_total", "-1")]
    [InlineData("energy_joules_total", "1e16")]
    [InlineData("gpu_index", "1024")]
    [InlineData("gpu_index", "2.5")]
    [InlineData("memory_used_bytes", "99999999999999999999")]
    public void Decode_NumberOutOfContract_RejectsInvalidNumber(string field, string number)
    {
        var sample = PowerSample();
        sample[field] = "@@";
        var text = sample.ToJsonString().Replace("\"@@\"", number, StringComparison.Ordinal);

        AssertRejected(DecodePower(Encoding.UTF8.GetBytes(text), out _), RejectReason.InvalidNumber, field);
    }

    [Theory]
    [InlineData("utilization", 1)]
    [InlineData("utilization", 0)]
    [InlineData("power_watts", 10000)]
    [InlineData("gpu_index", 1023)]
    public void Decode_NumberAtBoundary_Accepted(string field, double value)
    {
        var sample = PowerSample();
        sample[field] = value;

        AssertAccepted(DecodePower(sample));
    }

    [Fact]
    public void Decode_SampledExactlyAtSkewLimit_Accepted()
    {
        var sample = PowerSample();
        sample["sampled_at"] = "2025-06-01T12:05:00.000Z";

        AssertAccepted(DecodePower(sample));
    }

    [Fact]
    public void Decode_SampledOneMillisecondPastSkewLimit_RejectsTimestampInFuture()
    {
        var sample = PowerSample();
        sample["sampled_at"] = "2025-06-01T12:05:00.001Z";

        AssertRejected(DecodePower(sample), RejectReason.TimestampInFuture, "sampled_at");
    }

    [Fact]
    public void Decode_UnknownVersionAfterUnknownField_RejectsUnknownSchemaVersion()
    {
        var sample = PowerSample();
        sample.Remove("schema_version");
        sample["temperature_c"] = 60;
        sample["schema_version"] = 2;

        AssertRejected(DecodePower(sample), RejectReason.UnknownSchemaVersion);
    }

    [Fact]
    public void Decode_DuplicateField_RejectsDuplicateField()
    {
        var text = PowerSample().ToJsonString().Replace("\"pool\":", "\"pool\":\"a\",\"pool\":", StringComparison.Ordinal);
        AssertRejected(DecodePower(Encoding.UTF8.GetBytes(text), out _), RejectReason.DuplicateField, "pool");
    }

    [Theory]
    [InlineData("node", "")]
    [InlineData("gpu_uuid", "GPU-\u00e9")]
    [InlineData("pool", "a\tb")]
    public void Decode_BadName_RejectsInvalidString(string field, string value)
    {
        var sample = PowerSample();
        sample[field] = value;

        AssertRejected(DecodePower(sample), RejectReason.InvalidString, field);
    }

    [Fact]
    public void Decode_ObjectWhereNumberExpected_RejectsWrongType()
    {
        var sample = PowerSample();
        sample["power_watts"] = JsonNode.Parse("{\"value\":600}");

        AssertRejected(DecodePower(sample), RejectReason.WrongType, "power_watts");
    }
}
