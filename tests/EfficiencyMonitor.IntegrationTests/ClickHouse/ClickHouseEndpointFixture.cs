using ClickHouse.Driver.ADO;
using EfficiencyMonitor.TestInfrastructure;

namespace EfficiencyMonitor.IntegrationTests.ClickHouse;

/// <summary>
/// One database per test class on the run's ClickHouse endpoint (the sandbox's chDB engine when there is no Docker), and one
/// <see cref="ClickHouseDataSource"/> for it, as the driver recommends. Tests never open a chDB engine themselves: chDB
/// allows one per process and <see cref="TestEngines"/> owns it.
/// </summary>
public sealed class ClickHouseEndpointFixture : IAsyncLifetime
{
    public Uri Url { get; private set; } = null!;

    public string Database { get; private set; } = "";

    public ClickHouseDataSource DataSource { get; private set; } = null!;

    public string ConnectionString => TestEngines.ConnectionString(Url, Database);

    public async Task InitializeAsync()
    {
        var endpoints = await TestEngines.GetAsync();
        Url = endpoints.ClickHouseUrl;
        Database = await TestEngines.CreateDatabaseAsync("chhttp");
        DataSource = new ClickHouseDataSource(ConnectionString);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    /// <summary>Runs a statement through the driver.</summary>
    public async Task ExecuteAsync(string sql)
    {
        await using var connection = await DataSource.OpenConnectionAsync(CancellationToken.None);
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>Runs a scalar query through the driver.</summary>
    public async Task<object?> ScalarAsync(string sql)
    {
        await using var connection = await DataSource.OpenConnectionAsync(CancellationToken.None);
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return await command.ExecuteScalarAsync();
    }
}
