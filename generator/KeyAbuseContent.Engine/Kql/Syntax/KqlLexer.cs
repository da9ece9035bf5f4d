using System.Globalization;
using System.Text;

namespace KeyAbuseContent.Engine.Kql.Syntax;

/// <summary>
/// Splits KQL text into tokens. Comments (<c>//</c>) are skipped. The contents of <c>datetime(...)</c>,
/// <c>timespan(...)</c> and <c>guid(...)</c> are not KQL tokens, so those literals are read here whole.
/// </summary>
internal sealed class KqlLexer
{
    // Longest first, so "==" wins over "=".
    private static readonly string[] Punctuations =
        ["..", "==", "!=", "<>", "<=", ">=", "=~", "!~", "=>", "|", ",", ";", "(", ")", "[", "]", "{", "}", ".", "=", "<", ">", "+", "-", "*", "/", "%", ":", "!", "~", "?", "@"];

    private readonly SourceText _source;
    private readonly string _text;
    private int _pos;

    private KqlLexer(SourceText source)
    {
        _source = source;
        _text = source.Text;
    }

    public static List<Token> Tokenize(SourceText source)
    {
        var lexer = new KqlLexer(source);
        var tokens = new List<Token>();
        while (true)
        {
            var token = lexer.Next();
            tokens.Add(token);
            if (token.Kind == TokenKind.EndOfText)
            {
                return tokens;
            }
        }
    }

    private Token Next()
    {
        SkipTrivia();
        if (_pos >= _text.Length)
        {
            return new Token(TokenKind.EndOfText, "", null, _pos, _pos);
        }
        var start = _pos;
        var c = _text[_pos];
        if (c is '"' or '\'')
        {
            var value = ReadQuoted(escapes: true);
            return new Token(TokenKind.String, _text[start.._pos], value, start, _pos);
        }
        if (c == '@' && _pos + 1 < _text.Length && _text[_pos + 1] is '"' or '\'')
        {
            _pos++;
            var value = ReadQuoted(escapes: false);
            return new Token(TokenKind.String, _text[start.._pos], value, start, _pos);
        }
        if (c is 'h' or 'H' && _pos + 1 < _text.Length && (_text[_pos + 1] is '"' or '\'' || (_text[_pos + 1] == '@' && _pos + 2 < _text.Length && _text[_pos + 2] is '"' or '\'')))
        {
            // Obfuscated strings (h"...") are strings whose text Kusto hides from its logs.
            _pos++;
            var verbatim = _text[_pos] == '@';
            if (verbatim)
            {
                _pos++;
            }
            var value = ReadQuoted(escapes: !verbatim);
            return new Token(TokenKind.String, _text[start.._pos], value, start, _pos);
        }
        if (c is '`' or '~' && _text.AsSpan(_pos).StartsWith(c == '`' ? "```" : "~~~"))
        {
            var fence = _text.Substring(_pos, 3);
            var end = _text.IndexOf(fence, _pos + 3, StringComparison.Ordinal);
            if (end < 0)
            {
                throw _source.Error(KqlErrorKind.Syntax, start, "a multi-line string is not closed");
            }
            var value = _text[(_pos + 3)..end];
            _pos = end + 3;
            return new Token(TokenKind.String, _text[start.._pos], value, start, _pos);
        }
        if (c == '[' && _pos + 1 < _text.Length && _text[_pos + 1] is '"' or '\'' && !FollowsOperand(start))
        {
            // ['name'] is a quoted identifier; ["a", 1] is the start of a list.
            _pos++;
            var name = ReadQuoted(escapes: true);
            SkipTrivia();
            if (_pos < _text.Length && _text[_pos] == ']')
            {
                _pos++;
                return new Token(TokenKind.Identifier, name, null, start, _pos, Quoted: true);
            }
            _pos = start + 1;
            return new Token(TokenKind.Punctuation, "[", null, start, _pos);
        }
        if (char.IsAsciiDigit(c) || (c == '.' && _pos + 1 < _text.Length && char.IsAsciiDigit(_text[_pos + 1]) && !PreviousIsDot(start)))
        {
            return ReadNumber();
        }
        if (IsIdentifierStart(c))
        {
            return ReadIdentifier();
        }
        foreach (var p in Punctuations)
        {
            if (_text.AsSpan(_pos).StartsWith(p, StringComparison.Ordinal))
            {
                _pos += p.Length;
                return new Token(TokenKind.Punctuation, p, null, start, _pos);
            }
        }
        throw _source.Error(KqlErrorKind.Syntax, start, $"unexpected character '{c}'");
    }

