using System.ComponentModel;
using System.Diagnostics;

namespace EfficiencyMonitor.Sandbox.ClickHouse;

/// <summary>
/// Installs the chDB engine (npm package <c>@chdb/lib-linux-x64-gnu</c>) into a cache folder on first use and reuses it after.
/// </summary>
/// <remarks>
/// The install goes to a temporary sibling folder and is renamed into place only once <c>libchdb.so</c> is complete, so a
/// killed install never leaves a half library behind; an exclusive lock file keeps two processes from installing at once.
/// </remarks>
public static class ChdbInstaller
{
    /// <summary>The pinned engine package (ClickHouse 26.7).</summary>
    public const string PackageSpec = "@chdb/lib-linux-x64-gnu@26.7.3-stable.1";

    /// <summary>Environment variable naming an existing <c>libchdb.so</c>; when set, nothing is installed.</summary>
    public const string LibraryEnvironmentVariable = "EM_CHDB_LIBRARY";

    private const string PackageFolderName = "chdb-26.7.3-stable.1";
    private static readonly string[] s_libraryRelativePath = ["node_modules", "@chdb", "lib-linux-x64-gnu", "libchdb.so"];

    /// <summary>The folder under <paramref name="cacheRoot"/> that holds (or will hold) the installed package.</summary>
    public static string InstallFolder(string cacheRoot) => Path.Combine(Path.GetFullPath(cacheRoot), PackageFolderName);

    /// <summary>The path <c>libchdb.so</c> has once installed under <paramref name="cacheRoot"/>.</summary>
    public static string LibraryPath(string cacheRoot) => Path.Combine([InstallFolder(cacheRoot), .. s_libraryRelativePath]);

    /// <summary>
    /// Returns the full path of <c>libchdb.so</c>, installing it under <paramref name="cacheRoot"/> when missing.
    /// Throws <see cref="SandboxException"/> with a one-line cause and fix when npm is missing or the install fails.
    /// </summary>
    public static async Task<string> EnsureInstalledAsync(string cacheRoot, TextWriter log, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(cacheRoot);
        ArgumentNullException.ThrowIfNull(log);

        var fromEnvironment = Environment.GetEnvironmentVariable(LibraryEnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(fromEnvironment))
        {
            return File.Exists(fromEnvironment)
                ? Path.GetFullPath(fromEnvironment)
                : throw new SandboxException(
                    $"{LibraryEnvironmentVariable} points at '{fromEnvironment}', which does not exist: set it to an existing libchdb.so or unset it to install {PackageSpec}");
        }

        var library = LibraryPath(cacheRoot);
        if (File.Exists(library))
        {
            return library;
        }

        var root = Path.GetFullPath(cacheRoot);
        try
        {
            Directory.CreateDirectory(root);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SandboxException($"cannot create the chDB cache folder '{root}' ({e.Message}): choose a writable cache folder", e);
        }

        await using var installLock = await AcquireLockAsync(Path.Combine(root, PackageFolderName + ".lock"), log, cancellationToken).ConfigureAwait(false);
        if (File.Exists(library))
        {
            // Another process installed it while this one waited for the lock.
            return library;
        }

        var target = InstallFolder(cacheRoot);
        var staging = Path.Combine(root, $"{PackageFolderName}.installing-{Environment.ProcessId}-{Guid.NewGuid():N}");
        DeleteQuietly(target); // A folder without libchdb.so is an earlier, unfinished install.
        foreach (var stale in Directory.EnumerateDirectories(root, PackageFolderName + ".installing-*"))
        {
            DeleteQuietly(stale); // Left by a killed install; safe because we hold the lock.
        }

        Directory.CreateDirectory(staging);
        try
        {
            await log.WriteLineAsync($"Installing the ClickHouse engine ({PackageSpec}, ~570 MB, once) into {target} ...").ConfigureAwait(false);
            var stopwatch = Stopwatch.StartNew();
            await RunNpmAsync(staging, cancellationToken).ConfigureAwait(false);
            var staged = Path.Combine([staging, .. s_libraryRelativePath]);
            if (!File.Exists(staged))
            {
                throw new SandboxException(
                    $"npm installed {PackageSpec} but no libchdb.so is in it: check the npm registry serves the full package, or set {LibraryEnvironmentVariable} to an existing libchdb.so");
            }

            Directory.Move(staging, target);
            await log.WriteLineAsync($"ClickHouse engine installed in {stopwatch.Elapsed.TotalSeconds:F1} s.").ConfigureAwait(false);
            return library;
        }
        finally
        {
            DeleteQuietly(staging);
        }
    }

    private static async Task RunNpmAsync(string prefix, CancellationToken cancellationToken)
    {
        var startInfo = new ProcessStartInfo("npm")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = prefix,
        };
        foreach (var argument in new[] { "install", "--prefix", prefix, "--no-audit", "--no-fund", "--no-save", "--loglevel=error", PackageSpec })
        {
            startInfo.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = Process.Start(startInfo) ?? throw new SandboxException(NpmMissing);
        }
        catch (Win32Exception e)
        {
            throw new SandboxException(NpmMissing, e);
        }

        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
            var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
            try
            {
                await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw;
            }

            var errorText = (await stderr.ConfigureAwait(false)).Trim();
            _ = await stdout.ConfigureAwait(false);
            if (process.ExitCode != 0)
            {
                var reason = errorText.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                    .FirstOrDefault(l => l.Contains("ERR", StringComparison.OrdinalIgnoreCase)) ?? $"exit code {process.ExitCode}";
                throw new SandboxException(
                    $"npm install {PackageSpec} failed ({reason}): check network access to the npm registry (npm config get registry), or set {LibraryEnvironmentVariable} to an existing libchdb.so");
            }
        }
    }

    private const string NpmMissing =
        $"npm not found on PATH: install Node.js and npm (apt-get install -y nodejs npm) or set {LibraryEnvironmentVariable} to an existing libchdb.so";

    private static async Task<FileStream> AcquireLockAsync(string lockPath, TextWriter log, CancellationToken cancellationToken)
    {
        var announced = false;
        while (true)
        {
            try
            {
                // FileShare.None is an exclusive advisory lock (flock) on Unix in .NET; the OS drops it if the holder dies.
                return new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None);
            }
            catch (IOException)
            {
                if (!announced)
                {
                    announced = true;
                    await log.WriteLineAsync($"Another process is installing the ClickHouse engine; waiting for it ({lockPath}) ...").ConfigureAwait(false);
                }

                await Task.Delay(TimeSpan.FromMilliseconds(250), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private static void DeleteQuietly(string folder)
    {
        try
        {
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Best effort: a leftover temp folder is harmless and is removed by the next install.
        }
    }
}
