using System.Text;

namespace KeyAbuseContent.Engine.Esql.Syntax;

/// <summary>
/// Scans ES|QL text on demand, one token at a given offset, because the language has modes: index patterns
/// after FROM and LOOKUP JOIN, and name patterns after KEEP and DROP, lex differently from expressions.
/// Comments (<c>//</c> and <c>/* */</c>) are trivia.
/// </summary>
internal sealed class Lexer(SourceText source)
{
    private readonly string text = source.Text;

    public int SkipTrivia(int offset)
    {
        while (offset < text.Length)
        {
            var c = text[offset];
            if (char.IsWhiteSpace(c))
            {
                offset++;
            }
            else if (c == '/' && offset + 1 < text.Length && text[offset + 1] == '/')
            {
                while (offset < text.Length && text[offset] != '\n')
                {
                    offset++;
                }
            }
            else if (c == '/' && offset + 1 < text.Length && text[offset + 1] == '*')
            {
                var close = text.IndexOf("*/", offset + 2, StringComparison.Ordinal);
                if (close < 0)
                {
                    throw source.Error(offset, "unterminated comment");
                }
                offset = close + 2;
            }
            else
            {
                break;
            }
        }
        return offset;
    }

    /// <summary>The expression-mode token starting at or after <paramref name="offset"/>.</summary>
    public Token Scan(int offset)
    {
        var start = SkipTrivia(offset);
        if (start >= text.Length)
        {
            return new Token(TokenKind.End, new TextSpan(text.Length, text.Length), "");
        }
        var c = text[start];
        if (char.IsAsciiDigit(c) || (c == '.' && start + 1 < text.Length && char.IsAsciiDigit(text[start + 1])))
        {
            return Number(start);
        }
        if (char.IsAsciiLetter(c) || ((c == '_' || c == '@') && start + 1 < text.Length && IsIdentifierBody(text[start + 1])))
        {
            var end = start + 1;
            while (end < text.Length && IsIdentifierBody(text[end]))
            {
                end++;
            }
            return new Token(TokenKind.Identifier, new TextSpan(start, end), text[start..end]);
        }
        return c switch
        {
            '"' => String(start),
            '`' => QuotedIdentifier(start),
            '|' => Punct(TokenKind.Pipe, start, 1),
            ',' => Punct(TokenKind.Comma, start, 1),
            '.' => Punct(TokenKind.Dot, start, 1),
            '(' => Punct(TokenKind.LeftParen, start, 1),
            ')' => Punct(TokenKind.RightParen, start, 1),
            '[' => Punct(TokenKind.LeftBracket, start, 1),
            ']' => Punct(TokenKind.RightBracket, start, 1),
            '{' => Punct(TokenKind.LeftBrace, start, 1),
            '}' => Punct(TokenKind.RightBrace, start, 1),
            '+' => Punct(TokenKind.Plus, start, 1),
            '-' => Punct(TokenKind.Minus, start, 1),
            '*' => Punct(TokenKind.Star, start, 1),
            '/' => Punct(TokenKind.Slash, start, 1),
            '%' => Punct(TokenKind.Percent, start, 1),
            '?' => Punct(TokenKind.Parameter, start, 1),
            '=' when Next(start) == '=' => Punct(TokenKind.Equal, start, 2),
            '=' when Next(start) == '~' => Punct(TokenKind.CaseInsensitiveEqual, start, 2),
            '=' => Punct(TokenKind.Assign, start, 1),
            '!' when Next(start) == '=' => Punct(TokenKind.NotEqual, start, 2),
            '<' when Next(start) == '=' => Punct(TokenKind.LessOrEqual, start, 2),
            '<' => Punct(TokenKind.Less, start, 1),
            '>' when Next(start) == '=' => Punct(TokenKind.GreaterOrEqual, start, 2),
            '>' => Punct(TokenKind.Greater, start, 1),
            ':' when Next(start) == ':' => Punct(TokenKind.CastOperator, start, 2),
            ':' => Punct(TokenKind.Colon, start, 1),
            _ => throw source.Error(start, $"token recognition error at: '{c}'"),
        };
    }

    /// <summary>
    /// An index pattern of FROM or LOOKUP JOIN (<c>logs-*</c>, <c>my-index</c>, <c>"quoted"</c>): in ES|QL's
    /// source mode every character but whitespace, pipe, comma, quotes and brackets belongs to the name.
    /// </summary>
    public Token ScanIndexPattern(int offset)
    {
        var start = SkipTrivia(offset);
        if (start < text.Length && text[start] == '"')
        {
            var quoted = String(start);
            return quoted with { Kind = TokenKind.Identifier };
        }
        var end = start;
        while (end < text.Length && !IsIndexPatternStop(text[end]))
        {
            end++;
        }
        if (end == start)
        {
            return Scan(start);
        }
        return new Token(TokenKind.Identifier, new TextSpan(start, end), text[start..end]);
    }

