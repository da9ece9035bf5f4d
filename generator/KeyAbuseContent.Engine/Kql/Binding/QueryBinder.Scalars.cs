using System.Collections.Immutable;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using KeyAbuseContent.Engine.Kql.Execution.Scalar;
using KeyAbuseContent.Engine.Kql.Execution.Tabular;
using KeyAbuseContent.Engine.Kql.Storage;
using KeyAbuseContent.Engine.Kql.Syntax;

namespace KeyAbuseContent.Engine.Kql.Binding;

// Operators of scalar expressions: their type rules and the evaluator each binds to.
internal sealed partial class QueryBinder
{
    private ScalarNode BindScalarSyntax(ExprSyntax syntax, RowContext row)
    {
        switch (syntax)
        {
            case BinarySyntax binary:
                return Fold(BindBinary(binary, row));
            case UnarySyntax unary:
                return Fold(BindNegate(unary, BindScalar(unary.Operand, row)));
            case ListOperatorSyntax list:
                return Fold(BindList(list, row));
            case BetweenSyntax between:
                return Fold(BindBetween(between, row));
            case MemberSyntax member:
                if (member.Target is NameSyntax { Name: "$left" or "$right" })
                {
                    throw Error(member.Position, "$left and $right only appear in the 'on' clause of join and lookup");
                }
                return Fold(DynamicAccess(BindScalar(member.Target, row), new ConstantNode(KqlType.String, member.Member), member.Position));
            case IndexSyntax index:
                return Fold(DynamicAccess(BindScalar(index.Target, row), BindScalar(index.Index, row), index.Position));
            case TypeofSyntax:
                throw Error(syntax.Position, "typeof(...) is only an argument of functions and mv-expand");
            case StarSyntax:
                throw Error(syntax.Position, "'*' is not a value here");
            case NamedSyntax named:
                throw Error(syntax.Position, $"'{named.Names[0]} = ...' names a column only in extend, project, summarize and the like");
            case OrderedSyntax:
                throw Error(syntax.Position, "asc/desc only follow sort keys");
            default:
                throw Unsupported(syntax.Position, $"the expression {syntax.GetType().Name}");
        }
    }

    private ScalarNode BindBinary(BinarySyntax binary, RowContext row)
    {
        var left = BindScalar(binary.Left, row);
        var right = BindScalar(binary.Right, row);
        var op = binary.Operator;
        switch (op)
        {
            case "and" or "or":
                ExpectBool(left, binary.Left, op);
                ExpectBool(right, binary.Right, op);
                return new LogicalNode(op == "and", left, right);
            case "+" or "-" or "*" or "/" or "%":
                var (domain, type) = ArithmeticRule(op, left.Type, right.Type)
                    ?? throw Error(binary.Position, $"the operator '{op}' cannot combine {left.Type.Name()} and {right.Type.Name()}");
                return new ArithmeticNode(op, domain, type, left, right);
            case "==" or "!=" or "<" or "<=" or ">" or ">=":
                var compare = CompareRule(left.Type, right.Type)
                    ?? throw Error(binary.Position, $"the operator '{op}' cannot compare {left.Type.Name()} and {right.Type.Name()}");
                if (compare == CompareDomain.Generic && op is not ("==" or "!=") && left.Type == KqlType.Guid)
                {
                    throw Error(binary.Position, $"guids are not ordered: '{op}' cannot compare them");
                }
                return new CompareNode(op, compare, left, right);
            case "matches regex":
                if (!right.IsConstant)
                {
                    return new RegexMatchNode(left, right, null);
                }
                return new RegexMatchNode(left, right, CompileRegex(Scalars.ToKqlString(right.ConstantValue), binary.Right.Position));
            default:
                if (StringPredicates.IsKnown(op))
                {
                    return new StringPredicateNode(op, left, right);
                }
                throw Unsupported(binary.Position, $"the operator '{op}'");
        }
    }

    private Regex CompileRegex(string pattern, int position)
    {
        try
        {
            return Regexes.Get(pattern);
        }
        catch (ArgumentException e)
        {
            throw Error(position, $"the regular expression is not valid: {e.Message}");
        }
    }

    private void ExpectBool(ScalarNode node, ExprSyntax syntax, string op)
    {
        if (node.Type is not (KqlType.Bool or KqlType.Dynamic))
        {
            throw Error(syntax.Position, $"'{op}' combines bools, not {node.Type.Name()}");
        }
    }

    /// <summary>The domain and result type of an arithmetic operator on two types; null when KQL refuses the pair.</summary>
    public static (ArithmeticDomain, KqlType)? ArithmeticRule(string op, KqlType l, KqlType r)
    {
        if (l == KqlType.Dynamic || r == KqlType.Dynamic)
        {
            return (ArithmeticDomain.Generic, KqlType.Dynamic);
        }
        if (l.IsNumeric() && r.IsNumeric())
        {
            return l == KqlType.Real || r == KqlType.Real ? (ArithmeticDomain.Real, KqlType.Real) : (ArithmeticDomain.Long, KqlType.Long);
        }
        return (l, r, op) switch
        {
            (KqlType.DateTime, KqlType.TimeSpan, "+" or "-") => (ArithmeticDomain.Long, KqlType.DateTime),
            (KqlType.TimeSpan, KqlType.DateTime, "+") => (ArithmeticDomain.Long, KqlType.DateTime),
            (KqlType.DateTime, KqlType.DateTime, "-") => (ArithmeticDomain.Long, KqlType.TimeSpan),
            (KqlType.TimeSpan, KqlType.TimeSpan, "+" or "-" or "%") => (ArithmeticDomain.Long, KqlType.TimeSpan),
            (KqlType.TimeSpan, KqlType.TimeSpan, "/") => (ArithmeticDomain.Real, KqlType.Real),
            (KqlType.TimeSpan, KqlType.Int or KqlType.Long, "*" or "/") => (ArithmeticDomain.Long, KqlType.TimeSpan),
            (KqlType.Int or KqlType.Long, KqlType.TimeSpan, "*") => (ArithmeticDomain.Long, KqlType.TimeSpan),
            (KqlType.TimeSpan, KqlType.Real, "*" or "/") => (ArithmeticDomain.Real, KqlType.TimeSpan),
            (KqlType.Real, KqlType.TimeSpan, "*") => (ArithmeticDomain.Real, KqlType.TimeSpan),
            _ => null,
        };
    }

