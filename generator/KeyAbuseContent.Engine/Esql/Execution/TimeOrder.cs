namespace KeyAbuseContent.Engine.Esql.Execution;

/// <summary>
/// A date column's positions sorted by time, so that a time range is found by binary search: a rule's run
/// reads the rows of its window without looking at the others. Positions without a value are left out (no range
/// holds them); a column already in time order, as logs usually are, keeps no copy of its values. A column where
/// some position holds several dates is scanned instead, since such a position has no single place in the order.
/// </summary>
internal sealed class TimeOrder
{
    private readonly long[] times;
    private readonly int[]? positions;
    private readonly bool positionsAscend;
    private readonly Block<long>? scanned;

    private TimeOrder(long[] times, int[]? positions, bool positionsAscend, Block<long>? scanned)
    {
        this.times = times;
        this.positions = positions;
        this.positionsAscend = positionsAscend;
        this.scanned = scanned;
    }

    public static TimeOrder Of(Block<long> block)
    {
        if (block.IsConstant || block.MayHaveMultiValues)
        {
            return new TimeOrder([], null, true, block);
        }
        var values = block.Values;
        var count = block.PositionCount;
        var nulls = block.Nulls;
        var sorted = true;
        var present = 0;
        var previous = long.MinValue;
        for (var p = 0; p < count; p++)
        {
            if (nulls is not null && nulls[p])
            {
                continue;
            }
            sorted &= values[p] >= previous;
            previous = values[p];
            present++;
        }
        if (sorted && present == count)
        {
            return new TimeOrder(values, null, true, null);
        }
        var times = new long[present];
        var positions = new int[present];
        for (int p = 0, i = 0; p < count; p++)
        {
            if (nulls is null || !nulls[p])
            {
                times[i] = values[p];
                positions[i++] = p;
            }
        }
        if (!sorted)
        {
            Array.Sort(times, positions);
        }
        return new TimeOrder(times, positions, sorted, null);
    }

    /// <summary>The positions with a time in [<paramref name="from"/>, <paramref name="to"/>), in position order.</summary>
    public int[] Window(long from, long to)
    {
        if (scanned is not null)
        {
            return Scan(scanned, from, to);
        }
        var start = LowerBound(from);
        var end = LowerBound(to);
        if (end <= start)
        {
            return [];
        }
        var window = new int[end - start];
        if (positions is null)
        {
            for (var i = 0; i < window.Length; i++)
            {
                window[i] = start + i;
            }
            return window;
        }
        Array.Copy(positions, start, window, 0, window.Length);
        if (!positionsAscend)
        {
            // The range is in time order; the query sees rows in the table's order, as without a window.
            Array.Sort(window);
        }
        return window;
    }

    private int LowerBound(long time)
    {
        int lo = 0, hi = times.Length;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (times[mid] < time)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }
        return lo;
    }

    /// <summary>A position is in the window when one of its dates is.</summary>
    private static int[] Scan(Block<long> block, long from, long to)
    {
        var selected = new List<int>();
        for (var p = 0; p < block.PositionCount; p++)
        {
            var n = block.ValueCount(p);
            var first = block.FirstValueIndex(p);
            for (var i = 0; i < n; i++)
            {
                var v = block.Values[first + i];
                if (v >= from && v < to)
                {
                    selected.Add(p);
                    break;
                }
            }
        }
        return [.. selected];
    }
}
