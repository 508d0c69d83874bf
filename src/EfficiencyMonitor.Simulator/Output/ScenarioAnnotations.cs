using System.Text.Encodings.Web;
using System.Text.Json;
using EfficiencyMonitor.Simulator.Generation;
using EfficiencyMonitor.Simulator.Scenarios;

namespace EfficiencyMonitor.Simulator.Output;

/// <summary>
/// The incident schedule as JSONL annotations (one line per incident with its absolute start and end), for dashboards and
/// for the jobs that must explain drift. A <c>price_change</c> lives only here: the telemetry contract carries no prices,
/// so the simulator announces it and leaves re-pricing to a catalog version effective from <c>starts_at</c>.
/// </summary>
public static class ScenarioAnnotations
{
    private static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Writes one line per incident; returns the number written.</summary>
    public static int Write(Stream stream, Scenario scenario, DateTimeOffset start)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(scenario);
        var startMs = start.ToUnixTimeMilliseconds();
        foreach (var incident in scenario.Incidents.OrderBy(i => i.AtSeconds))
        {
            using (var w = new Utf8JsonWriter(stream, Options))
            {
                w.WriteStartObject();
                w.WriteString("scenario", scenario.Name);
                w.WriteString("kind", Snake(incident.Kind.ToString()));
                w.WriteString("starts_at", RecordWriter.FormatTimestamp(startMs + (long)(incident.AtSeconds * 1000)));
                if (double.IsFinite(incident.DurationSeconds))
                {
                    w.WriteString("ends_at", RecordWriter.FormatTimestamp(startMs + (long)((incident.AtSeconds + incident.DurationSeconds) * 1000)));
                }

                WriteIf(w, "deployment", incident.Deployment);
                WriteIf(w, "pool", incident.Pool);
                WriteIf(w, "tier", incident.Tier is { } t ? Snake(t.ToString()) : null);
                if (incident.Workloads.Count > 0)
                {
                    w.WriteStartArray("workloads");
                    foreach (var name in incident.Workloads)
                    {
                        w.WriteStringValue(name);
                    }

                    w.WriteEndArray();
                }

                w.WriteNumber("factor", incident.Factor);
                if (incident.ExtraLatencyMs > 0)
                {
                    w.WriteNumber("extra_latency_ms", incident.ExtraLatencyMs);
                }

                if (incident.Watts > 0)
                {
                    w.WriteNumber("watts", incident.Watts);
                }

                if (incident.ErrorRate > 0)
                {
                    w.WriteNumber("error_rate", incident.ErrorRate);
                }

                WriteIf(w, "item", incident.Item);
                WriteIf(w, "note", incident.Note);
                w.WriteEndObject();
            }

            stream.WriteByte((byte)'\n');
        }

        stream.Flush();
        return scenario.Incidents.Count;
    }

    private static void WriteIf(Utf8JsonWriter w, string name, string? value)
    {
        if (value is not null)
        {
            w.WriteString(name, value);
        }
    }

    private static string Snake(string pascal) =>
        string.Concat(pascal.Select((c, i) => char.IsUpper(c) ? (i > 0 ? "_" : "") + char.ToLowerInvariant(c) : c.ToString()));
}
