using KeyAbuseContent.Engine.Kql.Execution.Scalar;
using KeyAbuseContent.Engine.Kql.Storage;

namespace KeyAbuseContent.Engine.Kql.Execution.Tabular;

/// <summary>
/// Dictionary-encodes the values of key columns into dense integer codes in order of first appearance, the same
/// value getting the same code across every column encoded with one encoder (both sides of a join). Null is a
/// value of its own: rows with null keys group together and join with each other.
/// </summary>
internal abstract class KeyEncoder
{
    public abstract int Cardinality { get; }

    /// <summary>An encoder for columns of <paramref name="type"/> (int, long, datetime and timespan share the 64-bit one).</summary>
    public static KeyEncoder For(KqlType type) => type switch
    {
        KqlType.Int or KqlType.Long or KqlType.DateTime or KqlType.TimeSpan or KqlType.Bool => new LongEncoder(),
        KqlType.Real => new RealEncoder(),
        KqlType.String => new StringEncoder(),
        KqlType.Guid => new BoxedEncoder(v => v),
        _ => new BoxedEncoder(v => v is System.Text.Json.Nodes.JsonNode n ? Scalars.Json(n) : v),
    };

    public abstract int[] Encode(Column column);

    /// <summary>
    /// One id per distinct combination of codes (one code array per key column), numbered in order of first
    /// appearance; with one key column its codes are the ids.
    /// </summary>
    public static (int[] Ids, int Count) Combine(IReadOnlyList<int[]> codes, int rowCount, int firstCardinality)
    {
        if (codes.Count == 0)
        {
            return (new int[rowCount], rowCount > 0 ? 1 : 0);
        }
        var combined = codes[0];
        var count = firstCardinality;
        for (var k = 1; k < codes.Count; k++)
        {
            var pairs = new LongIntMap();
            var ids = new int[rowCount];
            var key = codes[k];
            for (var r = 0; r < rowCount; r++)
            {
                ids[r] = pairs.GetOrAdd(((long)combined[r] << 32) | (uint)key[r]);
            }
            combined = ids;
            count = pairs.Count;
        }
        return (combined, count);
    }

    private sealed class LongEncoder : KeyEncoder
    {
        private readonly LongIntMap _codes = new();
        private int _nullCode = -1;

        public override int Cardinality => _codes.Count + (_nullCode >= 0 ? 1 : 0);

        public override int[] Encode(Column column)
        {
            var n = column.Count;
            var codes = new int[n];
            if (column is ConstantColumn c)
            {
                var code = CodeOf(ColumnViews.ConstantLong(c.Value));
                Array.Fill(codes, code);
                return codes;
            }
            var (values, nulls) = ColumnViews.Longs(column);
            var hasLast = false;
            long last = 0;
            var lastCode = 0;
            for (var i = 0; i < n; i++)
            {
                if (nulls is not null && nulls[i])
                {
                    codes[i] = CodeOf(null);
                    continue;
                }
                var v = values[i];
                if (hasLast && v == last)
                {
                    codes[i] = lastCode;
                    continue;
                }
                var code = CodeOf(v);
                codes[i] = code;
                (hasLast, last, lastCode) = (true, v, code);
            }
            return codes;
        }

        private int CodeOf(long? value)
        {
            if (value is not { } v)
            {
                if (_nullCode < 0)
                {
                    _nullCode = Cardinality;
                }
                return _nullCode;
            }
            return _codes.GetOrAdd(v, Cardinality);
        }
    }

    private sealed class RealEncoder : KeyEncoder
    {
        private readonly Dictionary<double, int> _codes = [];
        private int _nullCode = -1;

        public override int Cardinality => _codes.Count + (_nullCode >= 0 ? 1 : 0);

        public override int[] Encode(Column column)
        {
            var n = column.Count;
            var codes = new int[n];
            var (values, nulls) = column is ConstantColumn c
                ? (Enumerable.Repeat(ColumnViews.ConstantDouble(c.Value) ?? 0, n).ToArray(), c.Value is null ? Enumerable.Repeat(true, n).ToArray() : null)
                : ColumnViews.Doubles(column);
            for (var i = 0; i < n; i++)
            {
                if (nulls is not null && nulls[i])
                {
                    if (_nullCode < 0)
                    {
                        _nullCode = Cardinality;
                    }
                    codes[i] = _nullCode;
                    continue;
                }
                if (!_codes.TryGetValue(values[i], out var code))
                {
                    code = Cardinality;
                    _codes[values[i]] = code;
                }
                codes[i] = code;
            }
            return codes;
        }
    }

    private sealed class StringEncoder : KeyEncoder
    {
        private readonly Dictionary<string, int> _codes = new(StringComparer.Ordinal);

        public override int Cardinality => _codes.Count;

        public override int[] Encode(Column column)
        {
            var n = column.Count;
            var codes = new int[n];
            var values = column is ConstantColumn c ? Enumerable.Repeat(Scalars.ToKqlString(c.Value), n).ToArray() : ColumnViews.Strings(column);
            string? last = null;
            var lastCode = 0;
            for (var i = 0; i < n; i++)
            {
                var v = values[i];
                // Loaded tables often repeat the same string instance: a reference check skips the hash.
                if (ReferenceEquals(v, last))
                {
                    codes[i] = lastCode;
                    continue;
                }
                if (!_codes.TryGetValue(v, out var code))
                {
                    code = _codes.Count;
                    _codes[v] = code;
                }
                codes[i] = code;
                (last, lastCode) = (v, code);
            }
            return codes;
        }
    }

    private sealed class BoxedEncoder : KeyEncoder
    {
        private readonly Func<object, object> _key;
        private readonly Dictionary<object, int> _codes = [];
        private int _nullCode = -1;

        public BoxedEncoder(Func<object, object> key)
        {
            _key = key;
        }

        public override int Cardinality => _codes.Count + (_nullCode >= 0 ? 1 : 0);

        public override int[] Encode(Column column)
        {
            var m = column.Materialize();
            var codes = new int[m.Count];
            for (var i = 0; i < codes.Length; i++)
            {
                var value = m.GetValue(i);
                if (value is null || (value is System.Text.Json.Nodes.JsonNode n && Scalars.DynamicScalar(n) is null))
                {
                    if (_nullCode < 0)
                    {
                        _nullCode = Cardinality;
                    }
                    codes[i] = _nullCode;
                    continue;
                }
                var key = _key(value);
                if (!_codes.TryGetValue(key, out var code))
                {
                    code = Cardinality;
                    _codes[key] = code;
                }
                codes[i] = code;
            }
            return codes;
        }
    }
}

/// <summary>Groups rows by key columns: a group id per row, in order of first appearance, and each group's first row.</summary>
internal sealed record Groups(int[] RowGroups, int Count, int[] FirstRows)
{
    public static Groups Of(IReadOnlyList<Column> keys, int rowCount)
    {
        if (keys.Count == 0)
        {
            // No keys: one group, even over no rows.
            return new Groups(new int[rowCount], 1, [rowCount > 0 ? 0 : -1]);
        }
        var encoders = keys.Select(k => KeyEncoder.For(k.Type)).ToList();
        var codes = keys.Select((k, i) => encoders[i].Encode(k)).ToList();
        var (ids, count) = KeyEncoder.Combine(codes, rowCount, encoders[0].Cardinality);
        var firstRows = new int[count];
        Array.Fill(firstRows, -1);
        for (var r = 0; r < rowCount; r++)
        {
            if (firstRows[ids[r]] < 0)
            {
                firstRows[ids[r]] = r;
            }
        }
        return new Groups(ids, count, firstRows);
    }
}
