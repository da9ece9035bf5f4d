using System.Collections.Immutable;
using System.Globalization;

namespace KeyAbuseContent.Engine.Esql.Syntax;

/// <summary>
/// A recursive-descent parser of ES|QL, following the precedence of Elasticsearch's grammar
/// (<c>OR</c> &lt; <c>AND</c> &lt; <c>NOT</c> &lt; predicates and comparisons &lt; <c>+ -</c> &lt; <c>* / %</c> &lt;
/// unary minus &lt; <c>::</c>). It refuses, with a position, every construct outside the supported subset.
/// </summary>
internal sealed class Parser
{
    private static readonly HashSet<string> ReservedWords = new(StringComparer.OrdinalIgnoreCase)
    {
        "and", "or", "not", "in", "is", "null", "like", "rlike", "true", "false",
    };

    /// <summary>Commands of ES|QL the executor knows but does not run; naming them gives a clearer refusal than "unknown".</summary>
    private static readonly HashSet<string> UnsupportedCommands = new(StringComparer.OrdinalIgnoreCase)
    {
        "enrich", "show", "meta", "ts", "fork", "change_point", "sample", "completion", "rerank", "fuse", "rrf",
        "insist_", "explain", "set", "fill_null", "join", "full", "left", "right", "uri_parts",
        "registered_domain", "metrics", "dedup", "subquery", "mmr", "promql",
    };

    private readonly SourceText source;
    private readonly Lexer lexer;
    private int offset;
    private Token current;

    private Parser(string text)
    {
        source = new SourceText(text);
        lexer = new Lexer(source);
        current = lexer.Scan(0);
    }

    /// <summary>Parses a whole query, or throws <see cref="EsqlException"/> at the first problem.</summary>
    public static Query Parse(string text)
    {
        var parser = new Parser(text);
        return parser.ParseQuery();
    }

    /// <summary>Parses a lone expression (tests and tools).</summary>
    public static Expr ParseExpression(string text)
    {
        var parser = new Parser(text);
        var expr = parser.BooleanExpression();
        parser.Expect(TokenKind.End, "end of expression");
        return expr;
    }

    private Query ParseQuery()
    {
        if (current.Kind == TokenKind.End)
        {
            throw source.Error(current.Span, "empty query: a query starts with FROM or ROW");
        }
        var first = SourceCommand();
        var commands = ImmutableArray.CreateBuilder<Command>();
        while (current.Kind == TokenKind.Pipe)
        {
            Advance();
            commands.Add(ProcessingCommand());
        }
        if (current.Kind != TokenKind.End)
        {
            throw source.Error(current.Span, $"mismatched input '{Describe(current)}': expected '|' or the end of the query");
        }
        return new Query(source, first, commands.ToImmutable());
    }

    private Command SourceCommand()
    {
        var word = current;
        if (word.Is("from"))
        {
            return From();
        }
        if (word.Is("row"))
        {
            Advance();
            var fields = Fields();
            return new RowCommand(TextSpan.Between(word.Span, fields[^1].Span), fields);
        }
        if (word.Kind == TokenKind.Identifier && UnsupportedCommands.Contains(word.Text))
        {
            throw source.Error(word.Span, $"the source command [{word.Text.ToUpperInvariant()}] is outside the subset the embedded executor runs");
        }
        throw source.Error(word.Span, $"mismatched input '{Describe(word)}': a query starts with FROM or ROW");
    }

