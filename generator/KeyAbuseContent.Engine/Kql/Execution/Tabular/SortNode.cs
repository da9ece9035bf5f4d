using System.Collections.Immutable;
using KeyAbuseContent.Engine.Kql.Execution.Scalar;
using KeyAbuseContent.Engine.Kql.Storage;

namespace KeyAbuseContent.Engine.Kql.Execution.Tabular;

/// <summary>A sort key: an expression, its direction, and where its nulls go.</summary>
internal sealed record SortKey(ScalarNode Expr, bool Descending, bool NullsFirst);

/// <summary>
/// <c>sort by</c> and <c>top N by</c>: a stable sort on typed keys (ties keep input order). Strings order ordinally;
/// by default ascending puts nulls first and descending puts them last, as in Kusto.
/// </summary>
internal sealed class SortNode : TabularNode
{
    private readonly TabularNode _input;
    private readonly ImmutableArray<SortKey> _keys;
    private readonly ScalarNode? _limit;

    public SortNode(TabularNode input, ImmutableArray<SortKey> keys, ScalarNode? limit)
        : base(input.Schema)
    {
        _input = input;
        _keys = keys;
        _limit = limit;
    }

    public override RowSet Execute(QueryContext context)
    {
        var input = _input.Execute(context);
        var n = input.RowCount;
        var comparers = _keys.Select(k => KeyComparer(k, k.Expr.Evaluate(input, context))).ToArray();
        var order = new int[n];
        for (var i = 0; i < n; i++)
        {
            order[i] = i;
        }
        Array.Sort(order, (a, b) =>
        {
            foreach (var compare in comparers)
            {
                var c = compare(a, b);
                if (c != 0)
                {
                    return c;
                }
            }
            return a.CompareTo(b);
        });
        if (_limit is not null)
        {
            var limit = ColumnViews.ConstantLong(_limit.Evaluate(SingleRow, context).GetValue(0)) ?? 0;
            if (limit < order.Length)
            {
                order = order[..(int)Math.Max(limit, 0)];
            }
        }
        return input.Select(order);
    }

    private static Comparison<int> KeyComparer(SortKey key, Column column)
    {
        var direction = key.Descending ? -1 : 1;
        var nullsFirst = key.NullsFirst;
        var m = column.Materialize();
        switch (m)
        {
            case ValueColumn<long> or ValueColumn<int>:
                var (longs, longNulls) = ColumnViews.Longs(m);
                return (a, b) => WithNulls(longNulls, a, b, nullsFirst) ?? direction * longs[a].CompareTo(longs[b]);
            case ValueColumn<double> d:
                return (a, b) => WithNulls(d.Nulls, a, b, nullsFirst) ?? direction * d.Values[a].CompareTo(d.Values[b]);
            case StringColumn s:
                return (a, b) => direction * string.CompareOrdinal(s.Values[a], s.Values[b]);
            default:
                return (a, b) =>
                {
                    var x = Unwrap(m.GetValue(a));
                    var y = Unwrap(m.GetValue(b));
                    if (x is null || y is null)
                    {
                        return x is null && y is null ? 0 : (x is null == nullsFirst ? -1 : 1);
                    }
                    return direction * Ordering.CompareForSort(x, y);
                };
        }
    }

    private static object? Unwrap(object? value) => value is System.Text.Json.Nodes.JsonNode n ? Scalars.DynamicScalar(n) : value;

    private static int? WithNulls(bool[]? nulls, int a, int b, bool nullsFirst)
    {
        if (nulls is null)
        {
            return null;
        }
        var (na, nb) = (nulls[a], nulls[b]);
        if (!na && !nb)
        {
            return null;
        }
        if (na && nb)
        {
            return 0;
        }
        return na == nullsFirst ? -1 : 1;
    }
}
