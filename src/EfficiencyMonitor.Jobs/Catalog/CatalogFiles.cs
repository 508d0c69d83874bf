using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using EfficiencyMonitor.Core.Catalog;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace EfficiencyMonitor.Jobs.Catalog;

/// <summary>A validated catalog with its canonical JSON (what is stored) and that JSON's SHA-256.</summary>
/// <param name="Catalog">The catalog.</param>
/// <param name="Json">Canonical JSON.</param>
/// <param name="Checksum">Hex SHA-256 of <paramref name="Json"/>.</param>
/// <param name="Source">Where it was read from.</param>
public sealed record LoadedCatalog(CostCatalog Catalog, string Json, string Checksum, string Source)
{
    /// <summary>Builds the record for <paramref name="catalog"/> (serializes it canonically).</summary>
    public static LoadedCatalog From(CostCatalog catalog, string source)
    {
        var json = JsonSerializer.Serialize(catalog, CatalogJsonContext.Default.CostCatalog);
        return new LoadedCatalog(catalog, json, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(json))), source);
    }

    /// <summary>Reads canonical JSON back (from <c>catalog_versions</c>).</summary>
    public static LoadedCatalog FromJson(string json, string source)
    {
        var catalog = JsonSerializer.Deserialize(json, CatalogJsonContext.Default.CostCatalog)
            ?? throw new CatalogException($"{source}: empty catalog content");
        return From(catalog, source);
    }
}

/// <summary>
/// Reads the catalog directory (<c>deploy/catalog/*.yaml</c>): each file holds top-level sections (<c>version</c>,
/// <c>hardware</c>, <c>models</c>, …), each section in exactly one file. Problems are reported all at once as
/// <c>file:line:column: path: problem; fix: …</c>.
/// </summary>
public static class CatalogFiles
{
    /// <summary>Loads and validates every <c>*.yaml</c> of <paramref name="directory"/>.</summary>
    /// <exception cref="CatalogException">Missing directory, bad YAML, unknown fields, or failed validation.</exception>
    public static LoadedCatalog LoadDirectory(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        if (!Directory.Exists(directory))
            throw new CatalogException($"{directory}: the catalog directory does not exist; pass e.g. deploy/catalog");
        var files = Directory.GetFiles(directory, "*.yaml").Order(StringComparer.Ordinal).Select(f => (f, File.ReadAllText(f))).ToList();
        if (files.Count == 0) throw new CatalogException($"{directory}: no *.yaml files; a catalog needs at least catalog.yaml with `version`");
        return Parse(files, directory);
    }

    /// <summary>The catalog checked in under <c>deploy/catalog</c>, embedded in this assembly.</summary>
    public static LoadedCatalog LoadEmbedded()
    {
        var assembly = typeof(CatalogFiles).Assembly;
        var documents = assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith("catalog/", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .Select(n =>
            {
                using var stream = assembly.GetManifestResourceStream(n)!;
                using var reader = new StreamReader(stream);
                return (n, reader.ReadToEnd());
            })
            .ToList();
        return Parse(documents, "embedded deploy/catalog");
    }

    /// <summary>Parses catalog documents given as (file name, YAML text).</summary>
    public static LoadedCatalog Parse(IReadOnlyList<(string File, string Yaml)> documents, string source)
    {
        ArgumentNullException.ThrowIfNull(documents);
        var problems = new List<string>();
        var locations = new Dictionary<string, string>(StringComparer.Ordinal);
        var sections = new List<(string Key, YamlNode Node, string File)>();
        foreach (var (file, yaml) in documents)
        {
            var stream = new YamlStream();
            try
            {
                stream.Load(new StringReader(yaml));
            }
            catch (YamlException e)
            {
                problems.Add($"{file}:{e.Start.Line}:{e.Start.Column}: not valid YAML ({e.Message}); fix: check indentation and quoting");
                continue;
            }

            if (stream.Documents.Count == 0) continue;
            if (stream.Documents[0].RootNode is not YamlMappingNode root)
            {
                problems.Add($"{file}:1:1: the document is not a mapping of sections; fix: start with e.g. `hardware:`");
                continue;
            }

            foreach (var (keyNode, value) in root.Children)
            {
                var key = ((YamlScalarNode)keyNode).Value ?? "";
                var earlier = sections.FirstOrDefault(s => s.Key == key);
                if (earlier.Node is not null)
                {
                    problems.Add($"{file}:{keyNode.Start.Line}:{keyNode.Start.Column}: {key}: section already given in {earlier.File}; fix: keep each section in one file");
                    continue;
                }

                sections.Add((key, value, file));
            }
        }

        if (problems.Count > 0) throw new CatalogException(problems);

        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            foreach (var (key, node, file) in sections)
            {
                writer.WritePropertyName(key);
                Write(writer, node, key, file, locations);
            }

            writer.WriteEndObject();
        }

        string Locate(string path)
        {
            // The deepest path with a known location (a missing field is located at its parent).
            for (var p = path; p.Length > 0;)
            {
                if (locations.TryGetValue(p, out var at)) return at;
                var cut = Math.Max(p.LastIndexOf('.'), p.LastIndexOf('['));
                if (cut <= 0) break;
                p = p[..cut];
            }

            return source;
        }

        CostCatalog catalog;
        try
        {
            catalog = JsonSerializer.Deserialize(buffer.WrittenSpan, CatalogJsonContext.Default.CostCatalog)
                ?? throw new CatalogException($"{source}: empty catalog");
        }
        catch (JsonException e)
        {
            var path = (e.Path ?? "$").TrimStart('$').TrimStart('.');
            var what = e.Message.Split(" Path:", 2)[0];
            throw new CatalogException([$"{Locate(path)}: {(path.Length == 0 ? "(root)" : path)}: {what}; fix: check the field's name and type (snake_case, numbers unquoted, dates as 2024-01-01T00:00:00Z)"]);
        }

        var invalid = CatalogValidator.Validate(catalog, Locate);
        if (invalid.Count > 0) throw new CatalogException(invalid);
        return LoadedCatalog.From(catalog, source);
    }

    private static void Write(Utf8JsonWriter writer, YamlNode node, string path, string file, Dictionary<string, string> locations)
    {
        locations.TryAdd(path, $"{file}:{node.Start.Line}:{node.Start.Column}");
        switch (node)
        {
            case YamlMappingNode map:
                writer.WriteStartObject();
                foreach (var (k, v) in map.Children)
                {
                    var key = ((YamlScalarNode)k).Value ?? "";
                    writer.WritePropertyName(key);
                    Write(writer, v, $"{path}.{key}", file, locations);
                }

                writer.WriteEndObject();
                break;
            case YamlSequenceNode seq:
                writer.WriteStartArray();
                for (var i = 0; i < seq.Children.Count; i++) Write(writer, seq.Children[i], $"{path}[{i}]", file, locations);
                writer.WriteEndArray();
                break;
            case YamlScalarNode scalar:
                var text = scalar.Value ?? "";
                if (scalar.Style is ScalarStyle.SingleQuoted or ScalarStyle.DoubleQuoted) writer.WriteStringValue(text);
                else if (text is "" or "~" or "null") writer.WriteNullValue();
                else if (text is "true" or "false") writer.WriteBooleanValue(text == "true");
                else if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && !text.Contains(':', StringComparison.Ordinal))
                    writer.WriteNumberValue(number);
                else writer.WriteStringValue(text);
                break;
            default:
                writer.WriteNullValue();
                break;
        }
    }
}
