using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using KeyAbuseContent.Engine.Esql.Evaluation;
using KeyAbuseContent.Engine.Esql.Execution;
using KeyAbuseContent.Engine.Esql.Types;

namespace KeyAbuseContent.Engine.Esql.Functions;

/// <summary>String functions. Lengths and positions count Unicode code points, as Elasticsearch does.</summary>
internal static class StringFunctions
{
    public static void Register(Dictionary<string, FunctionBinder> functions)
    {
        functions["LENGTH"] = call =>
        {
            call.Arity(1);
            call.ExpectString(0);
            return call.Scalar(EsqlType.Integer, a => CodePoints.Count((string)a[0]!));
        };
        functions["TO_LOWER"] = call => CaseChange(call, s => s.ToLowerInvariant());
        functions["TO_UPPER"] = call => CaseChange(call, s => s.ToUpperInvariant());
        functions["CONCAT"] = call =>
        {
            call.Arity(2, int.MaxValue);
            for (var i = 0; i < call.Count; i++)
            {
                call.ExpectString(i);
            }
            return call.Scalar(EsqlType.Keyword, args =>
            {
                var text = new StringBuilder();
                foreach (var arg in args)
                {
                    text.Append((string)arg!);
                }
                return text.ToString();
            });
        };
        functions["STARTS_WITH"] = call => TwoStrings(call, EsqlType.Boolean, (s, p) => s.StartsWith(p, StringComparison.Ordinal));
        functions["ENDS_WITH"] = call => TwoStrings(call, EsqlType.Boolean, (s, p) => s.EndsWith(p, StringComparison.Ordinal));
        functions["LOCATE"] = Locate;
        functions["SUBSTRING"] = Substring;
        functions["TRIM"] = call => Unary(call, s => s.Trim(Whitespace));
        functions["LTRIM"] = call => Unary(call, s => s.TrimStart(Whitespace));
        functions["RTRIM"] = call => Unary(call, s => s.TrimEnd(Whitespace));
        functions["REVERSE"] = call => Unary(call, Reverse);
        functions["LEFT"] = call => StringAndLength(call, (s, n) => CodePoints.Slice(s, 0, Math.Max(0, n)));
        functions["RIGHT"] = call => StringAndLength(call, (s, n) =>
        {
            var count = CodePoints.Count(s);
            var take = Math.Clamp(n, 0, count);
            return CodePoints.Slice(s, count - take, take);
        });
        functions["REPEAT"] = call => StringAndLength(call, (s, n) => n < 0
            ? throw EvaluationFailure.IllegalArgument($"Number parameter cannot be negative, found [{n}]")
            : string.Concat(Enumerable.Repeat(s, n)));
        functions["SPACE"] = call =>
        {
            call.Arity(1);
            call.ExpectInteger(0);
            call.Convert(0, EsqlType.Integer);
            return call.Scalar(EsqlType.Keyword, a => (int)a[0]! < 0
                ? throw EvaluationFailure.IllegalArgument($"Number parameter cannot be negative, found [{a[0]}]")
                : new string(' ', (int)a[0]!));
        };
        functions["REPLACE"] = Replace;
        functions["SPLIT"] = call =>
        {
            call.Arity(2);
            call.ExpectString(0);
            call.ExpectString(1);
            return call.Scalar(EsqlType.Keyword, a =>
            {
                var delimiter = (string)a[1]!;
                if (delimiter.Length == 0)
                {
                    throw EvaluationFailure.IllegalArgument("delimiter must be a single byte");
                }
                var parts = ((string)a[0]!).Split(delimiter);
                return parts.Length == 1 ? parts[0] : parts.Cast<object?>().ToImmutableArray();
            });
        };
    }

    private static readonly char[] Whitespace = [.. Enumerable.Range(0, 0x21).Select(i => (char)i)];

    private static Evaluator CaseChange(FunctionCall call, Func<string, string> change)
    {
        call.Arity(1);
        call.ExpectString(0);
        var type = call.Type(0) == EsqlType.Null ? EsqlType.Keyword : call.Args[0].Type;
        return call.Scalar(type, a => change((string)a[0]!), MultiValueMode.PerValue);
    }

    private static Evaluator Unary(FunctionCall call, Func<string, string> function)
    {
        call.Arity(1);
        call.ExpectString(0);
        return call.Scalar(EsqlType.Keyword, a => function((string)a[0]!));
    }

    private static Evaluator TwoStrings(FunctionCall call, EsqlType result, Func<string, string, object> function)
    {
        call.Arity(2);
        call.ExpectString(0);
        call.ExpectString(1);
        return call.Scalar(result, a => function((string)a[0]!, (string)a[1]!));
    }

