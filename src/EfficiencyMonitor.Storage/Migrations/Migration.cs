using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace EfficiencyMonitor.Storage.Migrations;

/// <summary>One ordered migration from <c>schemas/clickhouse/NNNN_name.sql</c> (embedded in this assembly).</summary>
/// <param name="Version">The leading number of the file name; applied in ascending order.</param>
/// <param name="Name">The file name.</param>
/// <param name="Template">SQL with <c>{database}</c> and <c>{raw_retention_days}</c> placeholders.</param>
public sealed partial record Migration(int Version, string Name, string Template)
{
    /// <summary>SHA-256 of the template: detects a migration edited after it was applied.</summary>
    public string Checksum { get; } = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Template)));

    /// <summary>The statements, with placeholders filled in.</summary>
    public IReadOnlyList<string> Render(string database, int rawRetentionDays) =>
        SqlScript.SplitStatements(Template
            .Replace("{database}", database, StringComparison.Ordinal)
            .Replace("{raw_retention_days}", rawRetentionDays.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal));

    /// <summary>Every migration embedded in this assembly, ordered by version.</summary>
    public static IReadOnlyList<Migration> LoadEmbedded()
    {
        var assembly = typeof(Migration).Assembly;
        var migrations = new List<Migration>();
        foreach (var resource in assembly.GetManifestResourceNames())
        {
            if (!resource.StartsWith("migrations/", StringComparison.Ordinal)) continue;
            var name = resource["migrations/".Length..];
            migrations.Add(Parse(name, Read(assembly, resource)));
        }

        migrations.Sort((a, b) => a.Version.CompareTo(b.Version));
        for (var i = 1; i < migrations.Count; i++)
        {
            if (migrations[i].Version == migrations[i - 1].Version)
            {
                throw new InvalidOperationException($"Migrations {migrations[i - 1].Name} and {migrations[i].Name} share version {migrations[i].Version}: renumber one of them");
            }
        }

        return migrations;
    }

    /// <summary>Parses <c>NNNN_name.sql</c>.</summary>
    public static Migration Parse(string fileName, string template)
    {
        var match = FileNamePattern().Match(fileName);
        if (!match.Success)
        {
            throw new InvalidOperationException($"Migration file '{fileName}' is not named NNNN_description.sql: rename it");
        }

        return new Migration(int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), fileName, template);
    }

    private static string Read(Assembly assembly, string resource)
    {
        using var stream = assembly.GetManifestResourceStream(resource)!;
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    [GeneratedRegex(@"^(\d{4})_[a-z0-9_]+\.sql$")]
    private static partial Regex FileNamePattern();
}
