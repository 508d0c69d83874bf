using System.Diagnostics;
using System.Text.RegularExpressions;
using EfficiencyMonitor.TestInfrastructure;
using YamlDotNet.RepresentationModel;

namespace EfficiencyMonitor.IntegrationTests.Deploy;

/// <summary>Paths and parsers for the files under <c>deploy/</c>.</summary>
internal static partial class DeployFiles
{
    public static string Root => ServiceProcess.RepositoryRoot;

    public static string DeployDir => Path.Combine(Root, "deploy");

    public static string ComposePath => Path.Combine(DeployDir, "docker-compose.yml");

    public static string DockerfilePath => Path.Combine(DeployDir, "Dockerfile");

    public static string ChartDir => Path.Combine(DeployDir, "helm", "efficiency-monitor");

    public static string RulesPath => Path.Combine(DeployDir, "prometheus", "rules", "ingestion.yml");

    public static string RulesDir => Path.Combine(DeployDir, "prometheus", "rules");

    public static string RuleTestsDir => Path.Combine(DeployDir, "prometheus", "tests");

    /// <summary>Every Prometheus rule file (<c>deploy/prometheus/rules/*.yml</c>), sorted.</summary>
    public static IReadOnlyList<string> RuleFiles =>
        Directory.GetFiles(RulesDir, "*.yml").Order(StringComparer.Ordinal).ToList();

    /// <summary>Every promtool unit test file (<c>deploy/prometheus/tests/*.yml</c>), sorted.</summary>
    public static IReadOnlyList<string> RuleTestFiles =>
        Directory.GetFiles(RuleTestsDir, "*.yml").Order(StringComparer.Ordinal).ToList();

    /// <summary>The rules (recording and alerting) of a rule file.</summary>
    public static IReadOnlyList<YamlNode> Rules(string ruleFile) =>
        ((YamlSequenceNode)LoadYaml(ruleFile).Child("groups")!)
            .SelectMany(g => ((YamlSequenceNode)g.Child("rules")!).Children)
            .ToList();

    /// <summary>The single document of a YAML file (aliases resolved).</summary>
    public static YamlNode LoadYaml(string path)
    {
        using var reader = new StreamReader(path);
        var stream = new YamlStream();
        stream.Load(reader);
        Assert.True(stream.Documents.Count == 1, $"{path}: expected one YAML document, found {stream.Documents.Count}");
        return stream.Documents[0].RootNode;
    }

    public static YamlMappingNode Compose => (YamlMappingNode)LoadYaml(ComposePath);

    public static YamlMappingNode ComposeServices => (YamlMappingNode)Compose["services"];

    /// <summary>The child of a mapping, or null.</summary>
    public static YamlNode? Child(this YamlNode? node, string key) =>
        node is YamlMappingNode map && map.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value : null;

    public static string? Scalar(this YamlNode? node) => (node as YamlScalarNode)?.Value;

    /// <summary>The items of a sequence as strings (scalars only).</summary>
    public static IReadOnlyList<string> Strings(this YamlNode? node) =>
        node is YamlSequenceNode seq ? seq.Children.Select(c => c.Scalar() ?? "").ToList() : [];

    /// <summary>Environment of a compose service as name → value (mapping or <c>NAME=value</c> list).</summary>
    public static IReadOnlyDictionary<string, string> Environment(this YamlNode service)
    {
        var env = service.Child("environment");
        return env switch
        {
            YamlMappingNode map => map.Children.ToDictionary(kv => kv.Key.Scalar()!, kv => kv.Value.Scalar() ?? ""),
            YamlSequenceNode seq => seq.Children.Select(c => c.Scalar()!.Split('=', 2)).ToDictionary(p => p[0], p => p.Length > 1 ? p[1] : ""),
            _ => new Dictionary<string, string>(),
        };
    }

    /// <summary>
    /// Configuration keys documented in the README's "Configuration" tables, as <c>Section:Key</c>, plus the two endpoint
    /// variables. A row like <c>`ClickHouse:Username` / `Password`</c> documents <c>ClickHouse:Username</c> and
    /// <c>ClickHouse:Password</c>; a key ending in <c>&lt;…&gt;</c> is a prefix.
    /// </summary>
    public static (IReadOnlySet<string> Keys, IReadOnlyList<string> Prefixes, IReadOnlySet<string> Variables) ReadmeConfiguration()
    {
        var text = File.ReadAllText(Path.Combine(Root, "README.md"));
        var start = text.IndexOf("## Configuration", StringComparison.Ordinal);
        Assert.True(start >= 0, "README.md has no '## Configuration' section");
        var end = text.IndexOf("\n## ", start + 3, StringComparison.Ordinal);
        var section = end < 0 ? text[start..] : text[start..end];

        var keys = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var prefixes = new List<string>();
        var variables = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in section.Split('\n').Where(l => l.StartsWith('|')))
        {
            var firstCell = line.Split('|', StringSplitOptions.None)[1];
            string? sectionName = null;
            foreach (Match m in BacktickedRegex().Matches(firstCell))
            {
                var token = m.Groups[1].Value;
                if (token.StartsWith("EM_", StringComparison.Ordinal))
                {
                    variables.Add(token);
                    continue;
                }

                var colon = token.IndexOf(':', StringComparison.Ordinal);
                var key = colon >= 0 ? token : sectionName is null ? null : $"{sectionName}:{token}";
                if (colon >= 0) sectionName = token[..colon];
                if (key is null) continue;
                var angle = key.IndexOf('<', StringComparison.Ordinal);
                if (angle >= 0) prefixes.Add(key[..angle]);
                else keys.Add(key);
            }
        }

        return (keys, prefixes, variables);
    }

    /// <summary>Whether an <c>EM_…</c> variable name maps to a documented setting.</summary>
    public static bool IsDocumented(string variable)
    {
        var (keys, prefixes, variables) = ReadmeConfiguration();
        if (variables.Contains(variable)) return true;
        if (!variable.StartsWith("EM_", StringComparison.Ordinal)) return false;
        var key = variable["EM_".Length..].Replace("__", ":", StringComparison.Ordinal);
        return keys.Contains(key) || prefixes.Any(p => key.StartsWith(p, StringComparison.OrdinalIgnoreCase) && key.Length > p.Length);
    }

    /// <summary>Full path of an executable on PATH, or null.</summary>
    public static string? FindOnPath(string name) =>
        (System.Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);

    /// <summary>Runs a program in the repository root; returns exit code and combined output.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(string program, params string[] arguments)
    {
        var info = new ProcessStartInfo(program)
        {
            WorkingDirectory = Root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments) info.ArgumentList.Add(argument);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout + await stderr);
    }

    [GeneratedRegex("`([^`]+)`")]
    private static partial Regex BacktickedRegex();
}

/// <summary>A fact skipped, with the reason, only when the given tool is not on PATH (CI installs it).</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class ToolFactAttribute : FactAttribute
{
    public ToolFactAttribute(string tool, string package)
    {
        if (DeployFiles.FindOnPath(tool) is null)
        {
            Skip = $"{tool} is not installed (apt-get install -y {package}); CI installs it";
        }
    }
}
