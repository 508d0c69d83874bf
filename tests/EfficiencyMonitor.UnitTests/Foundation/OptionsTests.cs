using EfficiencyMonitor.Sandbox;
using EfficiencyMonitor.Storage;

namespace EfficiencyMonitor.UnitTests.Foundation;

public sealed class OptionsTests
{
    [Fact]
    public void Validate_Defaults_Succeed()
    {
        Assert.True(new ClickHouseOptionsValidator().Validate(null, new ClickHouseOptions()).Succeeded);
    }

    [Fact]
    public void Validate_SeveralBadSettings_ListsEveryOneWithItsSetting()
    {
        var options = new ClickHouseOptions { Url = "ftp://x", Database = "bad-name;", Username = " ", RawRetentionDays = 0 };
        var result = new ClickHouseOptionsValidator().Validate(null, options);
        Assert.True(result.Failed);
        var failures = result.Failures!.ToList();
        Assert.Equal(4, failures.Count);
        Assert.Contains(failures, f => f.StartsWith("ClickHouse:Url", StringComparison.Ordinal) && f.Contains("EM_CLICKHOUSE_URL", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("ClickHouse:Database", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("ClickHouse:Username", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("ClickHouse:RawRetentionDays", StringComparison.Ordinal));
    }

    [Fact]
    public void ToConnectionString_HttpUrl_CarriesHostPortProtocolAndDatabase()
    {
        var options = new ClickHouseOptions { Url = "http://127.0.0.1:18123", Database = "efficiency" };
        var connectionString = options.ToConnectionString("other");
        Assert.Contains("Host=127.0.0.1", connectionString, StringComparison.Ordinal);
        Assert.Contains("Port=18123", connectionString, StringComparison.Ordinal);
        Assert.Contains("Protocol=http", connectionString, StringComparison.Ordinal);
        Assert.Contains("Database=other", connectionString, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("127.0.0.1:8123", 8123)]
    [InlineData("127.0.0.1:0", 0)]
    [InlineData("[::1]:9092", 9092)]
    public void ParseLoopbackEndpoint_Loopback_Parses(string value, int port)
    {
        Assert.Equal(port, SandboxOptions.ParseLoopbackEndpoint(value, "--kafka").Port);
    }

    [Theory]
    [InlineData("0.0.0.0:9092", "not a loopback address")]
    [InlineData("10.1.2.3:9092", "not a loopback address")]
    [InlineData("localhost-ish", "is not host:port")]
    public void ParseLoopbackEndpoint_NotLoopback_OneLineErrorWithFix(string value, string expected)
    {
        var error = Assert.Throws<SandboxException>(() => SandboxOptions.ParseLoopbackEndpoint(value, "--kafka"));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }
}
