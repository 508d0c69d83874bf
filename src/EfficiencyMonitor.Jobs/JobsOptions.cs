using Microsoft.Extensions.Options;

namespace EfficiencyMonitor.Jobs;

/// <summary>Scheduled jobs (section <c>Jobs</c>).</summary>
public sealed class JobsOptions
{
    /// <summary>Configuration section name.</summary>
    public const string SectionName = "Jobs";

    /// <summary>Run the scheduled jobs in this process.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Window lengths in minutes, each dividing a day; empty = 5 and 60 (<see cref="EffectiveWindowMinutes"/>). The default
    /// is not put in the list itself because the configuration binder appends to a list instead of replacing it.
    /// </summary>
    public IReadOnlyList<int> WindowMinutes { get; set; } = [];

    /// <summary>The window lengths in use: <see cref="WindowMinutes"/>, or 5 and 60 minutes when none are configured.</summary>
    public IReadOnlyList<int> EffectiveWindowMinutes => WindowMinutes.Count > 0 ? WindowMinutes : [5, 60];

    /// <summary>How often the realized-efficiency job runs.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>A window is computed once its end is this far in the past (ingestion delay).</summary>
    public TimeSpan ClosingDelay { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Windows that ended within this horizon are recomputed when late data changed their inputs.</summary>
    public TimeSpan LatenessHorizon { get; set; } = TimeSpan.FromHours(3);

    /// <summary>On first start (no progress recorded), how far back to start computing.</summary>
    public TimeSpan MaxCatchUp { get; set; } = TimeSpan.FromDays(7);

    /// <summary>Most windows one run computes per window length and deployment (the rest on the next run).</summary>
    public int MaxWindowsPerRun { get; set; } = 2000;

    /// <summary>How far before a window to look for each GPU's previous sample (the segment across the boundary).</summary>
    public TimeSpan PowerLookback { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Catalog version to price with; the most recently stored one when empty.</summary>
    public string? CatalogVersion { get; set; }

    /// <summary>Catalog directory stored as a new version at start when its version is not stored yet (e.g. <c>deploy/catalog</c>).</summary>
    public string? CatalogDirectory { get; set; }

    /// <summary>Without <see cref="CatalogDirectory"/>, store the catalog embedded in the binary at start (when its version is new).</summary>
    public bool StoreEmbeddedCatalog { get; set; } = true;

    /// <summary>Window length (minutes, one of the window lengths) whose latest validated window the efficiency gauges show (every length is validated).</summary>
    public int ValidationWindowMinutes { get; set; } = 5;

    /// <summary>Windows the rolling MAPE and bias average over (12 × 5 min = the last hour).</summary>
    public int ValidationRollingWindows { get; set; } = 12;

    /// <summary>|efficiency drift| within which a window counts as on plan.</summary>
    public double DriftTolerance { get; set; } = 0.10;

    /// <summary>How often the validation job runs.</summary>
    public TimeSpan ValidationInterval { get; set; } = TimeSpan.FromMinutes(1);
}

/// <summary>Validates <see cref="JobsOptions"/>, listing every problem with the setting to change.</summary>
public sealed class JobsOptionsValidator : IValidateOptions<JobsOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, JobsOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        foreach (var m in options.WindowMinutes.Where(m => m <= 0 || 1440 % m != 0))
            failures.Add($"Jobs:WindowMinutes {m} does not divide a day: use e.g. 5, 15, 60");
        if (options.WindowMinutes.Distinct().Count() != options.WindowMinutes.Count) failures.Add("Jobs:WindowMinutes lists a length twice: list each once");
        if (options.Interval < TimeSpan.FromSeconds(1) || options.Interval > TimeSpan.FromHours(1))
            failures.Add($"Jobs:Interval {options.Interval} is out of range: use 00:00:01..01:00:00");
        if (options.ClosingDelay < TimeSpan.Zero || options.ClosingDelay > TimeSpan.FromHours(6))
            failures.Add($"Jobs:ClosingDelay {options.ClosingDelay} is out of range: use 00:00:00..06:00:00");
        if (options.LatenessHorizon < TimeSpan.Zero || options.LatenessHorizon > TimeSpan.FromDays(30))
            failures.Add($"Jobs:LatenessHorizon {options.LatenessHorizon} is out of range: use 0..30 days");
        if (options.MaxCatchUp <= TimeSpan.Zero || options.MaxCatchUp > TimeSpan.FromDays(400))
            failures.Add($"Jobs:MaxCatchUp {options.MaxCatchUp} is out of range: use 1 minute..400 days");
        if (options.MaxWindowsPerRun is < 1 or > 1_000_000) failures.Add($"Jobs:MaxWindowsPerRun {options.MaxWindowsPerRun} is out of range: use 1..1000000");
        if (options.PowerLookback < TimeSpan.FromMinutes(1) || options.PowerLookback > TimeSpan.FromHours(1))
            failures.Add($"Jobs:PowerLookback {options.PowerLookback} is out of range: use 00:01:00..01:00:00 (at least the power sample interval)");
        if (options.CatalogDirectory is { Length: > 0 } dir && !Directory.Exists(dir))
            failures.Add($"Jobs:CatalogDirectory '{dir}' does not exist: point it at the catalog files (e.g. deploy/catalog) or leave it empty");
        if (!options.EffectiveWindowMinutes.Contains(options.ValidationWindowMinutes))
            failures.Add($"Jobs:ValidationWindowMinutes {options.ValidationWindowMinutes} is not one of Jobs:WindowMinutes ({string.Join(", ", options.EffectiveWindowMinutes)}): validate on a window length the realized job computes");
        if (options.ValidationRollingWindows is < 1 or > 10_000) failures.Add($"Jobs:ValidationRollingWindows {options.ValidationRollingWindows} is out of range: use 1..10000");
        if (!(options.DriftTolerance > 0 && options.DriftTolerance < 10)) failures.Add($"Jobs:DriftTolerance {options.DriftTolerance} is out of range: use a fraction such as 0.10");
        if (options.ValidationInterval < TimeSpan.FromSeconds(1) || options.ValidationInterval > TimeSpan.FromHours(1))
            failures.Add($"Jobs:ValidationInterval {options.ValidationInterval} is out of range: use 00:00:01..01:00:00");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
