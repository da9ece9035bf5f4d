using System.Collections.Immutable;
using System.Text;
using System.Text.Json.Nodes;

namespace KeyAbuseContent.Engine.Kql.Syntax;

// Scalar expressions, by precedence from lowest: or, and, comparisons and string operators, + -, * / %,
// unary - +, then member access, indexing and calls.
internal sealed partial class KqlParser
{
    private static readonly HashSet<string> ComparisonPunctuation = ["==", "!=", "<>", "<", "<=", ">", ">=", "=~", "!~"];

    private static readonly HashSet<string> StringOperators =
    [
        "has", "has_cs", "contains", "contains_cs", "startswith", "startswith_cs", "endswith", "endswith_cs",
        "hasprefix", "hasprefix_cs", "hassuffix", "hassuffix_cs",
    ];

    private static readonly HashSet<string> LiteralTypeNames = ["bool", "boolean", "int", "long", "real", "double", "decimal"];

    private ExprSyntax ParseExpression() => ParseOr();

    private ExprSyntax ParseOr()
    {
        var left = ParseAnd();
        while (Current.IsKeyword("or"))
        {
            var op = Advance();
            left = new BinarySyntax(op.Start, "or", left, ParseAnd());
        }
        return left;
    }

    private ExprSyntax ParseAnd()
    {
        var left = ParseComparison();
        while (Current.IsKeyword("and"))
        {
            var op = Advance();
            left = new BinarySyntax(op.Start, "and", left, ParseComparison());
        }
        return left;
    }

    private ExprSyntax ParseComparison()
    {
        var left = ParseAdditive();
        while (true)
        {
            var token = Current;
            if (token.Kind == TokenKind.Punctuation && ComparisonPunctuation.Contains(token.Text))
            {
                Advance();
                var op = token.Text == "<>" ? "!=" : token.Text;
                left = new BinarySyntax(token.Start, op, left, ParseAdditive());
                continue;
            }
            var negated = false;
            var opToken = token;
            if (token.Is("!") && NextIsAdjacent() && Peek().Kind == TokenKind.Identifier)
            {
                negated = true;
                opToken = Peek();
            }
            if (opToken.Kind != TokenKind.Identifier || opToken.Quoted)
            {
                return left;
            }
            var word = opToken.Text;
            if (StringOperators.Contains(word))
            {
                SkipOperatorTokens(negated);
                left = new BinarySyntax(token.Start, (negated ? "!" : "") + word, left, ParseAdditive());
            }
            else if (word is "in")
            {
                SkipOperatorTokens(negated);
                var op = (negated ? "!" : "") + "in";
                if (Current.Is("~") && _tokens[_index - 1].End == Current.Start)
                {
                    Advance();
                    op += "~";
                }
                left = new ListOperatorSyntax(token.Start, op, left, ParseList(op));
            }
            else if (word is "has_any" or "has_all" && !negated)
            {
                Advance();
                left = new ListOperatorSyntax(token.Start, word, left, ParseList(word));
            }
            else if (word == "between")
            {
                SkipOperatorTokens(negated);
                Expect("(", "after 'between'");
                var low = ParseExpression();
                Expect("..", "between the bounds of 'between'");
                var high = ParseExpression();
                Expect(")", "after the bounds of 'between'");
                left = new BetweenSyntax(token.Start, negated, left, low, high);
            }
            else if (word == "matches" && !negated && Peek().IsKeyword("regex"))
            {
                Advance();
                Advance();
                left = new BinarySyntax(token.Start, "matches regex", left, ParseAdditive());
            }
            else if (word is "like" or "notlike" or "like_cs" or "notlike_cs" or "contains_any" or "has_any_cs")
            {
                throw Unsupported(opToken, $"the '{(negated ? "!" : "")}{word}' operator");
            }
            else
            {
                return left;
            }
        }
    }

    private void SkipOperatorTokens(bool negated)
    {
        if (negated)
        {
            Advance();
        }
        Advance();
    }