    private static Evaluator StringAndLength(FunctionCall call, Func<string, int, string> function)
    {
        call.Arity(2);
        call.ExpectString(0);
        call.ExpectInteger(1);
        call.Convert(1, EsqlType.Integer);
        return call.Scalar(EsqlType.Keyword, a => function((string)a[0]!, (int)a[1]!));
    }

    private static Evaluator Locate(FunctionCall call)
    {
        call.Arity(2, 3);
        call.ExpectString(0);
        call.ExpectString(1);
        if (call.Count == 3)
        {
            call.ExpectInteger(2);
            call.Convert(2, EsqlType.Integer);
        }
        return call.Scalar(EsqlType.Integer, a =>
        {
            var text = (string)a[0]!;
            var sub = (string)a[1]!;
            var start = a.Length > 2 ? (int)a[2]! : 1;
            var count = CodePoints.Count(text);
            // A start below 1 searches from the beginning; positions are 1-based code points, 0 when absent.
            var from = Math.Clamp(start - 1, 0, count);
            var offset = CodePoints.Offset(text, from);
            var found = text.IndexOf(sub, offset, StringComparison.Ordinal);
            return found < 0 ? 0 : CodePoints.Count(text.AsSpan(0, found)) + 1;
        });
    }

    private static Evaluator Substring(FunctionCall call)
    {
        call.Arity(2, 3);
        call.ExpectString(0);
        call.ExpectInteger(1);
        call.Convert(1, EsqlType.Integer);
        if (call.Count == 3)
        {
            call.ExpectInteger(2);
            call.Convert(2, EsqlType.Integer);
        }
        return call.Scalar(EsqlType.Keyword, a =>
        {
            var text = (string)a[0]!;
            var start = (int)a[1]!;
            var count = CodePoints.Count(text);
            var length = a.Length > 2 ? (int)a[2]! : count;
            if (length < 0)
            {
                throw EvaluationFailure.IllegalArgument($"Length parameter cannot be negative, found [{length}]");
            }
            // 1-based; a negative start counts from the end; 0 is the beginning.
            var first = start > 0 ? Math.Min(start - 1, count) : start < 0 ? Math.Max(count + start, 0) : 0;
            var end = (int)Math.Min(count, (long)first + length);
            return CodePoints.Slice(text, first, end - first);
        });
    }

    private static Evaluator Replace(FunctionCall call)
    {
        call.Arity(3);
        call.ExpectString(0);
        call.ExpectString(1);
        call.ExpectString(2);
        Regex? constant = null;
        if (call.Args[1] is ConstantEvaluator { Value: string pattern })
        {
            constant = JavaRegex(pattern) ?? throw call.Binder.Error(call.Syntax.Args[1].Span, $"invalid regular expression [{pattern}] in [{call.Text}]");
        }
        return call.Scalar(EsqlType.Keyword, a =>
        {
            var regex = constant ?? JavaRegex((string)a[1]!) ?? throw EvaluationFailure.IllegalArgument($"invalid regular expression [{a[1]}]");
            return regex.Replace((string)a[0]!, (string)a[2]!);
        });
    }

    private static Regex? JavaRegex(string pattern)
    {
        try
        {
            return new Regex(pattern, RegexOptions.CultureInvariant);
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    private static string Reverse(string text)
    {
        var graphemes = new List<string>();
        var enumerator = StringInfo.GetTextElementEnumerator(text);
        while (enumerator.MoveNext())
        {
            graphemes.Add(enumerator.GetTextElement());
        }
        graphemes.Reverse();
        return string.Concat(graphemes);
    }
}

/// <summary>Code point arithmetic on UTF-16 strings, with an ASCII-speed path when there are no surrogates.</summary>
internal static class CodePoints
{
    public static int Count(ReadOnlySpan<char> text)
    {
        var count = text.Length;
        foreach (var c in text)
        {
            if (char.IsLowSurrogate(c))
            {
                count--;
            }
        }
        return count;
    }

    /// <summary>The UTF-16 offset of the code point at <paramref name="index"/>.</summary>
    public static int Offset(string text, int index)
    {
        var offset = 0;
        for (var i = 0; i < index && offset < text.Length; i++)
        {
            offset += char.IsHighSurrogate(text[offset]) && offset + 1 < text.Length ? 2 : 1;
        }
        return offset;
    }

    public static string Slice(string text, int start, int length)
    {
        var from = Offset(text, start);
        var to = from;
        for (var i = 0; i < length && to < text.Length; i++)
        {
            to += char.IsHighSurrogate(text[to]) && to + 1 < text.Length ? 2 : 1;
        }
        return text[from..to];
    }
}
