using System.Globalization;
using System.Text.Json;

namespace EfficiencyMonitor.Core.Telemetry;

/// <summary>
/// Decodes and validates one <c>inference-requests</c> record (schema v1, <c>schemas/telemetry</c>) straight from its
/// UTF-8 bytes into a reused <see cref="InferenceRequestRow"/>. On the steady state a record allocates nothing: names
/// come from the intern cache and ids are copied into the batch's <see cref="Utf8Arena"/>. Not thread-safe: use one
/// decoder per consuming thread.
/// </summary>
/// <remarks>
/// Precedence when a record has several problems: a fatal problem (oversized, malformed JSON, nesting too deep, not an
/// object) first; then an unknown <c>schema_version</c> wherever it appears (a v2 record must not be judged by v1
/// rules); then the first field-level problem in reading order; then missing fields; then the semantic rules in the
/// order listed in <c>schemas/telemetry/README.md</c>.
/// </remarks>
public sealed class InferenceRequestDecoder
{
    private const int SchemaVersionField = 0;
    private const int RequestIdField = 1;
    private const int SessionIdField = 2;
    private const int RetryOfField = 3;
    private const int TenantField = 4;
    private const int DeploymentField = 5;
    private const int ModelField = 6;
    private const int ServingPatternField = 7;
    private const int PrefillPoolField = 8;
    private const int DecodePoolField = 9;
    private const int GpuTypeField = 10;
    private const int RegionField = 11;
    private const int StartedAtField = 12;
    private const int FirstTokenAtField = 13;
    private const int FinishedAtField = 14;
    private const int InputTokensField = 15;
    private const int CachedInputTokensField = 16;
    private const int RecomputedInputTokensField = 17;
    private const int OutputTokensField = 18;
    private const int ReasoningTokensField = 19;
    private const int QueueMsField = 20;
    private const int PrefillMsField = 21;
    private const int KvTransferMsField = 22;
    private const int KvLoadMsField = 23;
    private const int DecodeMsField = 24;
    private const int KvBytesTransferredField = 25;
    private const int KvCompressionRatioField = 26;
    private const int StatusField = 27;
    private const int QualityScoreField = 28;
    private const int AcceptedField = 29;

    // Order matches the field constants above and the order producers are asked to emit (it makes lookups one compare).
    private static readonly FieldNames Fields = new(
        "schema_version", "request_id", "session_id", "retry_of", "tenant", "deployment", "model", "serving_pattern",
        "prefill_pool", "decode_pool", "gpu_type", "region", "started_at", "first_token_at", "finished_at",
        "input_tokens", "cached_input_tokens", "recomputed_input_tokens", "output_tokens", "reasoning_tokens",
        "queue_ms", "prefill_ms", "kv_transfer_ms", "kv_load_ms", "decode_ms", "kv_bytes_transferred",
        "kv_compression_ratio", "status", "quality_score", "accepted");

    private static readonly ulong RequiredMask = Bits(
        SchemaVersionField, RequestIdField, TenantField, DeploymentField, ModelField, ServingPatternField, GpuTypeField,
        RegionField, StartedAtField, FinishedAtField, InputTokensField, CachedInputTokensField, RecomputedInputTokensField,
        OutputTokensField, ReasoningTokensField, QueueMsField, PrefillMsField, KvLoadMsField, DecodeMsField,
        KvBytesTransferredField, KvCompressionRatioField, StatusField);

    private static readonly FieldNames ServingPatterns = new("aggregated", "disaggregated");
    private static readonly FieldNames Statuses = new("ok", "error", "timeout", "cancelled", "filtered");
    private static readonly string[] CachedPaths = JsonFieldReader.Tiers.PathsUnder("cached_input_tokens");
    private static readonly string[] LoadPaths = JsonFieldReader.Tiers.PathsUnder("kv_load_ms");

    private readonly TelemetryDecoderOptions _options;
    private readonly byte[] _valueScratch;
    private readonly byte[] _nameScratch = new byte[64];
    private readonly double[] _tiers = new double[4];
    private readonly long _maxFutureSkewMs;