    private bool PreviousIsDot(int start) => start > 0 && _text[start - 1] == '.';

    /// <summary>Whether a '[' right after a name or a closing bracket indexes it (d["key"]) rather than quoting a name.</summary>
    private bool FollowsOperand(int start) => start > 0 && (char.IsLetterOrDigit(_text[start - 1]) || _text[start - 1] is '_' or ')' or ']' or '"' or '\'');

    private void SkipTrivia()
    {
        while (_pos < _text.Length)
        {
            var c = _text[_pos];
            if (char.IsWhiteSpace(c))
            {
                _pos++;
            }
            else if (c == '/' && _pos + 1 < _text.Length && _text[_pos + 1] == '/')
            {
                while (_pos < _text.Length && _text[_pos] != '\n')
                {
                    _pos++;
                }
            }
            else
            {
                return;
            }
        }
    }

    private static bool IsIdentifierStart(char c) => char.IsLetter(c) || c == '_' || c == '$';

    private static bool IsIdentifierPart(char c) => char.IsLetterOrDigit(c) || c == '_';

    private string ReadQuoted(bool escapes)
    {
        var start = _pos;
        var quote = _text[_pos++];
        var value = new StringBuilder();
        while (true)
        {
            if (_pos >= _text.Length || (_text[_pos] == '\n' && escapes))
            {
                throw _source.Error(KqlErrorKind.Syntax, start, "a string literal is not closed");
            }
            var c = _text[_pos++];
            if (c == quote)
            {
                if (!escapes && _pos < _text.Length && _text[_pos] == quote)
                {
                    value.Append(quote);
                    _pos++;
                    continue;
                }
                return value.ToString();
            }
            if (c == '\\' && escapes)
            {
                if (_pos >= _text.Length)
                {
                    throw _source.Error(KqlErrorKind.Syntax, start, "a string literal is not closed");
                }
                var e = _text[_pos++];
                switch (e)
                {
                    case 'n': value.Append('\n'); break;
                    case 't': value.Append('\t'); break;
                    case 'r': value.Append('\r'); break;
                    case '0': value.Append('\0'); break;
                    case 'u' when _pos + 4 <= _text.Length && int.TryParse(_text.AsSpan(_pos, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var code):
                        value.Append((char)code);
                        _pos += 4;
                        break;
                    case '\\' or '"' or '\'': value.Append(e); break;
                    default:
                        throw _source.Error(KqlErrorKind.Syntax, _pos - 2, $"the escape '\\{e}' is not a KQL string escape");
                }
                continue;
            }
            value.Append(c);
        }
    }

    private Token ReadNumber()
    {
        var start = _pos;
        if (_text[_pos] == '0' && _pos + 1 < _text.Length && _text[_pos + 1] is 'x' or 'X')
        {
            _pos += 2;
            while (_pos < _text.Length && char.IsAsciiHexDigit(_text[_pos]))
            {
                _pos++;
            }
            var hex = _text[(start + 2).._pos];
            if (!long.TryParse(hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var h))
            {
                throw _source.Error(KqlErrorKind.Syntax, start, $"'{_text[start.._pos]}' is not a valid hexadecimal number");
            }
            return new Token(TokenKind.Long, _text[start.._pos], h, start, _pos);
        }
        var isReal = false;
        while (_pos < _text.Length && char.IsAsciiDigit(_text[_pos]))
        {
            _pos++;
        }
        // A '.' starts a fraction only when a digit follows: "1..10" is 1 .. 10.
        if (_pos + 1 < _text.Length && _text[_pos] == '.' && char.IsAsciiDigit(_text[_pos + 1]))
        {
            isReal = true;
            _pos++;
            while (_pos < _text.Length && char.IsAsciiDigit(_text[_pos]))
            {
                _pos++;
            }
        }
        if (_pos < _text.Length && _text[_pos] is 'e' or 'E')
        {
            var save = _pos;
            _pos++;
            if (_pos < _text.Length && _text[_pos] is '+' or '-')
            {
                _pos++;
            }
            if (_pos < _text.Length && char.IsAsciiDigit(_text[_pos]))
            {
                isReal = true;
                while (_pos < _text.Length && char.IsAsciiDigit(_text[_pos]))
                {
                    _pos++;
                }
            }
            else
            {
                _pos = save;
            }
        }
        var number = _text[start.._pos];
        if (_pos < _text.Length && char.IsLetter(_text[_pos]))
        {
            var unitStart = _pos;
            while (_pos < _text.Length && IsIdentifierPart(_text[_pos]))
            {
                _pos++;
            }
            var unit = _text[unitStart.._pos];
            if (!Literals.TryTimeSpan(number, unit, out var span))
            {
                throw _source.Error(KqlErrorKind.Syntax, start, $"'{_text[start.._pos]}' is not a number or a timespan (units: d, h, m, s, ms, microsecond, tick)");
            }
            return new Token(TokenKind.TimeSpan, _text[start.._pos], span, start, _pos);
        }
        if (isReal)
        {
            return new Token(TokenKind.Real, number, double.Parse(number, NumberStyles.Float, CultureInfo.InvariantCulture), start, _pos);
        }
        if (long.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out var l))
        {
            return new Token(TokenKind.Long, number, l, start, _pos);
        }
        return new Token(TokenKind.Real, number, double.Parse(number, NumberStyles.Float, CultureInfo.InvariantCulture), start, _pos);
    }

