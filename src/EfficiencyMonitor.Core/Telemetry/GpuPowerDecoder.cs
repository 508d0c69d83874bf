using System.Globalization;
using System.Text.Json;

namespace EfficiencyMonitor.Core.Telemetry;

/// <summary>
/// Decodes and validates one <c>gpu-power</c> record (schema v1, <c>schemas/telemetry</c>) straight from its UTF-8
/// bytes into a reused <see cref="GpuPowerRow"/>. On the steady state a record allocates nothing: every string is a
/// low-cardinality name served by the intern cache. Not thread-safe: use one decoder per consuming thread.
/// </summary>
/// <remarks>Problems take the same precedence as in <see cref="InferenceRequestDecoder"/>.</remarks>
public sealed class GpuPowerDecoder
{
    private const int SchemaVersionField = 0;
    private const int NodeField = 1;
    private const int GpuIndexField = 2;
    private const int GpuUuidField = 3;
    private const int GpuTypeField = 4;
    private const int PoolField = 5;
    private const int DeploymentField = 6;
    private const int SampledAtField = 7;
    private const int PowerWattsField = 8;
    private const int EnergyJoulesTotalField = 9;
    private const int UtilizationField = 10;
    private const int MemoryUsedBytesField = 11;

    /// <summary>Largest GPU index accepted (the schema's bound).</summary>
    private const int MaxGpuIndex = 1023;

    /// <summary>Largest board power accepted, in W; no single accelerator draws more.</summary>
    private const double MaxPowerWatts = 10_000;

    /// <summary>Largest energy counter accepted, in J (about 31,000 years at 1 kW).</summary>
    private const double MaxEnergyJoules = 1e15;

    private static readonly FieldNames Fields = new(
        "schema_version", "node", "gpu_index", "gpu_uuid", "gpu_type", "pool", "deployment", "sampled_at",
        "power_watts", "energy_joules_total", "utilization", "memory_used_bytes");

    // Every field but energy_joules_total, which exporters without a total-energy counter omit.
    private static readonly ulong RequiredMask = ((1UL << 12) - 1) & ~(1UL << EnergyJoulesTotalField);

    private readonly TelemetryDecoderOptions _options;
    private readonly byte[] _valueScratch;
    private readonly byte[] _nameScratch = new byte[64];
    private readonly long _maxFutureSkewMs;

    /// <summary>Creates a decoder.</summary>
    /// <param name="options">Limits; the defaults match the v1 schema.</param>
    /// <param name="interner">Intern cache for names; a new one sized by <see cref="TelemetryDecoderOptions.InternCapacity"/> when null.</param>
    /// <exception cref="ArgumentException">The options are invalid (every problem is listed).</exception>
    public GpuPowerDecoder(TelemetryDecoderOptions? options = null, Utf8StringInterner? interner = null)
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
    /// On rejection <paramref name="row"/> is reset.
    /// </summary>
    /// <param name="utf8Json">The record's bytes (the Kafka message value).</param>
    /// <param name="now">Current time from the host's <see cref="TimeProvider"/>, for the future-skew rule.</param>
    /// <param name="row">The row to fill; reset first.</param>
    /// <returns>Success, or the reason and message.</returns>
    public DecodeResult Decode(ReadOnlySpan<byte> utf8Json, DateTimeOffset now, ref GpuPowerRow row)
    {
        row = default;
        if (utf8Json.Length > _options.MaxRecordBytes)
        {
            return DecodeResult.Reject(
                RejectReason.Oversized,
                null,
                $"the record is {utf8Json.Length.ToString(CultureInfo.InvariantCulture)} bytes; the limit is {_options.MaxRecordBytes.ToString(CultureInfo.InvariantCulture)}");
        }

        DecodeResult result;
        try
        {
            result = DecodeCore(utf8Json, now, ref row);
        }
        catch (JsonException ex)
        {
            // Utf8JsonReader reports syntax errors (also truncation, BOM, trailing bytes) only by throwing.
            result = DecodeResult.Reject(RejectReason.MalformedJson, null, "the record is not valid JSON: " + ex.Message);
        }

        if (!result.IsSuccess)
        {
            row = default;
        }

        return result;
    }

