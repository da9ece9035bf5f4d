using System.Globalization;
using System.Text.RegularExpressions;
using KeyAbuseContent.Diagnostics;
using YamlDotNet.Core;

namespace KeyAbuseContent.Yaml;

/// <summary>
/// Reads one YAML document into <see cref="YamlNode"/>s that keep their positions.
/// Scalars resolve with the YAML 1.2 core schema (so <c>NO</c> and <c>on</c> stay strings),
/// duplicate keys are errors, and nothing throws: problems come back as diagnostics.
/// </summary>
public static partial class YamlDocumentReader
{
    /// <summary>Reads <paramref name="text"/>; returns null and adds diagnostics when it is not one valid document.</summary>
    public static YamlNode? Read(string file, string text, DiagnosticBag diagnostics)
    {
        var before = diagnostics.Items.Count;
        var documents = YamlStreamReader.ReadAll(file, text, diagnostics);
        if (diagnostics.Items.Count > before)
        {
            return null;
        }
        if (documents.Length == 0)
        {
            diagnostics.Error(new SourcePosition(file, 1, 1), null, DiagnosticCodes.YamlSyntax, "the file is empty");
            return null;
        }
        if (documents.Length > 1)
        {
            diagnostics.Error(documents[1].Start, null, DiagnosticCodes.UnsupportedYaml, "a second YAML document starts here; a rule file holds exactly one rule");
            return null;
        }
        return documents[0];
    }

    internal static SourcePosition At(string file, Mark mark) => new(file, (int)mark.Line, (int)mark.Column);

    /// <summary>The YAML 1.2 core schema's resolution of a plain scalar.</summary>
    public static ScalarType Resolve(string text)
    {
        if (text.Length == 0 || text is "~" or "null" or "Null" or "NULL")
        {
            return ScalarType.Null;
        }
        if (text is "true" or "True" or "TRUE" or "false" or "False" or "FALSE")
        {
            return ScalarType.Bool;
        }
        if (IntPattern().IsMatch(text))
        {
            return ScalarType.Int;
        }
        if (FloatPattern().IsMatch(text))
        {
            return ScalarType.Float;
        }
        return ScalarType.String;
    }

    /// <summary>The value of an integer scalar (decimal, 0o octal or 0x hexadecimal).</summary>
    public static long ParseInt(string text)
    {
        if (text.StartsWith("0x", StringComparison.Ordinal))
        {
            return long.Parse(text.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        }
        if (text.StartsWith("0o", StringComparison.Ordinal))
        {
            return Convert.ToInt64(text[2..], 8);
        }
        return long.Parse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
    }

    /// <summary>The value of a float scalar, .inf and .nan included.</summary>
    public static double ParseFloat(string text) => text switch
    {
        ".inf" or ".Inf" or ".INF" or "+.inf" or "+.Inf" or "+.INF" => double.PositiveInfinity,
        "-.inf" or "-.Inf" or "-.INF" => double.NegativeInfinity,
        ".nan" or ".NaN" or ".NAN" => double.NaN,
        _ => double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture),
    };

    [GeneratedRegex(@"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", RegexOptions.CultureInvariant)]
    private static partial Regex IntPattern();

    [GeneratedRegex(@"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$", RegexOptions.CultureInvariant)]
    private static partial Regex FloatPattern();
}