    private Command ProcessingCommand()
    {
        var word = current;
        if (word.Kind != TokenKind.Identifier)
        {
            throw source.Error(word.Span, $"mismatched input '{Describe(word)}': expected a command after '|'");
        }
        switch (word.Text.ToUpperInvariant())
        {
            case "WHERE":
                {
                    Advance();
                    var condition = BooleanExpression();
                    return new WhereCommand(TextSpan.Between(word.Span, condition.Span), condition);
                }
            case "EVAL":
                {
                    Advance();
                    var fields = Fields();
                    return new EvalCommand(TextSpan.Between(word.Span, fields[^1].Span), fields);
                }
            case "STATS":
                Advance();
                return Stats(word.Span, inline: false);
            case "INLINESTATS":
                Advance();
                return Stats(word.Span, inline: true);
            case "INLINE":
                {
                    Advance();
                    if (!current.Is("stats"))
                    {
                        throw source.Error(current.Span, $"mismatched input '{Describe(current)}': expected STATS after INLINE");
                    }
                    Advance();
                    return Stats(word.Span, inline: true);
                }
            case "KEEP":
                {
                    Advance();
                    var patterns = NamePatterns();
                    return new KeepCommand(TextSpan.Between(word.Span, patterns[^1].Span), patterns);
                }
            case "DROP":
                {
                    Advance();
                    var patterns = NamePatterns();
                    return new DropCommand(TextSpan.Between(word.Span, patterns[^1].Span), patterns);
                }
            case "RENAME":
                Advance();
                return Rename(word.Span);
            case "SORT":
                Advance();
                return Sort(word.Span);
            case "LIMIT":
                {
                    Advance();
                    var count = current;
                    Expect(TokenKind.Integer, "an integer after LIMIT");
                    if (!int.TryParse(count.Text, NumberStyles.None, CultureInfo.InvariantCulture, out var limit))
                    {
                        throw source.Error(count.Span, $"invalid value for LIMIT [{count.Text}], expecting a non negative integer");
                    }
                    return new LimitCommand(TextSpan.Between(word.Span, count.Span), limit);
                }
            case "MV_EXPAND":
                {
                    Advance();
                    var field = QualifiedName();
                    return new MvExpandCommand(TextSpan.Between(word.Span, field.Span), field);
                }
            case "DISSECT":
                return Dissect(word.Span);
            case "GROK":
                {
                    Advance();
                    var input = PrimaryExpression();
                    var pattern = StringLiteral("a GROK pattern");
                    if (current.Kind == TokenKind.Comma)
                    {
                        throw source.Error(current.Span, "GROK with several patterns is outside the subset the embedded executor runs");
                    }
                    return new GrokCommand(TextSpan.Between(word.Span, pattern.Span), input, pattern);
                }
            case "LOOKUP":
                return LookupJoin(word.Span);
            default:
                if (UnsupportedCommands.Contains(word.Text))
                {
                    throw source.Error(word.Span, $"the command [{word.Text.ToUpperInvariant()}] is outside the subset the embedded executor runs");
                }
                throw source.Error(word.Span, $"unknown command [{word.Text}]");
        }
    }

    private FromCommand From()
    {
        var start = current.Span;
        offset = current.Span.End;
        var indices = ImmutableArray.CreateBuilder<IndexPattern>();
        while (true)
        {
            var pattern = lexer.ScanIndexPattern(offset);
            if (pattern.Kind != TokenKind.Identifier)
            {
                throw source.Error(pattern.Span, $"mismatched input '{Describe(pattern)}': expected an index pattern");
            }
            if (pattern.Text.Contains(':', StringComparison.Ordinal))
            {
                throw source.Error(pattern.Span, $"the cross-cluster index pattern [{pattern.Text}] is outside the subset the embedded executor runs");
            }
            indices.Add(new IndexPattern(pattern.Span, pattern.Text));
            offset = pattern.Span.End;
            current = lexer.Scan(offset);
            if (current.Kind != TokenKind.Comma)
            {
                break;
            }
            offset = current.Span.End;
        }
        var end = indices[^1].Span;
        var metadata = ImmutableArray<NamePattern>.Empty;
        if (current.Is("metadata"))
        {
            Advance();
            var names = ImmutableArray.CreateBuilder<NamePattern>();
            do
            {
                var name = QualifiedName();
                names.Add(new NamePattern(name.Span, name.Name));
                end = name.Span;
            }
            while (Accept(TokenKind.Comma));
            metadata = names.ToImmutable();
        }
        return new FromCommand(TextSpan.Between(start, end), indices.ToImmutable(), metadata);
    }

