using System.CommandLine;
using EfficiencyMonitor.Service.Cli;

namespace EfficiencyMonitor.UnitTests.Foundation;

public sealed class CommandLineTests
{
    public static TheoryData<string> Verbs()
    {
        var data = new TheoryData<string>();
        foreach (var verb in CommandLine.Build().Subcommands) data.Add(verb.Name);
        return data;
    }

    [Fact]
    public void Build_HasTheFoundationVerbs()
    {
        var names = CommandLine.Build().Subcommands.Select(c => c.Name).ToList();
        Assert.Contains("sandbox", names);
        Assert.Contains("migrate", names);
        Assert.Contains("demo", names);
    }

    [Theory]
    [MemberData(nameof(Verbs))]
    public async Task Help_EveryVerb_PrintsUsageAndDescription(string verb)
    {
        using var output = new StringWriter();
        var exit = await CommandLine.Build().Parse([verb, "--help"]).InvokeAsync(new InvocationConfiguration { Output = output });
        Assert.Equal(0, exit);
        var text = output.ToString();
        Assert.Contains("Usage:", text, StringComparison.Ordinal);
        Assert.Contains(verb, text, StringComparison.Ordinal);
        Assert.Contains("--help", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Help_Sandbox_SaysNeverProduction()
    {
        using var output = new StringWriter();
        await CommandLine.Build().Parse(["sandbox", "--help"]).InvokeAsync(new InvocationConfiguration { Output = output });
        Assert.Contains("never production", output.ToString(), StringComparison.Ordinal);
        Assert.Contains("5 MiB per partition", output.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("30s")]
    [InlineData("2m")]
    [InlineData("00:00:05")]
    public void Parse_DemoDuration_Accepted(string value)
    {
        Assert.Empty(CommandLine.Build().Parse(["demo", "--duration", value]).Errors);
    }

    [Fact]
    public void Parse_DemoBadDuration_ErrorNamesOptionAndFormat()
    {
        var errors = CommandLine.Build().Parse(["demo", "--duration", "soon"]).Errors;
        Assert.Contains(errors, e => e.Message.Contains("--duration 'soon'", StringComparison.Ordinal) && e.Message.Contains("30s", StringComparison.Ordinal));
    }
}
