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
        _rows = [.. table.Rows.OrderBy(r => r[index] is DateTime d ? d.Ticks : long.MinValue)];
        _ticks = [.. _rows.Select(r => r[index] is DateTime d ? d.Ticks : long.MinValue)];
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
