namespace EfficiencyMonitor.Core.Telemetry;

/// <summary>
/// Parses the contract's timestamp form without allocating: <c>YYYY-MM-DDTHH:MM:SS[.f{1,3}]Z</c>, UTC, year &gt;= 1970.
/// Stricter than RFC 3339 on purpose: a non-'Z' offset or sub-millisecond digits would be silently
/// converted or truncated, and the contract says UTC with millisecond precision.
/// </summary>
internal static class Rfc3339
{
    private const long UnixEpochTicks = 621_355_968_000_000_000;

    /// <summary>Parses <paramref name="text"/> to Unix milliseconds.</summary>
    public static bool TryParseUnixMilliseconds(ReadOnlySpan<byte> text, out long unixMs)
    {
        unixMs = 0;
        var length = text.Length;
        if (length is not (20 or 22 or 23 or 24)
            || text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' || text[16] != ':'
            || text[length - 1] != 'Z')
        {
            return false;
        }

        if (!TryDigits(text[..4], out var year) || !TryDigits(text.Slice(5, 2), out var month)
            || !TryDigits(text.Slice(8, 2), out var day) || !TryDigits(text.Slice(11, 2), out var hour)
            || !TryDigits(text.Slice(14, 2), out var minute) || !TryDigits(text.Slice(17, 2), out var second))
        {
            return false;
        }

        var millisecond = 0;
        if (length > 20)
        {
            if (text[19] != '.' || !TryDigits(text[20..(length - 1)], out var fraction))
            {
                return false;
            }

            // ".5" is 500 ms, ".12" is 120 ms.
            millisecond = (length - 21) switch
            {
                1 => fraction * 100,
                2 => fraction * 10,
                _ => fraction,
            };
        }

        // Leap seconds (":60") are not representable in Unix time; RFC 3339 producers in practice never emit them.
        if (year < 1970 || month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(year, month)
            || hour > 23 || minute > 59 || second > 59)
        {
            return false;
        }

        var ticks = new DateTime(year, month, day, hour, minute, second, DateTimeKind.Utc).Ticks;
        unixMs = ((ticks - UnixEpochTicks) / TimeSpan.TicksPerMillisecond) + millisecond;
        return true;
    }

    private static bool TryDigits(ReadOnlySpan<byte> digits, out int value)
    {
        value = 0;
        foreach (var b in digits)
        {
            var digit = b - '0';
            if ((uint)digit > 9)
            {
                return false;
            }

            value = (value * 10) + digit;
        }

        return true;
    }
}