    private StatsCommand Stats(TextSpan start, bool inline)
    {
        var aggregates = ImmutableArray.CreateBuilder<AggregateField>();
        var end = start;
        if (!current.Is("by") && current.Kind is not (TokenKind.Pipe or TokenKind.End))
        {
            do
            {
                var field = Field();
                Expr? filter = null;
                end = field.Span;
                if (current.Is("where"))
                {
                    Advance();
                    filter = BooleanExpression();
                    end = filter.Span;
                }
                aggregates.Add(new AggregateField(field, filter));
            }
            while (Accept(TokenKind.Comma));
        }
        var groupings = ImmutableArray<NamedExpr>.Empty;
        if (current.Is("by"))
        {
            Advance();
            groupings = Fields();
            end = groupings[^1].Span;
        }
        if (aggregates.Count == 0 && groupings.IsEmpty)
        {
            throw source.Error(start, $"{(inline ? "INLINE STATS" : "STATS")} needs at least one aggregate or grouping");
        }
        return new StatsCommand(TextSpan.Between(start, end), aggregates.ToImmutable(), groupings, inline);
    }

    private RenameCommand Rename(TextSpan start)
    {
        var renames = ImmutableArray.CreateBuilder<(NamePattern, NamePattern)>();
        TextSpan end;
        do
        {
            var first = NamePattern();
            if (current.Is("as"))
            {
                Advance();
                var second = NamePattern();
                renames.Add((first, second));
                end = second.Span;
            }
            else if (current.Kind == TokenKind.Assign)
            {
                // RENAME new = old, the newer spelling.
                Advance();
                var second = NamePattern();
                renames.Add((second, first));
                end = second.Span;
            }
            else
            {
                throw source.Error(current.Span, $"mismatched input '{Describe(current)}': expected AS in RENAME");
            }
        }
        while (Accept(TokenKind.Comma));
        return new RenameCommand(TextSpan.Between(start, end), renames.ToImmutable());
    }

    private SortCommand Sort(TextSpan start)
    {
        var keys = ImmutableArray.CreateBuilder<SortKey>();
        do
        {
            var value = BooleanExpression();
            var end = value.Span;
            var descending = false;
            if (current.Is("asc") || current.Is("desc"))
            {
                descending = current.Is("desc");
                end = current.Span;
                Advance();
            }
            // Nulls count as larger than any value: last when ascending, first when descending.
            var nullsFirst = descending;
            if (current.Is("nulls"))
            {
                Advance();
                if (!current.Is("first") && !current.Is("last"))
                {
                    throw source.Error(current.Span, $"mismatched input '{Describe(current)}': expected FIRST or LAST after NULLS");
                }
                nullsFirst = current.Is("first");
                end = current.Span;
                Advance();
            }
            keys.Add(new SortKey(TextSpan.Between(value.Span, end), value, descending, nullsFirst));
        }
        while (Accept(TokenKind.Comma));
        return new SortCommand(TextSpan.Between(start, keys[^1].Span), keys.ToImmutable());
    }

    private DissectCommand Dissect(TextSpan start)
    {
        Advance();
        var input = PrimaryExpression();
        var pattern = StringLiteral("a DISSECT pattern");
        var end = pattern.Span;
        string? separator = null;
        while (current.Kind == TokenKind.Identifier && !current.Is("by"))
        {
            var option = current;
            Advance();
            Expect(TokenKind.Assign, "'=' after a DISSECT option");
            var value = current;
            Expect(TokenKind.String, "a string value of a DISSECT option");
            if (!option.Is("append_separator"))
            {
                throw source.Error(option.Span, $"Invalid option for dissect: [{option.Text}]");
            }
            separator = value.Text;
            end = value.Span;
            if (!Accept(TokenKind.Comma))
            {
                break;
            }
        }
        return new DissectCommand(TextSpan.Between(start, end), input, pattern, separator);
    }