    /// <summary>Creates a decoder.</summary>
    /// <param name="options">Limits; the defaults match the v1 schema.</param>
    /// <param name="interner">Intern cache for names; a new one sized by <see cref="TelemetryDecoderOptions.InternCapacity"/> when null.</param>
    /// <exception cref="ArgumentException">The options are invalid (every problem is listed).</exception>
    public InferenceRequestDecoder(TelemetryDecoderOptions? options = null, Utf8StringInterner? interner = null)
    {
        _options = options ?? new TelemetryDecoderOptions();
        _options.ThrowIfInvalid();
        Interner = interner ?? new Utf8StringInterner(_options.InternCapacity);
        _valueScratch = new byte[Math.Max(_options.MaxStringBytes, 64)];
        _maxFutureSkewMs = (long)_options.MaxFutureSkew.TotalMilliseconds;
    }

    /// <summary>The intern cache holding this decoder's names.</summary>
    public Utf8StringInterner Interner { get; }

    /// <summary>
    /// Decodes one record. Never throws on any input: every problem becomes a rejection with a reason and a message.
    /// On rejection <paramref name="row"/> is reset and the ids this record appended to <paramref name="arena"/> are dropped.
    /// </summary>
    /// <param name="utf8Json">The record's bytes (the Kafka message value).</param>
    /// <param name="now">Current time from the host's <see cref="TimeProvider"/>, for the future-skew rule.</param>
    /// <param name="arena">The batch's arena that receives request_id, session_id and retry_of.</param>
    /// <param name="row">The row to fill; reset first.</param>
    /// <returns>Success, or the reason and message.</returns>
    public DecodeResult Decode(ReadOnlySpan<byte> utf8Json, DateTimeOffset now, Utf8Arena arena, ref InferenceRequestRow row)
    {
        ArgumentNullException.ThrowIfNull(arena);
        row = default;
        if (utf8Json.Length > _options.MaxRecordBytes)
        {
            return DecodeResult.Reject(
                RejectReason.Oversized,
                null,
                $"the record is {utf8Json.Length.ToString(CultureInfo.InvariantCulture)} bytes; the limit is {_options.MaxRecordBytes.ToString(CultureInfo.InvariantCulture)}");
        }

        var mark = arena.Length;
        DecodeResult result;
        try
        {
            result = DecodeCore(utf8Json, now, arena, ref row);
        }
        catch (JsonException ex)
        {
            // Utf8JsonReader reports syntax errors (also truncation, BOM, trailing bytes) only by throwing.
            result = DecodeResult.Reject(RejectReason.MalformedJson, null, "the record is not valid JSON: " + ex.Message);
        }

        if (!result.IsSuccess)
        {
            arena.Truncate(mark);
            row = default;
        }

        return result;
    }

    private DecodeResult DecodeCore(ReadOnlySpan<byte> utf8Json, DateTimeOffset now, Utf8Arena arena, ref InferenceRequestRow row)
    {
        var maxDepth = _options.MaxDepth;

        // The reader's own limit sits one above ours so that ours, which names the reason, always trips first.
        var reader = new Utf8JsonReader(utf8Json, new JsonReaderOptions { MaxDepth = maxDepth + 1 });
        var error = default(PendingError);
        if (!JsonFieldReader.StartRecord(ref reader, ref error))
        {
            return error.ToResult();
        }

        string? versionProblem = null;
        var seen = 0UL;
        var expected = 0;
        var tiers = _tiers;
        var scratch = _valueScratch;
        var maxString = _options.MaxStringBytes;
        while (true)
        {
            if (!JsonFieldReader.Advance(ref reader, maxDepth, ref error))
            {
                return error.ToResult();
            }

            if (reader.TokenType == JsonTokenType.EndObject)
            {
                break;
            }

            var field = JsonFieldReader.TryGetPropertyName(ref reader, _nameScratch, out var name) ? Fields.Find(name, expected) : -1;
            var unknown = field < 0 ? JsonFieldReader.Describe(ref reader) : null;
            if (!JsonFieldReader.Advance(ref reader, maxDepth, ref error))
            {
                return error.ToResult();
            }

            if (field < 0)
            {
                error.Set(RejectReason.UnknownField, null, $"unknown field {unknown}; schema version 1 allows only the fields it lists");
            }
            else if ((seen & (1UL << field)) != 0)
            {
                error.Set(RejectReason.DuplicateField, Fields.Names[field], $"{Fields.Names[field]} appears more than once");
            }
            else
            {
                seen |= 1UL << field;
                expected = field + 1;
                if (field == SchemaVersionField)
                {
                    versionProblem = ReadSchemaVersion(ref reader, ref error, ref row);
                }
                else if (!error.IsSet)
                {
                    // Once a problem is found only schema_version is still read, because a newer version outranks it.
                    ReadField(field, ref reader, arena, scratch, maxString, tiers, ref error, ref row);
                }
            }

            if (!JsonFieldReader.SkipValue(ref reader, maxDepth, ref error))
            {
                return error.ToResult();
            }
        }

        // Anything but whitespace after the object throws (caught as malformed_json).
        if (reader.Read())
        {
            return DecodeResult.Reject(RejectReason.MalformedJson, null, "the record has content after its JSON object");
        }

        if (versionProblem is not null)
        {
            return DecodeResult.Reject(RejectReason.UnknownSchemaVersion, "schema_version", versionProblem);
        }

        if (error.IsSet)
        {
            return error.ToResult();
        }

        var missing = RequiredMask & ~seen;
        if (missing != 0)
        {
            var first = Fields.Names[System.Numerics.BitOperations.TrailingZeroCount(missing)];
            return DecodeResult.Reject(RejectReason.MissingField, first, $"{first} is required");
        }

        return Validate(now, ref row);
    }

