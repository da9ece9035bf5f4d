using System.Collections.Immutable;
using System.Globalization;
using System.Net;
using System.Runtime.CompilerServices;
using KeyAbuseContent.Engine.Data;
using KeyAbuseContent.Engine.Esql.Types;

namespace KeyAbuseContent.Engine.Esql.Execution;

/// <summary>
/// Reads the interchange table into blocks, one column at a time and only when a query reads it. The blocks
/// are cached with the table (tables are immutable), so running many queries over one dataset converts each
/// column once.
/// </summary>
internal static class TableImport
{
    private static readonly ConditionalWeakTable<DataTable, Columns> Cache = [];

    /// <summary>The ES|QL type of an input column.</summary>
    public static EsqlType ColumnType(DataTable table, int column) => EsqlTypes.FromColumnType(table.Columns[column].Type);

    public static Block Column(DataTable table, int column)
    {
        var cached = Cache.GetValue(table, t => new Columns(t.Columns.Count));
        lock (cached)
        {
            return cached.Blocks[column] ??= Convert(table, column);
        }
    }

    /// <summary>
    /// The positions whose date column <paramref name="column"/> is in [<paramref name="from"/>, <paramref name="to"/>)
    /// (epoch milliseconds), in table order: a binary search over the column's time order, built once per table
    /// and column, so a run costs the rows of its window, not the rows of the table.
    /// </summary>
    public static int[] Window(DataTable table, int column, long from, long to)
    {
        var cached = Cache.GetValue(table, t => new Columns(t.Columns.Count));
        TimeOrder order;
        lock (cached)
        {
            if (!cached.TimeOrders.TryGetValue(column, out var built))
            {
                built = TimeOrder.Of((Block<long>)(cached.Blocks[column] ??= Convert(table, column)));
                cached.TimeOrders[column] = built;
            }
            order = built;
        }
        return order.Window(from, to);
    }

    /// <summary>What is cached for one table: its converted columns and the time orders of its date columns.</summary>
    private sealed class Columns(int count)
    {
        public Block?[] Blocks { get; } = new Block?[count];

        public Dictionary<int, TimeOrder> TimeOrders { get; } = [];
    }

    private static Block Convert(DataTable table, int column)
    {
        var type = ColumnType(table, column);
        var rows = table.Rows;
        if (type is EsqlType.Null or EsqlType.Unsupported)
        {
            return Block.AllNull(type, rows.Count);
        }
        if (table.Data is { IsWhole: true } data && Typed(data.Columns[column], type) is { } typed)
        {
            return typed is Block<string> { FirstValues: null } strings ? Encode(strings) : typed;
        }
        var builder = BlockBuilder.Create(type, rows.Count);
        for (var r = 0; r < rows.Count; r++)
        {
            var value = table.Value(r, column);
            if (value is ImmutableArray<object?> many)
            {
                var converted = many.Where(v => v is not null).Select(v => ToStorage(v!, type, table, column, r)).ToImmutableArray();
                builder.AppendBoxed(converted.Length switch
                {
                    0 => null,
                    1 => converted[0],
                    _ => converted,
                });
            }
            else
            {
                builder.AppendBoxed(value is null ? null : ToStorage(value, type, table, column, r));
            }
        }
        var block = builder.Build();
        return block is Block<string> { FirstValues: null } keywords ? Encode(keywords) : block;
    }

    /// <summary>
    /// A whole typed column as its block without boxing a value: strings, longs and finite doubles share the column's
    /// arrays (neither side changes them), dates become epoch milliseconds as <see cref="ToStorage"/> makes them. Null
    /// for any other pairing, which converts value by value (and reports a value that does not convert).
    /// </summary>
    private static Block? Typed(TypedColumn column, EsqlType type)
    {
        switch (column, type)
        {
            case (StringValues s, EsqlType.Keyword or EsqlType.Text):
                {
                    var values = s.Values;
                    bool[]? nulls = null;
                    for (var i = 0; i < values.Length; i++)
                    {
                        if (values[i] is null)
                        {
                            (nulls ??= new bool[values.Length])[i] = true;
                        }
                    }
                    return new Block<string>(type, values.Length, values!, nulls);
                }
            case (LongValues l, EsqlType.Long):
                return new Block<long>(type, l.Count, l.Arrays.Values, l.Arrays.Nulls);
            case (DoubleValues d, EsqlType.Double):
                {
                    var (values, nulls) = d.Arrays;
                    for (var i = 0; i < values.Length; i++)
                    {
                        if (!double.IsFinite(values[i]) && !(nulls is not null && nulls[i]))
                        {
                            return null;
                        }
                    }
                    return new Block<double>(type, d.Count, values, nulls);
                }
            case (DateTimeValues t, EsqlType.Date):
                {
                    var (ticks, nulls) = t.Arrays;
                    var millis = new long[ticks.Length];
                    for (var i = 0; i < millis.Length; i++)
                    {
                        millis[i] = nulls is not null && nulls[i] ? 0 : ValueFormat.ToMillis(new DateTime(ticks[i], DateTimeKind.Utc));
                    }
                    return new Block<long>(type, millis.Length, millis, nulls);
                }
            default:
                return null;
        }
    }

