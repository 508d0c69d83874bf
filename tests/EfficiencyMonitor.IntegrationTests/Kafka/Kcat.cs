using System.Diagnostics;
using Xunit;

namespace EfficiencyMonitor.IntegrationTests.Kafka;

/// <summary>Runs Debian's <c>kcat</c> (package <c>kcat</c>; CI installs it).</summary>
internal static class Kcat
{
    private static readonly Lazy<string?> Location = new(Find);

    /// <summary>Full path of kcat, or null when it is not installed.</summary>
    public static string? Path => Location.Value;

    /// <summary>Runs kcat with <paramref name="arguments"/>, feeding <paramref name="stdin"/>; returns exit code and output.</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(IEnumerable<string> arguments, byte[]? stdin = null)
    {
        var start = new ProcessStartInfo(Path ?? throw new InvalidOperationException("kcat is not installed"))
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            await process.StandardInput.BaseStream.WriteAsync(stdin);
        }

        process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"kcat {string.Join(' ', start.ArgumentList)} did not exit within 10 s; stderr: {await stderr}");
        }

        return (process.ExitCode, await stdout, await stderr);
    }

    private static string? Find()
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = System.IO.Path.Combine(dir, "kcat");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}

/// <summary>A fact that is skipped, with the reason, only when kcat is not installed.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class KcatFactAttribute : FactAttribute
{
    public KcatFactAttribute()
    {
        if (Kcat.Path is null)
        {
            Skip = "kcat is not installed (apt-get install kcat); CI installs it";
        }
    }
}