    private DecodeResult DecodeCore(ReadOnlySpan<byte> utf8Json, DateTimeOffset now, ref GpuPowerRow row)
    {
        var maxDepth = _options.MaxDepth;
        var reader = new Utf8JsonReader(utf8Json, new JsonReaderOptions { MaxDepth = maxDepth + 1 });
        var error = default(PendingError);
        if (!JsonFieldReader.StartRecord(ref reader, ref error))
        {
            return error.ToResult();
        }

        string? versionProblem = null;
        var seen = 0UL;
        var expected = 0;
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
                    ReadField(field, ref reader, ref error, ref row);
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

        if (row.SampledAtUnixMs > now.ToUnixTimeMilliseconds() + _maxFutureSkewMs)
        {
            return DecodeResult.Reject(
                RejectReason.TimestampInFuture,
                "sampled_at",
                $"sampled_at {InferenceRequestDecoder.Format(row.SampledAtUnixMs)} is more than {_options.MaxFutureSkew} after now ({now.UtcDateTime:O})");
        }

        return DecodeResult.Success;
    }

    private static string? ReadSchemaVersion(ref Utf8JsonReader reader, ref PendingError error, ref GpuPowerRow row)
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

    private void ReadField(int field, ref Utf8JsonReader reader, ref PendingError error, ref GpuPowerRow row)
    {
        var name = Fields.Names[field];
        if (reader.TokenType == JsonTokenType.Null)
        {
            // null means absent for the optional counter; a required field cannot be null.
            if ((RequiredMask & (1UL << field)) != 0)
            {
                error.Set(RejectReason.MissingField, name, $"{name} is required and must not be null");
            }

            return;
        }

        long integer;
        double number;
        switch (field)
        {
            case NodeField:
                row.Node = ReadName(ref reader, name, ref error)!;
                break;
            case GpuIndexField:
                if (JsonFieldReader.TryReadInteger(ref reader, name, 0, MaxGpuIndex, ref error, out integer))
                {
                    row.GpuIndex = (int)integer;
                }

                break;
            case GpuUuidField:
                row.GpuUuid = ReadName(ref reader, name, ref error)!;
                break;
            case GpuTypeField:
                row.GpuType = ReadName(ref reader, name, ref error)!;
                break;
            case PoolField:
                row.Pool = ReadName(ref reader, name, ref error)!;
                break;
            case DeploymentField:
                row.Deployment = ReadName(ref reader, name, ref error)!;
                break;
            case SampledAtField:
                if (JsonFieldReader.TryReadTimestamp(ref reader, name, _valueScratch, ref error, out integer))
                {
                    row.SampledAtUnixMs = integer;
                }

                break;
            case PowerWattsField:
                if (JsonFieldReader.TryReadNumber(ref reader, name, 0, MaxPowerWatts, ref error, out number))
                {
                    row.PowerWatts = number;
                }

                break;
            case EnergyJoulesTotalField:
                if (JsonFieldReader.TryReadNumber(ref reader, name, 0, MaxEnergyJoules, ref error, out number))
                {
                    row.EnergyJoulesTotal = number;
                }

                break;
            case UtilizationField:
                if (JsonFieldReader.TryReadNumber(ref reader, name, 0, 1, ref error, out number))
                {
                    row.Utilization = number;
                }

                break;
            case MemoryUsedBytesField:
                if (JsonFieldReader.TryReadInteger(ref reader, name, 0, JsonFieldReader.MaxSafeInteger, ref error, out integer))
                {
                    row.MemoryUsedBytes = integer;
                }

                break;
        }
    }

    private string? ReadName(ref Utf8JsonReader reader, string field, ref PendingError error)
        => JsonFieldReader.TryReadString(ref reader, field, _valueScratch, _options.MaxStringBytes, ref error, out var text)
            ? Interner.GetOrAdd(text)
            : null;
}
