using System.Globalization;
using System.Text.Json;
using EfficiencyMonitor.Simulator.Generation;

namespace EfficiencyMonitor.Simulator.Output;

/// <summary>
/// JSONL traces: one raw telemetry record per line, exactly the Kafka message value, both topics interleaved in event-time
/// order. The same format is what <c>replay</c> reads, so a trace recorded from production (one record per line, either
/// topic) replays too: a line naming <c>gpu_uuid</c> goes to the power topic, anything else to the requests topic.
/// </summary>
public static class JsonlTrace
{
    /// <summary>Writes records, one per line; returns the number written.</summary>
    public static long Write(Stream stream, IEnumerable<SimulatedRecord> records, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(records);
        var count = 0L;
        foreach (var record in records)
        {
            cancellationToken.ThrowIfCancellationRequested();
            stream.Write(record.Payload.Span);
            stream.WriteByte((byte)'\n');
            count++;
        }

        stream.Flush();
        return count;
    }

    /// <summary>
    /// Reads a trace lazily. Each record's time is its <c>finished_at</c> (requests) or <c>sampled_at</c> (power); a line
    /// without a readable time (e.g. a deliberately malformed record) takes the previous line's time.
    /// </summary>
    public static IEnumerable<SimulatedRecord> Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var reader = new StreamReader(path);
        var lineNumber = 0L;
        var lastTime = 0L;
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            var bytes = System.Text.Encoding.UTF8.GetBytes(line);
            var (topic, key, time) = Inspect(bytes);
            lastTime = time ?? lastTime;
            yield return new SimulatedRecord(topic, key ?? string.Create(CultureInfo.InvariantCulture, $"line-{lineNumber}"), lastTime, bytes, null);
        }
    }

    private static (TraceTopic Topic, string? Key, long? Time) Inspect(byte[] utf8)
    {
        string? requestId = null;
        string? sessionId = null;
        string? gpu = null;
        long? finished = null;
        long? sampled = null;
        try
        {
            var reader = new Utf8JsonReader(utf8);
            var depth = 0;
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.StartObject or JsonTokenType.StartArray:
                        depth++;
                        break;
                    case JsonTokenType.EndObject or JsonTokenType.EndArray:
                        depth--;
                        break;
                    case JsonTokenType.PropertyName when depth == 1:
                        var name = reader.GetString();
                        if (!reader.Read())
                        {
                            break;
                        }

                        if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
                        {
                            reader.Skip();
                            break;
                        }

                        var text = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                        switch (name)
                        {
                            case "request_id": requestId = text; break;
                            case "session_id": sessionId = text; break;
                            case "gpu_uuid": gpu = text; break;
                            case "finished_at": finished = ParseTime(text); break;
                            case "sampled_at": sampled = ParseTime(text); break;
                        }

                        break;
                }
            }
        }
        catch (JsonException)
        {
            // A malformed line still replays (dead-letter tests need it); it keeps what was read before the error.
        }

        return gpu is not null
            ? (TraceTopic.GpuPower, gpu, sampled)
            : (TraceTopic.InferenceRequests, sessionId ?? requestId, finished);
    }

    private static long? ParseTime(string? text) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) ? t.ToUnixTimeMilliseconds() : null;
}