    private LookupJoinCommand LookupJoin(TextSpan start)
    {
        Advance();
        if (!current.Is("join"))
        {
            throw source.Error(current.Span, $"mismatched input '{Describe(current)}': expected JOIN after LOOKUP (the old LOOKUP command is outside the subset)");
        }
        offset = current.Span.End;
        var index = lexer.ScanIndexPattern(offset);
        if (index.Kind != TokenKind.Identifier)
        {
            throw source.Error(index.Span, $"mismatched input '{Describe(index)}': expected the lookup index after LOOKUP JOIN");
        }
        offset = index.Span.End;
        current = lexer.Scan(offset);
        if (current.Is("as"))
        {
            throw source.Error(current.Span, "a LOOKUP JOIN index alias is outside the subset the embedded executor runs");
        }
        if (!current.Is("on"))
        {
            throw source.Error(current.Span, $"mismatched input '{Describe(current)}': expected ON after the lookup index");
        }
        Advance();
        var on = ImmutableArray.CreateBuilder<FieldExpr>();
        do
        {
            var field = QualifiedName();
            if (current.Kind is TokenKind.Equal or TokenKind.NotEqual or TokenKind.Less or TokenKind.LessOrEqual or TokenKind.Greater or TokenKind.GreaterOrEqual)
            {
                throw source.Error(current.Span, "a LOOKUP JOIN on an expression is outside the subset the embedded executor runs (join on field names)");
            }
            on.Add(field);
        }
        while (Accept(TokenKind.Comma));
        return new LookupJoinCommand(TextSpan.Between(start, on[^1].Span), new IndexPattern(index.Span, index.Text), on.ToImmutable());
    }

    private ImmutableArray<NamedExpr> Fields()
    {
        var fields = ImmutableArray.CreateBuilder<NamedExpr>();
        do
        {
            fields.Add(Field());
        }
        while (Accept(TokenKind.Comma));
        return fields.ToImmutable();
    }

    private NamedExpr Field()
    {
        if (current.Kind is TokenKind.Identifier or TokenKind.QuotedIdentifier && !IsReserved(current))
        {
            var save = (offset, current);
            var name = QualifiedName();
            if (current.Kind == TokenKind.Assign)
            {
                Advance();
                var value = BooleanExpression();
                return new NamedExpr(TextSpan.Between(name.Span, value.Span), name.Name, value);
            }
            (offset, current) = save;
        }
        var expr = BooleanExpression();
        return new NamedExpr(expr.Span, source.Slice(expr.Span), expr);
    }

    private ImmutableArray<NamePattern> NamePatterns()
    {
        var patterns = ImmutableArray.CreateBuilder<NamePattern>();
        do
        {
            patterns.Add(NamePattern());
        }
        while (Accept(TokenKind.Comma));
        return patterns.ToImmutable();
    }

    private NamePattern NamePattern()
    {
        var token = lexer.ScanNamePattern(offset);
        if (token.Kind is not (TokenKind.Identifier or TokenKind.QuotedIdentifier))
        {
            throw source.Error(token.Span, $"mismatched input '{Describe(token)}': expected a column name or pattern");
        }
        offset = token.Span.End;
        current = lexer.Scan(offset);
        return new NamePattern(token.Span, token.Text);
    }

    // Expressions, from the loosest binding to the tightest.

    private Expr BooleanExpression()
    {
        var left = AndExpression();
        while (current.Is("or"))
        {
            var op = current.Span;
            Advance();
            var right = AndExpression();
            left = new BinaryExpr(TextSpan.Between(left.Span, right.Span), BinaryOp.Or, left, right, op);
        }
        return left;
    }

    private Expr AndExpression()
    {
        var left = NotExpression();
        while (current.Is("and"))
        {
            var op = current.Span;
            Advance();
            var right = NotExpression();
            left = new BinaryExpr(TextSpan.Between(left.Span, right.Span), BinaryOp.And, left, right, op);
        }
        return left;
    }

    private Expr NotExpression()
    {
        if (current.Is("not"))
        {
            var start = current.Span;
            Advance();
            var operand = NotExpression();
            return new UnaryExpr(TextSpan.Between(start, operand.Span), UnaryOp.Not, operand);
        }
        return Predicate();
    }

