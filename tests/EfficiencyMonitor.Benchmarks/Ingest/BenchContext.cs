using EfficiencyMonitor.Sandbox;
using EfficiencyMonitor.Storage;

namespace EfficiencyMonitor.Benchmarks.Ingest;

/// <summary>
/// What a streaming method under test gets from the ingest bench: the topic to drain and the freshly migrated database
/// whose <c>inference_requests</c> table it must fill.
/// </summary>
/// <remarks>
/// Contract for a pipeline plugged in as method (d) (<see cref="PipelineUnderTest.Run"/>): consume <see cref="Topic"/>
/// from the earliest offset as consumer group <see cref="ConsumerGroup"/>, store every record as a row of
/// <c>{ClickHouse.Database}.inference_requests</c> (leave <c>ingested_at</c> to its column default: the freshness figure is
/// <c>ingested_at - finished_at</c>), and keep running until the token is cancelled; then flush, commit and return. The
/// bench decides when the run is complete by polling <c>count()</c> and <c>sum(input_tokens)</c>, cancels the token and
/// awaits the task (an exception from the task fails the method and is printed).
/// </remarks>
public sealed record BenchContext
{
    /// <summary>Kafka bootstrap servers (the sandbox's mock cluster).</summary>
    public required string KafkaBootstrap { get; init; }

    /// <summary>Topic holding the records; produced with explicit partitions (record i in partition i mod <see cref="Partitions"/>).</summary>
    public required string Topic { get; init; }

    /// <summary>Partitions of <see cref="Topic"/>.</summary>
    public required int Partitions { get; init; }

    /// <summary>Records the bench expects in the table once the run is complete (for the paced run: once production ends).</summary>
    public required long Records { get; init; }

    /// <summary>A consumer group name not used before (committed offsets never leak between runs).</summary>
    public required string ConsumerGroup { get; init; }

    /// <summary>ClickHouse URL and the run's database; migrations 0001+ are applied, the tables are empty.</summary>
    public required ClickHouseOptions ClickHouse { get; init; }

    /// <summary>The in-process sandbox (chDB endpoint and mock cluster), e.g. for <c>MockKafkaCluster.UseFastRebalance</c>.</summary>
    public required SandboxHost Sandbox { get; init; }

    /// <summary>Clock for the decoder's future-skew rule and any timing.</summary>
    public required TimeProvider TimeProvider { get; init; }

    /// <summary>Where the method may write progress lines.</summary>
    public required TextWriter Log { get; init; }

    /// <summary>Elapsed-time stamp (<see cref="System.Diagnostics.Stopwatch.GetTimestamp"/>) of the first <see cref="ReportAssigned"/>; 0 if none.</summary>
    public long AssignedAtTimestamp => Interlocked.Read(ref _assigned.Timestamp);

    private readonly AssignedMark _assigned = new();

    /// <summary>
    /// Optional: call when the consumer has received its partition assignment. The throughput then counts from that moment
    /// (as for (c), whose assignment the bench reads from <c>system.kafka_consumers</c>); without it the bench counts from
    /// the first visible rows and says so.
    /// </summary>
    public void ReportAssigned() => Interlocked.CompareExchange(ref _assigned.Timestamp, System.Diagnostics.Stopwatch.GetTimestamp(), 0);

    private sealed class AssignedMark
    {
        public long Timestamp;
    }
}

/// <summary>
/// Method (d) of the ingest bench: the project's own pipeline. The seam is this one property; until it is set the bench
/// prints "(d) not wired yet".
/// </summary>
public static class PipelineUnderTest
{
    /// <summary>
    /// Runs the pipeline against <see cref="BenchContext"/> until the token is cancelled (contract on
    /// <see cref="BenchContext"/>). Null: not wired yet.
    /// </summary>
    /// <example>
    /// <code>public static Func&lt;BenchContext, CancellationToken, Task&gt;? Run { get; } = IngestionPipelineBench.RunAsync;</code>
    /// </example>
    public static Func<BenchContext, CancellationToken, Task>? Run { get; } = IngestionPipelineBench.RunAsync;
}
