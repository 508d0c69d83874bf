using System.Text;
using System.Text.RegularExpressions;
using EfficiencyMonitor.Core.Telemetry;
using Xunit;

namespace EfficiencyMonitor.UnitTests.Telemetry;

public sealed class TelemetryPrimitivesTests
{
    [Fact]
    public void GetOrAdd_SameBytesTwice_ReturnsSameInstanceWithoutAllocating()
    {
        var interner = new Utf8StringInterner(16);
        var first = interner.GetOrAdd("decode-h100"u8);

        var before = GC.GetAllocatedBytesForCurrentThread();
        var second = interner.GetOrAdd("decode-h100"u8);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Same(first, second);
        Assert.Equal("decode-h100", second);
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void GetOrAdd_MoreDistinctValuesThanCapacity_StaysBounded()
    {
        var interner = new Utf8StringInterner(16);
        for (var i = 0; i < 10_000; i++)
        {
            var value = interner.GetOrAdd(Encoding.UTF8.GetBytes($"hostile-{i}"));
            Assert.Equal($"hostile-{i}", value);
            Assert.InRange(interner.Count, 1, 16);
        }
    }

    [Fact]
    public void Append_BeyondCapacity_GrowsAndKeepsEarlierSlices()
    {
        var arena = new Utf8Arena(4);
        var a = arena.Append("req-1"u8);
        var b = arena.Append("req-22"u8);

        Assert.Equal("req-1", arena.GetString(a));
        Assert.True(arena.GetSpan(b).SequenceEqual("req-22"u8));
        Assert.Equal(11, arena.Length);
        Assert.True(arena.Capacity >= 11);
    }

    [Fact]
    public void Truncate_AfterAppend_DropsLaterSlices()
    {
        var arena = new Utf8Arena();
        arena.Append("keep"u8);
        var mark = arena.Length;
        arena.Append("drop"u8);

        arena.Truncate(mark);

        Assert.Equal(4, arena.Length);
        Assert.Throws<ArgumentOutOfRangeException>(() => arena.Truncate(5));
        arena.Reset();
        Assert.Equal(0, arena.Length);
    }

    [Fact]
    public void Codes_EveryReason_UniqueSnakeCaseAndRoundTrips()
    {
        var codes = RejectReasonCodes.All.Select(r => r.ToCode()).ToList();

        Assert.Equal(codes.Count, codes.Distinct(StringComparer.Ordinal).Count());
        foreach (var reason in RejectReasonCodes.All)
        {
            Assert.Matches(new Regex("^[a-z]+(_[a-z]+)*$"), reason.ToCode());
            Assert.True(RejectReasonCodes.TryParse(reason.ToCode(), out var parsed));
            Assert.Equal(reason, parsed);
        }

        Assert.False(RejectReasonCodes.TryParse("no_such_reason", out _));
        Assert.Equal("unknown", ((RejectReason)999).ToCode());
    }

    [Fact]
    public void Codes_NumericValues_AreStable()
    {
        // Dead-letter consumers may store the number; these must never change.
        Assert.Equal(1, (int)RejectReason.MalformedJson);
        Assert.Equal(15, (int)RejectReason.CachedExceedsInput);
        Assert.Equal(20, (int)RejectReason.KvTransferInAggregated);
        Assert.Equal(20, RejectReasonCodes.All.Count);
    }

    [Theory]
    [InlineData("1970-01-01T00:00:00Z", 0L)]
    [InlineData("1970-01-01T00:00:00.001Z", 1L)]
    [InlineData("2025-06-01T12:00:00.5Z", 1748779200500L)]
    [InlineData("2025-06-01T12:00:00.12Z", 1748779200120L)]
    [InlineData("2024-02-29T23:59:59.999Z", 1709251199999L)]
    [InlineData("9999-12-31T23:59:59.999Z", 253402300799999L)]
    public void TryParseUnixMilliseconds_ContractForm_MatchesDateTimeOffset(string text, long expected)
    {
        Assert.True(Rfc3339.TryParseUnixMilliseconds(Encoding.ASCII.GetBytes(text), out var unixMs));
        Assert.Equal(expected, unixMs);
        Assert.Equal(DateTimeOffset.Parse(text, System.Globalization.CultureInfo.InvariantCulture).ToUnixTimeMilliseconds(), unixMs);
    }

    [Fact]
    public void ToString_Rejection_ShowsCodeAndMessage()
    {
        var result = DecodeResult.Reject(RejectReason.Oversized, null, "too big");

        Assert.Equal("oversized: too big", result.ToString());
        Assert.Equal("ok", DecodeResult.Success.ToString());
        Assert.True(DecodeResult.Success.IsSuccess);
    }
}