    private Expr Predicate()
    {
        var value = ValueExpression();
        if (current.Is("is"))
        {
            Advance();
            var negated = false;
            if (current.Is("not"))
            {
                negated = true;
                Advance();
            }
            var end = current.Span;
            if (!current.Is("null"))
            {
                throw source.Error(current.Span, $"mismatched input '{Describe(current)}': expected NULL after IS");
            }
            Advance();
            return new IsNullExpr(TextSpan.Between(value.Span, end), value, negated);
        }
        var negatedPredicate = false;
        if (current.Is("not"))
        {
            var next = lexer.Scan(current.Span.End);
            if (!next.Is("in") && !next.Is("like") && !next.Is("rlike"))
            {
                throw source.Error(current.Span, $"mismatched input 'NOT': expected IN, LIKE or RLIKE after NOT here");
            }
            negatedPredicate = true;
            Advance();
        }
        if (current.Is("in"))
        {
            Advance();
            Expect(TokenKind.LeftParen, "'(' after IN");
            var items = ImmutableArray.CreateBuilder<Expr>();
            do
            {
                items.Add(ValueExpression());
            }
            while (Accept(TokenKind.Comma));
            var close = current.Span;
            Expect(TokenKind.RightParen, "')' closing the IN list");
            return new InExpr(TextSpan.Between(value.Span, close), value, items.ToImmutable(), negatedPredicate);
        }
        if (current.Is("like") || current.Is("rlike"))
        {
            var regex = current.Is("rlike");
            Advance();
            var patterns = ImmutableArray.CreateBuilder<LiteralExpr>();
            TextSpan end;
            if (current.Kind == TokenKind.LeftParen)
            {
                Advance();
                do
                {
                    patterns.Add(StringLiteral("a pattern"));
                }
                while (Accept(TokenKind.Comma));
                end = current.Span;
                Expect(TokenKind.RightParen, "')' closing the pattern list");
            }
            else
            {
                var pattern = StringLiteral(regex ? "a regular expression after RLIKE" : "a pattern after LIKE");
                patterns.Add(pattern);
                end = pattern.Span;
            }
            return new PatternExpr(TextSpan.Between(value.Span, end), value, patterns.ToImmutable(), regex, negatedPredicate);
        }
        return value;
    }

    private Expr ValueExpression()
    {
        var left = AdditiveExpression();
        var op = current.Kind switch
        {
            TokenKind.Equal => BinaryOp.Equal,
            TokenKind.NotEqual => BinaryOp.NotEqual,
            TokenKind.Less => BinaryOp.Less,
            TokenKind.LessOrEqual => BinaryOp.LessOrEqual,
            TokenKind.Greater => BinaryOp.Greater,
            TokenKind.GreaterOrEqual => BinaryOp.GreaterOrEqual,
            TokenKind.CaseInsensitiveEqual => BinaryOp.CaseInsensitiveEqual,
            _ => (BinaryOp?)null,
        };
        if (op is null)
        {
            if (current.Kind == TokenKind.Assign)
            {
                throw source.Error(current.Span, "mismatched input '=': compare with '==' (a single '=' names a column in EVAL, STATS and ROW)");
            }
            if (current.Kind == TokenKind.Colon)
            {
                throw source.Error(current.Span, "the match operator ':' is outside the subset the embedded executor runs");
            }
            return left;
        }
        var opSpan = current.Span;
        Advance();
        var right = AdditiveExpression();
        return new BinaryExpr(TextSpan.Between(left.Span, right.Span), op.Value, left, right, opSpan);
    }

    private Expr AdditiveExpression()
    {
        var left = MultiplicativeExpression();
        while (current.Kind is TokenKind.Plus or TokenKind.Minus)
        {
            var op = current.Kind == TokenKind.Plus ? BinaryOp.Add : BinaryOp.Subtract;
            var opSpan = current.Span;
            Advance();
            var right = MultiplicativeExpression();
            left = new BinaryExpr(TextSpan.Between(left.Span, right.Span), op, left, right, opSpan);
        }
        return left;
    }

    private Expr MultiplicativeExpression()
    {
        var left = UnaryExpression();
        while (current.Kind is TokenKind.Star or TokenKind.Slash or TokenKind.Percent)
        {
            var op = current.Kind switch
            {
                TokenKind.Star => BinaryOp.Multiply,
                TokenKind.Slash => BinaryOp.Divide,
                _ => BinaryOp.Modulo,
            };
            var opSpan = current.Span;
            Advance();
            var right = UnaryExpression();
            left = new BinaryExpr(TextSpan.Between(left.Span, right.Span), op, left, right, opSpan);
        }
        return left;
    }

