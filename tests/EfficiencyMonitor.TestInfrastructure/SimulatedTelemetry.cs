using ClickHouse.Driver;
using EfficiencyMonitor.Core.Telemetry;
using EfficiencyMonitor.Simulator.Generation;
using EfficiencyMonitor.Storage;
using EfficiencyMonitor.Storage.Telemetry;

namespace EfficiencyMonitor.TestInfrastructure;

/// <summary>
/// Simulated telemetry straight into ClickHouse for tests that are about what happens after ingestion (jobs, queries,
/// dashboards): each record decoded by the real decoders and inserted through the real store, as the consumer would.
/// </summary>
public static class SimulatedTelemetry
{
    /// <summary>
    /// Inserts <paramref name="records"/> in batches of up to <paramref name="batchRows"/> rows per table. Request records
    /// are spread over 16 partitions and power samples over 4, as on the real topics, offsets increasing per partition.
    /// </summary>
    /// <param name="client">ClickHouse client.</param>
    /// <param name="options">Database to insert into (migrated).</param>
    /// <param name="records">Generated records (<see cref="TraceGenerator.Generate"/>).</param>
    /// <param name="now">The decoders' clock (records later than it by more than the allowed skew are rejected).</param>
    /// <param name="batchRows">Rows per insert.</param>
    /// <returns>Requests and power samples inserted.</returns>
    /// <exception cref="InvalidOperationException">A simulated record was rejected by its decoder.</exception>
    public static async Task<(long Requests, long PowerSamples)> InsertAsync(
        ClickHouseClient client, ClickHouseOptions options, IEnumerable<SimulatedRecord> records, DateTimeOffset now, int batchRows = 100_000)
    {
        ArgumentNullException.ThrowIfNull(records);
        var store = new TelemetryStore(client, options);
        var requestDecoder = new InferenceRequestDecoder();
        var powerDecoder = new GpuPowerDecoder();
        long requestCount = 0, powerCount = 0;
        var requests = new TelemetryBatch<InferenceRequestRow>("inference-requests", 1 << 16);
        var power = new TelemetryBatch<GpuPowerRow>("gpu-power", 1 << 16);
        try
        {
            foreach (var record in records)
            {
                var json = record.Payload.Span;
                if (record.Topic == TraceTopic.InferenceRequests)
                {
                    var decoded = requestDecoder.Decode(json, now, requests.Arena, ref requests.Pending);
                    if (!decoded.IsSuccess) throw new InvalidOperationException($"simulated request rejected: {decoded}");
                    requests.Add((int)(requestCount % 16), requestCount / 16, json.Length, 0);
                    requestCount++;
                }
                else
                {
                    var decoded = powerDecoder.Decode(json, now, ref power.Pending);
                    if (!decoded.IsSuccess) throw new InvalidOperationException($"simulated power sample rejected: {decoded}");
                    power.Add((int)(powerCount % 4), powerCount / 4, json.Length, 0);
                    powerCount++;
                }

                if (requests.Count >= batchRows)
                {
                    await store.InsertAsync(new InferenceRequestEncoder(), requests, CancellationToken.None);
                    requests.Dispose();
                    requests = new TelemetryBatch<InferenceRequestRow>("inference-requests", 1 << 16);
                }

                if (power.Count >= batchRows)
                {
                    await store.InsertAsync(new GpuPowerEncoder(), power, CancellationToken.None);
                    power.Dispose();
                    power = new TelemetryBatch<GpuPowerRow>("gpu-power", 1 << 16);
                }
            }

            await store.InsertAsync(new InferenceRequestEncoder(), requests, CancellationToken.None);
            await store.InsertAsync(new GpuPowerEncoder(), power, CancellationToken.None);
        }
        finally
        {
            requests.Dispose();
            power.Dispose();
        }

        return (requestCount, powerCount);
    }
}

/// <summary>A clock tests set by hand (jobs and stores take a <see cref="TimeProvider"/>).</summary>
/// <param name="now">Initial time.</param>
public sealed class ManualTime(DateTimeOffset now) : TimeProvider
{
    /// <summary>The time <see cref="GetUtcNow"/> returns.</summary>
    public DateTimeOffset Now { get; set; } = now;

    /// <inheritdoc />
    public override DateTimeOffset GetUtcNow() => Now;
}
