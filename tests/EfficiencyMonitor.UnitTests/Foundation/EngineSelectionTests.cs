using System.Diagnostics;
using EfficiencyMonitor.TestInfrastructure;

namespace EfficiencyMonitor.UnitTests.Foundation;

public sealed class EngineSelectionTests
{
    private static Func<string, string?> Env(string? clickHouse, string? kafka) => name => name switch
    {
        EngineSelection.ClickHouseVariable => clickHouse,
        EngineSelection.KafkaVariable => kafka,
        _ => null,
    };

    [Fact]
    public void Choose_BothVariablesSet_UsesEnvironmentWithoutProbingDocker()
    {
        var probed = false;
        var source = EngineSelection.Choose(Env("http://ch:8123", "kafka:9092"), () => probed = true);
        Assert.Equal(EngineSource.Environment, source);
        Assert.False(probed);
    }

    [Fact]
    public void Choose_NoVariablesDockerAnswers_UsesTestcontainers()
    {
        Assert.Equal(EngineSource.Testcontainers, EngineSelection.Choose(Env(null, null), () => true));
    }

    [Fact]
    public void Choose_NoVariablesNoDocker_UsesSandbox()
    {
        Assert.Equal(EngineSource.Sandbox, EngineSelection.Choose(Env("", "  "), () => false));
    }

    [Theory]
    [InlineData("http://ch:8123", null, "EM_CLICKHOUSE_URL")]
    [InlineData(null, "kafka:9092", "EM_KAFKA_BOOTSTRAP")]
    public void Choose_OnlyOneVariableSet_ThrowsNamingBoth(string? clickHouse, string? kafka, string setOne)
    {
        var error = Assert.Throws<InvalidOperationException>(() => EngineSelection.Choose(Env(clickHouse, kafka), () => false));
        Assert.Contains($"Only {setOne} is set", error.Message, StringComparison.Ordinal);
        Assert.Contains("EM_CLICKHOUSE_URL and EM_KAFKA_BOOTSTRAP", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DockerProbe_NoEngineOnThisMachine_AnswersWithinASecond()
    {
        // Acceptance: when Docker is absent, detecting that costs under a second. Where a daemon runs, it must say so.
        var watch = Stopwatch.StartNew();
        var answers = DockerProbe.Answers(TimeSpan.FromMilliseconds(800));
        watch.Stop();
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1), $"probe took {watch.Elapsed}");
        if (!answers)
        {
            Assert.False(File.Exists("/var/run/docker.sock") && Environment.GetEnvironmentVariable("DOCKER_HOST") is null && SocketAccepts());
        }
    }

    private static bool SocketAccepts()
    {
        try
        {
            using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
            socket.Connect(new System.Net.Sockets.UnixDomainSocketEndPoint("/var/run/docker.sock"));
            return true;
        }
        catch (System.Net.Sockets.SocketException)
        {
            return false;
        }
    }
}
