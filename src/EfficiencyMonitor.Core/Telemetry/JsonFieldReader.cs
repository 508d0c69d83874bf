using System.Globalization;
using System.Text;
using System.Text.Json;

namespace EfficiencyMonitor.Core.Telemetry;

/// <summary>
/// The first problem found in a record. Field-level problems are recorded and reading goes on (so an unknown
/// <c>schema_version</c> later in the record still wins, see the decoders); fatal problems stop reading.
/// </summary>
internal struct PendingError
{
    public RejectReason? Reason;
    public string? Field;
    public string? Message;

    public readonly bool IsSet => Reason.HasValue;

    public void Set(RejectReason reason, string? field, string message)
    {
        if (Reason is null)
        {
            Reason = reason;
            Field = field;
            Message = message;
        }
    }

    /// <summary>Records a problem that stops reading; it replaces any field-level one because the rest is unreadable.</summary>
    public void SetFatal(RejectReason reason, string? field, string message)
    {
        Reason = reason;
        Field = field;
        Message = message;
    }

    public readonly DecodeResult ToResult() => DecodeResult.Reject(Reason!.Value, Field, Message!);
}

/// <summary>Field names of one JSON object, matched against UTF-8 property names without allocating.</summary>
internal sealed class FieldNames
{
    private readonly byte[][] _utf8;

    public FieldNames(params string[] names)
    {
        Names = names;
        _utf8 = Array.ConvertAll(names, Encoding.UTF8.GetBytes);
    }

    public string[] Names { get; }

    public int Count => Names.Length;

