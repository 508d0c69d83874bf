using BenchmarkDotNet.Running;
using EfficiencyMonitor.Benchmarks.Ingest;

// Verbs first (`ingest …`); anything else goes to BenchmarkDotNet (`--filter *Decode* --job short`, …).
if (args is ["ingest", .. var rest])
{
    return await IngestBench.MainAsync(rest);
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
