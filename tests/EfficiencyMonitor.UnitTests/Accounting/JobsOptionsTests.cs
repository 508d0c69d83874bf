using EfficiencyMonitor.Jobs;
using Microsoft.Extensions.Configuration;

namespace EfficiencyMonitor.UnitTests.Accounting;

public sealed class JobsOptionsTests
{
    [Fact]
    public void Bind_WindowMinutesConfigured_ReplacesTheDefault()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Jobs:WindowMinutes:0"] = "15" }).Build();

        var options = configuration.GetSection(JobsOptions.SectionName).Get<JobsOptions>()!;

        Assert.Equal([15], options.EffectiveWindowMinutes);
    }

    [Fact]
    public void Bind_Nothing_KeepsFiveAndSixtyMinutes()
    {
        var options = new ConfigurationBuilder().Build().GetSection(JobsOptions.SectionName).Get<JobsOptions>() ?? new JobsOptions();

        Assert.Equal([5, 60], options.EffectiveWindowMinutes);
    }
}

public sealed class EfficiencyQueryTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Parse_Defaults_FiveMinuteWindowsForTheLastTwoHours()
    {
        var (query, problems) = EfficiencyMonitor.Jobs.Efficiency.EfficiencyQuery.Parse(null, null, null, null, null, Now);

        Assert.Empty(problems);
        Assert.Equal(300, query!.WindowSeconds);
        Assert.Equal(Now.AddHours(-2), query.From);
        Assert.True(query.Allocations);
    }

    [Fact]
    public void Parse_BadWindowTimesAndFlag_ListsEveryProblem()
    {
        var (query, problems) = EfficiencyMonitor.Jobs.Efficiency.EfficiencyQuery.Parse("d", "yesterday", "2026-13-01", "fortnight", "maybe", Now);

        Assert.Null(query);
        Assert.Equal(4, problems.Count);
    }

    [Fact]
    public void Serialize_Row_SnakeCaseUtcAndNullForNoSuccess()
    {
        var row = new EfficiencyMonitor.Jobs.Efficiency.EfficiencyWindowView { WindowStart = new DateTime(2026, 12, 1, 10, 5, 0, DateTimeKind.Unspecified), Deployment = "d", NoSuccess = true };
        var response = new EfficiencyMonitor.Jobs.Efficiency.EfficiencyResponse(300, Now.AddHours(-1), Now, [row]);

        var json = System.Text.Json.JsonSerializer.Serialize(response, EfficiencyMonitor.Jobs.Efficiency.EfficiencyJsonContext.Default.EfficiencyResponse);

        Assert.Contains("\"window_start\":\"2026-12-01T10:05:00Z\"", json, StringComparison.Ordinal);
        Assert.Contains("\"spend_per_success_usd\":null", json, StringComparison.Ordinal);
        Assert.Contains("\"no_success\":true", json, StringComparison.Ordinal);
    }
}
