using KeyAbuseContent.Engine.Esql.Evaluation;
using KeyAbuseContent.Engine.Esql.Execution;
using KeyAbuseContent.Engine.Esql.Planning;
using KeyAbuseContent.Engine.Esql.Types;

namespace KeyAbuseContent.Engine.Esql.Commands;

/// <summary>One key of SORT, bound.</summary>
internal sealed record SortSpec(Evaluator Value, bool Descending, bool NullsFirst);

/// <summary>
/// SORT: a stable sort on the keys in turn. A multi-valued key sorts by its smallest value ascending and its
/// largest descending; nulls go last ascending and first descending unless NULLS FIRST/LAST says otherwise.
/// </summary>
internal sealed class SortOperator(Schema output, IReadOnlyList<SortSpec> keys) : Operator(output)
{
    public override Page Run(Page input, EvalContext context)
    {
        var count = input.PositionCount;
        var comparers = keys.Select(k => KeyComparer(k, k.Value.Eval(input, context), count)).ToArray();
        var order = new int[count];
        for (var i = 0; i < count; i++)
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
        return input.Filter(order);
    }

    private static Comparison<int> KeyComparer(SortSpec key, Block block, int count) => EsqlTypes.Widen(block.Type) switch
    {
        EsqlType.Integer => Typed<int, IntOrder>(key, (Block<int>)block, count),
        EsqlType.Long or EsqlType.Date or EsqlType.TimeDuration => Typed<long, LongOrder>(key, (Block<long>)block, count),
        EsqlType.Double => Typed<double, DoubleOrder>(key, (Block<double>)block, count),
        EsqlType.Boolean => Typed<bool, BooleanOrder>(key, (Block<bool>)block, count),
        EsqlType.Ip => Typed<UInt128, IpOrder>(key, (Block<UInt128>)block, count),
        EsqlType.Keyword => Typed<string, KeywordOrder>(key, (Block<string>)block, count),
        _ => static (_, _) => 0,
    };

    private static Comparison<int> Typed<T, TOrder>(SortSpec key, Block<T> block, int count)
        where TOrder : IValueOrder<T>
    {
        var values = new T[count];
        var nulls = new bool[count];
        for (var p = 0; p < count; p++)
        {
            var n = block.ValueCount(p);
            if (n == 0)
            {
                nulls[p] = true;
                continue;
            }
            var first = block.FirstValueIndex(p);
            var best = block.Values[first];
            for (var i = 1; i < n; i++)
            {
                var v = block.Values[first + i];
                if (key.Descending ? TOrder.Compare(v, best) > 0 : TOrder.Compare(v, best) < 0)
                {
                    best = v;
                }
            }
            values[p] = best;
        }
        var nullOrder = key.NullsFirst ? -1 : 1;
        var direction = key.Descending ? -1 : 1;
        return (a, b) =>
        {
            if (nulls[a] || nulls[b])
            {
                return nulls[a] == nulls[b] ? 0 : nulls[a] ? nullOrder : -nullOrder;
            }
            return direction * TOrder.Compare(values[a], values[b]);
        };
    }
}
