using System.Collections.Immutable;

namespace KeyAbuseContent.Engine.Kql.Syntax;

/// <summary>
/// A recursive-descent parser for the KQL subset. It builds one immutable syntax tree with positions and
/// refuses, naming them, the statements and operators outside the subset instead of skipping them.
/// </summary>
internal sealed partial class KqlParser
{
    private readonly SourceText _source;
    private readonly List<Token> _tokens;
    private int _index;

    private KqlParser(SourceText source)
    {
        _source = source;
        _tokens = KqlLexer.Tokenize(source);
    }

    private Token Current => _tokens[_index];

    private Token Peek(int ahead = 1) => _tokens[Math.Min(_index + ahead, _tokens.Count - 1)];

    /// <summary>A query: let statements, then one tabular expression.</summary>
    public static QuerySyntax ParseQuery(SourceText source)
    {
        var parser = new KqlParser(source);
        var query = parser.ParseBlock(endsWithBrace: false);
        return query;
    }

    /// <summary>The body of a stored function, with or without its braces.</summary>
    public static QuerySyntax ParseFunctionBody(SourceText source)
    {
        var parser = new KqlParser(source);
        if (parser.Current.Is("{"))
        {
            parser.Advance();
            var body = parser.ParseBlock(endsWithBrace: true);
            if (parser.Current.Kind != TokenKind.EndOfText)
            {
                throw parser.Error(parser.Current, $"unexpected {parser.Current} after the function body's closing brace");
            }
            return body;
        }
        return parser.ParseBlock(endsWithBrace: false);
    }

    private QuerySyntax ParseBlock(bool endsWithBrace)
    {
        var statements = ImmutableArray.CreateBuilder<StatementSyntax>();
        while (true)
        {
            var token = Current;
            if (token.IsKeyword("let"))
            {
                statements.Add(ParseLet());
                Expect(";", "after a let statement");
                continue;
            }
            if (token.Kind == TokenKind.Identifier && !token.Quoted && token.Text is "set" or "declare" or "alias" or "pattern" or "restrict"
                && Peek().Kind == TokenKind.Identifier)
            {
                throw Unsupported(token, $"the '{token.Text}' statement");
            }
            break;
        }
        var body = ParsePipe();
        while (Current.Is(";"))
        {
            Advance();
        }
        if (endsWithBrace)
        {
            Expect("}", "at the end of a function body");
        }
        else if (Current.Kind != TokenKind.EndOfText)
        {
            if (Current.Kind == TokenKind.Identifier || Current.Is("("))
            {
                throw Unsupported(Current, "a second query statement (only one tabular expression is run)");
            }
            throw Error(Current, $"unexpected {Current} after the end of the query");
        }
        return new QuerySyntax(_source, statements.ToImmutable(), body);
    }

    private StatementSyntax ParseLet()
    {
        var let = Advance();
        var name = ExpectName("after 'let'");
        Expect("=", $"after 'let {name.Text}'");
        if (Current.IsKeyword("view") && Peek().Is("("))
        {
            // let V = view () { ... }: a function without parameters that union wildcards may also see.
            Advance();
        }
        if (IsLambdaStart())
        {
            return ParseLambda(let.Start, name.Text);
        }
        var value = ParsePipe();
        return new LetSyntax(let.Start, name.Text, value);
    }

    private bool IsLambdaStart() =>
        Current.Is("(") && (Peek().Is(")") || (Peek().Kind == TokenKind.Identifier && Peek(2).Is(":")));

    private LetFunctionSyntax ParseLambda(int position, string name)
    {
        Expect("(", "to open a function's parameters");
        var parameters = ImmutableArray.CreateBuilder<ParameterSyntax>();
        while (!Current.Is(")"))
        {
            var p = ExpectName("as a parameter name");
            Expect(":", $"after parameter '{p.Text}'");
            if (Current.Is("("))
            {
                throw Unsupported(Current, $"the tabular parameter '{p.Text}'");
            }
            var type = ParseTypeName();
            ExprSyntax? defaultValue = null;
            if (Current.Is("="))
            {
                Advance();
                defaultValue = ParseExpression();
            }
            parameters.Add(new ParameterSyntax(p.Start, p.Text, type, defaultValue));
            if (!Current.Is(","))
            {
                break;
            }
            Advance();
        }
        Expect(")", "to close a function's parameters");
        Expect("{", "to open a function's body");
        var body = ParseBlock(endsWithBrace: true);
        return new LetFunctionSyntax(position, name, parameters.ToImmutable(), body.Statements, body.Body);
    }