    private ImmutableArray<ExprSyntax> ParseList(string op)
    {
        Expect("(", $"after '{op}'");
        var items = ImmutableArray.CreateBuilder<ExprSyntax>();
        while (!Current.Is(")"))
        {
            items.Add(ParsePipe());
            if (!Current.Is(","))
            {
                break;
            }
            Advance();
        }
        Expect(")", $"to close the list of '{op}'");
        return items.ToImmutable();
    }

    private ExprSyntax ParseAdditive()
    {
        var left = ParseMultiplicative();
        while (Current.Is("+") || Current.Is("-"))
        {
            var op = Advance();
            left = new BinarySyntax(op.Start, op.Text, left, ParseMultiplicative());
        }
        return left;
    }

    private ExprSyntax ParseMultiplicative()
    {
        var left = ParseUnary();
        while (Current.Is("*") || Current.Is("/") || Current.Is("%"))
        {
            var op = Advance();
            left = new BinarySyntax(op.Start, op.Text, left, ParseUnary());
        }
        return left;
    }

    private ExprSyntax ParseUnary()
    {
        if (Current.Is("-") || Current.Is("+"))
        {
            var op = Advance();
            var operand = ParseUnary();
            if (op.Text == "-" && operand is LiteralSyntax { Value: not null } literal)
            {
                switch (literal.Value)
                {
                    case long l:
                        return literal with { Position = op.Start, Value = -l };
                    case double d:
                        return literal with { Position = op.Start, Value = -d };
                    case TimeSpan t:
                        return literal with { Position = op.Start, Value = -t };
                    default:
                        break;
                }
            }
            return op.Text == "+" ? operand : new UnarySyntax(op.Start, "-", operand);
        }
        return ParsePostfix(ParsePrimary());
    }

    private ExprSyntax ParsePostfix(ExprSyntax expr)
    {
        while (true)
        {
            if (Current.Is("."))
            {
                var dot = Advance();
                if (Current.Is("["))
                {
                    // d.["key"] is d["key"].
                    Advance();
                    var key = ParseExpression();
                    Expect("]", "to close an index");
                    expr = new IndexSyntax(dot.Start, expr, key);
                    continue;
                }
                var member = ExpectName("after '.'");
                expr = new MemberSyntax(member.Start, expr, member.Text);
            }
            else if (Current.Is("["))
            {
                var open = Advance();
                var index = ParseExpression();
                Expect("]", "to close an index");
                expr = new IndexSyntax(open.Start, expr, index);
            }
            else
            {
                return expr;
            }
        }
    }

    private ExprSyntax ParsePrimary()
    {
        var token = Current;
        switch (token.Kind)
        {
            case TokenKind.String:
                return ParseStrings();
            case TokenKind.Long:
                Advance();
                return new LiteralSyntax(token.Start, KqlType.Long, token.Value);
            case TokenKind.Real:
                Advance();
                return new LiteralSyntax(token.Start, KqlType.Real, token.Value);
            case TokenKind.TimeSpan:
                Advance();
                return new LiteralSyntax(token.Start, KqlType.TimeSpan, token.Value);
            case TokenKind.DateTime:
                Advance();
                return new LiteralSyntax(token.Start, KqlType.DateTime, token.Value);
            case TokenKind.Guid:
                Advance();
                return new LiteralSyntax(token.Start, KqlType.Guid, token.Value);
            case TokenKind.Identifier:
                return ParseIdentifierExpression();
            default:
                break;
        }
        if (token.Is("("))
        {
            Advance();
            var inner = ParsePipe();
            Expect(")", "to close a parenthesis");
            return new ParenthesizedSyntax(token.Start, inner);
        }
        if (token.Is("*"))
        {
            Advance();
            return new StarSyntax(token.Start);
        }
        throw Error(token, $"expected an expression, found {token}");
    }

    private LiteralSyntax ParseStrings()
    {
        var first = Current;
        var text = new StringBuilder();
        while (Current.Kind == TokenKind.String)
        {
            text.Append((string)Advance().Value!);
        }
        return new LiteralSyntax(first.Start, KqlType.String, text.ToString());
    }

