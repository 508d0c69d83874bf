using System.Globalization;

namespace EfficiencyMonitor.Benchmarks.Ingest;

/// <summary>Command line of the <c>ingest</c> verb.</summary>
public sealed record IngestOptions
{
    public const string Usage = """
        ingest [--records N] [--partitions P] [--runs R] [--methods abcd] [--batch-rows B] [--fresh-seconds S]
               [--kafka-consumers C] [--kafka-flush-ms F] [--kafka-block-rows K]
          --records         records produced once and drained by every method (default 200000)
          --partitions      topic partitions; raised to what the mock's 5 MiB/partition retention needs (default 128)
          --runs            runs per method; rates are medians (default 3)
          --methods         which of a (bare consume), b (direct insert), c (Kafka engine), d (our pipeline) (default abcd)
          --batch-rows      rows per insert for (b) (default 100000)
          --fresh-seconds   length of the paced half-rate freshness run per streaming method; 0 skips it (default 10)
          --kafka-consumers kafka_num_consumers of (c) (default 1: with 2 the group forms in two steps and the first block is stored twice)
          --kafka-flush-ms  kafka_flush_interval_ms of (c) (default 1000; the engine default 7500 dominates latency)
          --kafka-block-rows kafka_max_block_size and kafka_poll_max_batch_size of (c) (default 65536)
        """;

    public long Records { get; init; } = 200_000;

    public int Partitions { get; init; } = 128;

    public int Runs { get; init; } = 3;

    public string Methods { get; init; } = "abcd";

    public int BatchRows { get; init; } = 100_000;

    public double FreshSeconds { get; init; } = 10;

    public int KafkaConsumers { get; init; } = 1;

    public int KafkaFlushMs { get; init; } = 1000;

    public int KafkaBlockRows { get; init; } = 65_536;

    public static IngestOptions Parse(IReadOnlyList<string> args)
    {
        var options = new IngestOptions();
        for (var i = 0; i < args.Count; i++)
        {
            var name = args[i];
            if (name is "-h" or "--help")
            {
                throw new ArgumentException(Usage);
            }

            if (i + 1 >= args.Count)
            {
                throw new ArgumentException($"{name} needs a value\n{Usage}");
            }

            var value = args[++i];
            options = name switch
            {
                "--records" => options with { Records = long.Parse(value, NumberStyles.AllowThousands, CultureInfo.InvariantCulture) },
                "--partitions" => options with { Partitions = int.Parse(value, CultureInfo.InvariantCulture) },
                "--runs" => options with { Runs = int.Parse(value, CultureInfo.InvariantCulture) },
                "--methods" => options with { Methods = value.ToLowerInvariant() },
                "--batch-rows" => options with { BatchRows = int.Parse(value, CultureInfo.InvariantCulture) },
                "--fresh-seconds" => options with { FreshSeconds = double.Parse(value, CultureInfo.InvariantCulture) },
                "--kafka-consumers" => options with { KafkaConsumers = int.Parse(value, CultureInfo.InvariantCulture) },
                "--kafka-flush-ms" => options with { KafkaFlushMs = int.Parse(value, CultureInfo.InvariantCulture) },
                "--kafka-block-rows" => options with { KafkaBlockRows = int.Parse(value, CultureInfo.InvariantCulture) },
                _ => throw new ArgumentException($"unknown option {name}\n{Usage}"),
            };
        }

        var problems = new List<string>();
        if (options.Records < 1) problems.Add("--records must be >= 1");
        if (options.Partitions < 1) problems.Add("--partitions must be >= 1");
        if (options.Runs < 1) problems.Add("--runs must be >= 1");
        if (options.BatchRows < 1) problems.Add("--batch-rows must be >= 1");
        if (options.FreshSeconds < 0) problems.Add("--fresh-seconds must be >= 0");
        if (options.KafkaConsumers < 1) problems.Add("--kafka-consumers must be >= 1");
        if (options.Methods.Any(m => m is not ('a' or 'b' or 'c' or 'd'))) problems.Add("--methods takes letters of abcd");
        return problems.Count == 0 ? options : throw new ArgumentException(string.Join("; ", problems) + "\n" + Usage);
    }
}
