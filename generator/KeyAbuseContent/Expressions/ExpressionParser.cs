using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using KeyAbuseContent.Expressions.Regex;

namespace KeyAbuseContent.Expressions;

/// <summary>A syntax error in an expression: where it is in the text, and why.</summary>
public sealed record ExpressionError(TextSpan Span, string Message);

/// <summary>
/// Parses the rule expression language (filters, conditions, aggregates). The grammar, lowest
/// precedence first: <c>or</c>, <c>and</c>, <c>not</c>, comparisons (<c>== != =~ !~ &lt; &lt;= &gt; &gt;=</c>,
/// <c>in</c>, <c>not in</c>, <c>in~</c>, <c>startswith</c>, <c>endswith</c>, <c>contains</c>, <c>matches</c>),
/// <c>+ -</c>, <c>* /</c>, unary <c>-</c>, then literals, names, calls and parentheses.
/// </summary>
public sealed class ExpressionParser
{
    private readonly string _text;
    private readonly List<Token> _tokens;
    private int _index;

    private ExpressionParser(string text, List<Token> tokens)
    {
        _text = text;
        _tokens = tokens;
    }

    /// <summary>Parses <paramref name="text"/>; returns the tree or the first error.</summary>
    public static (Expr? Expr, ExpressionError? Error) Parse(string text)
    {
        var (tokens, lexError) = Lex(text);
        if (lexError is not null)
        {
            return (null, lexError);
        }
        var parser = new ExpressionParser(text, tokens);
        try
        {
            var expr = parser.ParseOr();
            if (parser.Current.Kind != TokenKind.End)
            {
                throw parser.Fail($"unexpected '{parser.Current.Text}' after a complete expression");
            }
            return (expr, null);
        }
        catch (ParseException e)
        {
            return (null, new ExpressionError(e.Span, e.Message));
        }
    }

    private enum TokenKind
    {
        Name,
        String,
        Number,
        Duration,
        Symbol,
        End,
    }

    private sealed record Token(TokenKind Kind, string Text, object? Value, TextSpan Span);

    private sealed class ParseException(TextSpan span, string message) : Exception(message)
    {
        public TextSpan Span { get; } = span;
    }

    private static readonly string[] Symbols = ["==", "!=", "=~", "!~", "<=", ">=", "<", ">", "+", "-", "*", "/", "(", ")", ",", "~"];

