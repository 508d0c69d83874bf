using BenchmarkDotNet.Attributes;
using EfficiencyMonitor.Benchmarks.Model;
using EfficiencyMonitor.Core.Model;

namespace EfficiencyMonitor.Benchmarks;

/// <summary>
/// <see cref="ServingModel.Evaluate"/> on Llama-3.1-70B / H100 from the embedded catalog: one operation evaluates 1,024
/// random request classes (divide the per-op time by 1,024 for one evaluation; the target is ≤ 1 µs each, i.e. 1M/s).
/// Run: <c>dotnet run -c Release --project tests/EfficiencyMonitor.Benchmarks -- --filter *ModelBenchmarks* --job short</c>.
/// </summary>
[MemoryDiagnoser]
public class ModelBenchmarks
{
    private const int Classes = 1_024;

    private ServingModel _model = null!;
    private RequestClass[] _classes = [];

    [GlobalSetup]
    public void Setup()
    {
        _model = ModelBenchData.Build().Model;
        _classes = ModelBenchData.Classes(Classes, seed: 7);
    }

    /// <summary>Busy GPU-seconds of 1,024 classes, each weighted by its count.</summary>
    [Benchmark]
    public double Evaluate1024()
    {
        double busy = 0;
        foreach (ref readonly var c in _classes.AsSpan())
        {
            busy += _model.Evaluate(c).Busy * c.Count;
        }

        return busy;
    }
}
