using System.Collections.Immutable;

namespace KeyAbuseContent.Expressions.Regex;

/// <summary>A pattern outside the subset both dialects run alike, with where and why.</summary>
public sealed record RegexError(int Offset, string Message);

/// <summary>
/// Parses the regular-expression subset of <see cref="RegexNode"/>. Constructs whose meaning differs
/// between RE2 (KQL) and Lucene (ES|QL) are refused with the reason, never approximated:
/// word boundaries, lookarounds, backreferences, inline flags, lazy quantifiers, inner anchors.
/// </summary>
public sealed class RegexParser
{
    private readonly string _text;
    private int _pos;

    private RegexParser(string text) => _text = text;

    public static (RegexPattern? Pattern, RegexError? Error) Parse(string text)
    {
        var parser = new RegexParser(text);
        try
        {
            return (parser.ParsePattern(), null);
        }
        catch (RegexSyntaxException e)
        {
            return (null, new RegexError(e.Offset, e.Message));
        }
    }

    private sealed class RegexSyntaxException(int offset, string message) : Exception(message)
    {
        public int Offset { get; } = offset;
    }

    private RegexSyntaxException Error(string message) => new(_pos, message);

    private RegexPattern ParsePattern()
    {
        if (_text.Length == 0)
        {
            throw Error("the pattern is empty");
        }
        var start = false;
        if (Peek('^'))
        {
            start = true;
            _pos++;
        }
        var body = ParseAlternation(topLevel: true);
        var end = false;
        if (Peek('$'))
        {
            end = true;
            _pos++;
        }
        if (_pos < _text.Length)
        {
            throw Error(_text[_pos] == ')' ? "unbalanced ')'" : $"unexpected '{_text[_pos]}'");
        }
        return new RegexPattern(body, start, end);
    }

    private bool Peek(char c) => _pos < _text.Length && _text[_pos] == c;

    private RegexNode ParseAlternation(bool topLevel)
    {
        var options = ImmutableArray.CreateBuilder<RegexNode>();
        options.Add(ParseConcat(topLevel));
        while (Peek('|'))
        {
            _pos++;
            options.Add(ParseConcat(topLevel));
        }
        return options.Count == 1 ? options[0] : new RegexAlternation(options.ToImmutable());
    }

    private RegexNode ParseConcat(bool topLevel)
    {
        var items = ImmutableArray.CreateBuilder<RegexNode>();
        while (_pos < _text.Length && !Peek('|') && !Peek(')'))
        {
            if (Peek('$'))
            {
                if (topLevel && _pos == _text.Length - 1)
                {
                    break;
                }
                throw Error("'$' is only allowed at the end of the pattern");
            }
            if (Peek('^'))
            {
                throw Error("'^' is only allowed at the start of the pattern");
            }
            items.Add(ParseQuantified());
        }
        if (items.Count == 0)
        {
            throw Error("an empty alternative matches everything; remove it");
        }
        return items.Count == 1 ? items[0] : new RegexConcat(items.ToImmutable());
    }

    private RegexNode ParseQuantified()
    {
        var atom = ParseAtom();
        while (_pos < _text.Length)
        {
            int min;
            int? max;
            switch (_text[_pos])
            {
                case '*':
                    (min, max) = (0, null);
                    _pos++;
                    break;
                case '+':
                    (min, max) = (1, null);
                    _pos++;
                    break;
                case '?':
                    (min, max) = (0, 1);
                    _pos++;
                    break;
                case '{':
                    (min, max) = ParseBraces();
                    break;
                default:
                    return atom;
            }
            if (Peek('?') || Peek('+'))
            {
                throw Error("lazy and possessive quantifiers are not supported by Lucene (ES|QL RLIKE)");
            }
            atom = new RegexRepeat(atom, min, max);
        }
        return atom;
    }

    private (int Min, int? Max) ParseBraces()
    {
        var open = _pos;
        _pos++;
        var min = ReadNumber() ?? throw Error("'{' must be followed by a count, as in {3} or {2,5}");
        int? max = min;
        if (Peek(','))
        {
            _pos++;
            max = ReadNumber();
        }
        if (!Peek('}'))
        {
            _pos = open;
            throw Error("unterminated '{' quantifier");
        }
        _pos++;
        if (max < min)
        {
            throw Error($"quantifier {{{min},{max}}} has its maximum below its minimum");
        }
        if (min > 1000 || max > 1000)
        {
            throw Error("quantifiers above 1000 are refused (RE2 limits repetition to 1000)");
        }
        return (min, max);
    }

    private int? ReadNumber()
    {
        var start = _pos;
        while (_pos < _text.Length && char.IsAsciiDigit(_text[_pos]))
        {
            _pos++;
        }
        return _pos == start ? null : int.Parse(_text.AsSpan(start, _pos - start), provider: System.Globalization.CultureInfo.InvariantCulture);
    }

