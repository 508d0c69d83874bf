[assembly: System.Runtime.CompilerServices.InternalsVisibleTo("EfficiencyMonitor.UnitTests")]
