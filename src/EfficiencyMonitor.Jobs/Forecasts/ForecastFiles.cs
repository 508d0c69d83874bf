using System.Buffers;
using System.Globalization;
using System.Text.Json;
using EfficiencyMonitor.Core.Model;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace EfficiencyMonitor.Jobs.Forecasts;

/// <summary>
/// Reads forecast files (<c>deploy/forecasts/*.yaml</c>) into a validated <see cref="ForecastSpec"/>. Every problem is
/// reported at once as <c>file:line:column: path: what is wrong; fix: …</c>.
/// </summary>
public static class ForecastFiles
{
    /// <summary>Loads and validates the forecast file <paramref name="path"/>.</summary>
    /// <exception cref="ForecastException">Missing file, bad YAML, unknown fields or failed validation.</exception>
    public static ForecastSpec Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path)) throw new ForecastException($"{path}: the forecast file does not exist; fix: pass e.g. deploy/forecasts/llama-chat-2027q1.yaml");
        return Parse(File.ReadAllText(path), path);
    }

    /// <summary>Parses and validates forecast YAML; <paramref name="file"/> names it in problems.</summary>
    /// <exception cref="ForecastException">Bad YAML, unknown fields or failed validation.</exception>
    public static ForecastSpec Parse(string yaml, string file)
    {
        ArgumentNullException.ThrowIfNull(yaml);
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException e)
        {
            throw new ForecastException($"{file}:{e.Start.Line}:{e.Start.Column}: not valid YAML ({e.Message}); fix: check indentation and quoting");
        }

        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode root)
            throw new ForecastException($"{file}:1:1: the document is not a mapping; fix: start with `name:`, `deployment:`, `horizon:` … (see deploy/forecasts/README.md)");

        var locations = new Dictionary<string, string>(StringComparer.Ordinal);
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer)) WriteNode(writer, root, "", file, locations);

        string Locate(string path)
        {
            for (var p = path; p.Length > 0;)
            {
                if (locations.TryGetValue(p, out var at)) return at;
                var cut = Math.Max(p.LastIndexOf('.'), p.LastIndexOf('['));
                if (cut <= 0) break;
                p = p[..cut];
            }

            return locations.TryGetValue("", out var top) ? top : file;
        }

        ForecastSpec spec;
        try
        {
            spec = JsonSerializer.Deserialize(buffer.WrittenSpan, ForecastJsonContext.Default.ForecastSpec)
                ?? throw new ForecastException($"{file}: empty forecast");
        }
        catch (JsonException e)
        {
            var path = (e.Path ?? "$").TrimStart('$').TrimStart('.');
            var what = e.Message.Split(" Path:", 2)[0];
            throw new ForecastException(
                $"{Locate(path)}: {(path.Length == 0 ? "(root)" : path)}: {what}; fix: check the field's name and type (snake_case, numbers unquoted, times as 2027-01-01T00:00:00Z)");
        }

        var problems = ForecastSpecValidator.Validate(spec, Locate);
        if (problems.Count > 0) throw new ForecastException(problems);
        return spec;
    }

    private static void WriteNode(Utf8JsonWriter writer, YamlNode node, string path, string file, Dictionary<string, string> locations)
    {
        locations.TryAdd(path, $"{file}:{node.Start.Line}:{node.Start.Column}");
        if (node is YamlMappingNode map)
        {
            writer.WriteStartObject();
            foreach (var (k, v) in map.Children)
            {
                var key = (k as YamlScalarNode)?.Value ?? "";
                writer.WritePropertyName(key);
                WriteNode(writer, v, path.Length == 0 ? key : $"{path}.{key}", file, locations);
            }

            writer.WriteEndObject();
        }
        else if (node is YamlSequenceNode sequence)
        {
            writer.WriteStartArray();
            var i = 0;
            foreach (var child in sequence.Children) WriteNode(writer, child, $"{path}[{i++}]", file, locations);
            writer.WriteEndArray();
        }
        else if (node is YamlScalarNode scalar)
        {
            var text = scalar.Value ?? "";
            var plain = scalar.Style is not (ScalarStyle.SingleQuoted or ScalarStyle.DoubleQuoted);
            if (plain && text is "" or "~" or "null") writer.WriteNullValue();
            else if (plain && text is "true" or "false") writer.WriteBooleanValue(text == "true");
            else if (plain && !text.Contains(':', StringComparison.Ordinal) && double.TryParse(text.Replace("_", "", StringComparison.Ordinal), NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
                writer.WriteNumberValue(number);
            else writer.WriteStringValue(text);
        }
        else
        {
            writer.WriteNullValue();
        }
    }
}
