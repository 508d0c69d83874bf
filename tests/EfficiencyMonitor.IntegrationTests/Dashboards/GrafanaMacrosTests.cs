namespace EfficiencyMonitor.IntegrationTests.Dashboards;

/// <summary>The macro expander the dashboard SQL tests rely on.</summary>
public sealed class GrafanaMacrosTests
{
    private static readonly DateTimeOffset From = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000);

    private static GrafanaMacros Macros(params (string Name, string[] Values)[] variables) =>
        new(From, From.AddHours(1), 30, variables.ToDictionary(v => v.Name, v => (IReadOnlyList<string>)v.Values, StringComparer.Ordinal));

    [Fact]
    public void Expand_TimeFilterWithNestedParentheses_RangeInUnixSeconds()
    {
        var sql = Macros().Expand("WHERE $__timeFilter(toDateTime(finished_at)) AND x");
        Assert.Equal("WHERE toDateTime(finished_at) >= toDateTime(1800000000) AND toDateTime(finished_at) <= toDateTime(1800003600) AND x", sql);
    }

    [Fact]
    public void Expand_FromToInterval_AndVariables()
    {
        var sql = Macros(("deployment", ["a", "b'c"]), ("window", ["300"]))
            .Expand("$__fromTime $__toTime $__interval_s ${deployment:singlequote} ${deployment:sqlstring} window_seconds = ${window} AND w = $window");
        Assert.Equal("toDateTime(1800000000) toDateTime(1800003600) 30 'a','b\\'c' 'a','b''c' window_seconds = 300 AND w = 300", sql);
    }

    [Theory]
    [InlineData("SELECT $__timeInterval(t)")]
    [InlineData("SELECT $unknown")]
    [InlineData("WHERE d = $deployment")]
    [InlineData("WHERE $__timeFilter(t")]
    public void Expand_UnknownMacroOrVariableOrMultiValueWithoutFormat_Throws(string sql)
    {
        Assert.Throws<InvalidOperationException>(() => Macros(("deployment", ["a", "b"])).Expand(sql));
    }
}
