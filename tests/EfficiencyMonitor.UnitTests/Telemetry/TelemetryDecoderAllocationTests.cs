using EfficiencyMonitor.Core.Telemetry;
using Xunit;
using static EfficiencyMonitor.UnitTests.Telemetry.TelemetryTestData;

namespace EfficiencyMonitor.UnitTests.Telemetry;

/// <summary>
/// The budget: the decode-to-row path allocates at most 64 bytes per record once the intern cache is warm.
/// (The Benchmarks project measures the same with MemoryDiagnoser; this keeps it from regressing between runs of it.)
/// </summary>
public sealed class TelemetryDecoderAllocationTests
{
    private const int Records = 10_000;
    private const double BudgetBytesPerRecord = 64;

    [Theory]
    [InlineData("aggregated-chat.json")]
    [InlineData("disaggregated-kv-transfer.json")]
    [InlineData("coding-agent-multi-tier.json")]
    [InlineData("error-without-first-token.json")]
    public void Decode_ValidRequestWarmCache_AllocatesAtMost64BytesPerRecord(string file)
    {
        var decoder = new InferenceRequestDecoder();
        var arena = new Utf8Arena(1 << 20);
        var bytes = ReadExample(Requests, "valid", file);
        var row = default(InferenceRequestRow);
        for (var i = 0; i < 100; i++)
        {
            AssertAccepted(decoder.Decode(bytes, Now, arena, ref row));
        }

        var failures = 0;
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < Records; i++)
        {
            // Batches reset their arena after each insert; do the same every 1,000 records.
            if (i % 1000 == 0)
            {
                arena.Reset();
            }

            if (!decoder.Decode(bytes, Now, arena, ref row).IsSuccess)
            {
                failures++;
            }
        }

        var perRecord = (double)(GC.GetAllocatedBytesForCurrentThread() - before) / Records;

        Assert.Equal(0, failures);
        Assert.True(perRecord <= BudgetBytesPerRecord, $"{file}: {perRecord:F1} bytes per record");
    }

    [Fact]
    public void Decode_ValidPowerSampleWarmCache_AllocatesAtMost64BytesPerRecord()
    {
        var decoder = new GpuPowerDecoder();
        var bytes = ReadExample(Power, "valid", "h100-with-energy-counter.json");
        var row = default(GpuPowerRow);
        for (var i = 0; i < 100; i++)
        {
            AssertAccepted(decoder.Decode(bytes, Now, ref row));
        }

        var failures = 0;
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < Records; i++)
        {
            if (!decoder.Decode(bytes, Now, ref row).IsSuccess)
            {
                failures++;
            }
        }

        var perRecord = (double)(GC.GetAllocatedBytesForCurrentThread() - before) / Records;

        Assert.Equal(0, failures);
        Assert.True(perRecord <= BudgetBytesPerRecord, $"{perRecord:F1} bytes per record");
    }
}
