using System.Data.Common;
using Dapper;
using Xunit.Abstractions;

namespace EfficiencyMonitor.IntegrationTests.Dashboards;

/// <summary>
/// Every ClickHouse query of every dashboard (panel targets and query variables), macros and variables expanded as Grafana
/// and the ClickHouse plugin would, run on the real engine over simulated telemetry after the realized-efficiency job
/// (<see cref="DashboardDataFixture"/>): each must succeed and return rows. One theory case per query, so a failure names
/// the dashboard, the panel and the target.
/// </summary>
public sealed class DashboardSqlTests(DashboardDataFixture data, ITestOutputHelper output) : IClassFixture<DashboardDataFixture>
{
    private static readonly HashSet<(string File, string Panel, string Column)> AllowedEmpty =
    [
        ("kv-cache-tiers.json", "KV load time per 1k cached tokens, by tier", "remote"),
    ];

    public static TheoryData<string, string, string> Queries()
    {
        var rows = new TheoryData<string, string, string>();
        foreach (var query in DashboardFiles.ClickHouseQueries()) rows.Add(query.File, query.Panel, query.RefId);
        return rows;
    }

    private static DashboardSql Find(string file, string panel, string refId) =>
        DashboardFiles.ClickHouseQueries().Single(q => q.File == file && q.Panel == panel && q.RefId == refId);

    private async Task<(int Rows, List<(string Name, Type Type)> Columns, List<string> AllNull, string Sql)> RunAsync(
        DashboardSql query, IReadOnlyList<string> deployments, int windowSeconds = 300)
    {
        var sql = data.Macros(deployments, windowSeconds).Expand(query.Sql);
        try
        {
            await using var command = data.Connection.CreateCommand();
            command.CommandText = sql;
            await using DbDataReader reader = await command.ExecuteReaderAsync();
            var columns = Enumerable.Range(0, reader.FieldCount).Select(i => (Name: reader.GetName(i), Type: reader.GetFieldType(i))).ToList();
            var rows = 0;
            var seen = new bool[reader.FieldCount];
            while (await reader.ReadAsync())
            {
                for (var i = 0; i < reader.FieldCount; i++) seen[i] |= reader.GetValue(i) is not (null or DBNull);
                rows++;
            }

            return (rows, columns, columns.Where((_, i) => !seen[i]).Select(c => c.Name).ToList(), sql);
        }
        catch (Exception e) when (e is not Xunit.Sdk.XunitException)
        {
            throw new Xunit.Sdk.XunitException($"{query} failed on the engine: {e.GetType().Name}: {e.Message}\n--- expanded SQL ---\n{sql}");
        }
    }

    [Theory]
    [MemberData(nameof(Queries))]
    public async Task Query_OnSimulatedData_SucceedsAndReturnsRows(string file, string panel, string refId)
    {
        var query = Find(file, panel, refId);
        var (rows, columns, _, sql) = await RunAsync(query, [DashboardDataFixture.Deployment]);
        output.WriteLine($"{rows} rows; columns {string.Join(", ", columns.Select(c => $"{c.Name}:{c.Type.Name}"))}; data built in {data.Timings}");
        Assert.True(rows > 0, $"{query} returned no rows\n--- expanded SQL ---\n{sql}");
        if (query.Format == 0)
        {
            // The plugin turns a time-series result into frames by its time column: there must be one.
            Assert.True(columns.Any(c => c.Type == typeof(DateTime) || c.Type == typeof(DateTimeOffset)), $"{query}: time series without a DateTime column");
        }
    }

    [Fact]
    public async Task WindowedQueries_WithTheHourlyWindowSelected_ReturnRows()
    {
        var failures = new List<string>();
        var windowed = DashboardFiles.ClickHouseQueries().Where(q => q.Sql.Contains("${window}", StringComparison.Ordinal)).ToList();
        Assert.True(windowed.Count >= 20, $"only {windowed.Count} queries use $window");
        foreach (var query in windowed)
        {
            try
            {
                var (rows, _, _, _) = await RunAsync(query, [DashboardDataFixture.Deployment], 3600);
                if (rows == 0) failures.Add($"{query}: no rows with window = 1h");
            }
            catch (Xunit.Sdk.XunitException e)
            {
                failures.Add(e.Message);
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n\n", failures));
    }

    [Fact]
    public async Task DeploymentVariable_ListsEverySimulatedDeployment()
    {
        var query = DashboardFiles.ClickHouseQueries().First(q => q.Panel == "variable $deployment");
        var values = (await data.Connection.QueryAsync<string>(data.Macros([DashboardDataFixture.Deployment]).Expand(query.Sql))).ToList();
        Assert.Equal(data.Deployments, values);
        Assert.Equal(3, values.Count);
    }

    [Fact]
    public async Task EveryQuery_WithAllDeploymentsSelected_SucceedsWithDataInEveryColumn()
    {
        // "All" of a multi-value variable expands to every value; a panel repeated by the variable runs once per value.
        var failures = new List<string>();
        foreach (var query in DashboardFiles.ClickHouseQueries())
        {
            var repeated = query.Repeat == "deployment";
            var selections = repeated ? data.Deployments.Select(d => (IReadOnlyList<string>)[d]).ToList() : [data.Deployments];
            foreach (var selection in selections)
            {
                try
                {
                    var (rows, _, allNull, _) = await RunAsync(query, selection);
                    if (rows == 0 && !repeated) failures.Add($"{query}: no rows with every deployment selected");
                    // Over the whole simulated fleet every series has data somewhere, except a ratio over remote-tier hits:
                    // 30 minutes at this rate never fill the local tiers, so nothing is served from remote storage yet.
                    allNull.RemoveAll(c => AllowedEmpty.Contains((query.File, query.Panel, c)));
                    if (allNull.Count > 0 && !repeated) failures.Add($"{query}: only NULLs in {string.Join(", ", allNull)} with every deployment selected");
                }
                catch (Xunit.Sdk.XunitException e)
                {
                    failures.Add(e.Message);
                }
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n\n", failures));
    }
}