    private static string? ReadSchemaVersion(ref Utf8JsonReader reader, ref PendingError error, ref InferenceRequestRow row)
    {
        if (reader.TokenType != JsonTokenType.Number)
        {
            error.Set(
                reader.TokenType == JsonTokenType.Null ? RejectReason.MissingField : RejectReason.WrongType,
                "schema_version",
                $"schema_version must be the integer 1, got {JsonFieldReader.Describe(ref reader)}");
            return null;
        }

        if (reader.TryGetDouble(out var version) && version == 1)
        {
            row.SchemaVersion = 1;
            return null;
        }

        return $"schema_version {JsonFieldReader.Describe(ref reader)} is not supported; this decoder reads version 1";
    }

    private void ReadField(
        int field,
        ref Utf8JsonReader reader,
        Utf8Arena arena,
        byte[] scratch,
        int maxString,
        double[] tiers,
        ref PendingError error,
        ref InferenceRequestRow row)
    {
        var name = Fields.Names[field];
        if (reader.TokenType == JsonTokenType.Null)
        {
            // null means absent for optional fields; a required field cannot be null.
            if ((RequiredMask & (1UL << field)) != 0)
            {
                error.Set(RejectReason.MissingField, name, $"{name} is required and must not be null");
            }

            return;
        }

        ReadOnlySpan<byte> text;
        long integer;
        double number;
        switch (field)
        {
            case RequestIdField:
                if (JsonFieldReader.TryReadString(ref reader, name, scratch, maxString, ref error, out text))
                {
                    row.RequestId = arena.Append(text);
                }

                break;
            case SessionIdField:
                if (JsonFieldReader.TryReadString(ref reader, name, scratch, maxString, ref error, out text))
                {
                    row.SessionId = arena.Append(text);
                }

                break;
            case RetryOfField:
                if (JsonFieldReader.TryReadString(ref reader, name, scratch, maxString, ref error, out text))
                {
                    row.RetryOf = arena.Append(text);
                }

                break;
            case TenantField:
                row.Tenant = ReadName(ref reader, name, scratch, maxString, ref error)!;
                break;
            case DeploymentField:
                row.Deployment = ReadName(ref reader, name, scratch, maxString, ref error)!;
                break;
            case ModelField:
                row.Model = ReadName(ref reader, name, scratch, maxString, ref error)!;
                break;
            case ServingPatternField:
                if (JsonFieldReader.TryReadEnum(ref reader, name, ServingPatterns, scratch, ref error, out var pattern))
                {
                    row.ServingPattern = (ServingPattern)(pattern + 1);
                }

                break;
            case PrefillPoolField:
                row.PrefillPool = ReadName(ref reader, name, scratch, maxString, ref error);
                break;
            case DecodePoolField:
                row.DecodePool = ReadName(ref reader, name, scratch, maxString, ref error);
                break;
            case GpuTypeField:
                row.GpuType = ReadName(ref reader, name, scratch, maxString, ref error)!;
                break;
            case RegionField:
                row.Region = ReadName(ref reader, name, scratch, maxString, ref error)!;
                break;
            case StartedAtField:
                if (JsonFieldReader.TryReadTimestamp(ref reader, name, scratch, ref error, out integer))
                {
                    row.StartedAtUnixMs = integer;
                }

                break;
            case FirstTokenAtField:
                if (JsonFieldReader.TryReadTimestamp(ref reader, name, scratch, ref error, out integer))
                {
                    row.FirstTokenAtUnixMs = integer;
                }

                break;
            case FinishedAtField:
                if (JsonFieldReader.TryReadTimestamp(ref reader, name, scratch, ref error, out integer))
                {
                    row.FinishedAtUnixMs = integer;
                }

                break;
            case InputTokensField:
                row.InputTokens = ReadTokens(ref reader, name, ref error);
                break;
            case CachedInputTokensField:
                Array.Clear(tiers);
                if (JsonFieldReader.ReadTiers(ref reader, name, CachedPaths, integers: true, _options.MaxDepth, _nameScratch, ref error, tiers))
                {
                    row.CachedInputTokens = new KvTierTokens((int)tiers[0], (int)tiers[1], (int)tiers[2], (int)tiers[3]);
                }

                break;
            case RecomputedInputTokensField:
                row.RecomputedInputTokens = ReadTokens(ref reader, name, ref error);
                break;
            case OutputTokensField:
                row.OutputTokens = ReadTokens(ref reader, name, ref error);
                break;
            case ReasoningTokensField:
                row.ReasoningTokens = ReadTokens(ref reader, name, ref error);
                break;
            case QueueMsField:
                row.QueueMs = ReadDuration(ref reader, name, ref error);
                break;
            case PrefillMsField:
                row.PrefillMs = ReadDuration(ref reader, name, ref error);
                break;
            case KvTransferMsField:
                if (JsonFieldReader.TryReadNumber(ref reader, name, 0, JsonFieldReader.MaxDurationMs, ref error, out number))
                {
                    row.KvTransferMs = number;
                }

                break;
            case KvLoadMsField:
                Array.Clear(tiers);
                if (JsonFieldReader.ReadTiers(ref reader, name, LoadPaths, integers: false, _options.MaxDepth, _nameScratch, ref error, tiers))
                {
                    row.KvLoadMs = new KvTierMilliseconds(tiers[0], tiers[1], tiers[2], tiers[3]);
                }

                break;
            case DecodeMsField:
                row.DecodeMs = ReadDuration(ref reader, name, ref error);
                break;
            case KvBytesTransferredField:
                if (JsonFieldReader.TryReadInteger(ref reader, name, 0, JsonFieldReader.MaxSafeInteger, ref error, out integer))
                {
                    row.KvBytesTransferred = integer;
                }

                break;
            case KvCompressionRatioField:
                if (JsonFieldReader.TryReadNumber(ref reader, name, 1, 1000, ref error, out number))
                {
                    row.KvCompressionRatio = number;
                }

                break;
            case StatusField:
                if (JsonFieldReader.TryReadEnum(ref reader, name, Statuses, scratch, ref error, out var status))
                {
                    row.Status = (RequestStatus)(status + 1);
                }

                break;
            case QualityScoreField:
                if (JsonFieldReader.TryReadNumber(ref reader, name, 0, 1, ref error, out number))
                {
                    row.QualityScore = number;
                }

                break;
            case AcceptedField:
                if (JsonFieldReader.TryReadBoolean(ref reader, name, ref error, out var accepted))
                {
                    row.Accepted = accepted;
                }

                break;
        }
    }

