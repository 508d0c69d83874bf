using System.Globalization;
using System.Text;
using Confluent.Kafka;

namespace EfficiencyMonitor.TestInfrastructure;

/// <summary>
/// Valid telemetry records for ingestion tests, deterministic per index, with event times just before
/// <c>now</c> (raw tables drop rows older than their TTL on arrival), plus the expected sums of what was produced.
/// </summary>
public static class TelemetryRecords
{
    private static readonly string[] Tenants = ["acme", "globex", "initech", "umbrella"];
    private static readonly string[] Deployments = ["llama-70b-chat", "deepseek-v3-disagg"];

    /// <summary>Input tokens of record <paramref name="i"/> (what a sum check expects).</summary>
    public static long InputTokens(long i) => 1_000 + (i % 7_919);

    /// <summary>Output tokens of record <paramref name="i"/>.</summary>
    public static long OutputTokens(long i) => 1 + (i % 997);

    /// <summary>Request id of record <paramref name="i"/> within a run tagged <paramref name="run"/>.</summary>
    public static string RequestId(string run, long i) => $"req-{run}-{i:D9}";

    /// <summary>One valid <c>inference-requests</c> record.</summary>
    public static byte[] Request(string run, long i, DateTimeOffset now)
    {
        var disaggregated = i % 2 == 1;
        var finished = now.AddSeconds(-5).AddMilliseconds(-(i % 1000));
        var started = finished.AddMilliseconds(-2_000);
        var firstToken = started.AddMilliseconds(300);
        var input = InputTokens(i);
        var hbm = input / 4;
        var dram = disaggregated ? input / 8 : 0;
        var output = OutputTokens(i);
        var reasoning = output / 3;
        var pools = disaggregated
            ? "\"prefill_pool\":\"prefill-h200\",\"decode_pool\":\"decode-h200\","
            : "";
        var transfer = disaggregated ? "\"kv_transfer_ms\":12.5,\"kv_bytes_transferred\":1048576," : "\"kv_bytes_transferred\":0,";
        var json = string.Create(CultureInfo.InvariantCulture, $$"""
            {"schema_version":1,"request_id":"{{RequestId(run, i)}}","session_id":"sess-{{i % 1000}}","tenant":"{{Tenants[i % Tenants.Length]}}","deployment":"{{Deployments[i % 2]}}","model":"m-{{i % 3}}","serving_pattern":"{{(disaggregated ? "disaggregated" : "aggregated")}}",{{pools}}"gpu_type":"H100-SXM5-80GB","region":"us-east-1","started_at":"{{Ts(started)}}","first_token_at":"{{Ts(firstToken)}}","finished_at":"{{Ts(finished)}}","input_tokens":{{input}},"cached_input_tokens":{"hbm":{{hbm}},"dram":{{dram}},"local_ssd":0,"remote":0},"recomputed_input_tokens":0,"output_tokens":{{output}},"reasoning_tokens":{{reasoning}},"queue_ms":3,"prefill_ms":120.5,{{transfer}}"kv_load_ms":{"hbm":0.5,"dram":{{(dram > 0 ? "2.5" : "0")}},"local_ssd":0,"remote":0},"decode_ms":{{output * 20}},"kv_compression_ratio":1,"status":"{{(i % 10 == 0 ? "error" : "ok")}}"}
            """);
        return Encoding.UTF8.GetBytes(json);
    }

    /// <summary>One valid <c>gpu-power</c> sample.</summary>
    public static byte[] PowerSample(long i, DateTimeOffset now)
    {
        var json = string.Create(CultureInfo.InvariantCulture, $$"""
            {"schema_version":1,"node":"node-{{i % 4}}","gpu_index":{{i % 8}},"gpu_uuid":"GPU-{{i % 32:D4}}","gpu_type":"H100-SXM5-80GB","pool":"decode-h100","deployment":"llama-70b-chat","sampled_at":"{{Ts(now.AddSeconds(-5).AddMilliseconds(-(i % 1000)))}}","power_watts":{{300 + i % 400}},"energy_joules_total":{{1_000_000 + i * 10}},"utilization":0.5,"memory_used_bytes":1000}
            """);
        return Encoding.UTF8.GetBytes(json);
    }

    /// <summary>A producer that spreads records round-robin over explicit partitions (keyless records overflow mock partitions).</summary>
    public static IProducer<byte[]?, byte[]> CreateProducer(string bootstrap) =>
        new ProducerBuilder<byte[]?, byte[]>(new ProducerConfig
        {
            BootstrapServers = bootstrap,
            EnableIdempotence = true,
            LingerMs = 5,
            BatchSize = 1_000_000,
        }).Build();

    /// <summary>Produces <paramref name="records"/> round-robin over <paramref name="partitions"/> and waits for every acknowledgement.</summary>
    public static void ProduceAll(IProducer<byte[]?, byte[]> producer, string topic, int partitions, IEnumerable<byte[]> records)
    {
        ArgumentNullException.ThrowIfNull(producer);
        ArgumentNullException.ThrowIfNull(records);
        var errors = 0;
        var n = 0;
        foreach (var record in records)
        {
            while (true)
            {
                try
                {
                    producer.Produce(new TopicPartition(topic, new Partition(n % partitions)), new Message<byte[]?, byte[]> { Value = record }, r =>
                    {
                        if (r.Error.IsError) Interlocked.Increment(ref errors);
                    });
                    break;
                }
                catch (ProduceException<byte[]?, byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
                {
                    producer.Poll(TimeSpan.FromMilliseconds(20));
                }
            }

            n++;
        }

        producer.Flush(TimeSpan.FromSeconds(60));
        if (errors > 0) throw new InvalidOperationException($"{errors} records were not acknowledged by the broker");
    }

    private static string Ts(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
}