    /// <summary>How two types compare; null when KQL refuses to compare them.</summary>
    public static CompareDomain? CompareRule(KqlType l, KqlType r)
    {
        if (l == KqlType.Dynamic || r == KqlType.Dynamic)
        {
            return CompareDomain.Generic;
        }
        if (l.IsNumeric() && r.IsNumeric())
        {
            return l == KqlType.Real || r == KqlType.Real ? CompareDomain.Real : CompareDomain.Long;
        }
        if (l != r)
        {
            return null;
        }
        return l switch
        {
            KqlType.DateTime or KqlType.TimeSpan or KqlType.Bool => CompareDomain.Long,
            KqlType.String => CompareDomain.String,
            _ => CompareDomain.Generic,
        };
    }

    private ScalarNode BindNegate(UnarySyntax unary, ScalarNode operand)
    {
        return operand.Type switch
        {
            KqlType.Int => new RowFunctionNode("-", KqlType.Int, [operand], a => a[0] is int i ? -i : null),
            KqlType.Long or KqlType.TimeSpan => new ArithmeticNode("-", ArithmeticDomain.Long, operand.Type, new ConstantNode(operand.Type, operand.Type == KqlType.Long ? 0L : TimeSpan.Zero), operand),
            KqlType.Real => new ArithmeticNode("-", ArithmeticDomain.Real, KqlType.Real, new ConstantNode(KqlType.Real, 0.0), operand),
            KqlType.Dynamic => new ArithmeticNode("-", ArithmeticDomain.Generic, KqlType.Dynamic, new ConstantNode(KqlType.Long, 0L), operand),
            _ => throw Error(unary.Position, $"'-' negates numbers and timespans, not {operand.Type.Name()}"),
        };
    }

    private ScalarNode BindList(ListOperatorSyntax list, RowContext row)
    {
        var left = BindScalar(list.Left, row);
        var items = ImmutableArray.CreateBuilder<ScalarNode>();
        var subqueries = ImmutableArray.CreateBuilder<TabularNode>();
        foreach (var item in list.Items)
        {
            var bound = BindExpr(item, row);
            if (bound.Table is { } table)
            {
                if (table.Schema.Count == 0)
                {
                    throw Error(item.Position, $"the subquery of '{list.Operator}' has no column");
                }
                subqueries.Add(table);
            }
            else
            {
                items.Add(bound.Scalar!);
            }
        }
        return new InNode(list.Operator, left, items.ToImmutable(), subqueries.ToImmutable());
    }

    private ScalarNode BindBetween(BetweenSyntax between, RowContext row)
    {
        var value = BindScalar(between.Value, row);
        var low = BindScalar(between.Low, row);
        var high = BindScalar(between.High, row);
        if (value.Type == KqlType.DateTime && low.Type == KqlType.DateTime && high.Type == KqlType.TimeSpan)
        {
            // datetime between (start .. duration): the duration counts from the start.
            high = new ArithmeticNode("+", ArithmeticDomain.Long, KqlType.DateTime, low, high);
        }
        var lowDomain = CompareRule(value.Type, low.Type) ?? throw Error(between.Position, $"between cannot compare {value.Type.Name()} with {low.Type.Name()}");
        var highDomain = CompareRule(value.Type, high.Type) ?? throw Error(between.Position, $"between cannot compare {value.Type.Name()} with {high.Type.Name()}");
        return between.Negated
            ? new LogicalNode(false, new CompareNode("<", lowDomain, value, low), new CompareNode(">", highDomain, value, high))
            : new LogicalNode(true, new CompareNode(">=", lowDomain, value, low), new CompareNode("<=", highDomain, value, high));
    }

    /// <summary><c>d.key</c>, <c>d["key"]</c>, <c>d[0]</c> (negative indexes count from the end) on a dynamic value.</summary>
    private ScalarNode DynamicAccess(ScalarNode target, ScalarNode key, int position)
    {
        if (target.Type != KqlType.Dynamic)
        {
            throw Error(position, $"member and index access apply to dynamic values, not {target.Type.Name()}");
        }
        return new RowFunctionNode("[]", KqlType.Dynamic, [target, key], a => Access(a[0] as JsonNode, a[1]));
    }

    public static JsonNode? Access(JsonNode? node, object? key)
    {
        switch (node, key)
        {
            case (JsonObject obj, string name):
                return obj.TryGetPropertyValue(name, out var value) ? value : null;
            case (JsonArray array, long or int):
                var i = Convert.ToInt64(key, System.Globalization.CultureInfo.InvariantCulture);
                if (i < 0)
                {
                    i += array.Count;
                }
                return i >= 0 && i < array.Count ? array[(int)i] : null;
            default:
                return null;
        }
    }
}
