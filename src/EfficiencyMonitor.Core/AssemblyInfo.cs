using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("EfficiencyMonitor.UnitTests")]
