namespace EfficiencyMonitor.Core.Telemetry;

/// <summary>
/// Outcome of decoding one record: success, or the reason and a readable message for the dead-letter record.
/// Success carries no allocation; only rejections (the rare path) build a message.
/// </summary>
public readonly record struct DecodeResult
{
    private DecodeResult(RejectReason reason, string? field, string message)
    {
        Reason = reason;
        Field = field;
        Message = message;
    }

    /// <summary>The successful result.</summary>
    public static DecodeResult Success => default;

    /// <summary>Why the record was rejected; <see langword="null"/> on success.</summary>
    public RejectReason? Reason { get; }

    /// <summary>Path of the offending field (e.g. <c>cached_input_tokens.dram</c>); <see langword="null"/> on success or when no single field is at fault.</summary>
    public string? Field { get; }

    /// <summary>Human-readable explanation naming the field and the value; <see langword="null"/> on success.</summary>
    public string? Message { get; }

    /// <summary>Whether the record was accepted and the row filled.</summary>
    public bool IsSuccess => Reason is null;

    /// <summary>Creates a rejection.</summary>
    /// <param name="reason">The reason code.</param>
    /// <param name="field">The offending field path, if one.</param>
    /// <param name="message">A readable message naming the field and value.</param>
    /// <returns>The rejection.</returns>
    public static DecodeResult Reject(RejectReason reason, string? field, string message) => new(reason, field, message);

    /// <inheritdoc/>
    public override string ToString() => Reason is { } reason ? $"{reason.ToCode()}: {Message}" : "ok";
}
