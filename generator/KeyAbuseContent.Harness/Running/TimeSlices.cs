using KeyAbuseContent.Engine.Data;

namespace KeyAbuseContent.Harness.Running;

/// <summary>
/// A table sorted by a time column, cut into the window a run may read: a platform never shows a run the
/// rows outside its period, and handing an executor only those rows keeps thousands of runs cheap.
/// </summary>
public sealed class TimeSlices
{
    private readonly DataTable _table;
    private readonly long[] _ticks;
    private readonly object?[][] _rows;

    public TimeSlices(DataTable table, string timeColumn)
    {
        var index = table.IndexOf(timeColumn);
        if (index < 0)
        {
            throw new ArgumentException($"table {table.Name} has no column {timeColumn}", nameof(timeColumn));
        }
        _table = table;
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

    public int Count => _rows.Length;

    /// <summary>The rows with from &lt;= time &lt; to, as a table of the same name and columns.</summary>
    public DataTable Slice(DateTime from, DateTime to)
    {
        var start = LowerBound(from.Ticks);
        var end = LowerBound(to.Ticks);
        return new DataTable(_table.Name, _table.Columns, new ArraySegment<object?[]>(_rows, start, Math.Max(0, end - start)));
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