    private RegexNode ParseAtom()
    {
        var c = _text[_pos];
        switch (c)
        {
            case '(':
                _pos++;
                if (Peek('?'))
                {
                    if (_pos + 1 < _text.Length && _text[_pos + 1] == ':')
                    {
                        _pos += 2;
                    }
                    else
                    {
                        throw Error("lookarounds, named groups and inline flags ((?...)) are not supported by Lucene (ES|QL RLIKE)");
                    }
                }
                var body = ParseAlternation(topLevel: false);
                if (!Peek(')'))
                {
                    throw Error("unbalanced '(': missing ')'");
                }
                _pos++;
                return new RegexGroup(body);
            case '[':
                return ParseClass();
            case '.':
                _pos++;
                return new RegexAny();
            case '\\':
                var escaped = ParseEscape(inClass: false);
                return escaped is { } e ? new RegexChar(e.From) : Shorthand();
            case '*' or '+' or '?' or '{':
                throw Error($"'{c}' has nothing to repeat");
            case ']' or '}':
                throw Error($"escape a literal '{c}' as '\\{c}'");
            default:
                if (char.IsControl(c))
                {
                    throw Error("control characters are not supported in patterns");
                }
                _pos++;
                return new RegexChar(c);
        }
    }

    private char _shorthand;

    private RegexClass Shorthand() => _shorthand switch
    {
        'd' => new RegexClass(false, [new CharRange('0', '9')]),
        'w' => new RegexClass(false, [new CharRange('A', 'Z'), new CharRange('a', 'z'), new CharRange('0', '9'), new CharRange('_', '_')]),
        's' => new RegexClass(false, [new CharRange(' ', ' '), new CharRange('\t', '\r')]),
        'D' => new RegexClass(true, [new CharRange('0', '9')]),
        'W' => new RegexClass(true, [new CharRange('A', 'Z'), new CharRange('a', 'z'), new CharRange('0', '9'), new CharRange('_', '_')]),
        _ => new RegexClass(true, [new CharRange(' ', ' '), new CharRange('\t', '\r')]),
    };

    /// <summary>Reads an escape; returns the character it stands for, or null for a shorthand class (\d \w \s).</summary>
    private CharRange? ParseEscape(bool inClass)
    {
        _pos++;
        if (_pos >= _text.Length)
        {
            throw Error("the pattern ends with a lone '\\'");
        }
        var c = _text[_pos];
        _pos++;
        if (c is 'd' or 'w' or 's' or 'D' or 'W' or 'S')
        {
            if (inClass && c is 'D' or 'W' or 'S')
            {
                throw Error($"negated shorthand \\{c} inside a class is not supported");
            }
            _shorthand = c;
            return null;
        }
        if (c is 'b' or 'B')
        {
            throw Error("word boundaries (\\b) have no Lucene (ES|QL RLIKE) equivalent");
        }
        if (char.IsAsciiDigit(c))
        {
            throw Error("backreferences and octal escapes are not supported");
        }
        if (c is 'n' or 't' or 'r' or 'f' or 'v' or 'x' or 'u' or 'p' or 'P' or 'A' or 'z' or 'Z' or 'Q' or 'E')
        {
            throw Error($"\\{c} is not supported in patterns; both dialects must read them alike");
        }
        if (char.IsAsciiLetterOrDigit(c))
        {
            throw Error($"unknown escape \\{c}");
        }
        return new CharRange(c, c);
    }

    private RegexClass ParseClass()
    {
        _pos++;
        var negated = false;
        if (Peek('^'))
        {
            negated = true;
            _pos++;
        }
        var ranges = ImmutableArray.CreateBuilder<CharRange>();
        var first = true;
        while (true)
        {
            if (_pos >= _text.Length)
            {
                throw Error("unterminated character class: missing ']'");
            }
            var c = _text[_pos];
            if (c == ']' && !first)
            {
                _pos++;
                break;
            }
            if (c == '[')
            {
                throw Error("nested classes and [:name:] classes are not supported; escape a literal '[' as '\\['");
            }
            CharRange from;
            if (c == '\\')
            {
                var escaped = ParseEscape(inClass: true);
                if (escaped is null)
                {
                    ranges.AddRange(Shorthand().Ranges);
                    first = false;
                    continue;
                }
                from = escaped.Value;
            }
            else
            {
                if (char.IsControl(c))
                {
                    throw Error("control characters are not supported in patterns");
                }
                _pos++;
                from = new CharRange(c, c);
            }
            if (Peek('-') && _pos + 1 < _text.Length && _text[_pos + 1] != ']')
            {
                _pos++;
                var toChar = _text[_pos];
                char to;
                if (toChar == '\\')
                {
                    var escaped = ParseEscape(inClass: true) ?? throw Error("a range cannot end with a shorthand class");
                    to = escaped.From;
                }
                else
                {
                    _pos++;
                    to = toChar;
                }
                if (to < from.From)
                {
                    throw Error($"range {from.From}-{to} is backwards");
                }
                ranges.Add(new CharRange(from.From, to));
            }
            else
            {
                ranges.Add(from);
            }
            first = false;
        }
        return new RegexClass(negated, ranges.ToImmutable());
    }
}
