namespace EfficiencyMonitor.Simulator.Generation;

/// <summary>
/// A small seedable generator (xoshiro256**, seeded through SplitMix64) whose sequence is fixed by this code, not by the
/// runtime: <see cref="Random"/>'s seeded algorithm is an implementation detail, and byte-identical traces must survive a
/// .NET upgrade. Also offers counter-based draws (<see cref="Hash"/>) so a record's noise depends only on its own identity,
/// never on how many draws other records made (incident-on and incident-off runs then differ only where they should).
/// </summary>
internal sealed class SimRandom
{
    private ulong _s0;
    private ulong _s1;
    private ulong _s2;
    private ulong _s3;

    public SimRandom(ulong seed)
    {
        var x = seed;
        _s0 = SplitMix(ref x);
        _s1 = SplitMix(ref x);
        _s2 = SplitMix(ref x);
        _s3 = SplitMix(ref x);
    }

    public ulong NextUInt64()
    {
        var result = ulong.RotateLeft(_s1 * 5, 7) * 9;
        var t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = ulong.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, 1).</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform integer in [0, n).</summary>
    public int NextInt(int n) => (int)((NextUInt64() >> 33) % (ulong)n);

    /// <summary>Standard normal (Box–Muller; one value per call keeps the sequence simple to reason about).</summary>
    public double NextGaussian() => ToGaussian(NextDouble(), NextDouble());

    /// <summary>Exponential with mean 1.</summary>
    public double NextExponential() => -Math.Log(1.0 - NextDouble());

    /// <summary>A stateless 64-bit mix of the inputs (SplitMix64 finalizer over a combination).</summary>
    public static ulong Hash(ulong seed, ulong a, ulong b = 0)
    {
        var x = seed ^ (a * 0x9E3779B97F4A7C15UL) ^ ulong.RotateLeft(b * 0xC2B2AE3D27D4EB4FUL, 31);
        return Mix(x);
    }

    /// <summary>Uniform in [0, 1) from <see cref="Hash"/>.</summary>
    public static double HashUnit(ulong seed, ulong a, ulong b = 0) => (Hash(seed, a, b) >> 11) * (1.0 / (1UL << 53));

    /// <summary>Standard normal from two hashed uniforms.</summary>
    public static double HashGaussian(ulong seed, ulong a, ulong b) =>
        ToGaussian(HashUnit(seed, a, b * 2 + 1), HashUnit(seed, a, b * 2 + 2));

    /// <summary>A string's stable 64-bit hash (FNV-1a; <see cref="string.GetHashCode()"/> is randomized per process).</summary>
    public static ulong HashString(string value)
    {
        var h = 0xCBF29CE484222325UL;
        foreach (var c in value)
        {
            h = (h ^ c) * 0x100000001B3UL;
        }

        return Mix(h);
    }

    private static double ToGaussian(double u1, double u2) =>
        Math.Sqrt(-2.0 * Math.Log(1.0 - u1)) * Math.Cos(2.0 * Math.PI * u2);

    private static ulong SplitMix(ref ulong x)
    {
        x += 0x9E3779B97F4A7C15UL;
        return Mix(x);
    }

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
