using System.Diagnostics;
using EfficiencyMonitor.Jobs.Efficiency;
using Microsoft.Extensions.Logging;
using Quartz;

namespace EfficiencyMonitor.Jobs;

/// <summary>
/// Quartz job: realized spend per successful output for the configured windows (5 min and 1 h) of every deployment.
/// Thin: <see cref="RealizedEfficiencyRunner"/> picks the windows, Core's <c>RealizedSpend</c> does the arithmetic.
/// Never runs concurrently with itself, so two runs cannot race on the progress mark.
/// </summary>
[DisallowConcurrentExecution]
public sealed partial class RealizedEfficiencyJob(RealizedEfficiencyRunner runner, JobsMetrics metrics, TimeProvider time, ILogger<RealizedEfficiencyJob> logger) : IJob
{
    /// <summary>Job identity.</summary>
    public static readonly JobKey Key = new("realized-efficiency", "efficiency");

    /// <inheritdoc />
    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        var summary = await runner.RunOnceAsync(cancellationToken);
        var seconds = time.GetElapsedTime(started).TotalSeconds;
        metrics.RunDuration(seconds);
        metrics.JobSucceeded("realized_efficiency", time.GetUtcNow());
        LogRun(logger, summary.Computed, summary.Recomputed, summary.Failed, seconds);
    }

    [LoggerMessage(EventId = 5000, Level = LogLevel.Information, Message = "Realized efficiency: {Computed} windows computed, {Recomputed} recomputed after late data, {Failed} failed in {Seconds:F2} s")]
    private static partial void LogRun(ILogger logger, int computed, int recomputed, int failed, double seconds);
}
