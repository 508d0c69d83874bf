using BenchmarkDotNet.Attributes;
using EfficiencyMonitor.Core.Telemetry;
using EfficiencyMonitor.Storage.Telemetry;

namespace EfficiencyMonitor.Benchmarks;

/// <summary>
/// The decode→row→RowBinary path per record, with allocations (issue 3 target: decode allocates at most 64 B per record).
/// Run: <c>dotnet run -c Release --project tests/EfficiencyMonitor.Benchmarks -- --filter *DecodeBenchmarks* --job short</c>.
/// </summary>
[MemoryDiagnoser]
public class DecodeBenchmarks
{
    private const int BatchRows = 1_000;

    private readonly InferenceRequestDecoder _decoder = new();
    private readonly Utf8Arena _arena = new();
    private readonly InferenceRequestEncoder _encoder = new();
    private byte[] _record = [];
    private DateTimeOffset _now;
    private InferenceRequestRow _row;
    private TelemetryBatch<InferenceRequestRow> _batch = null!;

    /// <summary>The valid contract examples (schemas/telemetry/examples/inference-requests/valid).</summary>
    [ParamsSource(nameof(Examples))]
    public string Example { get; set; } = "";

    public static IEnumerable<string> Examples => Directory.GetFiles(ExamplesDirectory(), "*.json").Select(Path.GetFileName).Order()!;

    [GlobalSetup]
    public void Setup()
    {
        _record = File.ReadAllBytes(Path.Combine(ExamplesDirectory(), Example));
        _now = TimeProvider.System.GetUtcNow();
        var result = _decoder.Decode(_record, _now, _arena, ref _row);
        if (!result.IsSuccess) throw new InvalidOperationException($"{Example} does not decode: {result}");

        _batch = new TelemetryBatch<InferenceRequestRow>("inference-requests", BatchRows);
        for (var i = 0; i < BatchRows; i++)
        {
            _decoder.Decode(_record, _now, _batch.Arena, ref _batch.Pending);
            _batch.Add(i % 16, i, _record.Length, 0);
        }
    }

    /// <summary>One record's bytes into a reused row; the arena is reset as a batch would reset it.</summary>
    [Benchmark]
    public bool Decode()
    {
        if (_arena.Length > 1 << 20) _arena.Reset();
        return _decoder.Decode(_record, _now, _arena, ref _row).IsSuccess;
    }

    /// <summary>RowBinary for a batch of <see cref="BatchRows"/> rows (per-op figures are per batch: divide by 1,000 per row).</summary>
    [Benchmark(OperationsPerInvoke = BatchRows)]
    public int EncodeRowBinaryPerRow()
    {
        _batch.Encoded.Reset();
        _encoder.Encode(_batch);
        return _batch.Encoded.Length;
    }

    [GlobalCleanup]
    public void Cleanup() => _batch.Dispose();

    private static string ExamplesDirectory()
    {
        // BenchmarkDotNet runs from a generated folder under bin/: walk up to the repository.
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "schemas", "telemetry", "examples", "inference-requests", "valid");
            if (Directory.Exists(candidate)) return candidate;
        }

        throw new DirectoryNotFoundException("schemas/telemetry/examples/inference-requests/valid not found above " + AppContext.BaseDirectory);
    }
}