    private ExprSyntax ParseIdentifierExpression()
    {
        var token = Current;
        var next = Peek();
        if (!token.Quoted)
        {
            switch (token.Text)
            {
                case "true" or "false" when !next.Is("("):
                    Advance();
                    return new LiteralSyntax(token.Start, KqlType.Bool, token.Text == "true");
                case "dynamic" when next.Is("("):
                    return ParseDynamicLiteral();
                case "typeof" when next.Is("("):
                    Advance();
                    Advance();
                    var type = ParseTypeName();
                    Expect(")", "after typeof's type");
                    return new TypeofSyntax(token.Start, type);
                case "datatable" when next.Is("("):
                    return ParseDatatable();
                case var t when LiteralTypeNames.Contains(t) && next.Is("("):
                    return ParseTypedLiteral();
                default:
                    break;
            }
        }
        Advance();
        if (Current.Is("(") && !token.Quoted)
        {
            Advance();
            var args = ImmutableArray.CreateBuilder<ExprSyntax>();
            while (!Current.Is(")"))
            {
                args.Add(ParseArgument());
                if (!Current.Is(","))
                {
                    break;
                }
                Advance();
            }
            Expect(")", $"to close the arguments of {token.Text}()");
            return new CallSyntax(token.Start, token.Text, args.ToImmutable());
        }
        return new NameSyntax(token.Start, token.Text);
    }

    private ExprSyntax ParseArgument()
    {
        if (Current.Kind == TokenKind.Identifier && Peek().Is("="))
        {
            var name = Advance();
            Advance();
            return new NamedSyntax(name.Start, [name.Text], ParsePipe());
        }
        return ParsePipe();
    }

    /// <summary><c>long(5)</c>, <c>int(null)</c>, <c>real(nan)</c>, <c>real(-inf)</c>, <c>bool(true)</c>.</summary>
    private LiteralSyntax ParseTypedLiteral()
    {
        var name = Advance();
        if (name.Text == "decimal")
        {
            throw Unsupported(name, "the decimal type");
        }
        if (!KqlTypes.TryParse(name.Text, out var type))
        {
            throw Error(name, $"'{name.Text}' is not a KQL type");
        }
        Expect("(", $"after '{name.Text}'");
        var negative = false;
        if (Current.Is("-") || Current.Is("+"))
        {
            negative = Advance().Text == "-";
        }
        var token = Advance();
        object? value;
        if (token.IsKeyword("null"))
        {
            value = null;
        }
        else if (type == KqlType.Bool && token.Kind == TokenKind.Identifier && token.Text is "true" or "false")
        {
            value = token.Text == "true";
        }
        else if (type == KqlType.Bool && token.Kind == TokenKind.Long)
        {
            value = (long)token.Value! != 0;
        }
        else if (type == KqlType.Real && token.Kind == TokenKind.Identifier && token.Text is "nan" or "inf")
        {
            value = token.Text == "nan" ? double.NaN : negative ? double.NegativeInfinity : double.PositiveInfinity;
        }
        else if (token.Kind is TokenKind.Long or TokenKind.Real && type != KqlType.Bool)
        {
            var number = token.Value is long l ? l : (double)token.Value!;
            value = type switch
            {
                KqlType.Int => (object)checked((int)(negative ? -number : number)),
                KqlType.Long => token.Value is long lv ? (negative ? -lv : lv) : checked((long)(negative ? -number : number)),
                _ => negative ? -number : number,
            };
        }
        else
        {
            throw Error(token, $"'{name.Text}(...)' takes a literal, found {token}");
        }
        Expect(")", $"to close '{name.Text}('");
        return new LiteralSyntax(name.Start, type, value);
    }

    private LiteralSyntax ParseDynamicLiteral()
    {
        var name = Advance();
        Expect("(", "after 'dynamic'");
        var value = ParseJson();
        Expect(")", "to close 'dynamic('");
        return new LiteralSyntax(name.Start, KqlType.Dynamic, value);
    }

