using BenchmarkDotNet.Running;
using EfficiencyMonitor.Benchmarks.Ingest;
using EfficiencyMonitor.Benchmarks.Model;
using EfficiencyMonitor.Benchmarks.Sandbox;
using EfficiencyMonitor.Benchmarks.Spend;

// Verbs first (`ingest …`, `sandbox …`, `spend …`, `model …`); anything else goes to BenchmarkDotNet (`--filter *Decode* --job short`, …).
if (args is ["ingest", .. var rest])
{
    return await IngestBench.MainAsync(rest);
}

if (args is ["sandbox", .. var sandboxArgs])
{
    return await SandboxBench.MainAsync(sandboxArgs);
}

if (args is ["spend", .. var spendArgs])
{
    return await SpendJobBench.MainAsync(spendArgs);
}

if (args is ["model", .. var modelArgs])
{
    return ModelBench.Run(modelArgs);
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