    private Expr UnaryExpression()
    {
        if (current.Kind is TokenKind.Minus or TokenKind.Plus)
        {
            var start = current.Span;
            var negate = current.Kind == TokenKind.Minus;
            Advance();
            var operand = UnaryExpression();
            var span = TextSpan.Between(start, operand.Span);
            if (!negate)
            {
                return operand;
            }
            // A negative number is one literal, so -2147483648 stays an integer as in Elasticsearch.
            if (operand is LiteralExpr { Kind: LiteralKind.Integer or LiteralKind.Long or LiteralKind.Double } literal)
            {
                return NegateLiteral(span, literal);
            }
            return new UnaryExpr(span, UnaryOp.Negate, operand);
        }
        return PrimaryExpression();
    }

    private static LiteralExpr NegateLiteral(TextSpan span, LiteralExpr literal) => literal.Value switch
    {
        int i => new LiteralExpr(span, LiteralKind.Integer, -i),
        long l when l == -(long)int.MinValue => new LiteralExpr(span, LiteralKind.Integer, int.MinValue),
        long l => new LiteralExpr(span, LiteralKind.Long, -l),
        double d when d == -(double)long.MinValue => new LiteralExpr(span, LiteralKind.Long, long.MinValue),
        double d => new LiteralExpr(span, LiteralKind.Double, -d),
        _ => literal,
    };

    private Expr PrimaryExpression()
    {
        var expr = Atom();
        while (current.Kind == TokenKind.CastOperator)
        {
            Advance();
            var type = current;
            if (type.Kind != TokenKind.Identifier)
            {
                throw source.Error(type.Span, $"mismatched input '{Describe(type)}': expected a type name after '::'");
            }
            Advance();
            expr = new CastExpr(TextSpan.Between(expr.Span, type.Span), expr, type.Text, type.Span);
        }
        return expr;
    }

    private Expr Atom()
    {
        var token = current;
        switch (token.Kind)
        {
            case TokenKind.Integer:
                {
                    Advance();
                    if (current.Kind == TokenKind.Identifier && TimeUnits.TryParse(current.Text, out var unit))
                    {
                        var unitToken = current;
                        Advance();
                        return TimeSpanLiteral(token, unitToken, unit);
                    }
                    return IntegerLiteral(token);
                }
            case TokenKind.Decimal:
                Advance();
                return new LiteralExpr(token.Span, LiteralKind.Double, double.Parse(token.Text, NumberStyles.Float, CultureInfo.InvariantCulture));
            case TokenKind.String:
                Advance();
                return new LiteralExpr(token.Span, LiteralKind.String, token.Text);
            case TokenKind.LeftParen:
                {
                    Advance();
                    var inner = BooleanExpression();
                    Expect(TokenKind.RightParen, "')'");
                    return inner;
                }
            case TokenKind.LeftBracket:
                return ListLiteral();
            case TokenKind.Parameter:
                throw source.Error(token.Span, "query parameters ('?') are outside the subset the embedded executor runs");
            case TokenKind.LeftBrace:
                throw source.Error(token.Span, "map expressions ('{...}') are outside the subset the embedded executor runs");
            case TokenKind.Identifier when token.Is("null"):
                Advance();
                return new LiteralExpr(token.Span, LiteralKind.Null, null);
            case TokenKind.Identifier when token.Is("true") || token.Is("false"):
                Advance();
                return new LiteralExpr(token.Span, LiteralKind.Boolean, token.Is("true"));
            case TokenKind.Identifier when !IsReserved(token):
                {
                    var next = lexer.Scan(token.Span.End);
                    if (next.Kind == TokenKind.LeftParen)
                    {
                        return Call();
                    }
                    return QualifiedName();
                }
            case TokenKind.QuotedIdentifier:
                return QualifiedName();
            default:
                throw source.Error(token.Span, $"mismatched input '{Describe(token)}': expected an expression");
        }
    }

    private CallExpr Call()
    {
        var name = current;
        Advance();
        Expect(TokenKind.LeftParen, "'('");
        var args = ImmutableArray.CreateBuilder<Expr>();
        var star = false;
        if (current.Kind == TokenKind.Star)
        {
            star = true;
            Advance();
        }
        else if (current.Kind != TokenKind.RightParen)
        {
            do
            {
                if (current.Kind == TokenKind.LeftBrace)
                {
                    throw source.Error(current.Span, $"named options of {name.Text.ToUpperInvariant()} ('{{...}}') are outside the subset the embedded executor runs");
                }
                args.Add(BooleanExpression());
            }
            while (Accept(TokenKind.Comma));
        }
        var close = current.Span;
        Expect(TokenKind.RightParen, $"')' closing {name.Text}(");
        return new CallExpr(TextSpan.Between(name.Span, close), name.Text, name.Span, args.ToImmutable(), star);
    }

