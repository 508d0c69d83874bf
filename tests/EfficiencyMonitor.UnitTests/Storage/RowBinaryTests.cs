using EfficiencyMonitor.Core.Telemetry;
using EfficiencyMonitor.Storage.Telemetry;

namespace EfficiencyMonitor.UnitTests.Storage;

public sealed class RowBinaryTests
{
    [Fact]
    public void WriteString_LongerThan127Bytes_UsesMultiByteLeb128Length()
    {
        using var buffer = new RowBinaryBuffer(4);
        buffer.WriteString(new string('x', 300));
        var bytes = buffer.Written.ToArray();
        // 300 = 0b1_0010_1100 → 0xAC 0x02
        Assert.Equal(0xAC, bytes[0]);
        Assert.Equal(0x02, bytes[1]);
        Assert.Equal(302, bytes.Length);
    }

    [Fact]
    public void Writes_FixedWidthNumbers_AreLittleEndian()
    {
        using var buffer = new RowBinaryBuffer(1);
        buffer.WriteUInt16(0x0102);
        buffer.WriteInt64(-2);
        buffer.WriteFloat32(1.0f);
        Assert.Equal([0x02, 0x01, 0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x80, 0x3F], buffer.Written.ToArray());
    }

    [Fact]
    public void WriteString_NullOrNonAscii_EmptyOrUtf8()
    {
        using var buffer = new RowBinaryBuffer(1);
        buffer.WriteString((string?)null);
        buffer.WriteString("é");
        Assert.Equal([0x00, 0x02, 0xC3, 0xA9], buffer.Written.ToArray());
    }

    [Fact]
    public void DeduplicationToken_SameRangesAnyArrivalOrder_SameToken()
    {
        using var a = new TelemetryBatch<GpuPowerRow>("gpu-power", 4);
        using var b = new TelemetryBatch<GpuPowerRow>("gpu-power", 4);
        a.Cover(3, 10, 100, 1);
        a.Cover(1, 5, 100, 1);
        a.Cover(3, 11, 100, 1);
        b.Cover(1, 5, 100, 1);
        b.Cover(3, 10, 100, 1);
        b.Cover(3, 11, 100, 1);
        Assert.Equal("gpu-power|1:5-5|3:10-11", a.DeduplicationToken());
        Assert.Equal(a.DeduplicationToken(), b.DeduplicationToken());
    }

    [Fact]
    public void Add_BeyondCapacity_GrowsAndKeepsPositions()
    {
        using var batch = new TelemetryBatch<GpuPowerRow>("gpu-power", 2);
        for (var i = 0; i < 5; i++)
        {
            batch.Pending = new GpuPowerRow { GpuIndex = i };
            batch.Add(partition: i % 2, offset: 100 + i, sourceBytes: 10, timestamp: 1);
        }

        Assert.Equal(5, batch.Count);
        Assert.Equal(4, batch[4].GpuIndex);
        Assert.Equal(104, batch.OffsetAt(4));
        Assert.Equal(0, batch.PartitionAt(4));
        Assert.Equal(new OffsetRange(100, 104), batch.Ranges[0]);
        Assert.Equal(50, batch.SourceBytes);
        batch.Reset();
        Assert.Equal(0, batch.Count);
        Assert.Empty(batch.Ranges);
    }
}
