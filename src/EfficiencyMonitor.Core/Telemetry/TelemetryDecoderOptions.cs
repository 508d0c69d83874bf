namespace EfficiencyMonitor.Core.Telemetry;

/// <summary>Limits applied by the telemetry decoders. Defaults match the v1 JSON Schemas in <c>schemas/telemetry</c>.</summary>
public sealed record TelemetryDecoderOptions
{
    /// <summary>Configuration section these options bind from.</summary>
    public const string SectionName = "TelemetryDecoder";

    /// <summary>The string length the v1 contract allows (its schemas say <c>{1,256}</c>); <see cref="MaxStringBytes"/> may only tighten it.</summary>
    public const int ContractMaxStringBytes = 256;

    /// <summary>Largest record accepted, in bytes (default 64 KiB). Larger records are rejected unparsed as <see cref="RejectReason.Oversized"/>.</summary>
    public int MaxRecordBytes { get; init; } = 64 * 1024;

    /// <summary>How far after the caller's <c>now</c> a timestamp may lie, to absorb producer clock skew (default 5 minutes).</summary>
    public TimeSpan MaxFutureSkew { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Longest string value accepted, in bytes (= characters, strings are printable ASCII); default and maximum 256.</summary>
    public int MaxStringBytes { get; init; } = ContractMaxStringBytes;

    /// <summary>Deepest nesting of objects/arrays accepted (default 4; the contract uses 2). Bounds work on hostile input.</summary>
    public int MaxDepth { get; init; } = 4;

    /// <summary>
    /// Distinct low-cardinality strings kept by a decoder's intern cache (default 16,384, enough for every GPU uuid of a
    /// large fleet). When full the cache is cleared, so hostile input cannot grow memory.
    /// </summary>
    public int InternCapacity { get; init; } = 16_384;

    /// <summary>Checks every setting and lists every problem, not just the first.</summary>
    /// <returns>The problems; empty when the options are valid.</returns>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (MaxRecordBytes is < 256 or > 16 * 1024 * 1024)
        {
            problems.Add($"{nameof(MaxRecordBytes)} must be between 256 and 16777216 bytes, got {MaxRecordBytes}.");
        }

        if (MaxFutureSkew < TimeSpan.Zero || MaxFutureSkew > TimeSpan.FromDays(1))
        {
            problems.Add($"{nameof(MaxFutureSkew)} must be between 0 and 1 day, got {MaxFutureSkew}.");
        }

        if (MaxStringBytes is < 1 or > ContractMaxStringBytes)
        {
            problems.Add($"{nameof(MaxStringBytes)} must be between 1 and {ContractMaxStringBytes}, got {MaxStringBytes}.");
        }

        if (MaxDepth is < 2 or > 64)
        {
            problems.Add($"{nameof(MaxDepth)} must be between 2 and 64, got {MaxDepth}.");
        }

        if (InternCapacity is < 16 or > 1_048_576)
        {
            problems.Add($"{nameof(InternCapacity)} must be between 16 and 1048576, got {InternCapacity}.");
        }

        return problems;
    }

    internal void ThrowIfInvalid()
    {
        var problems = Validate();
        if (problems.Count > 0)
        {
            throw new ArgumentException("Invalid telemetry decoder options: " + string.Join(" ", problems));
        }
    }
}
