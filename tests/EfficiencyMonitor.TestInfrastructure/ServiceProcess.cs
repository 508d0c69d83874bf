using System.Diagnostics;
using System.Text;

namespace EfficiencyMonitor.TestInfrastructure;

/// <summary>
/// Runs the built <c>efficiency-monitor</c> binary as a child process (verbs are tested as a user runs them: separate
/// process, real signals, real exit codes).
/// </summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly object _gate = new();

    private ServiceProcess(Process process)
    {
        _process = process;
    }

    /// <summary>Everything printed on stdout so far.</summary>
    public string Stdout { get { lock (_gate) return _stdout.ToString(); } }

    /// <summary>Everything printed on stderr so far.</summary>
    public string Stderr { get { lock (_gate) return _stderr.ToString(); } }

    /// <summary>The child's process id.</summary>
    public int Id => _process.Id;

    /// <summary>Path of <c>efficiency-monitor.dll</c> built in the same configuration as the running tests.</summary>
    public static string BinaryPath
    {
        get
        {
            var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";
            var path = Path.Combine(RepositoryRoot, "src", "EfficiencyMonitor.Service", "bin", configuration, "net10.0", "efficiency-monitor.dll");
            return File.Exists(path) ? path : throw new FileNotFoundException($"{path} is missing: build the solution first (dotnet build -c {configuration})");
        }
    }

    /// <summary>The folder holding <c>EfficiencyMonitor.sln</c>.</summary>
    public static string RepositoryRoot
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "EfficiencyMonitor.sln"))) return dir.FullName;
            }

            throw new DirectoryNotFoundException("EfficiencyMonitor.sln not found above " + AppContext.BaseDirectory);
        }
    }

    /// <summary>Starts <c>efficiency-monitor</c> with <paramref name="arguments"/>.</summary>
    public static ServiceProcess Start(IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(BinaryPath);
        foreach (var argument in arguments) info.ArgumentList.Add(argument);
        if (environment is not null)
        {
            foreach (var (key, value) in environment) info.Environment[key] = value;
        }

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var child = new ServiceProcess(process);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (child._gate) child._stdout.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (child._gate) child._stderr.AppendLine(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    /// <summary>Waits until stdout contains <paramref name="text"/>; fails with both streams when the process exits or time runs out.</summary>
    public async Task WaitForOutputAsync(string text, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (!Stdout.Contains(text, StringComparison.Ordinal))
        {
            if (_process.HasExited || deadline.Elapsed > timeout)
            {
                throw new TimeoutException($"'{text}' not printed (exited: {_process.HasExited}). stdout:\n{Stdout}\nstderr:\n{Stderr}");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>Sends a POSIX signal (SIGTERM = 15, SIGINT = 2, SIGKILL = 9).</summary>
    public void Signal(int signal)
    {
        using var kill = Process.Start("kill", [$"-{signal}", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    /// <summary>Waits for the exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        _process.WaitForExit(); // flushes the asynchronous output readers
        return _process.ExitCode;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }
}
