using Microsoft.Extensions.Logging;
using Quartz;

namespace EfficiencyMonitor.Jobs.Validation;

/// <summary>Quartz job: validates the closed windows against the model, the calibrated baseline and stored forecasts.</summary>
[DisallowConcurrentExecution]
public sealed partial class ValidationJob(ValidationRunner runner, TimeProvider time, ILogger<ValidationJob> logger) : IJob
{
    /// <summary>Job key.</summary>
    public static readonly JobKey Key = new("forecast-validation", "efficiency");

    /// <inheritdoc />
    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        var windows = await runner.RunOnceAsync(cancellationToken);
        if (windows > 0) LogRun(logger, windows, time.GetElapsedTime(started).TotalSeconds);
    }

    [LoggerMessage(EventId = 5100, Level = LogLevel.Information, Message = "Forecast validation: {Windows} windows validated in {Seconds:F2} s")]
    private static partial void LogRun(ILogger logger, int windows, double seconds);
}
