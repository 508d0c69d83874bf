using Microsoft.Extensions.Options;

namespace EfficiencyMonitor.Ingestion;

/// <summary>Batching, validation and fault-handling knobs of the ingestion pipeline (section <c>Ingestion</c>).</summary>
public sealed class IngestionOptions
{
    /// <summary>Configuration section name.</summary>
    public const string SectionName = "Ingestion";

    /// <summary>Run the Kafka → ClickHouse consumers in <c>efficiency-monitor run</c>.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>A batch is inserted when it holds this many rows.</summary>
    public int BatchMaxRows { get; set; } = 100_000;

    /// <summary>… or this many bytes of source records.</summary>
    public int BatchMaxBytes { get; set; } = 64 * 1024 * 1024;

    /// <summary>… or when its first record has waited this long (bounds event-to-queryable freshness).</summary>
    public TimeSpan BatchMaxDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>First wait before retrying a failed insert; doubles up to <see cref="InsertRetryMaxBackoff"/>.</summary>
    public TimeSpan InsertRetryInitialBackoff { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Longest wait between insert retries. Retries go on while ClickHouse is down; consumption stays paused.</summary>
    public TimeSpan InsertRetryMaxBackoff { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a graceful shutdown may take to flush and commit.</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>Validates <see cref="IngestionOptions"/>, listing every problem with the setting to change.</summary>
public sealed class IngestionOptionsValidator : IValidateOptions<IngestionOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, IngestionOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (options.BatchMaxRows is < 1 or > 1_000_000) failures.Add($"Ingestion:BatchMaxRows {options.BatchMaxRows} is out of range: use 1..1000000 (ClickHouse inserts up to ~1M rows as one atomic block)");
        if (options.BatchMaxBytes is < 1024 or > 512 * 1024 * 1024) failures.Add($"Ingestion:BatchMaxBytes {options.BatchMaxBytes} is out of range: use 1 KiB..512 MiB");
        if (options.BatchMaxDelay <= TimeSpan.Zero || options.BatchMaxDelay > TimeSpan.FromMinutes(5)) failures.Add($"Ingestion:BatchMaxDelay {options.BatchMaxDelay} is out of range: use a positive duration up to 00:05:00");
        if (options.InsertRetryInitialBackoff <= TimeSpan.Zero) failures.Add("Ingestion:InsertRetryInitialBackoff must be positive (e.g. 00:00:00.200)");
        if (options.InsertRetryMaxBackoff < options.InsertRetryInitialBackoff) failures.Add("Ingestion:InsertRetryMaxBackoff must be at least Ingestion:InsertRetryInitialBackoff");
        if (options.ShutdownTimeout <= TimeSpan.Zero) failures.Add("Ingestion:ShutdownTimeout must be positive (e.g. 00:00:30)");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
