using System.Collections.Immutable;

namespace KeyAbuseContent.Engine.Kql.Syntax;

// Tabular operators, the part after a pipe.
internal sealed partial class KqlParser
{
    private OperatorSyntax ParseOperator()
    {
        var token = Current;
        if (token.Kind != TokenKind.Identifier)
        {
            throw Error(token, $"expected a tabular operator after '|', found {token}");
        }
        var name = ReadOperatorName();
        switch (name)
        {
            case "where" or "filter":
                return new WhereSyntax(token.Start, ParseExpression());
            case "extend":
                return new ExtendSyntax(token.Start, ParseNamedList());
            case "project":
                return new ProjectSyntax(token.Start, ParseNamedList());
            case "project-away":
                return new ProjectAwaySyntax(token.Start, ParseNamePatterns(), Keep: false);
            case "project-keep":
                return new ProjectAwaySyntax(token.Start, ParseNamePatterns(), Keep: true);
            case "project-rename":
                return ParseProjectRename(token);
            case "project-reorder":
                return ParseProjectReorder(token);
            case "summarize":
                return ParseSummarize(token);
            case "join":
                return ParseJoin(token);
            case "lookup":
                return ParseLookup(token);
            case "union":
                var (options, tables) = ParseUnionBody();
                return new UnionSyntax(token.Start, options, tables);
            case "distinct":
                if (Current.Is("*"))
                {
                    Advance();
                    return new DistinctSyntax(token.Start, []);
                }
                return new DistinctSyntax(token.Start, ParseNamedList());
            case "sort" or "order":
                ExpectKeyword("by", $"after '{name}'");
                return new SortSyntax(token.Start, ParseOrderedList());
            case "top":
                var count = ParseExpression();
                ExpectKeyword("by", "after top's count");
                return new TopSyntax(token.Start, count, ParseOrdered());
            case "take" or "limit":
                return new TakeSyntax(token.Start, ParseExpression());
            case "count":
                return new CountSyntax(token.Start);
            case "mv-expand":
                return ParseMvExpand(token);
            case "parse":
                return ParseParse(token);
            case "serialize":
                return new SerializeSyntax(token.Start, AtOperatorEnd() ? [] : ParseNamedList());
            case "evaluate":
                return ParseEvaluate(token);
            default:
                throw Unsupported(token, $"the '{name}' operator");
        }
    }

    /// <summary>An operator's name, joining hyphenated words written without spaces (<c>project-away</c>, <c>mv-expand</c>).</summary>
    private string ReadOperatorName()
    {
        var name = Advance().Text;
        while (Current.Is("-") && _tokens[_index - 1].End == Current.Start && Peek().Kind == TokenKind.Identifier && Peek().Start == Current.End)
        {
            Advance();
            name += "-" + Advance().Text;
        }
        return name;
    }

    private bool AtOperatorEnd() => Current.Kind == TokenKind.EndOfText || Current.Is("|") || Current.Is(")") || Current.Is(";") || Current.Is("}");

    /// <summary>Options such as <c>kind=inner</c> or <c>hint.strategy=shuffle</c> before an operator's arguments.</summary>
    private Dictionary<string, Token> ParseOptions(params string[] known)
    {
        var options = new Dictionary<string, Token>(StringComparer.Ordinal);
        while (Current.Kind == TokenKind.Identifier && !Current.Quoted)
        {
            var start = Current;
            var name = start.Text;
            if (name == "hint" && Peek().Is("."))
            {
                Advance();
                Advance();
                name = "hint." + ExpectName("after 'hint.'").Text;
                Expect("=", $"after '{name}'");
                Advance();
                continue;
            }
            if (!Peek().Is("=") || !known.Contains(name))
            {
                break;
            }
            Advance();
            Advance();
            options[name] = Advance();
        }
        return options;
    }

    private ImmutableArray<NameSyntax> ParseNamePatterns()
    {
        var patterns = ImmutableArray.CreateBuilder<NameSyntax>();
        do
        {
            if (patterns.Count > 0)
            {
                Advance();
            }
            patterns.Add(ParseNamePattern());
        }
        while (Current.Is(","));
        return patterns.ToImmutable();
    }

    /// <summary>A column name, possibly with <c>*</c> wildcards written next to it (<c>Col*</c>).</summary>
    private NameSyntax ParseNamePattern()
    {
        var first = Current;
        if (first.Kind != TokenKind.Identifier && !first.Is("*"))
        {
            throw Error(first, $"expected a column name, found {first}");
        }
        var text = first.Kind == TokenKind.Identifier ? first.Text : "*";
        Advance();
        while ((Current.Is("*") || (Current.Kind == TokenKind.Identifier && !Current.Quoted)) && _tokens[_index - 1].End == Current.Start)
        {
            text += Current.Kind == TokenKind.Identifier ? Current.Text : "*";
            Advance();
        }
        return new NameSyntax(first.Start, text);
    }

