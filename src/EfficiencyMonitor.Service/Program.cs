using EfficiencyMonitor.Service.Cli;

return await CommandLine.Build().Parse(args).InvokeAsync();
