namespace KeyAbuseContent.Engine.Esql.Execution;

/// <summary>
/// Splits a loop over positions into contiguous ranges (morsels) run in parallel on the thread pool, a few per
/// core so that a core slowed by other work does not hold the rest back; small loops run inline, in one morsel.
/// Callers merge per-morsel results in morsel order, so a result never depends on the number of cores.
/// </summary>
internal static class Morsels
{
    /// <summary>Below this many positions a loop runs inline: the work would not pay for the scheduling.</summary>
    public const int ParallelThreshold = 1 << 17;

    private const int MinMorsel = 1 << 15;

    /// <summary>How many morsels a loop over <paramref name="positions"/> is cut into.</summary>
    public static int Count(int positions) =>
        positions < ParallelThreshold || Environment.ProcessorCount < 2 ? 1 : Math.Min(Environment.ProcessorCount * 4, positions / MinMorsel);

    /// <summary>The positions [Start, End) of morsel <paramref name="index"/> of <paramref name="morsels"/>.</summary>
    public static (int Start, int End) Range(int positions, int morsels, int index) =>
        ((int)((long)positions * index / morsels), (int)((long)positions * (index + 1) / morsels));

    /// <summary>Runs <paramref name="body"/>(morsel, start, end) for each of <paramref name="morsels"/> morsels.</summary>
    public static void For(int positions, int morsels, Action<int, int, int> body)
    {
        if (morsels == 1)
        {
            body(0, 0, positions);
            return;
        }
        Parallel.For(0, morsels, m =>
        {
            var (start, end) = Range(positions, morsels, m);
            body(m, start, end);
        });
    }

    /// <summary>Runs <paramref name="body"/>(start, end) over the positions, in parallel when there are many.</summary>
    public static void For(int positions, Action<int, int> body) => For(positions, Count(positions), (_, start, end) => body(start, end));
}
