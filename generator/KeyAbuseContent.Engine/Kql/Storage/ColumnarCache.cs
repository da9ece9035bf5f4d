using System.Runtime.CompilerServices;
using KeyAbuseContent.Engine.Data;

namespace KeyAbuseContent.Engine.Kql.Storage;

/// <summary>
/// Columnar copies of input tables, one per <see cref="DataTable"/> instance for as long as it lives, so that the
/// many runs of a scheduled rule over the same dataset convert each table once. A table whose rows are an
/// <see cref="ArraySegment{T}"/> (a time slice the harness cuts for a run) is a view of its array's conversion,
/// which is made once per array, columns and name: thousands of runs over slices of one table convert it once.
/// A range of a table of <see cref="TypedColumns"/> is likewise a view of its whole columns' conversion.
/// </summary>
internal sealed class ColumnarCache
{
    private readonly ConditionalWeakTable<DataTable, RowSet> _tables = [];
    private readonly ConditionalWeakTable<object?[][], Lazy<SegmentSource>> _arrays = [];
    private readonly ConditionalWeakTable<IReadOnlyList<TypedColumn>, Lazy<SegmentSource>> _typed = [];
    private readonly ConditionalWeakTable<Column, Execution.Tabular.AddressMatches> _addressMatches = [];

    /// <summary>
    /// What <c>ipv4_lookup</c> found for the rows of a converted column: the runs over slices of one table read its
    /// matches instead of matching each address of their slice again.
    /// </summary>
    public Execution.Tabular.AddressMatches AddressMatches(Column column) => _addressMatches.GetValue(column, _ => new());

    /// <summary>The whole array of a sliced table, converted; null when a row of it does not convert.</summary>
    private sealed record SegmentSource(IReadOnlyList<ColumnSchema> Columns, string Name, RowSet? Rows);

    /// <summary>
    /// A table's columns. A slice is not kept per table instance: it is a view of its array's or columns' conversion,
    /// cheap to make again, and keeping thousands of per-run slice tables as keys would cost every collection their handles.
    /// </summary>
    public RowSet Get(DataTable table) => IsSlice(table) ? Convert(table) : _tables.GetValue(table, Convert);

    /// <summary>Whether a table is a time slice the harness cut (a part of a row array or a range of typed columns).</summary>
    public static bool IsSlice(DataTable table) =>
        table.Data is { IsWhole: false }
        || (table.Data is null && table.Rows is ArraySegment<object?[]> { Array: { } array } segment && segment.Count != array.Length);

    private RowSet Convert(DataTable table)
    {
        if (table.Data is { } data)
        {
            return ConvertRange(table, data);
        }
        if (table.Rows is not ArraySegment<object?[]> { Array: { } array } segment || segment.Count == array.Length)
        {
            return ConvertRows(table);
        }
        // Lazy: runs on several threads slicing one array convert it once.
        var source = _arrays.GetValue(array, a => new Lazy<SegmentSource>(() => new SegmentSource(table.Columns, table.Name, TryConvert(new DataTable(table.Name, table.Columns, a))))).Value;
        if (source.Rows is not { } whole || !ReferenceEquals(source.Columns, table.Columns) || source.Name != table.Name)
        {
            // Another schema over the same array, or rows outside the slice that do not convert: the slice on its own,
            // so errors name the slice's rows as before.
            return ConvertRows(table);
        }
        var rows = new int[segment.Count];
        for (var i = 0; i < rows.Length; i++)
        {
            rows[i] = segment.Offset + i;
        }
        return whole.Select(rows);
    }