    /// <summary>A tabular or scalar expression with any pipes.</summary>
    private ExprSyntax ParsePipe()
    {
        var left = ParsePipeSource();
        while (Current.Is("|"))
        {
            Advance();
            var op = ParseOperator();
            left = new PipeSyntax(op.Position, left, op);
        }
        return left;
    }

    private ExprSyntax ParsePipeSource()
    {
        var token = Current;
        if (token.Kind == TokenKind.Identifier && !token.Quoted)
        {
            switch (token.Text)
            {
                case "print":
                    return ParsePrint();
                case "range" when Peek().Kind == TokenKind.Identifier:
                    return ParseRange();
                case "union" when !Peek().Is("("):
                    Advance();
                    var (options, tables) = ParseUnionBody();
                    return new UnionSourceSyntax(token.Start, options, tables);
                case "find" or "search" or "externaldata" or "external_data" or "evaluate" or "materialized_view" or "graph" when !Peek().Is("=") && !Peek().Is("|"):
                    throw Unsupported(token, $"'{token.Text}'");
                default:
                    break;
            }
        }
        return ParseExpression();
    }

    private PrintSyntax ParsePrint()
    {
        var print = Advance();
        var items = ParseNamedList();
        return new PrintSyntax(print.Start, items);
    }

    private RangeSyntax ParseRange()
    {
        var range = Advance();
        var column = ExpectName("after 'range'");
        ExpectKeyword("from", "in range");
        var from = ParseExpression();
        ExpectKeyword("to", "in range");
        var to = ParseExpression();
        ExpectKeyword("step", "in range");
        var step = ParseExpression();
        return new RangeSyntax(range.Start, column.Text, from, to, step);
    }

    private DatatableSyntax ParseDatatable()
    {
        var datatable = Advance();
        var columns = ImmutableArray.CreateBuilder<(string, KqlType)>();
        Expect("(", "after 'datatable'");
        while (!Current.Is(")"))
        {
            var name = ExpectName("as a datatable column name");
            Expect(":", $"after datatable column '{name.Text}'");
            columns.Add((name.Text, ParseTypeName()));
            if (!Current.Is(","))
            {
                break;
            }
            Advance();
        }
        Expect(")", "to close the datatable's columns");
        Expect("[", "to open the datatable's values");
        var values = ImmutableArray.CreateBuilder<ExprSyntax>();
        while (!Current.Is("]"))
        {
            values.Add(ParseExpression());
            if (!Current.Is(","))
            {
                break;
            }
            Advance();
        }
        Expect("]", "to close the datatable's values");
        return new DatatableSyntax(datatable.Start, columns.ToImmutable(), values.ToImmutable());
    }

    private KqlType ParseTypeName()
    {
        var token = Current;
        if (token.Kind != TokenKind.Identifier)
        {
            throw Error(token, $"expected a type name, found {token}");
        }
        Advance();
        if (token.Text == "decimal")
        {
            throw Unsupported(token, "the decimal type");
        }
        if (!KqlTypes.TryParse(token.Text, out var type))
        {
            throw Error(token, $"'{token.Text}' is not a KQL type");
        }
        return type;
    }

    private Token Advance()
    {
        var token = _tokens[_index];
        if (_index < _tokens.Count - 1)
        {
            _index++;
        }
        return token;
    }

    private Token Expect(string punctuation, string where)
    {
        if (!Current.Is(punctuation))
        {
            throw Error(Current, $"expected '{punctuation}' {where}, found {Current}");
        }
        return Advance();
    }

    private void ExpectKeyword(string keyword, string where)
    {
        if (!Current.IsKeyword(keyword))
        {
            throw Error(Current, $"expected '{keyword}' {where}, found {Current}");
        }
        Advance();
    }

    private Token ExpectName(string where)
    {
        if (Current.Kind != TokenKind.Identifier)
        {
            throw Error(Current, $"expected a name {where}, found {Current}");
        }
        return Advance();
    }

    /// <summary>Whether the next token starts right where the current one ends (no space between).</summary>
    private bool NextIsAdjacent() => Peek().Start == Current.End;

    private KqlException Error(Token at, string message) => _source.Error(KqlErrorKind.Syntax, at.Start, message);

    private KqlException Unsupported(Token at, string what) =>
        _source.Error(KqlErrorKind.Unsupported, at.Start, $"{what} is not supported by the embedded KQL executor");
}