    private static (List<Token> Tokens, ExpressionError? Error) Lex(string text)
    {
        var tokens = new List<Token>();
        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            if (char.IsWhiteSpace(c))
            {
                i++;
                continue;
            }
            var start = i;
            if (char.IsAsciiLetter(c) || c == '_')
            {
                while (i < text.Length && (char.IsAsciiLetterOrDigit(text[i]) || text[i] == '_'))
                {
                    i++;
                }
                tokens.Add(new Token(TokenKind.Name, text[start..i], null, new TextSpan(start, i - start)));
                continue;
            }
            if (char.IsAsciiDigit(c) || (c == '.' && i + 1 < text.Length && char.IsAsciiDigit(text[i + 1])))
            {
                while (i < text.Length && (char.IsAsciiDigit(text[i]) || text[i] == '.'))
                {
                    i++;
                }
                if (i < text.Length && (text[i] is 'e' or 'E') && i + 1 < text.Length && (char.IsAsciiDigit(text[i + 1]) || text[i + 1] is '+' or '-'))
                {
                    i += 2;
                    while (i < text.Length && char.IsAsciiDigit(text[i]))
                    {
                        i++;
                    }
                }
                var number = text[start..i];
                if (i < text.Length && text[i] is 's' or 'm' or 'h' or 'd' && (i + 1 == text.Length || !char.IsAsciiLetterOrDigit(text[i + 1])))
                {
                    var unit = text[i];
                    i++;
                    if (!long.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out var n))
                    {
                        return (tokens, new ExpressionError(new TextSpan(start, i - start), $"'{text[start..i]}' is not a duration; write a whole number and s, m, h or d"));
                    }
                    var span = unit switch
                    {
                        's' => TimeSpan.FromSeconds(n),
                        'm' => TimeSpan.FromMinutes(n),
                        'h' => TimeSpan.FromHours(n),
                        _ => TimeSpan.FromDays(n),
                    };
                    tokens.Add(new Token(TokenKind.Duration, text[start..i], span, new TextSpan(start, i - start)));
                    continue;
                }
                if (i < text.Length && (char.IsAsciiLetter(text[i]) || text[i] == '_'))
                {
                    return (tokens, new ExpressionError(new TextSpan(start, i - start + 1), $"'{text[start..(i + 1)]}' is neither a number nor a name"));
                }
                object value;
                if (long.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out var l))
                {
                    value = l;
                }
                else if (double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var d))
                {
                    value = d;
                }
                else
                {
                    return (tokens, new ExpressionError(new TextSpan(start, i - start), $"'{number}' is not a number"));
                }
                tokens.Add(new Token(TokenKind.Number, number, value, new TextSpan(start, i - start)));
                continue;
            }
            if (c is '"' or '\'')
            {
                var sb = new StringBuilder();
                i++;
                var closed = false;
                while (i < text.Length)
                {
                    var ch = text[i];
                    if (ch == c)
                    {
                        closed = true;
                        i++;
                        break;
                    }
                    if (ch == '\\')
                    {
                        if (i + 1 >= text.Length)
                        {
                            break;
                        }
                        var e = text[i + 1];
                        switch (e)
                        {
                            case '\\' or '"' or '\'':
                                sb.Append(e);
                                break;
                            case 'n':
                                sb.Append('\n');
                                break;
                            case 't':
                                sb.Append('\t');
                                break;
                            default:
                                return (tokens, new ExpressionError(new TextSpan(i, 2), $"unknown escape '\\{e}' in a string; use \\\\ for a backslash"));
                        }
                        i += 2;
                        continue;
                    }
                    sb.Append(ch);
                    i++;
                }
                if (!closed)
                {
                    return (tokens, new ExpressionError(new TextSpan(start, i - start), "unterminated string"));
                }
                tokens.Add(new Token(TokenKind.String, text[start..i], sb.ToString(), new TextSpan(start, i - start)));
                continue;
            }
            var symbol = Array.Find(Symbols, s => string.CompareOrdinal(text, i, s, 0, s.Length) == 0);
            if (symbol is null)
            {
                var hint = c switch
                {
                    '=' => "; compare with '=='",
                    '&' or '|' => "; combine conditions with 'and' and 'or'",
                    '!' => "; negate with 'not'",
                    _ => "",
                };
                return (tokens, new ExpressionError(new TextSpan(i, 1), $"unexpected character '{c}'{hint}"));
            }
            i += symbol.Length;
            tokens.Add(new Token(TokenKind.Symbol, symbol, null, new TextSpan(start, symbol.Length)));
        }
        tokens.Add(new Token(TokenKind.End, "end of expression", null, new TextSpan(text.Length, 0)));
        return (tokens, null);
    }

    private Token Current => _tokens[_index];

    private Token Advance() => _tokens[_index++];

    private ParseException Fail(string message) => new(Current.Span, message);

    private bool IsWord(string word) => Current.Kind == TokenKind.Name && Current.Text == word;

    private bool IsSymbol(string symbol) => Current.Kind == TokenKind.Symbol && Current.Text == symbol;

    private void Expect(string symbol, string context)
    {
        if (!IsSymbol(symbol))
        {
            throw Fail($"expected '{symbol}' {context}, found '{Current.Text}'");
        }
        _index++;
    }

    private static TextSpan Cover(Expr a, TextSpan b) => new(a.Span.Start, b.Start + b.Length - a.Span.Start);

    private static TextSpan Cover(TextSpan a, Expr b) => new(a.Start, b.Span.Start + b.Span.Length - a.Start);

    private Expr ParseOr()
    {
        var left = ParseAnd();
        while (IsWord("or"))
        {
            _index++;
            var right = ParseAnd();
            left = new BinaryExpr(Cover(left, right.Span), BinaryOp.Or, left, right);
        }
        return left;
    }

    private Expr ParseAnd()
    {
        var left = ParseNot();
        while (IsWord("and"))
        {
            _index++;
            var right = ParseNot();
            left = new BinaryExpr(Cover(left, right.Span), BinaryOp.And, left, right);
        }
        return left;
    }

    private Expr ParseNot()
    {
        if (IsWord("not"))
        {
            var start = Advance().Span;
            var operand = ParseNot();
            return new UnaryExpr(Cover(start, operand), UnaryOp.Not, operand);
        }
        return ParseComparison();
    }

    private Expr ParseComparison()
    {
        var left = ParseAdditive();
        if (Current.Kind == TokenKind.Symbol)
        {
            BinaryOp? op = Current.Text switch
            {
                "==" => BinaryOp.Equal,
                "!=" => BinaryOp.NotEqual,
                "=~" => BinaryOp.EqualIgnoreCase,
                "!~" => BinaryOp.NotEqualIgnoreCase,
                "<" => BinaryOp.Less,
                "<=" => BinaryOp.LessOrEqual,
                ">" => BinaryOp.Greater,
                ">=" => BinaryOp.GreaterOrEqual,
                _ => null,
            };
            if (op is not null)
            {
                _index++;
                var right = ParseAdditive();
                return new BinaryExpr(Cover(left, right.Span), op.Value, left, right);
            }
        }
        if (IsWord("not") && _index + 1 < _tokens.Count && _tokens[_index + 1] is { Kind: TokenKind.Name, Text: "in" })
        {
            _index += 2;
            return ParseInList(left, negated: true);
        }
        if (IsWord("in"))
        {
            _index++;
            return ParseInList(left, negated: false);
        }
        if (Current.Kind == TokenKind.Name)
        {
            BinaryOp? op = Current.Text switch
            {
                "startswith" => BinaryOp.StartsWith,
                "endswith" => BinaryOp.EndsWith,
                "contains" => BinaryOp.Contains,
                _ => null,
            };
            if (op is not null)
            {
                _index++;
                var right = ParseAdditive();
                return new BinaryExpr(Cover(left, right.Span), op.Value, left, right);
            }
            if (IsWord("matches"))
            {
                _index++;
                var pattern = Current;
                if (pattern.Kind != TokenKind.String)
                {
                    throw Fail("'matches' takes a quoted regular expression");
                }
                _index++;
                var (regex, error) = RegexParser.Parse((string)pattern.Value!);
                if (error is not null)
                {
                    throw new ParseException(pattern.Span, $"regular expression: {error.Message} (at offset {error.Offset} of the pattern)");
                }
                return new MatchesExpr(Cover(left, pattern.Span), left, regex!, (string)pattern.Value!);
            }
            if (Current.Text is "has" or "has_cs" or "has_any" or "has_all" or "like" or "rlike" or "regex")
            {
                throw Fail($"'{Current.Text}' is not an operator of the rule language; see the operator table (KQL 'has' matches whole terms and has no ES|QL twin; use 'contains' or 'matches')");
            }
        }
        return left;
    }

    private InExpr ParseInList(Expr value, bool negated)
    {
        var ignoreCase = false;
        if (IsSymbol("~"))
        {
            ignoreCase = true;
            _index++;
        }
        Expect("(", "to open the list after 'in'");
        var items = ImmutableArray.CreateBuilder<Expr>();
        while (true)
        {
            items.Add(ParseAdditive());
            if (IsSymbol(","))
            {
                _index++;
                continue;
            }
            break;
        }
        var close = Current.Span;
        Expect(")", "to close the list");
        return new InExpr(Cover(value, close), value, items.ToImmutable(), negated, ignoreCase);
    }

    private Expr ParseAdditive()
    {
        var left = ParseMultiplicative();
        while (IsSymbol("+") || IsSymbol("-"))
        {
            var op = Advance().Text == "+" ? BinaryOp.Add : BinaryOp.Subtract;
            var right = ParseMultiplicative();
            left = new BinaryExpr(Cover(left, right.Span), op, left, right);
        }
        return left;
    }

    private Expr ParseMultiplicative()
    {
        var left = ParseUnary();
        while (IsSymbol("*") || IsSymbol("/"))
        {
            var op = Advance().Text == "*" ? BinaryOp.Multiply : BinaryOp.Divide;
            var right = ParseUnary();
            left = new BinaryExpr(Cover(left, right.Span), op, left, right);
        }
        return left;
    }

    private Expr ParseUnary()
    {
        if (IsSymbol("-"))
        {
            var start = Advance().Span;
            var operand = ParseUnary();
            if (operand is LiteralExpr { Kind: LiteralKind.Long, Value: long l })
            {
                return new LiteralExpr(Cover(start, operand), LiteralKind.Long, -l);
            }
            if (operand is LiteralExpr { Kind: LiteralKind.Real, Value: double d })
            {
                return new LiteralExpr(Cover(start, operand), LiteralKind.Real, -d);
            }
            return new UnaryExpr(Cover(start, operand), UnaryOp.Negate, operand);
        }
        return ParsePrimary();
    }

    private Expr ParsePrimary()
    {
        var token = Current;
        switch (token.Kind)
        {
            case TokenKind.Number:
                _index++;
                return token.Value is long l
                    ? new LiteralExpr(token.Span, LiteralKind.Long, l)
                    : new LiteralExpr(token.Span, LiteralKind.Real, token.Value);
            case TokenKind.Duration:
                _index++;
                return new LiteralExpr(token.Span, LiteralKind.Duration, token.Value);
            case TokenKind.String:
                _index++;
                return new LiteralExpr(token.Span, LiteralKind.String, token.Value);
            case TokenKind.Symbol when token.Text == "(":
                _index++;
                var inner = ParseOr();
                Expect(")", "to close the parenthesis");
                return inner;
            case TokenKind.Name:
                _index++;
                switch (token.Text)
                {
                    case "true" or "false":
                        return new LiteralExpr(token.Span, LiteralKind.Bool, token.Text == "true");
                    case "null":
                        return new LiteralExpr(token.Span, LiteralKind.Null, null);
                    case "and" or "or" or "not" or "in" or "matches" or "startswith" or "endswith" or "contains":
                        _index--;
                        throw Fail($"expected a value, found the keyword '{token.Text}'");
                }
                if (IsSymbol("("))
                {
                    _index++;
                    var args = ImmutableArray.CreateBuilder<Expr>();
                    if (!IsSymbol(")"))
                    {
                        while (true)
                        {
                            args.Add(ParseOr());
                            if (IsSymbol(","))
                            {
                                _index++;
                                continue;
                            }
                            break;
                        }
                    }
                    var close = Current.Span;
                    Expect(")", $"to close the call of {token.Text}");
                    return new CallExpr(new TextSpan(token.Span.Start, close.Start + 1 - token.Span.Start), token.Text, args.ToImmutable());
                }
                return new NameExpr(token.Span, token.Text);
            default:
                throw Fail(token.Kind == TokenKind.End ? "the expression ends too early" : $"expected a value, found '{token.Text}'");
        }
    }
}
