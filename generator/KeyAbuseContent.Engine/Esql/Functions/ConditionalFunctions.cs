using KeyAbuseContent.Engine.Esql.Evaluation;
using KeyAbuseContent.Engine.Esql.Execution;
using KeyAbuseContent.Engine.Esql.Planning;
using KeyAbuseContent.Engine.Esql.Syntax;
using KeyAbuseContent.Engine.Esql.Types;

namespace KeyAbuseContent.Engine.Esql.Functions;

/// <summary>CASE, COALESCE, GREATEST and LEAST.</summary>
internal static class ConditionalFunctions
{
    public static void Register(Dictionary<string, FunctionBinder> functions)
    {
        functions["COALESCE"] = call =>
        {
            call.Arity(1, int.MaxValue);
            var type = Unify(call, Enumerable.Range(0, call.Count));
            return new CoalesceEvaluator(type, call.Span, [.. call.Args]);
        };
        functions["CASE"] = Case;
        functions["GREATEST"] = call => Extreme(call, greatest: true);
        functions["LEAST"] = call => Extreme(call, greatest: false);
    }

    /// <summary>
    /// The one type of the values: Elasticsearch requires the same type of every non-constant value and converts
    /// numeric constants to it (so <c>COALESCE(long_field, 0)</c> is a long).
    /// </summary>
    public static EsqlType Unify(FunctionCall call, IEnumerable<int> indexes)
    {
        var list = indexes.ToList();
        EsqlType? fieldType = null;
        var constantType = EsqlType.Null;
        foreach (var i in list)
        {
            var type = call.Type(i);
            if (type == EsqlType.Null)
            {
                continue;
            }
            if (call.Args[i] is ConstantEvaluator)
            {
                constantType = Binder.CommonType(constantType, type) ?? (fieldType is null ? throw Mismatch(call, i, constantType) : constantType);
                continue;
            }
            if (fieldType is null)
            {
                fieldType = type;
            }
            else if (fieldType != type)
            {
                throw Mismatch(call, i, fieldType.Value);
            }
        }
        var target = fieldType ?? constantType;
        foreach (var i in list)
        {
            var type = call.Type(i);
            if (type == EsqlType.Null || type == target)
            {
                continue;
            }
            if (call.Args[i] is ConstantEvaluator && EsqlTypes.IsNumeric(type) && EsqlTypes.IsNumeric(target))
            {
                call.Convert(i, target);
                continue;
            }
            throw Mismatch(call, i, target);
        }
        return target;
    }

    private static EsqlException Mismatch(FunctionCall call, int i, EsqlType expected) => call.Binder.Error(call.Syntax.Args[i].Span,
        $"{Binder.Ordinal(i + 1)} argument of [{call.Text}] must be [{EsqlTypes.Name(expected)}], found value [{call.Binder.Text(call.Syntax.Args[i])}] type [{EsqlTypes.Name(call.Args[i].Type)}]");

    private static Evaluator Case(FunctionCall call)
    {
        call.Arity(2, int.MaxValue);
        var values = new List<int>();
        for (var i = 0; i < call.Count; i++)
        {
            var isCondition = i % 2 == 0 && i < call.Count - 1;
            if (isCondition)
            {
                call.Expect(i, "boolean", t => t == EsqlType.Boolean);
                if (call.Type(i) == EsqlType.Null)
                {
                    call.Replace(i, new ConstantEvaluator(EsqlType.Boolean, call.Args[i].Span, null));
                }
            }
            else
            {
                values.Add(i);
            }
        }
        var type = Unify(call, values);
        return new CaseEvaluator(type, call.Span, [.. call.Args]);
    }

    private static Evaluator Extreme(FunctionCall call, bool greatest)
    {
        call.Arity(1, int.MaxValue);
        var type = EsqlType.Null;
        for (var i = 0; i < call.Count; i++)
        {
            call.Expect(i, "boolean, date, double, integer, ip, keyword, long or text", t => t is EsqlType.Boolean or EsqlType.Date or EsqlType.Ip or EsqlType.Keyword || EsqlTypes.IsNumeric(t));
            type = Binder.CommonType(type, call.Type(i)) ?? throw Mismatch(call, i, type);
        }
        for (var i = 0; i < call.Count; i++)
        {
            call.Convert(i, type);
        }
        var comparer = ValueComparer.For(type);
        return call.Scalar(type, args =>
        {
            object? best = null;
            foreach (var arg in args)
            {
                foreach (var value in MultiValueFunctions.Values(arg))
                {
                    if (best is null || (greatest ? comparer.Compare(value, best) > 0 : comparer.Compare(value, best) < 0))
                    {
                        best = value;
                    }
                }
            }
            return best;
        }, MultiValueMode.Whole);
    }
}

/// <summary>COALESCE: the first argument that is not null, with all its values.</summary>
internal sealed class CoalesceEvaluator(EsqlType type, TextSpan span, Evaluator[] args) : Evaluator(type, span)
{
    public override IReadOnlyList<Evaluator> Children => args;

    public override Block Eval(Page page, EvalContext context)
    {
        var count = page.PositionCount;
        var first = args[0].Eval(page, context);
        if (first.IsDense || (first.IsConstant && !first.IsNull(0)))
        {
            return Cast.Retype(first, Type);
        }
        var blocks = new Block?[args.Length];
        blocks[0] = first;
        var builder = BlockBuilder.Create(Type, count);
        for (var p = 0; p < count; p++)
        {
            var copied = false;
            for (var i = 0; i < args.Length; i++)
            {
                var block = blocks[i] ??= args[i].Eval(page, context);
                if (!block.IsNull(p) && block.Type != EsqlType.Null)
                {
                    builder.CopyPosition(block, p);
                    copied = true;
                    break;
                }
            }
            if (!copied)
            {
                builder.AppendNull();
            }
        }
        return builder.Build();
    }
}

/// <summary>CASE(condition, value, ..., [else]): the value of the first true condition; a multi-valued condition is false with a warning.</summary>
internal sealed class CaseEvaluator(EsqlType type, TextSpan span, Evaluator[] args) : Evaluator(type, span)
{
    public override IReadOnlyList<Evaluator> Children => args;

    public override Block Eval(Page page, EvalContext context)
    {
        var count = page.PositionCount;
        var blocks = args.Select(a => a.Eval(page, context)).ToArray();
        var builder = BlockBuilder.Create(Type, count);
        var hasElse = args.Length % 2 == 1;
        for (var p = 0; p < count; p++)
        {
            var chosen = -1;
            for (var i = 0; i + 1 < args.Length; i += 2)
            {
                var condition = (Block<bool>)blocks[i];
                if (BinaryLoop.Single(condition, p, Span, context) && condition.Value(p))
                {
                    chosen = i + 1;
                    break;
                }
            }
            if (chosen < 0 && hasElse)
            {
                chosen = args.Length - 1;
            }
            if (chosen < 0 || blocks[chosen].Type == EsqlType.Null)
            {
                builder.AppendNull();
            }
            else
            {
                builder.CopyPosition(blocks[chosen], p);
            }
        }
        return builder.Build();
    }
}
