using System.Globalization;
using System.Text;

namespace KeyAbuseContent.Targets;

/// <summary>
/// The escapes the pack's output languages share: C-style backslash escapes inside quoted strings (KQL,
/// ES|QL, YAML double-quoted scalars), and the wildcard escapes of LIKE, query DSL wildcards and Sigma values.
/// Each renderer calls these; none escapes on its own.
/// </summary>
public static class Escapes
{
    /// <summary>
    /// Escapes backslashes, the quote character, newlines, carriage returns and tabs. Other control
    /// characters become <c>\uXXXX</c> where the language reads it (<paramref name="unicodeEscapes"/>), and are
    /// refused where it does not, since such a value cannot be written faithfully.
    /// </summary>
    public static string Backslash(string value, char quote, string language, bool unicodeEscapes = false)
    {
        var sb = new StringBuilder(value.Length + 2);
        foreach (var c in value)
        {
            switch (c)
            {
                case '\\':
                    sb.Append("\\\\");
                    break;
                case '\n':
                    sb.Append("\\n");
                    break;
                case '\r':
                    sb.Append("\\r");
                    break;
                case '\t':
                    sb.Append("\\t");
                    break;
                default:
                    if (c == quote)
                    {
                        sb.Append('\\').Append(c);
                    }
                    else if (char.IsControl(c))
                    {
                        if (!unicodeEscapes)
                        {
                            throw new ArgumentException($"control character U+{(int)c:X4} cannot be written in a {language} literal", nameof(value));
                        }
                        sb.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:X4}");
                    }
                    else
                    {
                        sb.Append(c);
                    }
                    break;
            }
        }
        return sb.ToString();
    }

    /// <summary>Escapes <c>*</c>, <c>?</c> and <c>\</c>, which ES|QL LIKE, query DSL wildcards and Sigma values read as wildcards.</summary>
    public static string Wildcards(string value)
    {
        var sb = new StringBuilder(value.Length);
        foreach (var c in value)
        {
            if (c is '*' or '?' or '\\')
            {
                sb.Append('\\');
            }
            sb.Append(c);
        }
        return sb.ToString();
    }
}
