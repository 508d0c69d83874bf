using System.CommandLine;
using System.Runtime.InteropServices;
using EfficiencyMonitor.Service.Cli;

// Ctrl-C and SIGTERM (docker stop, kubectl delete, systemd) both cancel the verb's token for a clean shutdown.
using var stop = new CancellationTokenSource();
using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Cancel);
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Cancel);
return await CommandLine.Build().Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null }, stop.Token);

void Cancel(PosixSignalContext context)
{
    context.Cancel = true;
    stop.Cancel();
}