    /// <summary>Index of <paramref name="name"/>, or -1. Producers emit fields in a fixed order, so the field after the
    /// previous one (<paramref name="hint"/>) is tried first and a record usually costs one comparison per field.</summary>
    public int Find(ReadOnlySpan<byte> name, int hint)
    {
        if ((uint)hint < (uint)_utf8.Length && name.SequenceEqual(_utf8[hint]))
        {
            return hint;
        }

        for (var i = 0; i < _utf8.Length; i++)
        {
            if (name.SequenceEqual(_utf8[i]))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>"parent.child" paths built once, so the success path never formats a string.</summary>
    public string[] PathsUnder(string parent) => Array.ConvertAll(Names, n => parent + "." + n);
}

/// <summary>Reads contract values from a <see cref="Utf8JsonReader"/>, recording problems in a <see cref="PendingError"/>.</summary>
internal static class JsonFieldReader
{
    /// <summary>Largest accepted duration (24 h in ms), as in the schemas' <c>duration_ms</c>.</summary>
    public const double MaxDurationMs = 86_400_000;

    /// <summary>Largest integer JSON carries exactly (2^53 - 1), the schemas' bound for byte counts.</summary>
    public const long MaxSafeInteger = 9_007_199_254_740_991;

    /// <summary>Longest accepted timestamp text ("2025-01-31T23:59:59.123Z" is 24).</summary>
    private const int MaxTimestampBytes = 24;

    private const int MaxQuotedBytes = 64;

    public static readonly FieldNames Tiers = new("hbm", "dram", "local_ssd", "remote");

    /// <summary>Reads the first token, which must open an object.</summary>
    public static bool StartRecord(ref Utf8JsonReader reader, ref PendingError error)
    {
        if (!reader.Read())
        {
            error.SetFatal(RejectReason.MalformedJson, null, "the record is empty");
            return false;
        }

        if (reader.TokenType != JsonTokenType.StartObject)
        {
            error.SetFatal(RejectReason.WrongType, null, $"the record must be a JSON object, got {Describe(ref reader)}");
            return false;
        }

        return true;
    }

    /// <summary>Reads the next token, enforcing the nesting limit before the reader's own (which would only throw).</summary>
    public static bool Advance(ref Utf8JsonReader reader, int maxDepth, ref PendingError error)
    {
        if (!reader.Read())
        {
            error.SetFatal(RejectReason.MalformedJson, null, "the record ends before its JSON object is closed");
            return false;
        }

        // CurrentDepth of a start token is the depth before it opens, so it opens level CurrentDepth + 1.
        if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray && reader.CurrentDepth >= maxDepth)
        {
            error.SetFatal(
                RejectReason.NestingTooDeep,
                null,
                $"objects and arrays nest deeper than {maxDepth.ToString(CultureInfo.InvariantCulture)} levels (at byte {reader.TokenStartIndex.ToString(CultureInfo.InvariantCulture)})");
            return false;
        }

        return true;
    }

    /// <summary>Skips the current value if it is an object or array (a no-op for scalars). False on a fatal problem.</summary>
    public static bool SkipValue(ref Utf8JsonReader reader, int maxDepth, ref PendingError error)
    {
        if (reader.TokenType is not (JsonTokenType.StartObject or JsonTokenType.StartArray))
        {
            return true;
        }

        var depth = reader.CurrentDepth;
        while (Advance(ref reader, maxDepth, ref error))
        {
            if (reader.TokenType is JsonTokenType.EndObject or JsonTokenType.EndArray && reader.CurrentDepth == depth)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Reads the current property name as ASCII; null when it cannot be a contract name.</summary>
    public static bool TryGetPropertyName(scoped ref Utf8JsonReader reader, byte[] scratch, out ReadOnlySpan<byte> name)
        => TryGetAscii(reader.ValueSpan, reader.ValueIsEscaped, scratch, scratch.Length, out name) is null;

    /// <summary>
    /// Reads the current string token as printable ASCII (U+0020-U+007E), unescaping into <paramref name="scratch"/> when
    /// needed. Returns null on success, otherwise the problem. Checking the bytes here also rejects invalid and overlong
    /// UTF-8, lone surrogates and control characters, whatever the JSON reader let through.
    /// </summary>
    public static string? TryGetAscii(ReadOnlySpan<byte> raw, bool escaped, Span<byte> scratch, int maxBytes, out ReadOnlySpan<byte> value)
    {
        value = default;
        if (!escaped)
        {
            if (raw.IsEmpty)
            {
                return "must not be empty";
            }

            if (raw.Length > maxBytes)
            {
                return $"must be at most {maxBytes.ToString(CultureInfo.InvariantCulture)} characters";
            }

            if (raw.ContainsAnyExceptInRange((byte)0x20, (byte)0x7E))
            {
                return "must contain only printable ASCII characters (U+0020-U+007E)";
            }

            value = raw;
            return null;
        }

        var limit = Math.Min(maxBytes, scratch.Length);
        var count = 0;
        for (var i = 0; i < raw.Length; i++)
        {
            var b = raw[i];
            if (b == (byte)'\\')
            {
                if (i + 1 >= raw.Length)
                {
                    return "contains a malformed escape";
                }

                var kind = raw[++i];
                if (kind is (byte)'"' or (byte)'\\' or (byte)'/')
                {
                    b = kind;
                }
                else if (kind == (byte)'u' && i + 4 < raw.Length && TryHex4(raw.Slice(i + 1, 4), out var codeUnit))
                {
                    i += 4;
                    if (codeUnit is < 0x20 or > 0x7E)
                    {
                        return "must contain only printable ASCII characters (U+0020-U+007E)";
                    }

                    b = (byte)codeUnit;
                }
                else
                {
                    // \b \f \n \r \t are control characters; anything else is not valid JSON.
                    return "must contain only printable ASCII characters (U+0020-U+007E)";
                }
            }
            else if (b is < 0x20 or > 0x7E)
            {
                return "must contain only printable ASCII characters (U+0020-U+007E)";
            }

            if (count >= limit)
            {
                return $"must be at most {maxBytes.ToString(CultureInfo.InvariantCulture)} characters";
            }

            scratch[count++] = b;
        }

        if (count == 0)
        {
            return "must not be empty";
        }

        value = scratch[..count];
        return null;
    }

    /// <summary>Reads a required or optional string as ASCII; <see cref="RejectReason.InvalidString"/> when it is not.</summary>
    public static bool TryReadString(
        scoped ref Utf8JsonReader reader, string field, byte[] scratch, int maxBytes, scoped ref PendingError error, out ReadOnlySpan<byte> value)
    {
        value = default;
        if (reader.TokenType != JsonTokenType.String)
        {
            error.Set(RejectReason.WrongType, field, $"{field} must be a string, got {Describe(ref reader)}");
            return false;
        }

        var problem = TryGetAscii(reader.ValueSpan, reader.ValueIsEscaped, scratch, maxBytes, out value);
        if (problem is not null)
        {
            error.Set(RejectReason.InvalidString, field, $"{field} {problem}, got {Describe(ref reader)}");
            return false;
        }

        return true;
    }

    /// <summary>Reads one of <paramref name="names"/>; <see cref="RejectReason.UnknownEnumValue"/> for any other string.</summary>
    public static bool TryReadEnum(
        ref Utf8JsonReader reader, string field, FieldNames names, byte[] scratch, ref PendingError error, out int index)
    {
        index = -1;
        if (reader.TokenType != JsonTokenType.String)
        {
            error.Set(RejectReason.WrongType, field, $"{field} must be a string, got {Describe(ref reader)}");
            return false;
        }

        if (TryGetAscii(reader.ValueSpan, reader.ValueIsEscaped, scratch, scratch.Length, out var text) is null)
        {
            index = names.Find(text, -1);
        }

        if (index < 0)
        {
            error.Set(
                RejectReason.UnknownEnumValue,
                field,
                $"{field} must be one of {string.Join(", ", names.Names)}; got {Describe(ref reader)}");
            return false;
        }

        return true;
    }

    /// <summary>Reads a contract timestamp to Unix milliseconds.</summary>
    public static bool TryReadTimestamp(ref Utf8JsonReader reader, string field, byte[] scratch, ref PendingError error, out long unixMs)
    {
        unixMs = 0;
        if (reader.TokenType != JsonTokenType.String)
        {
            error.Set(RejectReason.WrongType, field, $"{field} must be an RFC 3339 timestamp string, got {Describe(ref reader)}");
            return false;
        }

        if (TryGetAscii(reader.ValueSpan, reader.ValueIsEscaped, scratch, MaxTimestampBytes, out var text) is not null
            || !Rfc3339.TryParseUnixMilliseconds(text, out unixMs))
        {
            error.Set(
                RejectReason.InvalidTimestamp,
                field,
                $"{field} must be a UTC RFC 3339 timestamp with at most millisecond precision, year 1970 or later (e.g. 2025-01-31T23:59:59.123Z); got {Describe(ref reader)}");
            return false;
        }

        return true;
    }

    /// <summary>
    /// Reads an integer in [<paramref name="min"/>, <paramref name="max"/>]. Like JSON Schema's "integer", 3.0 and 3e2
    /// count as integers; 3.5, overflow and out-of-range values are <see cref="RejectReason.InvalidNumber"/>.
    /// </summary>
    public static bool TryReadInteger(ref Utf8JsonReader reader, string field, long min, long max, ref PendingError error, out long value)
    {
        if (reader.TokenType != JsonTokenType.Number)
        {
            value = 0;
            error.Set(RejectReason.WrongType, field, $"{field} must be an integer, got {Describe(ref reader)}");
            return false;
        }

        var ok = reader.TryGetInt64(out value);
        if (!ok && reader.TryGetDouble(out var number) && double.IsFinite(number) && Math.Floor(number) == number
            && number >= min && number <= max)
        {
            value = (long)number;
            ok = true;
        }

        if (!ok || value < min || value > max)
        {
            value = 0;
            error.Set(
                RejectReason.InvalidNumber,
                field,
                $"{field} must be an integer from {min.ToString(CultureInfo.InvariantCulture)} to {max.ToString(CultureInfo.InvariantCulture)}, got {Describe(ref reader)}");
            return false;
        }

        return true;
    }

    /// <summary>Reads a finite number in [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public static bool TryReadNumber(ref Utf8JsonReader reader, string field, double min, double max, ref PendingError error, out double value)
    {
        if (reader.TokenType != JsonTokenType.Number)
        {
            value = 0;
            error.Set(RejectReason.WrongType, field, $"{field} must be a number, got {Describe(ref reader)}");
            return false;
        }

        if (!reader.TryGetDouble(out value) || !double.IsFinite(value) || value < min || value > max)
        {
            value = 0;
            error.Set(
                RejectReason.InvalidNumber,
                field,
                $"{field} must be a finite number from {min.ToString(CultureInfo.InvariantCulture)} to {max.ToString(CultureInfo.InvariantCulture)}, got {Describe(ref reader)}");
            return false;
        }

        return true;
    }

    /// <summary>Reads a JSON boolean.</summary>
    public static bool TryReadBoolean(ref Utf8JsonReader reader, string field, ref PendingError error, out bool value)
    {
        value = reader.TokenType == JsonTokenType.True;
        if (reader.TokenType is JsonTokenType.True or JsonTokenType.False)
        {
            return true;
        }

        error.Set(RejectReason.WrongType, field, $"{field} must be true or false, got {Describe(ref reader)}");
        return false;
    }

    /// <summary>
    /// Reads a tier object (<c>{hbm, dram, local_ssd, remote}</c>, all required) into <paramref name="values"/>.
    /// Returns false only on a fatal problem; field problems are recorded in <paramref name="error"/>.
    /// </summary>
    public static bool ReadTiers(
        ref Utf8JsonReader reader,
        string parent,
        string[] paths,
        bool integers,
        int maxDepth,
        byte[] nameScratch,
        ref PendingError error,
        double[] values)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            error.Set(
                reader.TokenType == JsonTokenType.Null ? RejectReason.MissingField : RejectReason.WrongType,
                parent,
                $"{parent} must be an object with hbm, dram, local_ssd and remote, got {Describe(ref reader)}");
            return SkipValue(ref reader, maxDepth, ref error);
        }

        var seen = 0;
        var expected = 0;
        while (true)
        {
            if (!Advance(ref reader, maxDepth, ref error))
            {
                return false;
            }

            if (reader.TokenType == JsonTokenType.EndObject)
            {
                break;
            }

            var tier = TryGetPropertyName(ref reader, nameScratch, out var name) ? Tiers.Find(name, expected) : -1;
            var unknown = tier < 0 ? Describe(ref reader) : null;
            if (!Advance(ref reader, maxDepth, ref error))
            {
                return false;
            }

            if (tier < 0)
            {
                error.Set(RejectReason.UnknownField, parent, $"unknown field {unknown} in {parent}; its fields are hbm, dram, local_ssd and remote");
            }
            else if ((seen & (1 << tier)) != 0)
            {
                error.Set(RejectReason.DuplicateField, paths[tier], $"{paths[tier]} appears more than once");
            }
            else
            {
                seen |= 1 << tier;
                expected = tier + 1;
                if (reader.TokenType == JsonTokenType.Null)
                {
                    error.Set(RejectReason.MissingField, paths[tier], $"{paths[tier]} is required and must not be null (send 0 for an unused tier)");
                }
                else if (integers)
                {
                    if (TryReadInteger(ref reader, paths[tier], 0, int.MaxValue, ref error, out var count))
                    {
                        values[tier] = count;
                    }
                }
                else if (TryReadNumber(ref reader, paths[tier], 0, MaxDurationMs, ref error, out var duration))
                {
                    values[tier] = duration;
                }
            }

            if (!SkipValue(ref reader, maxDepth, ref error))
            {
                return false;
            }
        }

        for (var tier = 0; tier < Tiers.Count; tier++)
        {
            if ((seen & (1 << tier)) == 0)
            {
                error.Set(RejectReason.MissingField, paths[tier], $"{paths[tier]} is required (send 0 for an unused tier)");
                break;
            }
        }

        return true;
    }

    /// <summary>Describes the current value for a message: its text, cut to 64 bytes, control characters replaced.</summary>
    public static string Describe(ref Utf8JsonReader reader)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.String:
            case JsonTokenType.PropertyName:
                return "\"" + Printable(reader.ValueSpan) + "\"";
            case JsonTokenType.Number:
                return Printable(reader.ValueSpan);
            case JsonTokenType.True:
                return "true";
            case JsonTokenType.False:
                return "false";
            case JsonTokenType.Null:
                return "null";
            case JsonTokenType.StartObject:
                return "an object";
            case JsonTokenType.StartArray:
                return "an array";
            default:
                return reader.TokenType.ToString();
        }
    }

    private static string Printable(ReadOnlySpan<byte> raw)
    {
        var cut = raw.Length > MaxQuotedBytes;
        var text = Encoding.UTF8.GetString(cut ? raw[..MaxQuotedBytes] : raw);
        var builder = new StringBuilder(text.Length + 3);
        foreach (var c in text)
        {
            builder.Append(char.IsControl(c) ? '?' : c);
        }

        return cut ? builder.Append("...").ToString() : builder.ToString();
    }

    private static bool TryHex4(ReadOnlySpan<byte> hex, out int value)
    {
        value = 0;
        foreach (var b in hex)
        {
            int digit = b switch
            {
                >= (byte)'0' and <= (byte)'9' => b - '0',
                >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
                >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
                _ => -1,
            };
            if (digit < 0)
            {
                return false;
            }

            value = (value << 4) | digit;
        }

        return true;
    }
}