    /// <summary>A range of typed columns: a view of the whole columns' conversion, made once per columns, schema and name.</summary>
    private RowSet ConvertRange(DataTable table, TypedColumns data)
    {
        if (data.IsWhole)
        {
            return ConvertRows(table);
        }
        var source = _typed.GetValue(data.Columns, c => new Lazy<SegmentSource>(() => new SegmentSource(table.Columns, table.Name, TryConvert(new DataTable(table.Name, table.Columns, new TypedColumns(c)))))).Value;
        if (source.Rows is not { } whole || !ReferenceEquals(source.Columns, table.Columns) || source.Name != table.Name)
        {
            return ConvertRows(table);
        }
        var rows = new int[data.Count];
        for (var i = 0; i < rows.Length; i++)
        {
            rows[i] = data.Offset + i;
        }
        return whole.Select(rows);
    }

    private static RowSet? TryConvert(DataTable table)
    {
        try
        {
            return ConvertRows(table);
        }
        catch (KqlException)
        {
            return null;
        }
    }

    /// <summary>A table's rows in columns; a value that is not of its column's type is an error naming the table, row and column.</summary>
    /// <summary>A table's columns in KQL's types; a type that is not KQL's is an error naming the table and column.</summary>
    public static TableSchema Schema(DataTable table)
    {
        var schema = new List<ColumnSymbol>();
        foreach (var column in table.Columns)
        {
            if (!KqlTypes.TryParse(column.Type, out var type))
            {
                throw new KqlException(KqlErrorKind.Runtime, $"table {table.Name}: column '{column.Name}' has type '{column.Type}', which is not a KQL type", 1, 1);
            }
            schema.Add(new ColumnSymbol(column.Name, type));
        }
        return new TableSchema(schema);
    }

    public static RowSet ConvertRows(DataTable table)
    {
        var tableSchema = Schema(table);
        var schema = tableSchema.Columns;
        var columns = new Column[schema.Length];
        for (var c = 0; c < columns.Length; c++)
        {
            var type = schema[c].Type;
            if (table.Data is { IsWhole: true } data && Shared(data.Columns[c], type) is { } shared)
            {
                columns[c] = shared;
                continue;
            }
            var builder = ColumnBuilder.Create(type, table.Rows.Count);
            for (var r = 0; r < table.Rows.Count; r++)
            {
                var value = table.Value(r, c);
                if (value is System.Collections.IList and not System.Text.Json.Nodes.JsonNode && type == KqlType.Dynamic)
                {
                    throw new KqlException(KqlErrorKind.Runtime, $"table {table.Name}: row {r + 1}, column '{schema[c].Name}' holds a multi-value list; KQL dynamic values are JSON nodes", 1, 1);
                }
                if (value is System.Text.Json.Nodes.JsonNode node)
                {
                    // A private, fully built copy: JsonNodes build themselves lazily, which is not safe to share between
                    // threads, and the caller's nodes stay the caller's.
                    value = node.DeepClone();
                }
                if (!builder.Add(value))
                {
                    throw new KqlException(KqlErrorKind.Runtime, $"table {table.Name}: row {r + 1}, column '{schema[c].Name}' ({type.Name()}) holds {Describe(value!)}", 1, 1);
                }
            }
            columns[c] = builder.Build();
        }
        return new RowSet(tableSchema, columns, table.Rows.Count);
    }

    /// <summary>
    /// A whole typed column whose arrays are already the engine's form for its KQL type, read as they are (both
    /// sides never change them): no value is boxed. Null for any other pairing, which converts value by value.
    /// </summary>
    private static Column? Shared(TypedColumn column, KqlType type) => (column, type) switch
    {
        (StringValues s, KqlType.String) when Array.IndexOf(s.Values, null) < 0 => new StringColumn(s.Values!, s.Count),
        (LongValues l, KqlType.Long) => new ValueColumn<long>(type, l.Arrays.Values, l.Arrays.Nulls, l.Count),
        (DoubleValues d, KqlType.Real) => new ValueColumn<double>(type, d.Arrays.Values, d.Arrays.Nulls, d.Count),
        (DateTimeValues t, KqlType.DateTime) => new ValueColumn<long>(type, t.Arrays.Ticks, t.Arrays.Nulls, t.Count),
        _ => null,
    };

    private static string Describe(object value) => $"the {value.GetType().Name} '{value}', which does not convert";
}
