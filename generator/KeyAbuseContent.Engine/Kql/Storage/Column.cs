using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;

namespace KeyAbuseContent.Engine.Kql.Storage;

/// <summary>
/// One column of values of one KQL type. Values keep their type's native form in typed arrays (datetime and
/// timespan as ticks); <see cref="GetValue"/> gives the interchange form of <see cref="Data.DataTable"/>.
/// </summary>
internal abstract class Column
{
    protected Column(KqlType type, int count)
    {
        Type = type;
        Count = count;
    }

    public KqlType Type { get; }

    public int Count { get; }

    public abstract bool IsNull(int row);

    /// <summary>The value of a row in the interchange form: long, int, double, bool, DateTime, TimeSpan, string, JsonNode, Guid or null.</summary>
    public abstract object? GetValue(int row);

    /// <summary>This column in a concrete typed form (constants, views and deferred expressions are materialized).</summary>
    public virtual Column Materialize() => this;

    /// <summary>The rows at <paramref name="rows"/> (all valid), as a view that copies only when it is read.</summary>
    public virtual Column Select(int[] rows) => new SelectedColumn(this, rows);

    /// <summary>The rows at <paramref name="rows"/>, in that order; -1 gives a null (the outer side of a join).</summary>
    public virtual Column Gather(int[] rows)
    {
        var builder = ColumnBuilder.Create(Type, rows.Length);
        foreach (var row in rows)
        {
            builder.Add(row < 0 ? null : GetValue(row));
        }
        return builder.Build();
    }
}

/// <summary>A column of fixed-size values (bool, int, long, real, guid; datetime and timespan as long ticks) with an optional null mask.</summary>
internal sealed class ValueColumn<T> : Column
    where T : unmanaged
{
    public ValueColumn(KqlType type, T[] values, bool[]? nulls, int count)
        : base(type, count)
    {
        Values = values;
        Nulls = nulls;
    }

    public T[] Values { get; }

    /// <summary>True where the value is null; null when no value is.</summary>
    public bool[]? Nulls { get; }

    public override bool IsNull(int row) => Nulls is not null && Nulls[row];

    public override object? GetValue(int row)
    {
        if (Nulls is not null && Nulls[row])
        {
            return null;
        }
        var value = Values[row];
        return Type switch
        {
            KqlType.DateTime => new DateTime(Unsafe.As<T, long>(ref value), DateTimeKind.Utc),
            KqlType.TimeSpan => new TimeSpan(Unsafe.As<T, long>(ref value)),
            _ => value,
        };
    }

    public override Column Gather(int[] rows)
    {
        var values = new T[rows.Length];
        bool[]? nulls = null;
        for (var i = 0; i < rows.Length; i++)
        {
            var row = rows[i];
            if (row < 0 || (Nulls is not null && Nulls[row]))
            {
                nulls ??= new bool[rows.Length];
                nulls[i] = true;
            }
            else
            {
                values[i] = Values[row];
            }
        }
        return new ValueColumn<T>(Type, values, nulls, rows.Length);
    }
}

/// <summary>A string column; KQL strings are never null, so an empty string stands for a missing one.</summary>
internal sealed class StringColumn : Column
{
    public StringColumn(string[] values, int count)
        : base(KqlType.String, count)
    {
        Values = values;
    }

    public string[] Values { get; }

    public override bool IsNull(int row) => false;

    public override object? GetValue(int row) => Values[row];

    public override Column Gather(int[] rows)
    {
        var values = new string[rows.Length];
        for (var i = 0; i < rows.Length; i++)
        {
            values[i] = rows[i] < 0 ? "" : Values[rows[i]];
        }
        return new StringColumn(values, rows.Length);
    }
}

/// <summary>A dynamic column; a C# null is the dynamic null. Nodes are shared, never modified: containers copy them.</summary>
internal sealed class DynamicColumn : Column
{
    public DynamicColumn(JsonNode?[] values, int count)
        : base(KqlType.Dynamic, count)
    {
        Values = values;
    }

    public JsonNode?[] Values { get; }

    public override bool IsNull(int row) => Values[row] is null;

    public override object? GetValue(int row) => Values[row];

    public override Column Gather(int[] rows)
    {
        var values = new JsonNode?[rows.Length];
        for (var i = 0; i < rows.Length; i++)
        {
            values[i] = rows[i] < 0 ? null : Values[rows[i]];
        }
        return new DynamicColumn(values, rows.Length);
    }
}

/// <summary>The same value on every row: literals and folded constants, materialized only when a kernel needs an array.</summary>
internal sealed class ConstantColumn : Column
{
    private Column? _materialized;

    public ConstantColumn(KqlType type, object? value, int count)
        : base(type, count)
    {
        Value = type == KqlType.String ? value ?? "" : value;
    }

    public object? Value { get; }

    public override bool IsNull(int row) => Value is null;

    public override object? GetValue(int row) => Value;

    public override Column Materialize()
    {
        if (_materialized is null)
        {
            var builder = ColumnBuilder.Create(Type, Count);
            for (var i = 0; i < Count; i++)
            {
                builder.Add(Value);
            }
            _materialized = builder.Build();
        }
        return _materialized;
    }

    public override Column Gather(int[] rows)
    {
        if (Value is null || Array.IndexOf(rows, -1) < 0)
        {
            return new ConstantColumn(Type, Value, rows.Length);
        }
        return base.Gather(rows);
    }

    public override Column Select(int[] rows) => new ConstantColumn(Type, Value, rows.Length);
}

/// <summary>
/// The rows of another column picked by a selection, gathered only when a kernel reads the column: a filter
/// keeps every column of a wide table this way, and only the columns later operators touch are copied.
/// </summary>
internal sealed class SelectedColumn : Column
{
    private readonly Column _source;
    private readonly int[] _rows;
    private Column? _materialized;

    public SelectedColumn(Column source, int[] rows)
        : base(source.Type, rows.Length)
    {
        _source = source;
        _rows = rows;
    }

    /// <summary>The column the rows are picked from.</summary>
    public Column Source => _source;

    /// <summary>The picked rows of <see cref="Source"/>.</summary>
    public int[] Rows => _rows;

    /// <summary>A selection of a selection picks from the original column directly.</summary>
    public override Column Select(int[] rows)
    {
        if (_materialized is not null)
        {
            return _materialized.Select(rows);
        }
        var composed = new int[rows.Length];
        for (var i = 0; i < rows.Length; i++)
        {
            composed[i] = _rows[rows[i]];
        }
        return _source.Select(composed);
    }

    public override bool IsNull(int row) => _materialized?.IsNull(row) ?? _source.IsNull(_rows[row]);

    public override object? GetValue(int row) => _materialized is { } m ? m.GetValue(row) : _source.GetValue(_rows[row]);

    public override Column Materialize() => _materialized ??= _source.Materialize().Gather(_rows);

    public override Column Gather(int[] rows) => Materialize().Gather(rows);
}
