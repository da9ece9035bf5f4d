namespace KeyAbuseContent.Engine.Data;

/// <summary>
/// One column of a <see cref="TypedColumns"/> table: its values in a typed array, read by position. Values come
/// out in the interchange form of <see cref="DataTable"/>; the arrays are never changed once the column is built.
/// </summary>
public abstract class TypedColumn
{
    /// <summary>How many values the column holds.</summary>
    public abstract int Count { get; }

    /// <summary>The value at a position, in the interchange form (null when missing).</summary>
    public abstract object? Value(int position);
}

/// <summary>A column of strings; a null element is a missing value.</summary>
public sealed class StringValues(string?[] values) : TypedColumn
{
    public override int Count => values.Length;

    /// <summary>The values, for an engine that reads the array as it is (never to be changed).</summary>
    internal string?[] Values => values;

    public override object? Value(int position) => values[position];
}

/// <summary>A column of longs, missing where the optional null mask says so.</summary>
public sealed class LongValues(long[] values, bool[]? nulls) : TypedColumn
{
    public override int Count => values.Length;

    /// <summary>The values and null mask, for an engine that reads the arrays as they are (never to be changed).</summary>
    internal (long[] Values, bool[]? Nulls) Arrays => (values, nulls);

    public override object? Value(int position) => nulls is not null && nulls[position] ? null : values[position];
}

/// <summary>A column of doubles, missing where the optional null mask says so.</summary>
public sealed class DoubleValues(double[] values, bool[]? nulls) : TypedColumn
{
    public override int Count => values.Length;

    /// <summary>The values and null mask, for an engine that reads the arrays as they are (never to be changed).</summary>
    internal (double[] Values, bool[]? Nulls) Arrays => (values, nulls);

    public override object? Value(int position) => nulls is not null && nulls[position] ? null : values[position];
}

/// <summary>A column of UTC times held as ticks, missing where the optional null mask says so.</summary>
public sealed class DateTimeValues(long[] ticks, bool[]? nulls) : TypedColumn
{
    public override int Count => ticks.Length;

    /// <summary>The ticks of a position (meaningless where the value is missing).</summary>
    public long Ticks(int position) => ticks[position];

    public bool IsNull(int position) => nulls is not null && nulls[position];

    /// <summary>The ticks and null mask, for an engine that reads the arrays as they are (never to be changed).</summary>
    internal (long[] Ticks, bool[]? Nulls) Arrays => (ticks, nulls);

    public override object? Value(int position) => IsNull(position) ? null : new DateTime(ticks[position], DateTimeKind.Utc);
}

/// <summary>
/// A table's values held column by column in typed arrays, or a range of positions of such a table: what the
/// harness builds for its large tables instead of a boxed row a record. A range shares its columns with the
/// whole, so an engine that converted the whole once answers any range of it without converting again.
/// </summary>
public sealed class TypedColumns
{
    /// <summary>The whole of <paramref name="columns"/>, which must all hold the same number of values.</summary>
    public TypedColumns(IReadOnlyList<TypedColumn> columns)
    {
        var count = columns.Count == 0 ? 0 : columns[0].Count;
        if (columns.Any(c => c.Count != count))
        {
            throw new ArgumentException("typed columns of one table hold the same number of values", nameof(columns));
        }
        Columns = columns;
        Count = count;
    }

    private TypedColumns(IReadOnlyList<TypedColumn> columns, int offset, int count)
    {
        Columns = columns;
        Offset = offset;
        Count = count;
    }

    /// <summary>The whole columns, shared by every range of them.</summary>
    public IReadOnlyList<TypedColumn> Columns { get; }

    /// <summary>The first position of the whole columns this table holds.</summary>
    public int Offset { get; }

    /// <summary>How many positions this table holds.</summary>
    public int Count { get; }

    /// <summary>Whether this table holds every position of its columns.</summary>
    public bool IsWhole => Offset == 0 && Count == (Columns.Count == 0 ? 0 : Columns[0].Count);

    /// <summary>The value of row <paramref name="row"/> (of this table) in column <paramref name="column"/>.</summary>
    public object? Value(int row, int column) => Columns[column].Value(Offset + row);

    /// <summary>Rows [<paramref name="start"/>, <paramref name="start"/> + <paramref name="count"/>) of this table, sharing its columns.</summary>
    public TypedColumns Range(int start, int count)
    {
        if (start < 0 || count < 0 || start + count > Count)
        {
            throw new ArgumentOutOfRangeException(nameof(start), $"rows {start}..{start + count} of a table of {Count}");
        }
        return new TypedColumns(Columns, Offset + start, count);
    }
}

/// <summary>The rows of a <see cref="TypedColumns"/> table, each built (boxed) when read: for the few readers that want rows.</summary>
internal sealed class TypedRows(TypedColumns data) : IReadOnlyList<object?[]>
{
    public int Count => data.Count;

    public object?[] this[int index]
    {
        get
        {
            if ((uint)index >= (uint)data.Count)
            {
                throw new ArgumentOutOfRangeException(nameof(index));
            }
            var row = new object?[data.Columns.Count];
            for (var c = 0; c < row.Length; c++)
            {
                row[c] = data.Value(index, c);
            }
            return row;
        }
    }

    public IEnumerator<object?[]> GetEnumerator()
    {
        for (var i = 0; i < data.Count; i++)
        {
            yield return this[i];
        }
    }

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}
