using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using KeyAbuseContent.Engine.Kql.Functions;
using KeyAbuseContent.Engine.Kql.Storage;
using KeyAbuseContent.Engine.Kql.Syntax;

namespace KeyAbuseContent.Engine.Kql.Binding;

/// <summary>The names Kusto gives columns the query does not name, and wildcard column patterns.</summary>
internal static class ColumnNames
{
    /// <summary>
    /// The name an expression gives its column, or null (then it is <c>ColumnN</c>): a column's name, <c>d_key</c> for
    /// <c>d.key</c>, and for calls what the function's naming says (<c>tostring(x)</c> is <c>x</c>, <c>strlen(x)</c> is
    /// <c>strlen_x</c>, <c>sum(x)</c> is <c>sum_x</c>).
    /// </summary>
    public static string? ResultName(ExprSyntax expr, TableSchema row)
    {
        switch (expr)
        {
            case ParenthesizedSyntax p:
                return ResultName(p.Inner, row);
            case NameSyntax n:
                return n.Name;
            case NamedSyntax named:
                return named.Names[0];
            case OrderedSyntax o:
                return ResultName(o.Expr, row);
            case MemberSyntax m:
                return Path(ResultName(m.Target, row), m.Member);
            case IndexSyntax i:
                var selector = i.Index is LiteralSyntax { Value: string or long or int } literal
                    ? Convert.ToString(literal.Value, CultureInfo.InvariantCulture)
                    : null;
                return selector is null ? null : Path(ResultName(i.Target, row), selector);
            case CallSyntax call:
                return CallName(call, row);
            default:
                return null;
        }
    }

    private static string Path(string? left, string right) => string.IsNullOrWhiteSpace(left) ? right : $"{left}_{right}";

    private static string? CallName(CallSyntax call, TableSchema row)
    {
        if (call.Name == "column_ifexists")
        {
            return call.Arguments.Length > 0 && call.Arguments[0] is LiteralSyntax { Value: string name } && row.Contains(name) ? name : null;
        }
        if (AggregateFunctions.NamePrefix(call.Name) is { } prefix)
        {
            var first = call.Arguments.Length > 0 ? ResultName(call.Arguments[0], row) ?? "" : "";
            return $"{prefix}_{first}";
        }
        if (!ScalarFunctions.TryGet(call.Name, out var function) || call.Arguments.Length == 0)
        {
            return null;
        }
        return function.Naming switch
        {
            ResultNaming.FirstArgument => ResultName(call.Arguments[0], row),
            ResultNaming.NameAndFirstArgument => $"{call.Name}_{ResultName(call.Arguments[0], row) ?? ""}",
            _ => null,
        };
    }

    /// <summary>Whether a column name matches a pattern where <c>*</c> stands for any run of characters.</summary>
    public static bool Matches(string pattern, string name)
    {
        if (!pattern.Contains('*'))
        {
            return pattern == name;
        }
        var regex = "^" + string.Join(".*", pattern.Split('*').Select(Regex.Escape)) + "$";
        return Regex.IsMatch(name, regex, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
    }

    /// <summary>A literal's text made a name fragment: characters other than letters and digits become '_' (<c>99.9</c> is <c>99_9</c>).</summary>
    public static string Fragment(object? value)
    {
        var text = value switch
        {
            double d => d.ToString(CultureInfo.InvariantCulture),
            null => "",
            _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
        };
        var builder = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            builder.Append(char.IsLetterOrDigit(c) ? c : '_');
        }
        return builder.ToString();
    }
}