    private ProjectRenameSyntax ParseProjectRename(Token token)
    {
        var renames = ImmutableArray.CreateBuilder<(int, string, string)>();
        do
        {
            if (renames.Count > 0)
            {
                Advance();
            }
            var newName = ExpectName("in project-rename");
            Expect("=", $"after '{newName.Text}' in project-rename");
            var oldName = ExpectName("in project-rename");
            renames.Add((newName.Start, newName.Text, oldName.Text));
        }
        while (Current.Is(","));
        return new ProjectRenameSyntax(token.Start, renames.ToImmutable());
    }

    private ProjectReorderSyntax ParseProjectReorder(Token token)
    {
        var items = ImmutableArray.CreateBuilder<OrderedSyntax>();
        do
        {
            if (items.Count > 0)
            {
                Advance();
            }
            var pattern = ParseNamePattern();
            bool? descending = null;
            if (Current.IsKeyword("asc") || Current.IsKeyword("desc"))
            {
                descending = Advance().Text == "desc";
            }
            else if (Current.Kind == TokenKind.Identifier && Current.Text is "granny-asc" or "granny-desc")
            {
                throw Unsupported(Current, $"project-reorder's '{Current.Text}'");
            }
            items.Add(new OrderedSyntax(pattern.Position, pattern, descending, null));
        }
        while (Current.Is(","));
        return new ProjectReorderSyntax(token.Start, items.ToImmutable());
    }

    private SummarizeSyntax ParseSummarize(Token token)
    {
        ParseOptions();
        var aggregates = Current.IsKeyword("by") ? [] : ParseNamedList();
        ImmutableArray<ExprSyntax> by = [];
        if (Current.IsKeyword("by"))
        {
            Advance();
            by = ParseNamedList();
        }
        return new SummarizeSyntax(token.Start, aggregates, by);
    }

    private JoinSyntax ParseJoin(Token token)
    {
        var options = ParseOptions("kind");
        var right = ParseTabularOperand("join");
        var on = ParseOnClause("join");
        return new JoinSyntax(token.Start, options.TryGetValue("kind", out var kind) ? kind.Text : null, right, on);
    }

    private LookupSyntax ParseLookup(Token token)
    {
        var options = ParseOptions("kind");
        var right = ParseTabularOperand("lookup");
        var on = ParseOnClause("lookup");
        return new LookupSyntax(token.Start, options.TryGetValue("kind", out var kind) ? kind.Text : null, right, on);
    }

    private ImmutableArray<ExprSyntax> ParseOnClause(string op)
    {
        if (Current.IsKeyword("where"))
        {
            throw Unsupported(Current, $"{op} ... where (only 'on' equality keys are supported)");
        }
        ExpectKeyword("on", $"after the right side of {op}");
        var keys = ImmutableArray.CreateBuilder<ExprSyntax>();
        do
        {
            if (keys.Count > 0)
            {
                Advance();
            }
            keys.Add(ParseExpression());
        }
        while (Current.Is(","));
        return keys.ToImmutable();
    }

    /// <summary>The right side of join, lookup and union: a parenthesized query, or a name or call.</summary>
    private ExprSyntax ParseTabularOperand(string op)
    {
        var token = Current;
        if (token.Is("("))
        {
            Advance();
            var inner = ParsePipe();
            Expect(")", $"to close the right side of {op}");
            return new ParenthesizedSyntax(token.Start, inner);
        }
        if (token.Kind != TokenKind.Identifier)
        {
            throw Error(token, $"expected a table, a function call or a parenthesized query in {op}, found {token}");
        }
        if (token.IsKeyword("datatable") && Peek().Is("("))
        {
            return ParseDatatable();
        }
        var expr = ParseIdentifierExpression();
        if (Current.Is("*") && _tokens[_index - 1].End == Current.Start)
        {
            throw Unsupported(Current, $"a wildcard table name in {op}");
        }
        return expr;
    }

