namespace EfficiencyMonitor.Core.Telemetry;

/// <summary>
/// Why a telemetry record was rejected. Each value has a stable snake_case code (<see cref="RejectReasonCodes.ToCode"/>)
/// used as a metric tag and in dead-letter records; numeric values are stable too, so never renumber or reuse one.
/// </summary>
public enum RejectReason
{
    /// <summary>The bytes are not one well-formed JSON value (syntax error, truncation, BOM, trailing content, empty record).</summary>
    MalformedJson = 1,

    /// <summary>The record is larger than <see cref="TelemetryDecoderOptions.MaxRecordBytes"/>; it is not parsed at all.</summary>
    Oversized = 2,

    /// <summary>Objects or arrays nest deeper than <see cref="TelemetryDecoderOptions.MaxDepth"/> (the contract needs 2 levels).</summary>
    NestingTooDeep = 3,

    /// <summary><c>schema_version</c> is present but is not a version this decoder knows (only 1 today).</summary>
    UnknownSchemaVersion = 4,

    /// <summary>A required field is absent or null, including fields required by <c>serving_pattern</c> = disaggregated.</summary>
    MissingField = 5,

    /// <summary>A field has the wrong JSON type (for example a number sent as a string), or the record is not an object.</summary>
    WrongType = 6,

    /// <summary>A field the contract does not define; the contract evolves by version, never silently.</summary>
    UnknownField = 7,

    /// <summary>The same field appears twice in one object; JSON leaves the meaning undefined, so the record is refused.</summary>
    DuplicateField = 8,

    /// <summary>A number is negative, not finite, out of its range, or not an integer where one is required.</summary>
    InvalidNumber = 9,

    /// <summary>A string outside its enumeration (<c>serving_pattern</c>, <c>status</c>).</summary>
    UnknownEnumValue = 10,

    /// <summary>A string is empty, longer than allowed, or contains a character outside printable ASCII (U+0020-U+007E).</summary>
    InvalidString = 11,

    /// <summary>A timestamp is not an RFC 3339 UTC instant with at most millisecond precision ('Z' suffix, year 1970 or later).</summary>
    InvalidTimestamp = 12,

    /// <summary>Timestamps contradict each other: started_at &lt;= first_token_at &lt;= finished_at does not hold.</summary>
    TimestampsOutOfOrder = 13,

    /// <summary>A timestamp is later than the caller's <c>now</c> plus <see cref="TelemetryDecoderOptions.MaxFutureSkew"/>.</summary>
    TimestampInFuture = 14,

    /// <summary>The cached input tokens summed over all tiers exceed <c>input_tokens</c>.</summary>
    CachedExceedsInput = 15,

    /// <summary><c>recomputed_input_tokens</c> exceeds the input tokens not served from cache (input - sum of cached tiers).</summary>
    RecomputedExceedsUncachedInput = 16,

    /// <summary><c>reasoning_tokens</c> exceeds <c>output_tokens</c> (reasoning tokens are a subset of output tokens).</summary>
    ReasoningExceedsOutput = 17,

    /// <summary>A KV tier reports load time but served no cached tokens.</summary>
    KvLoadWithoutCachedTokens = 18,

    /// <summary><c>first_token_at</c> is absent although output tokens were produced, or present although none were.</summary>
    FirstTokenMismatch = 19,

    /// <summary>An aggregated request reports a non-zero prefill-to-decode KV transfer time.</summary>
    KvTransferInAggregated = 20,
}

/// <summary>Stable string codes of <see cref="RejectReason"/> values.</summary>
public static class RejectReasonCodes
{
    private static readonly RejectReason[] AllReasons = Enum.GetValues<RejectReason>();

    /// <summary>Every reason, in numeric order.</summary>
    public static IReadOnlyList<RejectReason> All => AllReasons;

    /// <summary>The stable snake_case code of <paramref name="reason"/>, e.g. <c>cached_exceeds_input</c>. Never allocates.</summary>
    /// <param name="reason">The reason.</param>
    /// <returns>The code; <c>unknown</c> for a value outside the enum.</returns>
    public static string ToCode(this RejectReason reason) => reason switch
    {
        RejectReason.MalformedJson => "malformed_json",
        RejectReason.Oversized => "oversized",
        RejectReason.NestingTooDeep => "nesting_too_deep",
        RejectReason.UnknownSchemaVersion => "unknown_schema_version",
        RejectReason.MissingField => "missing_field",
        RejectReason.WrongType => "wrong_type",
        RejectReason.UnknownField => "unknown_field",
        RejectReason.DuplicateField => "duplicate_field",
        RejectReason.InvalidNumber => "invalid_number",
        RejectReason.UnknownEnumValue => "unknown_enum_value",
        RejectReason.InvalidString => "invalid_string",
        RejectReason.InvalidTimestamp => "invalid_timestamp",
        RejectReason.TimestampsOutOfOrder => "timestamps_out_of_order",
        RejectReason.TimestampInFuture => "timestamp_in_future",
        RejectReason.CachedExceedsInput => "cached_exceeds_input",
        RejectReason.RecomputedExceedsUncachedInput => "recomputed_exceeds_uncached_input",
        RejectReason.ReasoningExceedsOutput => "reasoning_exceeds_output",
        RejectReason.KvLoadWithoutCachedTokens => "kv_load_without_cached_tokens",
        RejectReason.FirstTokenMismatch => "first_token_mismatch",
        RejectReason.KvTransferInAggregated => "kv_transfer_in_aggregated",
        _ => "unknown",
    };

    /// <summary>Parses a code produced by <see cref="ToCode"/>.</summary>
    /// <param name="code">The snake_case code.</param>
    /// <param name="reason">The reason when found.</param>
    /// <returns><see langword="true"/> when <paramref name="code"/> names a reason.</returns>
    public static bool TryParse(string? code, out RejectReason reason)
    {
        foreach (var candidate in AllReasons)
        {
            if (string.Equals(candidate.ToCode(), code, StringComparison.Ordinal))
            {
                reason = candidate;
                return true;
            }
        }

        reason = default;
        return false;
    }
}