    private ListExpr ListLiteral()
    {
        var open = current.Span;
        Advance();
        var items = ImmutableArray.CreateBuilder<Expr>();
        if (current.Kind != TokenKind.RightBracket)
        {
            do
            {
                var item = UnaryExpression();
                if (item is not LiteralExpr)
                {
                    throw source.Error(item.Span, "a multi-value literal holds only constants");
                }
                items.Add(item);
            }
            while (Accept(TokenKind.Comma));
        }
        var close = current.Span;
        Expect(TokenKind.RightBracket, "']' closing the list");
        return new ListExpr(TextSpan.Between(open, close), items.ToImmutable());
    }

    private FieldExpr QualifiedName()
    {
        var first = current;
        if (first.Kind is not (TokenKind.Identifier or TokenKind.QuotedIdentifier) || (first.Kind == TokenKind.Identifier && IsReserved(first)))
        {
            throw source.Error(first.Span, $"mismatched input '{Describe(first)}': expected a column name");
        }
        var parts = new List<string> { first.Text };
        var end = first.Span;
        Advance();
        // A dot joins the parts only when nothing separates them: "a.b" is one name.
        while (current.Kind == TokenKind.Dot && current.Span.Start == end.End)
        {
            var next = lexer.Scan(current.Span.End);
            if (next.Kind is not (TokenKind.Identifier or TokenKind.QuotedIdentifier or TokenKind.Integer) || next.Span.Start != current.Span.End)
            {
                throw source.Error(current.Span, "a name cannot end with '.'");
            }
            Advance();
            parts.Add(current.Text);
            end = current.Span;
            Advance();
        }
        return new FieldExpr(TextSpan.Between(first.Span, end), string.Join('.', parts));
    }

    private LiteralExpr StringLiteral(string what)
    {
        var token = current;
        if (token.Kind != TokenKind.String)
        {
            throw source.Error(token.Span, $"mismatched input '{Describe(token)}': expected {what} (a string literal)");
        }
        Advance();
        return new LiteralExpr(token.Span, LiteralKind.String, token.Text);
    }

    private static LiteralExpr IntegerLiteral(Token token)
    {
        if (int.TryParse(token.Text, NumberStyles.None, CultureInfo.InvariantCulture, out var i))
        {
            return new LiteralExpr(token.Span, LiteralKind.Integer, i);
        }
        if (long.TryParse(token.Text, NumberStyles.None, CultureInfo.InvariantCulture, out var l))
        {
            return new LiteralExpr(token.Span, LiteralKind.Long, l);
        }
        return new LiteralExpr(token.Span, LiteralKind.Double, double.Parse(token.Text, NumberStyles.Float, CultureInfo.InvariantCulture));
    }

    private LiteralExpr TimeSpanLiteral(Token number, Token unitToken, TimeUnit unit)
    {
        var span = TextSpan.Between(number.Span, unitToken.Span);
        if (!int.TryParse(number.Text, NumberStyles.None, CultureInfo.InvariantCulture, out var quantity))
        {
            throw source.Error(span, $"time span quantity [{number.Text}] is too large");
        }
        var value = TimeUnits.Create(quantity, unit);
        return new LiteralExpr(span, value is TimeSpan ? LiteralKind.TimeDuration : LiteralKind.DatePeriod, value);
    }

    private static bool IsReserved(Token token) => token.Kind == TokenKind.Identifier && ReservedWords.Contains(token.Text);

    private void Advance()
    {
        offset = current.Span.End;
        current = lexer.Scan(offset);
    }

    private bool Accept(TokenKind kind)
    {
        if (current.Kind != kind)
        {
            return false;
        }
        Advance();
        return true;
    }

    private void Expect(TokenKind kind, string what)
    {
        if (current.Kind != kind)
        {
            throw source.Error(current.Span, $"mismatched input '{Describe(current)}': expected {what}");
        }
        Advance();
    }

    private string Describe(Token token) => token.Kind == TokenKind.End ? "<EOF>" : source.Slice(token.Span);
}
