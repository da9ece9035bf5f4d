using KeyAbuseContent.Engine.Data;

namespace KeyAbuseContent.Harness.Running;

/// <summary>
/// A table sorted by a time column, cut into the window a run may read: a platform never shows a run the
/// rows outside its period, and handing an executor only those rows keeps thousands of runs cheap. A table of
/// typed columns already in time order is cut into ranges of its columns, never into rows.
/// </summary>
public sealed class TimeSlices
{
    private readonly DataTable _table;
    private readonly long[] _ticks;
    private readonly object?[][] _rows = [];
    private readonly TypedColumns? _typed;

    public TimeSlices(DataTable table, string timeColumn)
    {
        var index = table.IndexOf(timeColumn);
        if (index < 0)
        {
            throw new ArgumentException($"table {table.Name} has no column {timeColumn}", nameof(timeColumn));
        }
        _table = table;
        if (table.Data is { IsWhole: true } data && data.Columns[index] is DateTimeValues times && InOrder(times, out var ticks))
        {
            _typed = data;
            _ticks = ticks;
            return;
        }
        _rows = [.. table.Rows];
        _ticks = new long[_rows.Length];
        var sorted = true;
        for (var i = 0; i < _rows.Length; i++)
        {
            _ticks[i] = _rows[i][index] is DateTime d ? d.Ticks : long.MinValue;
            sorted &= i == 0 || _ticks[i - 1] <= _ticks[i];
        }
        if (!sorted)
        {
            // Stable, as OrderBy: rows of the same time keep the table's order.
            var order = new int[_rows.Length];
            for (var i = 0; i < order.Length; i++)
            {
                order[i] = i;
            }
            var keys = _ticks;
            Array.Sort(order, (a, b) => keys[a] != keys[b] ? keys[a].CompareTo(keys[b]) : a.CompareTo(b));
            _rows = [.. order.Select(i => _rows[i])];
            _ticks = [.. order.Select(i => keys[i])];
        }
    }

    /// <summary>The times of a typed time column (a missing one first of all), and whether they are in order.</summary>
    private static bool InOrder(DateTimeValues times, out long[] ticks)
    {
        ticks = new long[times.Count];
        for (var i = 0; i < ticks.Length; i++)
        {
            ticks[i] = times.IsNull(i) ? long.MinValue : times.Ticks(i);
            if (i > 0 && ticks[i - 1] > ticks[i])
            {
                return false;
            }
        }
        return true;
    }

    public int Count => _ticks.Length;

    /// <summary>The rows with from &lt;= time &lt; to, as a table of the same name and columns.</summary>
    public DataTable Slice(DateTime from, DateTime to)
    {
        var start = LowerBound(from.Ticks);
        var end = LowerBound(to.Ticks);
        var count = Math.Max(0, end - start);
        return _typed is { } typed
            ? new DataTable(_table.Name, _table.Columns, typed.Range(start, count))
            : new DataTable(_table.Name, _table.Columns, new ArraySegment<object?[]>(_rows, start, count));
    }

    private int LowerBound(long ticks)
    {
        int lo = 0, hi = _ticks.Length;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (_ticks[mid] < ticks)
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
}
