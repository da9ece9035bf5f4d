namespace KeyAbuseContent.Harness.Simulation;

/// <summary>
/// A seeded xoshiro256** generator with the draws the simulator needs. Its algorithm is fixed here, unlike
/// <see cref="System.Random"/>'s, so a seed gives the same sequence on every .NET version. Each stream
/// (a key, an attack, the plan) has its own generator, so adding an attack never changes benign traffic.
/// </summary>
public sealed class SimulationRandom
{
    private ulong _s0, _s1, _s2, _s3;
    private double _spareNormal;
    private bool _hasSpare;

    /// <summary>A generator for one stream of a seed; the state is filled by splitmix64 as xoshiro's authors advise.</summary>
    public SimulationRandom(ulong seed, ulong stream)
    {
        var x = seed ^ (stream * 0xD1B54A32D192ED03UL);
        _s0 = SplitMix(ref x);
        _s1 = SplitMix(ref x);
        _s2 = SplitMix(ref x);
        _s3 = SplitMix(ref x);
    }

    private static ulong SplitMix(ref ulong x)
    {
        var z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>The splitmix64 finaliser of a value mixed with a seed: a bijection, so distinct inputs give distinct outputs.</summary>
    public static ulong Mix(ulong seed, ulong value)
    {
        var z = value + (seed * 0x9E3779B97F4A7C15UL) + 0x632BE59BD9B4E019UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
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

    /// <summary>A uniform double in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>A uniform integer in [0, n), without modulo bias (Lemire's multiply and reject).</summary>
    public int Next(int n)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(n);
        return (int)NextBelow((ulong)n);
    }

    /// <summary>A uniform integer in [0, n).</summary>
    public long NextLong(long n)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(n);
        return (long)NextBelow((ulong)n);
    }

    private ulong NextBelow(ulong n)
    {
        var high = Math.BigMul(NextUInt64(), n, out var low);
        if (low < n)
        {
            var threshold = (0 - n) % n;
            while (low < threshold)
            {
                high = Math.BigMul(NextUInt64(), n, out low);
            }
        }
        return high;
    }

    /// <summary>A uniform integer in [min, max].</summary>
    public int Between(int min, int max) => min + Next(max - min + 1);

    /// <summary>A standard normal variate (Marsaglia's polar method, the spare kept for the next call).</summary>
    public double NextNormal()
    {
        if (_hasSpare)
        {
            _hasSpare = false;
            return _spareNormal;
        }
        double u, v, s;
        do
        {
            u = (2 * NextDouble()) - 1;
            v = (2 * NextDouble()) - 1;
            s = (u * u) + (v * v);
        }
        while (s >= 1 || s == 0);
        var factor = Math.Sqrt(-2 * Math.Log(s) / s);
        _spareNormal = v * factor;
        _hasSpare = true;
        return u * factor;
    }

    /// <summary>A log-normal variate with the given median and log-space spread.</summary>
    public double LogNormal(double median, double sigma) => median * Math.Exp(sigma * NextNormal());

    /// <summary>A Poisson variate: exact (Knuth) for small means, the normal approximation for large ones.</summary>
    public int Poisson(double mean)
    {
        if (mean <= 0)
        {
            return 0;
        }
        if (mean < 30)
        {
            var limit = Math.Exp(-mean);
            var p = 1.0;
            var n = 0;
            while (true)
            {
                p *= NextDouble();
                if (p <= limit)
                {
                    return n;
                }
                n++;
            }
        }
        return Math.Max(0, (int)Math.Round(mean + (Math.Sqrt(mean) * NextNormal())));
    }

    /// <summary>One element of a list, uniformly.</summary>
    public T Pick<T>(IReadOnlyList<T> items) => items[Next(items.Count)];
}
