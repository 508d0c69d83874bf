using EfficiencyMonitor.Sandbox.ClickHouse;

namespace EfficiencyMonitor.IntegrationTests.ClickHouse;

/// <summary>
/// The installer's decisions that need no network: reuse of an installed engine, the EM_CHDB_LIBRARY override.
/// (The real install is exercised by every test run that starts the sandbox on a fresh cache.)
/// </summary>
public sealed class ChdbInstallerTests : IDisposable
{
    private readonly string _cacheRoot = Path.Combine(Path.GetTempPath(), "em-chdb-installer-tests", Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_cacheRoot))
        {
            Directory.Delete(_cacheRoot, recursive: true);
        }
    }

    [Fact]
    public async Task EnsureInstalledAsync_LibraryAlreadyInCache_ReusesItWithoutInstalling()
    {
        var installed = ChdbInstaller.LibraryPath(_cacheRoot);
        Directory.CreateDirectory(Path.GetDirectoryName(installed)!);
        await File.WriteAllTextAsync(installed, "stand-in for libchdb.so");
        var before = File.GetLastWriteTimeUtc(installed);
        using var log = new StringWriter();

        var path = await ChdbInstaller.EnsureInstalledAsync(_cacheRoot, log, CancellationToken.None);

        var fromEnvironment = Environment.GetEnvironmentVariable(ChdbInstaller.LibraryEnvironmentVariable);
        Assert.Equal(string.IsNullOrWhiteSpace(fromEnvironment) ? installed : Path.GetFullPath(fromEnvironment), path);
        Assert.Equal("", log.ToString()); // nothing installed, nothing said
        Assert.Equal(before, File.GetLastWriteTimeUtc(installed));
        Assert.Empty(Directory.EnumerateDirectories(_cacheRoot, "*.installing-*"));
    }

    [Fact]
    public void LibraryPath_UnderCacheRoot_PointsIntoTheVersionedPackageFolder()
    {
        var path = ChdbInstaller.LibraryPath(_cacheRoot);

        Assert.StartsWith(ChdbInstaller.InstallFolder(_cacheRoot), path, StringComparison.Ordinal);
        Assert.Contains("26.7.3-stable.1", path, StringComparison.Ordinal);
        Assert.EndsWith(Path.Combine("node_modules", "@chdb", "lib-linux-x64-gnu", "libchdb.so"), path, StringComparison.Ordinal);
    }
}
