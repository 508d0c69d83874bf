using System.Globalization;
using System.Text;
using System.Text.Json;

namespace EfficiencyMonitor.Simulator.Traces;

/// <summary>A line of a trace file that cannot be read, with where and why.</summary>
public sealed class TraceFormatException : Exception
{
    /// <summary>Creates the exception.</summary>
    public TraceFormatException(long line, string field, string problem)
        : base(string.Create(CultureInfo.InvariantCulture, $"line {line}: {field}: {problem}"))
    {
        Line = line;
        Field = field;
        Problem = problem;
    }

    /// <summary>Creates the exception (no position).</summary>
    public TraceFormatException()
        : this(0, "", "malformed trace")
    {
    }

    /// <summary>Creates the exception (no position).</summary>
    public TraceFormatException(string message)
        : this(0, "", message)
    {
    }

    /// <summary>Creates the exception (no position).</summary>
    public TraceFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
        Field = "";
        Problem = message;
    }

    /// <summary>1-based line number.</summary>
    public long Line { get; }

    /// <summary>The field at fault (<c>json</c> when the line is not a JSON object).</summary>
    public string Field { get; }

    /// <summary>What is wrong and what was expected.</summary>
    public string Problem { get; }
}

/// <summary>Which part of a trace to use.</summary>
public sealed record TraceSelection
{
    /// <summary>Skip arrivals before this much trace time; the first kept arrival's time becomes the run's zero.</summary>
    public TimeSpan Offset { get; init; }

    /// <summary>Keep at most this many requests (null = all).</summary>
    public long? Limit { get; init; }

    /// <summary>Skip malformed lines (counted in <see cref="TraceReadStats"/>) instead of failing on the first.</summary>
    public bool SkipMalformed { get; init; }
}

/// <summary>What reading a trace met: lines skipped as malformed, and the first few reasons.</summary>
public sealed class TraceReadStats
{
    private readonly List<string> _examples = [];

    /// <summary>Malformed lines skipped.</summary>
    public long Skipped { get; private set; }

    /// <summary>Up to five messages of skipped lines.</summary>
    public IReadOnlyList<string> Examples => _examples;

    internal void Skip(TraceFormatException e)
    {
        Skipped++;
        if (_examples.Count < 5)
        {
            _examples.Add(e.Message);
        }
    }
}

/// <summary>
/// Reads the Mooncake FAST'25 trace format (kvcache-ai/Mooncake, <c>FAST25-release/traces/</c>): one JSON object per line
/// with <c>timestamp</c> (ms since the trace's start), <c>input_length</c>, <c>output_length</c> and <c>hash_ids</c>
/// (prefix-chained hashes of 512-token blocks). Arrivals must not go back in time: the trace's order is its interleaving.
/// </summary>
public static class MooncakeTrace
{
    /// <summary>Tokens per hashed block in the Mooncake traces.</summary>
    public const int BlockTokens = 512;

    /// <summary>Reads a file lazily, applying the selection.</summary>
    /// <exception cref="TraceFormatException">A malformed line (unless skipped) or arrivals out of order.</exception>
    public static IEnumerable<TraceArrival> Read(string path, TraceSelection selection, TraceReadStats? stats = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(selection);
        return Read(() => new StreamReader(path, Encoding.UTF8), selection, stats);
    }

