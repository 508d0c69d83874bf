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
