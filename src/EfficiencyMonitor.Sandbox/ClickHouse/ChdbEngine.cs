namespace EfficiencyMonitor.Sandbox.ClickHouse;

/// <summary>
/// The one chDB connection of this process (chDB allows one), with every call serialized onto it.
/// </summary>
public sealed class ChdbEngine : IDisposable
{
    private ChdbEngine() { }

    /// <summary>Loads <paramref name="libraryPath"/> and connects with persistent data under <paramref name="dataDir"/>.</summary>
    public static ChdbEngine Open(string libraryPath, string dataDir) => throw new NotImplementedException();

    /// <inheritdoc />
    public void Dispose() { }
}