    private string? ReadName(ref Utf8JsonReader reader, string field, byte[] scratch, int maxString, ref PendingError error)
        => JsonFieldReader.TryReadString(ref reader, field, scratch, maxString, ref error, out var text) ? Interner.GetOrAdd(text) : null;

    private static int ReadTokens(ref Utf8JsonReader reader, string field, ref PendingError error)
        => JsonFieldReader.TryReadInteger(ref reader, field, 0, int.MaxValue, ref error, out var value) ? (int)value : 0;

    private static double ReadDuration(ref Utf8JsonReader reader, string field, ref PendingError error)
        => JsonFieldReader.TryReadNumber(ref reader, field, 0, JsonFieldReader.MaxDurationMs, ref error, out var value) ? value : 0;

    /// <summary>The rules JSON Schema cannot express (or expresses only with conditionals), in README order.</summary>
    private DecodeResult Validate(DateTimeOffset now, ref InferenceRequestRow row)
    {
        var disaggregated = row.ServingPattern == ServingPattern.Disaggregated;
        if (disaggregated)
        {
            var absent = row.PrefillPool is null ? "prefill_pool" : row.DecodePool is null ? "decode_pool" : row.KvTransferMs is null ? "kv_transfer_ms" : null;
            if (absent is not null)
            {
                return DecodeResult.Reject(RejectReason.MissingField, absent, $"{absent} is required when serving_pattern is disaggregated");
            }
        }

        var cached = row.CachedInputTokens;
        var input = row.InputTokens;
        if (cached.Total > input)
        {
            return DecodeResult.Reject(
                RejectReason.CachedExceedsInput,
                "cached_input_tokens",
                Invariant($"cached_input_tokens sum to {cached.Total} (hbm {cached.Hbm}, dram {cached.Dram}, local_ssd {cached.LocalSsd}, remote {cached.Remote}), more than input_tokens {input}"));
        }

        if (cached.Total + row.RecomputedInputTokens > input)
        {
            return DecodeResult.Reject(
                RejectReason.RecomputedExceedsUncachedInput,
                "recomputed_input_tokens",
                Invariant($"recomputed_input_tokens {row.RecomputedInputTokens} exceeds the uncached input tokens {input - cached.Total} (input_tokens {input} minus cached {cached.Total})"));
        }

        if (row.ReasoningTokens > row.OutputTokens)
        {
            return DecodeResult.Reject(
                RejectReason.ReasoningExceedsOutput,
                "reasoning_tokens",
                Invariant($"reasoning_tokens {row.ReasoningTokens} exceeds output_tokens {row.OutputTokens}; reasoning tokens are part of the output"));
        }

        var load = row.KvLoadMs;
        var tier = load.Hbm > 0 && cached.Hbm == 0 ? 0
            : load.Dram > 0 && cached.Dram == 0 ? 1
            : load.LocalSsd > 0 && cached.LocalSsd == 0 ? 2
            : load.Remote > 0 && cached.Remote == 0 ? 3
            : -1;
        if (tier >= 0)
        {
            var loadMs = tier switch { 0 => load.Hbm, 1 => load.Dram, 2 => load.LocalSsd, _ => load.Remote };
            return DecodeResult.Reject(
                RejectReason.KvLoadWithoutCachedTokens,
                LoadPaths[tier],
                Invariant($"{LoadPaths[tier]} is {loadMs} ms but {CachedPaths[tier]} is 0"));
        }

        if ((row.OutputTokens > 0) != row.FirstTokenAtUnixMs.HasValue)
        {
            return DecodeResult.Reject(
                RejectReason.FirstTokenMismatch,
                "first_token_at",
                row.OutputTokens > 0
                    ? Invariant($"first_token_at is absent but output_tokens is {row.OutputTokens}")
                    : "first_token_at is present but output_tokens is 0");
        }

        if (!disaggregated && row.KvTransferMs > 0)
        {
            return DecodeResult.Reject(
                RejectReason.KvTransferInAggregated,
                "kv_transfer_ms",
                Invariant($"kv_transfer_ms is {row.KvTransferMs} but serving_pattern is aggregated (no prefill-to-decode transfer)"));
        }

        var started = row.StartedAtUnixMs;
        var finished = row.FinishedAtUnixMs;
        var firstToken = row.FirstTokenAtUnixMs ?? started;
        if (started > firstToken || firstToken > finished || started > finished)
        {
            return DecodeResult.Reject(
                RejectReason.TimestampsOutOfOrder,
                started > finished ? "finished_at" : "first_token_at",
                $"timestamps must satisfy started_at <= first_token_at <= finished_at; got started_at {Format(started)}, first_token_at {(row.FirstTokenAtUnixMs is { } f ? Format(f) : "absent")}, finished_at {Format(finished)}");
        }

        // The latest timestamp is finished_at once the order holds.
        var limit = now.ToUnixTimeMilliseconds() + _maxFutureSkewMs;
        if (finished > limit)
        {
            return DecodeResult.Reject(
                RejectReason.TimestampInFuture,
                "finished_at",
                $"finished_at {Format(finished)} is more than {_options.MaxFutureSkew} after now ({now.UtcDateTime:O})");
        }

        return DecodeResult.Success;
    }

    internal static string Format(long unixMs) => DateTimeOffset.FromUnixTimeMilliseconds(unixMs).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private static string Invariant(FormattableString text) => FormattableString.Invariant(text);

    private static ulong Bits(params int[] fields)
    {
        var mask = 0UL;
        foreach (var field in fields)
        {
            mask |= 1UL << field;
        }

        return mask;
    }
}
