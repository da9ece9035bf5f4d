using System.Collections.Immutable;
using KeyAbuseContent.Engine.Esql.Execution;
using KeyAbuseContent.Engine.Esql.Patterns;
using KeyAbuseContent.Engine.Esql.Syntax;
using KeyAbuseContent.Engine.Esql.Types;

namespace KeyAbuseContent.Engine.Esql.Evaluation;

/// <summary>
/// <c>x IN (a, b, ...)</c>: true when x equals an item; otherwise null when x or an item is null, else false.
/// Items of the value's type (the binder converts them); constant items are looked up in a hash set.
/// </summary>
internal sealed class InEvaluator(TextSpan span, Evaluator value, ImmutableArray<Evaluator> items) : Evaluator(EsqlType.Boolean, span)
{
    public override IReadOnlyList<Evaluator> Children => [value, .. items];

    public override Block Eval(Page page, EvalContext context) => EsqlTypes.Widen(value.Type) switch
    {
        EsqlType.Integer => Run<int>(page, context),
        EsqlType.Long or EsqlType.Date or EsqlType.TimeDuration => Run<long>(page, context),
        EsqlType.Double => Run<double>(page, context),
        EsqlType.Boolean => Run<bool>(page, context),
        EsqlType.Ip => Run<UInt128>(page, context),
        EsqlType.Keyword => Run<string>(page, context),
        _ => Block.AllNull(EsqlType.Boolean, page.PositionCount),
    };

    private Block<bool> Run<T>(Page page, EvalContext context)
        where T : notnull
    {
        var count = page.PositionCount;
        var block = (Block<T>)value.Eval(page, context);
        var values = new bool[count];
        bool[]? nulls = null;
        if (items.All(i => i.IsConstant))
        {
            var set = new HashSet<T>();
            var anyNull = false;
            foreach (var item in items.Cast<ConstantEvaluator>())
            {
                if (item.Value is null)
                {
                    anyNull = true;
                }
                else if (item.Value is ImmutableArray<object?>)
                {
                    anyNull = true;
                }
                else
                {
                    set.Add((T)item.Value);
                }
            }
            if (block.IsDense && !anyNull)
            {
                // The common case: a plain column against a few constants, without hashing.
                var source = block.Values;
                var candidates = set.ToArray();
                var equality = EqualityComparer<T>.Default;
                for (var p = 0; p < count; p++)
                {
                    var v = source[p];
                    var found = false;
                    foreach (var c in candidates)
                    {
                        found |= equality.Equals(v, c);
                    }
                    values[p] = found;
                }
                return new Block<bool>(EsqlType.Boolean, count, values);
            }
            for (var p = 0; p < count; p++)
            {
                if (BinaryLoop.Single(block, p, Span, context) && set.Contains(block.Value(p)))
                {
                    values[p] = true;
                }
                else if (anyNull || block.IsNull(p) || block.ValueCount(p) > 1)
                {
                    nulls ??= new bool[count];
                    nulls[p] = true;
                }
            }
            return new Block<bool>(EsqlType.Boolean, count, values, nulls);
        }
        var itemBlocks = items.Select(i => (Block<T>)i.Eval(page, context)).ToArray();
        var comparer = EqualityComparer<T>.Default;
        for (var p = 0; p < count; p++)
        {
            if (!BinaryLoop.Single(block, p, Span, context))
            {
                nulls ??= new bool[count];
                nulls[p] = true;
                continue;
            }
            var v = block.Value(p);
            var found = false;
            var sawNull = false;
            foreach (var item in itemBlocks)
            {
                if (item.ValueCount(p) != 1)
                {
                    sawNull = true;
                }
                else if (comparer.Equals(item.Value(p), v))
                {
                    found = true;
                    break;
                }
            }
            if (found)
            {
                values[p] = true;
            }
            else if (sawNull)
            {
                nulls ??= new bool[count];
                nulls[p] = true;
            }
        }
        return new Block<bool>(EsqlType.Boolean, count, values, nulls);
    }
}

/// <summary><c>LIKE</c> and <c>RLIKE</c>: a whole-string, case-sensitive match of any of the patterns.</summary>
internal sealed class PatternEvaluator(TextSpan span, Evaluator value, ImmutableArray<StringMatcher> matchers) : Evaluator(EsqlType.Boolean, span)
{
    public override IReadOnlyList<Evaluator> Children => [value];

    public override Block Eval(Page page, EvalContext context)
    {
        var block = (Block<string>)value.Eval(page, context);
        var count = page.PositionCount;
        var values = new bool[count];
        bool[]? nulls = null;
        if (block.IsDense)
        {
            var source = block.Values;
            for (var p = 0; p < count; p++)
            {
                values[p] = Matches(source[p]);
            }
            return new Block<bool>(EsqlType.Boolean, count, values);
        }
        for (var p = 0; p < count; p++)
        {
            if (BinaryLoop.Single(block, p, Span, context))
            {
                values[p] = Matches(block.Value(p));
            }
            else
            {
                nulls ??= new bool[count];
                nulls[p] = true;
            }
        }
        return new Block<bool>(EsqlType.Boolean, count, values, nulls);
    }

    private bool Matches(string text)
    {
        foreach (var matcher in matchers)
        {
            if (matcher.IsMatch(text))
            {
                return true;
            }
        }
        return false;
    }
}
