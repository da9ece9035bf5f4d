using System.Text.Json.Nodes;
using KeyAbuseContent.Expressions;
using KeyAbuseContent.Expressions.Regex;

namespace KeyAbuseContent.Targets.Elastic;

/// <summary>A filter Elasticsearch's query DSL cannot say faithfully; the message names the construct.</summary>
public sealed class QueryDslException(string message) : Exception(message);

/// <summary>
/// Translates bound rule filters to Elasticsearch query DSL, for the transforms that keep a rule's
/// history: a transform must count the same events the rule's ES|QL counts. Semantics follow the
/// language's (KQL's): <c>must_not</c> lets a missing field pass, which is what a negated test does on
/// KQL's empty string; a negated ordering is inverted instead, because a missing number fails it.
/// </summary>
public static class QueryDslEmitter
{
    public static JsonObject Emit(Bound b) => Positive(b);

    private static JsonObject Positive(Bound b) => b switch
    {
        BoundLogical l when l.IsAnd => Bool("filter", Positive(l.Left), Positive(l.Right)),
        BoundLogical l => Should(Positive(l.Left), Positive(l.Right)),
        BoundNot n => Negative(n.Operand),
        BoundCompare c => Compare(c.Op, c),
        BoundIn i => In(i, i.Negated),
        BoundStringTest s => StringTest(s, s.Negated),
        BoundMatches m => Matches(m, m.Negated),
        BoundCall c => Call(c, negated: false),
        _ => throw Unsupported(b),
    };

    private static JsonObject Negative(Bound b) => b switch
    {
        BoundNot n => Positive(n.Operand),
        BoundLogical l when l.IsAnd => Should(Negative(l.Left), Negative(l.Right)),
        BoundLogical l => Bool("filter", Negative(l.Left), Negative(l.Right)),
        BoundCompare c => Compare(Invert(c.Op), c),
        BoundIn i => In(i, !i.Negated),
        BoundStringTest s => StringTest(s, !s.Negated),
        BoundMatches m => Matches(m, !m.Negated),
        BoundCall c => Call(c, negated: true),
        _ => throw Unsupported(b),
    };

    private static QueryDslException Unsupported(Bound b) =>
        new($"a transform's query cannot compute {b.GetType().Name.Replace("Bound", "", StringComparison.Ordinal).ToLowerInvariant()}; history rules filter on fields and constants");

    private static CompareOp Invert(CompareOp op) => op switch
    {
        CompareOp.Equal => CompareOp.NotEqual,
        CompareOp.NotEqual => CompareOp.Equal,
        CompareOp.EqualIgnoreCase => CompareOp.NotEqualIgnoreCase,
        CompareOp.NotEqualIgnoreCase => CompareOp.EqualIgnoreCase,
        CompareOp.Less => CompareOp.GreaterOrEqual,
        CompareOp.LessOrEqual => CompareOp.Greater,
        CompareOp.Greater => CompareOp.LessOrEqual,
        _ => CompareOp.Less,
    };

    private static JsonObject Bool(string occur, params JsonObject[] clauses) =>
        new() { ["bool"] = new JsonObject { [occur] = new JsonArray([.. clauses]) } };

    private static JsonObject Should(params JsonObject[] clauses) =>
        new() { ["bool"] = new JsonObject { ["should"] = new JsonArray([.. clauses]), ["minimum_should_match"] = 1 } };

    private static JsonObject Not(JsonObject clause) => Bool("must_not", clause);

    private static (string Field, BoundLiteral Literal) FieldAndLiteral(BoundCompare c)
    {
        if (c.Left is BoundField f && c.Right is BoundLiteral l)
        {
            return (f.Field.EsqlName, l);
        }
        if (c.Left is BoundCall { Function: "lower", Args: [BoundField lf] } && c.Right is BoundLiteral ll && c.Op is CompareOp.Equal or CompareOp.NotEqual)
        {
            return (lf.Field.EsqlName, new BoundLiteral(ll.Type, ((string)ll.Value!).ToLowerInvariant(), ll.Span));
        }
        throw new QueryDslException("a transform's query compares a field with a constant");
    }

    private static JsonNode Value(BoundLiteral l) => l.Value switch
    {
        string s => JsonValue.Create(s),
        long n => JsonValue.Create(n),
        double d => JsonValue.Create(d),
        bool b => JsonValue.Create(b),
        _ => throw new QueryDslException("null constants are not compared"),
    };