    private (UnionOptions, ImmutableArray<ExprSyntax>) ParseUnionBody()
    {
        var options = ParseOptions("kind", "withsource", "isfuzzy");
        var inner = false;
        if (options.TryGetValue("kind", out var kind))
        {
            if (kind.Text is not ("inner" or "outer"))
            {
                throw Error(kind, $"union kind is inner or outer, not '{kind.Text}'");
            }
            inner = kind.Text == "inner";
        }
        var tables = ImmutableArray.CreateBuilder<ExprSyntax>();
        do
        {
            if (tables.Count > 0)
            {
                Advance();
            }
            tables.Add(ParseTabularOperand("union"));
        }
        while (Current.Is(","));
        return (new UnionOptions(inner, options.TryGetValue("withsource", out var ws) ? ws.Text : null), tables.ToImmutable());
    }

    private ImmutableArray<OrderedSyntax> ParseOrderedList()
    {
        var keys = ImmutableArray.CreateBuilder<OrderedSyntax>();
        do
        {
            if (keys.Count > 0)
            {
                Advance();
            }
            keys.Add(ParseOrdered());
        }
        while (Current.Is(","));
        return keys.ToImmutable();
    }

    private MvExpandSyntax ParseMvExpand(Token token)
    {
        var options = ParseOptions("kind", "bagexpansion", "with_itemindex");
        var arrayKind = (options.TryGetValue("kind", out var kind) && kind.Text == "array")
            || (options.TryGetValue("bagexpansion", out var expansion) && expansion.Text == "array");
        var items = ImmutableArray.CreateBuilder<MvExpandItem>();
        do
        {
            if (items.Count > 0)
            {
                Advance();
            }
            var start = Current;
            string? name = null;
            if (Current.Kind == TokenKind.Identifier && Peek().Is("="))
            {
                name = Advance().Text;
                Advance();
            }
            var expr = ParseExpression();
            KqlType? to = null;
            if (Current.IsKeyword("to"))
            {
                Advance();
                if (!Current.IsKeyword("typeof"))
                {
                    throw Error(Current, $"expected 'typeof(...)' after 'to' in mv-expand, found {Current}");
                }
                Advance();
                Expect("(", "after typeof");
                to = ParseTypeName();
                Expect(")", "after typeof's type");
            }
            items.Add(new MvExpandItem(start.Start, name, expr, to));
        }
        while (Current.Is(","));
        ExprSyntax? limit = null;
        if (Current.IsKeyword("limit"))
        {
            Advance();
            limit = ParseExpression();
        }
        return new MvExpandSyntax(token.Start, items.ToImmutable(), options.TryGetValue("with_itemindex", out var index) ? index.Text : null, limit, arrayKind);
    }

    private ParseSyntax ParseParse(Token token)
    {
        var options = ParseOptions("kind", "flags");
        var kind = options.TryGetValue("kind", out var k) ? k.Text : "simple";
        if (kind is not ("simple" or "regex" or "relaxed"))
        {
            throw Error(k!, $"parse kind is simple, regex or relaxed, not '{kind}'");
        }
        var flags = options.TryGetValue("flags", out var f) ? f.Text : null;
        var source = ParseExpression();
        ExpectKeyword("with", "after parse's source");
        var parts = ImmutableArray.CreateBuilder<ParsePart>();
        while (!AtOperatorEnd())
        {
            var part = Current;
            if (part.Kind == TokenKind.String)
            {
                var literal = ParseStrings();
                parts.Add(new ParsePart(part.Start, (string)literal.Value!, null, KqlType.String, Star: false));
            }
            else if (part.Is("*"))
            {
                Advance();
                parts.Add(new ParsePart(part.Start, null, null, KqlType.String, Star: true));
            }
            else if (part.Kind == TokenKind.Identifier)
            {
                Advance();
                var type = KqlType.String;
                if (Current.Is(":"))
                {
                    Advance();
                    type = ParseTypeName();
                }
                parts.Add(new ParsePart(part.Start, null, part.Text, type, Star: false));
            }
            else
            {
                throw Error(part, $"expected a string, a column or '*' in parse's pattern, found {part}");
            }
        }
        return new ParseSyntax(token.Start, kind, flags, source, parts.ToImmutable());
    }

    private EvaluateSyntax ParseEvaluate(Token token)
    {
        ParseOptions();
        var plugin = Current;
        if (plugin.Kind != TokenKind.Identifier || !Peek().Is("("))
        {
            throw Error(plugin, $"expected a plugin call after 'evaluate', found {plugin}");
        }
        if (plugin.Text is not ("bag_unpack" or "ipv4_lookup" or "ipv6_lookup"))
        {
            throw Unsupported(plugin, $"the '{plugin.Text}' plugin");
        }
        return new EvaluateSyntax(token.Start, (CallSyntax)ParseIdentifierExpression());
    }
}
