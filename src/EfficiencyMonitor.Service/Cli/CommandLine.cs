using System.CommandLine;

namespace EfficiencyMonitor.Service.Cli;

/// <summary>The verbs of <c>efficiency-monitor</c>.</summary>
public static class CommandLine
{
    /// <summary>Builds the root command with every verb.</summary>
    public static RootCommand Build()
    {
        var root = new RootCommand("EfficiencyMonitor: realized vs predicted spend per successful output for LLM inference fleets.");
        return root;
    }
}