    private static JsonObject Term(string field, JsonNode value, bool ignoreCase = false) => ignoreCase
        ? new JsonObject { ["term"] = new JsonObject { [field] = new JsonObject { ["value"] = value, ["case_insensitive"] = true } } }
        : new JsonObject { ["term"] = new JsonObject { [field] = value } };

    private static JsonObject Compare(CompareOp op, BoundCompare c)
    {
        var (field, literal) = FieldAndLiteral(c);
        var lowered = c.Left is BoundCall;
        if (c.Left.Type == ExprType.String && literal.Value is "" && op is CompareOp.Equal or CompareOp.NotEqual)
        {
            return Empty(field, op == CompareOp.Equal);
        }
        return op switch
        {
            CompareOp.Equal => Term(field, Value(literal), lowered),
            CompareOp.NotEqual => Not(Term(field, Value(literal), lowered)),
            CompareOp.EqualIgnoreCase => Term(field, Value(literal), ignoreCase: true),
            CompareOp.NotEqualIgnoreCase => Not(Term(field, Value(literal), ignoreCase: true)),
            _ => new JsonObject
            {
                ["range"] = new JsonObject
                {
                    [field] = new JsonObject
                    {
                        [op switch { CompareOp.Less => "lt", CompareOp.LessOrEqual => "lte", CompareOp.Greater => "gt", _ => "gte" }] = Value(literal),
                    },
                },
            },
        };
    }

    private static JsonObject Empty(string field, bool empty)
    {
        var missing = Not(new JsonObject { ["exists"] = new JsonObject { ["field"] = field } });
        var blank = Term(field, JsonValue.Create(""));
        return empty ? Should(missing, blank) : Bool("filter", new JsonObject { ["exists"] = new JsonObject { ["field"] = field } }, Not(blank));
    }

    private static string FieldOf(Bound b) => b is BoundField f
        ? f.Field.EsqlName
        : throw new QueryDslException("a transform's query tests a field");

    private static JsonObject In(BoundIn i, bool negated)
    {
        var field = FieldOf(i.Value);
        JsonObject test = i.IgnoreCase
            ? Should([.. i.Items.Select(item => Term(field, Value(item), ignoreCase: true))])
            : new JsonObject { ["terms"] = new JsonObject { [field] = new JsonArray([.. i.Items.Select(Value)]) } };
        return negated ? Not(test) : test;
    }

    private static JsonObject StringTest(BoundStringTest s, bool negated)
    {
        var field = FieldOf(s.Value);
        var test = s.Op switch
        {
            StringOp.StartsWith => new JsonObject { ["prefix"] = new JsonObject { [field] = new JsonObject { ["value"] = s.Literal } } },
            StringOp.EndsWith => new JsonObject { ["wildcard"] = new JsonObject { [field] = new JsonObject { ["value"] = "*" + Escapes.Wildcards(s.Literal) } } },
            _ => new JsonObject { ["wildcard"] = new JsonObject { [field] = new JsonObject { ["value"] = "*" + Escapes.Wildcards(s.Literal) + "*", ["case_insensitive"] = true } } },
        };
        return negated ? Not(test) : test;
    }

    private static JsonObject Matches(BoundMatches m, bool negated)
    {
        // regexp matches the whole term, as RLIKE does: the Lucene rendering is the same pattern.
        var test = new JsonObject { ["regexp"] = new JsonObject { [FieldOf(m.Value)] = new JsonObject { ["value"] = RegexRenderer.ToLucene(m.Pattern), ["flags"] = "NONE" } } };
        return negated ? Not(test) : test;
    }

    private static JsonObject Call(BoundCall c, bool negated)
    {
        switch (c.Function)
        {
            case "isempty" or "isnotempty":
                var field = FieldOf(c.Args[0]);
                var empty = (c.Function == "isempty") != negated;
                if (c.Args[0].Type == ExprType.String)
                {
                    return Empty(field, empty);
                }
                var exists = new JsonObject { ["exists"] = new JsonObject { ["field"] = field } };
                return empty ? Not(exists) : exists;
            case "cidr_match":
                var ranges = new JsonArray([.. c.Args.Skip(1).Select(a => (JsonNode)JsonValue.Create((string)((BoundLiteral)a).Value!))]);
                var match = new JsonObject { ["terms"] = new JsonObject { [FieldOf(c.Args[0])] = ranges } };
                // A missing address is in no range and, negated, still fails (KQL gives null): it must exist.
                return negated ? Bool("filter", new JsonObject { ["exists"] = new JsonObject { ["field"] = FieldOf(c.Args[0]) } }, Not(match)) : match;
            default:
                throw new QueryDslException($"a transform's query cannot call {c.Function}()");
        }
    }
}