    /// <summary>Reads text lazily (each enumeration opens a fresh reader), applying the selection.</summary>
    /// <exception cref="TraceFormatException">A malformed line (unless skipped) or arrivals out of order.</exception>
    public static IEnumerable<TraceArrival> Read(Func<TextReader> open, TraceSelection selection, TraceReadStats? stats = null)
    {
        ArgumentNullException.ThrowIfNull(open);
        ArgumentNullException.ThrowIfNull(selection);
        var offsetMs = (long)selection.Offset.TotalMilliseconds;
        var kept = 0L;
        var last = long.MinValue;
        using var reader = open();
        var number = 0L;
        while (reader.ReadLine() is { } line)
        {
            number++;
            if (selection.Limit is { } limit && kept >= limit)
            {
                yield break;
            }

            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            TraceArrival arrival;
            try
            {
                arrival = Parse(Encoding.UTF8.GetBytes(line), number);
                if (arrival.TimestampMs < last)
                {
                    throw new TraceFormatException(number, "timestamp", string.Create(CultureInfo.InvariantCulture,
                        $"{arrival.TimestampMs} is earlier than the previous request's {last}; a trace must be in arrival order"));
                }
            }
            catch (TraceFormatException e) when (selection.SkipMalformed)
            {
                stats?.Skip(e);
                continue;
            }

            last = arrival.TimestampMs;
            if (arrival.TimestampMs < offsetMs)
            {
                continue;
            }

            kept++;
            yield return arrival;
        }
    }

    /// <summary>Parses one line.</summary>
    /// <exception cref="TraceFormatException">The line is not a valid Mooncake record.</exception>
    public static TraceArrival Parse(ReadOnlySpan<byte> utf8, long lineNumber)
    {
        long? timestamp = null;
        int? input = null;
        int? output = null;
        List<long>? hashes = null;
        var reader = new Utf8JsonReader(utf8);
        var field = "json";
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                throw new TraceFormatException(lineNumber, "json", "expected one JSON object per line");
            }

            while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
            {
                field = reader.GetString() ?? "";
                reader.Read();
                switch (field)
                {
                    case "timestamp":
                        timestamp = Integer(ref reader, lineNumber, field, 0, long.MaxValue / 4);
                        break;
                    case "input_length":
                        input = (int)Integer(ref reader, lineNumber, field, 1, 10_000_000);
                        break;
                    case "output_length":
                        output = (int)Integer(ref reader, lineNumber, field, 0, 10_000_000);
                        break;
                    case "hash_ids":
                        if (reader.TokenType != JsonTokenType.StartArray)
                        {
                            throw new TraceFormatException(lineNumber, field, $"expected an array of integers, got {reader.TokenType}");
                        }

                        hashes = [];
                        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                        {
                            hashes.Add(Integer(ref reader, lineNumber, field, long.MinValue, long.MaxValue));
                        }

                        break;
                    default:
                        reader.Skip();
                        break;
                }

                field = "json";
            }

            if (reader.Read())
            {
                throw new TraceFormatException(lineNumber, "json", "unexpected content after the object");
            }
        }
        catch (JsonException e)
        {
            throw new TraceFormatException(lineNumber, field, $"not valid JSON ({e.Message})");
        }

        var missing = timestamp is null ? "timestamp" : input is null ? "input_length" : output is null ? "output_length" : hashes is null ? "hash_ids" : null;
        if (missing is not null)
        {
            throw new TraceFormatException(lineNumber, missing, "required field missing");
        }

        var blocks = (input!.Value + BlockTokens - 1) / BlockTokens;
        if (hashes!.Count != blocks)
        {
            throw new TraceFormatException(lineNumber, "hash_ids", string.Create(CultureInfo.InvariantCulture,
                $"{hashes.Count} block hashes for input_length {input} (expected {blocks}: one per {BlockTokens}-token block)"));
        }

        return new TraceArrival(lineNumber, timestamp!.Value, input.Value, output!.Value, [.. hashes]);
    }

    private static long Integer(ref Utf8JsonReader reader, long line, string field, long min, long max)
    {
        if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out var value))
        {
            throw new TraceFormatException(line, field, $"expected an integer, got {Describe(ref reader)}");
        }

        if (value < min || value > max)
        {
            throw new TraceFormatException(line, field, string.Create(CultureInfo.InvariantCulture, $"{value} is outside {min}..{max}"));
        }

        return value;
    }

    private static string Describe(ref Utf8JsonReader reader) => reader.TokenType switch
    {
        JsonTokenType.String => $"\"{reader.GetString()}\"",
        JsonTokenType.Number => Encoding.UTF8.GetString(reader.ValueSpan),
        _ => reader.TokenType.ToString(),
    };
}
