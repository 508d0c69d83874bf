using BenchmarkDotNet.Running;
using EfficiencyMonitor.Benchmarks.Ingest;
using EfficiencyMonitor.Benchmarks.Sandbox;

// Verbs first (`ingest …`, `sandbox …`); anything else goes to BenchmarkDotNet (`--filter *Decode* --job short`, …).
if (args is ["ingest", .. var rest])
{
    return await IngestBench.MainAsync(rest);
}

if (args is ["sandbox", .. var sandboxArgs])
{
    return await SandboxBench.MainAsync(sandboxArgs);
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