    private Token ReadIdentifier()
    {
        var start = _pos;
        _pos++;
        while (_pos < _text.Length && IsIdentifierPart(_text[_pos]))
        {
            _pos++;
        }
        var name = _text[start.._pos];
        if (name is "datetime" or "date" or "timespan" or "time" or "guid" or "uniqueid")
        {
            var open = _pos;
            while (open < _text.Length && char.IsWhiteSpace(_text[open]))
            {
                open++;
            }
            if (open < _text.Length && _text[open] == '(')
            {
                return ReadRawLiteral(name, start, open);
            }
        }
        return new Token(TokenKind.Identifier, name, null, start, _pos);
    }

    private Token ReadRawLiteral(string name, int start, int open)
    {
        var close = _text.IndexOf(')', open);
        if (close < 0)
        {
            throw _source.Error(KqlErrorKind.Syntax, start, $"{name}( is not closed with ')'");
        }
        var content = _text[(open + 1)..close];
        _pos = close + 1;
        var text = _text[start.._pos];
        switch (name)
        {
            case "datetime" or "date":
                if (!Literals.TryDateTimeLiteral(content, out var dt))
                {
                    throw _source.Error(KqlErrorKind.Syntax, start, $"'{text}' is not a datetime literal");
                }
                return new Token(TokenKind.DateTime, text, dt, start, _pos);
            case "timespan" or "time":
                if (!Literals.TryTimeSpanLiteral(content, out var ts))
                {
                    throw _source.Error(KqlErrorKind.Syntax, start, $"'{text}' is not a timespan literal");
                }
                return new Token(TokenKind.TimeSpan, text, ts, start, _pos);
            default:
                var g = content.Trim();
                if (g == "null")
                {
                    return new Token(TokenKind.Guid, text, null, start, _pos);
                }
                if (!Guid.TryParse(g, out var guid))
                {
                    throw _source.Error(KqlErrorKind.Syntax, start, $"'{text}' is not a guid literal");
                }
                return new Token(TokenKind.Guid, text, guid, start, _pos);
        }
    }
}