    /// <summary>A keyword column with its dictionary of distinct values, for grouping without hashing each row.</summary>
    private static Block<string> Encode(Block<string> block)
    {
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        var dictionary = new List<string>();
        var codes = new int[block.PositionCount];
        for (var p = 0; p < codes.Length; p++)
        {
            if (block.IsNull(p))
            {
                codes[p] = -1;
                continue;
            }
            var value = block.Values[p];
            if (!ids.TryGetValue(value, out var code))
            {
                code = dictionary.Count;
                ids[value] = code;
                dictionary.Add(value);
            }
            codes[p] = code;
        }
        return new Block<string>(block.Type, block.PositionCount, block.Values, block.Nulls, encoding: new DictionaryEncoding<string>(codes, [.. dictionary]));
    }

    /// <summary>A neutral value as the block of <paramref name="type"/> stores it.</summary>
    public static object? ToStorage(object value, EsqlType type, DataTable table, int column, int row)
    {
        object? result = (type, value) switch
        {
            (EsqlType.Keyword or EsqlType.Text, string s) => s,
            (EsqlType.Keyword or EsqlType.Text, char c) => c.ToString(),
            (EsqlType.Keyword or EsqlType.Text, Guid g) => g.ToString(),
            (EsqlType.Keyword or EsqlType.Text, System.Text.Json.Nodes.JsonNode n) => n.ToJsonString(),
            (EsqlType.Integer, int i) => i,
            (EsqlType.Integer, short s) => (int)s,
            (EsqlType.Integer, byte b) => (int)b,
            (EsqlType.Integer, long l) when l is >= int.MinValue and <= int.MaxValue => (int)l,
            (EsqlType.Long, long l) => l,
            (EsqlType.Long, int i) => (long)i,
            (EsqlType.Long, short s) => (long)s,
            (EsqlType.Long, byte b) => (long)b,
            (EsqlType.Long, uint u) => (long)u,
            (EsqlType.Long, ulong u) when u <= long.MaxValue => (long)u,
            (EsqlType.Double, double d) when double.IsFinite(d) => d,
            (EsqlType.Double, float f) when float.IsFinite(f) => (double)f,
            (EsqlType.Double, decimal m) => (double)m,
            (EsqlType.Double, int i) => (double)i,
            (EsqlType.Double, long l) => (double)l,
            (EsqlType.Boolean, bool b) => b,
            (EsqlType.Date, DateTime t) => ValueFormat.ToMillis(t),
            (EsqlType.Date, DateTimeOffset t) => ValueFormat.ToMillis(t.UtcDateTime),
            (EsqlType.Date, long l) => l,
            (EsqlType.Date, string s) when ValueFormat.TryParseDate(s, out var millis) => millis,
            (EsqlType.Ip, IPAddress a) when ValueFormat.FromAddress(a, out var ip) => ip,
            (EsqlType.Ip, string s) when ValueFormat.TryParseIp(s, out var ip) => ip,
            (EsqlType.TimeDuration, TimeSpan t) => (long)t.TotalMilliseconds,
            _ => null,
        };
        return result ?? throw new EsqlException(
            $"index [{table.Name}] column [{table.Columns[column].Name}] row {row + 1}: the value [{System.Convert.ToString(value, CultureInfo.InvariantCulture)}] ({value.GetType().Name}) is not a {EsqlTypes.Name(type)}");
    }
}

/// <summary>Writes a page as the interchange table, with each type's public value (see <see cref="EsqlEngine"/>).</summary>
internal static class TableExport
{
    public static DataTable ToTable(string name, Planning.Schema schema, Page page)
    {
        var columns = schema.Attributes.Select(a => new ColumnSchema(a.Name, EsqlTypes.Name(a.Type))).ToList();
        var blocks = Enumerable.Range(0, schema.Count).Select(page.Block).ToArray();
        var rows = new List<object?[]>(page.PositionCount);
        for (var p = 0; p < page.PositionCount; p++)
        {
            var row = new object?[blocks.Length];
            for (var c = 0; c < blocks.Length; c++)
            {
                row[c] = Public(schema[c].Type, blocks[c].BoxPosition(p));
            }
            rows.Add(row);
        }
        return new DataTable(name, columns, rows);
    }

    public static object? Public(EsqlType type, object? value) => value switch
    {
        null => null,
        ImmutableArray<object?> many => many.Select(v => Public(type, v)).ToImmutableArray(),
        _ => type switch
        {
            EsqlType.Date => ValueFormat.ToDateTime((long)value),
            EsqlType.Ip => ValueFormat.Ip((UInt128)value),
            EsqlType.TimeDuration => TimeSpan.FromMilliseconds((long)value),
            EsqlType.DatePeriod => value.ToString(),
            _ => value,
        },
    };
}
