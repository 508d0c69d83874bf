namespace EfficiencyMonitor.Sandbox.ClickHouse;

/// <summary>
/// Installs the chDB engine (npm package <c>@chdb/lib-linux-x64-gnu</c>) into a cache folder on first use and reuses it after.
/// </summary>
public static class ChdbInstaller
{
    /// <summary>The pinned engine package (ClickHouse 26.7).</summary>
    public const string PackageSpec = "@chdb/lib-linux-x64-gnu@26.7.3-stable.1";

    /// <summary>
    /// Returns the full path of <c>libchdb.so</c>, installing it under <paramref name="cacheRoot"/> when missing.
    /// Throws <see cref="SandboxException"/> with a one-line cause and fix when npm is missing or the install fails.
    /// </summary>
    public static Task<string> EnsureInstalledAsync(string cacheRoot, TextWriter log, CancellationToken cancellationToken)
        => throw new NotImplementedException();
}