    private JsonNode? ParseJson()
    {
        var token = Current;
        if (token.Is("{"))
        {
            Advance();
            var obj = new JsonObject();
            while (!Current.Is("}"))
            {
                var key = Advance();
                if (key.Kind is not (TokenKind.String or TokenKind.Identifier))
                {
                    throw Error(key, $"expected a property name in a dynamic object, found {key}");
                }
                Expect(":", "after a property name in a dynamic object");
                obj[key.Kind == TokenKind.String ? (string)key.Value! : key.Text] = ParseJson();
                if (!Current.Is(","))
                {
                    break;
                }
                Advance();
            }
            Expect("}", "to close a dynamic object");
            return obj;
        }
        if (token.Is("["))
        {
            Advance();
            var array = new JsonArray();
            while (!Current.Is("]"))
            {
                array.Add(ParseJson());
                if (!Current.Is(","))
                {
                    break;
                }
                Advance();
            }
            Expect("]", "to close a dynamic array");
            return array;
        }
        if (token.IsKeyword("dynamic") && Peek().Is("("))
        {
            return (JsonNode?)ParseDynamicLiteral().Value;
        }
        if (token.Kind == TokenKind.Identifier && token.Quoted)
        {
            // The lexer reads ['x'] as a bracketed name; inside dynamic(...) it is an array of one string.
            Advance();
            return new JsonArray(JsonValue.Create(token.Text));
        }
        var negative = false;
        if (token.Is("-") || token.Is("+"))
        {
            negative = Advance().Text == "-";
            token = Current;
        }
        Advance();
        return token.Kind switch
        {
            TokenKind.String => JsonValue.Create((string)token.Value!),
            TokenKind.Long => JsonValue.Create(negative ? -(long)token.Value! : (long)token.Value!),
            TokenKind.Real => JsonValue.Create(negative ? -(double)token.Value! : (double)token.Value!),
            TokenKind.DateTime when token.Value is DateTime dt => JsonValue.Create(dt),
            TokenKind.TimeSpan when token.Value is TimeSpan ts => JsonValue.Create(negative ? -ts : ts),
            TokenKind.Guid when token.Value is Guid g => JsonValue.Create(g),
            TokenKind.Identifier when token.Text == "true" => JsonValue.Create(true),
            TokenKind.Identifier when token.Text == "false" => JsonValue.Create(false),
            TokenKind.Identifier when token.Text == "null" => null,
            _ => throw Error(token, $"expected a value in a dynamic literal, found {token}"),
        };
    }

    /// <summary>A comma-separated list of <c>[Name =] Expr</c> items (extend, project, summarize, print).</summary>
    private ImmutableArray<ExprSyntax> ParseNamedList()
    {
        var items = ImmutableArray.CreateBuilder<ExprSyntax>();
        do
        {
            if (items.Count > 0)
            {
                Advance();
            }
            items.Add(ParseNamedItem());
        }
        while (Current.Is(","));
        return items.ToImmutable();
    }

    private ExprSyntax ParseNamedItem()
    {
        var token = Current;
        if (token.Kind == TokenKind.Identifier && Peek().Is("="))
        {
            Advance();
            Advance();
            return new NamedSyntax(token.Start, [token.Text], ParseExpression());
        }
        if (token.Is("(") && Peek().Kind == TokenKind.Identifier && (Peek(2).Is(",") || Peek(2).Is(")")))
        {
            // (a, b) = expr: look ahead to the closing parenthesis for '='.
            var save = _index;
            Advance();
            var names = ImmutableArray.CreateBuilder<string>();
            while (Current.Kind == TokenKind.Identifier)
            {
                names.Add(Advance().Text);
                if (!Current.Is(","))
                {
                    break;
                }
                Advance();
            }
            if (Current.Is(")") && Peek().Is("="))
            {
                Advance();
                Advance();
                return new NamedSyntax(token.Start, names.ToImmutable(), ParseExpression());
            }
            _index = save;
        }
        return ParseExpression();
    }

    private OrderedSyntax ParseOrdered()
    {
        var expr = ParseExpression();
        bool? descending = null;
        bool? nullsFirst = null;
        if (Current.IsKeyword("asc") || Current.IsKeyword("desc"))
        {
            descending = Advance().Text == "desc";
        }
        if (Current.IsKeyword("nulls"))
        {
            Advance();
            if (!Current.IsKeyword("first") && !Current.IsKeyword("last"))
            {
                throw Error(Current, $"expected 'first' or 'last' after 'nulls', found {Current}");
            }
            nullsFirst = Advance().Text == "first";
        }
        return new OrderedSyntax(expr.Position, expr, descending, nullsFirst);
    }
}
