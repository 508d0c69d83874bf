using System.Diagnostics;
using System.Globalization;
using EfficiencyMonitor.Core.Model;

namespace EfficiencyMonitor.Benchmarks.Model;

/// <summary>
/// <c>model [--classes 1000000] [--runs 5]</c>: <see cref="ServingModel.Evaluate"/> over N random request classes,
/// single-threaded (target: 1,000,000 evaluations/s). A warm-up pass first (tiered JIT reaches its optimized code), then
/// <c>--runs</c> timed passes; each prints evaluations/s, then the median and its ratio to the target. Bytes allocated
/// on this thread during the timed passes are printed too (the hot path must allocate nothing).
/// </summary>
internal static class ModelBench
{
    private const double Target = 1_000_000;

    public static int Run(string[] args)
    {
        var count = Arg(args, "--classes", 1_000_000);
        var runs = Arg(args, "--runs", 5);
        var (model, description) = ModelBenchData.Build();
        var classes = ModelBenchData.Classes(count, seed: 7);
        Console.WriteLine(description);
        Console.WriteLine($"{count:N0} random request classes, {runs} runs after a warm-up, single thread");

        var checksum = Pass(model, classes);
        var rates = new double[runs];
        long allocated = 0;
        for (var run = 0; run < runs; run++)
        {
            var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
            var started = Stopwatch.GetTimestamp();
            var sum = Pass(model, classes);
            var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            allocated += GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
            if (sum != checksum) throw new InvalidOperationException($"run {run}: checksum {sum:R} differs from the warm-up's {checksum:R}");
            rates[run] = count / seconds;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"run {run + 1}: {seconds * 1000:0.0} ms, {rates[run]:N0} evaluations/s ({seconds / count * 1e9:0.0} ns each)"));
        }

        var median = Median(rates);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"median {median:N0} evaluations/s = {median / Target:0.00}x the 1,000,000/s target; allocated {allocated:N0} B in the {runs} timed passes; checksum {checksum:R} busy GPU-s"));
        return 0;
    }

    // Busy GPU-s of the whole mix (each class weighted by its count), so no evaluation can be elided.
    private static double Pass(ServingModel model, RequestClass[] classes)
    {
        double busy = 0;
        for (var i = 0; i < classes.Length; i++)
        {
            var w = model.Evaluate(classes[i]);
            busy += w.Busy * classes[i].Count;
        }

        return busy;
    }

    private static double Median(double[] values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static int Arg(string[] args, string name, int fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
    }
}