    /// <summary>A name pattern of KEEP, DROP or RENAME: dotted words, backquoted parts and <c>*</c> wildcards, with no spaces.</summary>
    public Token ScanNamePattern(int offset)
    {
        var start = SkipTrivia(offset);
        var end = start;
        var name = new StringBuilder();
        while (end < text.Length)
        {
            var c = text[end];
            if (c == '`')
            {
                var quoted = QuotedIdentifier(end);
                name.Append(quoted.Text.Replace("*", "\\*", StringComparison.Ordinal));
                end = quoted.Span.End;
            }
            else if (IsIdentifierBody(c) || c == '@' || c == '.' || c == '*')
            {
                name.Append(c);
                end++;
            }
            else
            {
                break;
            }
        }
        if (end == start)
        {
            return Scan(start);
        }
        return new Token(TokenKind.Identifier, new TextSpan(start, end), name.ToString());
    }

    private static bool IsIdentifierBody(char c) => char.IsAsciiLetterOrDigit(c) || c == '_';

    private static bool IsIndexPatternStop(char c) =>
        char.IsWhiteSpace(c) || c is '|' or ',' or '"' or '\'' or '[' or ']' or '(' or ')' or '=' or '`';

    private char Next(int offset) => offset + 1 < text.Length ? text[offset + 1] : '\0';

    private static Token Punct(TokenKind kind, int start, int length) => new(kind, new TextSpan(start, start + length), "");

    private Token Number(int start)
    {
        var end = start;
        var isDecimal = false;
        while (end < text.Length && char.IsAsciiDigit(text[end]))
        {
            end++;
        }
        if (end < text.Length && text[end] == '.' && !(end + 1 < text.Length && (char.IsAsciiLetter(text[end + 1]) || text[end + 1] == '_')))
        {
            isDecimal = true;
            end++;
            while (end < text.Length && char.IsAsciiDigit(text[end]))
            {
                end++;
            }
        }
        if (end < text.Length && (text[end] == 'e' || text[end] == 'E'))
        {
            var exponent = end + 1;
            if (exponent < text.Length && (text[exponent] == '+' || text[exponent] == '-'))
            {
                exponent++;
            }
            if (exponent < text.Length && char.IsAsciiDigit(text[exponent]))
            {
                isDecimal = true;
                end = exponent;
                while (end < text.Length && char.IsAsciiDigit(text[end]))
                {
                    end++;
                }
            }
        }
        return new Token(isDecimal ? TokenKind.Decimal : TokenKind.Integer, new TextSpan(start, end), text[start..end]);
    }

    private Token String(int start)
    {
        if (string.CompareOrdinal(text, start, "\"\"\"", 0, 3) == 0)
        {
            var close = text.IndexOf("\"\"\"", start + 3, StringComparison.Ordinal);
            if (close < 0)
            {
                throw source.Error(start, "unterminated triple-quoted string");
            }
            // As ANTLR's greedy rule: extra quotes right before the closing ones belong to the string.
            while (close + 3 < text.Length && text[close + 3] == '"')
            {
                close++;
            }
            return new Token(TokenKind.String, new TextSpan(start, close + 3), text[(start + 3)..close]);
        }
        var value = new StringBuilder();
        var i = start + 1;
        while (true)
        {
            if (i >= text.Length || text[i] == '\n' || text[i] == '\r')
            {
                throw source.Error(start, "unterminated string");
            }
            var c = text[i];
            if (c == '"')
            {
                return new Token(TokenKind.String, new TextSpan(start, i + 1), value.ToString());
            }
            if (c == '\\')
            {
                var escaped = i + 1 < text.Length ? text[i + 1] : '\0';
                value.Append(escaped switch
                {
                    't' => '\t',
                    'n' => '\n',
                    'r' => '\r',
                    '"' => '"',
                    '\\' => '\\',
                    _ => throw source.Error(i, $"invalid escape sequence '\\{escaped}' in a string (use \\\\, \\\", \\t, \\n or \\r, or a triple-quoted string)"),
                });
                i += 2;
                continue;
            }
            value.Append(c);
            i++;
        }
    }

    private Token QuotedIdentifier(int start)
    {
        var value = new StringBuilder();
        var i = start + 1;
        while (true)
        {
            if (i >= text.Length)
            {
                throw source.Error(start, "unterminated quoted identifier");
            }
            if (text[i] == '`')
            {
                if (i + 1 < text.Length && text[i + 1] == '`')
                {
                    value.Append('`');
                    i += 2;
                    continue;
                }
                return new Token(TokenKind.QuotedIdentifier, new TextSpan(start, i + 1), value.ToString());
            }
            value.Append(text[i]);
            i++;
        }
    }
}
