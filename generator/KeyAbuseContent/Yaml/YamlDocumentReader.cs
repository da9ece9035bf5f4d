using System.Collections.Immutable;
using System.Globalization;
using System.Text.RegularExpressions;
using KeyAbuseContent.Diagnostics;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

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
        var parser = new Parser(new StringReader(text));
        var anchors = new Dictionary<string, YamlNode>(StringComparer.Ordinal);
        var errors = new List<Diagnostic>();
        try
        {
            parser.Consume<StreamStart>();
            if (parser.TryConsume<StreamEnd>(out _))
            {
                diagnostics.Error(new SourcePosition(file, 1, 1), null, DiagnosticCodes.YamlSyntax, "the file is empty");
                return null;
            }
            parser.Consume<DocumentStart>();
            var root = ReadNode(parser, file, anchors, errors);
            parser.Consume<DocumentEnd>();
            if (parser.Accept<DocumentStart>(out var next))
            {
                errors.Add(new Diagnostic(At(file, next.Start), null, DiagnosticCodes.UnsupportedYaml,
                    "a second YAML document starts here; a rule file holds exactly one rule"));
            }
            diagnostics.AddRange(errors);
            return errors.Count == 0 ? root : null;
        }
        catch (YamlException e)
        {
            diagnostics.AddRange(errors);
            diagnostics.Error(At(file, e.Start), null, DiagnosticCodes.YamlSyntax, SyntaxMessage(e));
            return null;
        }
        catch (InvalidOperationException)
        {
            // YamlDotNet's scanner throws this on some malformed input (an unclosed flow collection, for one).
            diagnostics.AddRange(errors);
            var at = parser.Current is { } current ? At(file, current.Start) : new SourcePosition(file, 1, 1);
            diagnostics.Error(at, null, DiagnosticCodes.YamlSyntax, "YAML syntax: the document is malformed after this point (an unclosed bracket or quote?)");
            return null;
        }
    }

    private static string SyntaxMessage(YamlException e)
    {
        // YamlDotNet prefixes its messages with the positions; the diagnostic carries them already.
        var message = e.Message;
        var close = message.IndexOf("): ", StringComparison.Ordinal);
        if (message.StartsWith('(') && close > 0)
        {
            message = message[(close + 3)..];
        }
        return "YAML syntax: " + message.TrimEnd('.');
    }

    internal static SourcePosition At(string file, Mark mark) => new(file, (int)mark.Line, (int)mark.Column);

    private static YamlNode ReadNode(IParser parser, string file, Dictionary<string, YamlNode> anchors, List<Diagnostic> errors)
    {
        if (parser.TryConsume<AnchorAlias>(out var alias))
        {
            if (anchors.TryGetValue(alias.Value.Value, out var target))
            {
                return target;
            }
            errors.Add(new Diagnostic(At(file, alias.Start), null, DiagnosticCodes.YamlSyntax, $"alias *{alias.Value.Value} names no anchor"));
            return new YamlScalar(At(file, alias.Start), "", ScalarType.Null);
        }

        YamlNode node;
        NodeEvent start;
        if (parser.TryConsume<Scalar>(out var scalar))
        {
            start = scalar;
            node = ReadScalar(file, scalar, errors);
        }
        else if (parser.TryConsume<SequenceStart>(out var seqStart))
        {
            start = seqStart;
            var items = ImmutableArray.CreateBuilder<YamlNode>();
            while (!parser.TryConsume<SequenceEnd>(out _))
            {
                items.Add(ReadNode(parser, file, anchors, errors));
            }
            node = new YamlSequence(At(file, seqStart.Start), items.ToImmutable());
        }
        else if (parser.TryConsume<MappingStart>(out var mapStart))
        {
            start = mapStart;
            node = ReadMapping(parser, file, mapStart, anchors, errors);
        }
        else
        {
            var unexpected = parser.Current!;
            throw new YamlException(unexpected.Start, unexpected.End, $"unexpected {unexpected.GetType().Name}");
        }

        if (!start.Anchor.IsEmpty)
        {
            anchors[start.Anchor.Value] = node;
        }
        return node;
    }

    private static YamlMapping ReadMapping(IParser parser, string file, MappingStart mapStart, Dictionary<string, YamlNode> anchors, List<Diagnostic> errors)
    {
        var entries = ImmutableArray.CreateBuilder<YamlEntry>();
        var seen = new Dictionary<string, SourcePosition>(StringComparer.Ordinal);
        while (!parser.TryConsume<MappingEnd>(out _))
        {
            var keyStart = parser.Current!.Start;
            var keyNode = ReadNode(parser, file, anchors, errors);
            var value = ReadNode(parser, file, anchors, errors);
            if (keyNode is not YamlScalar key || key.Type == ScalarType.Null)
            {
                errors.Add(new Diagnostic(At(file, keyStart), null, DiagnosticCodes.UnsupportedYaml,
                    $"a mapping key must be a plain name, not {keyNode.Describe()}"));
                continue;
            }
            if (key.Text == "<<")
            {
                errors.Add(new Diagnostic(key.Start, null, DiagnosticCodes.UnsupportedYaml,
                    "merge keys (<<) are YAML 1.1 only; write the fields out"));
                continue;
            }
            if (seen.TryGetValue(key.Text, out var first))
            {
                errors.Add(new Diagnostic(key.Start, null, DiagnosticCodes.DuplicateKey,
                    $"duplicate key '{key.Text}' (first at line {first.Line})"));
                continue;
            }
            seen[key.Text] = key.Start;
            entries.Add(new YamlEntry(key, value));
        }
        return new YamlMapping(At(file, mapStart.Start), entries.ToImmutable());
    }

    private static YamlScalar ReadScalar(string file, Scalar scalar, List<Diagnostic> errors)
    {
        var at = At(file, scalar.Start);
        var text = scalar.Value;
        if (!scalar.Tag.IsEmpty && scalar.Tag.Value != "!")
        {
            var tag = scalar.Tag.Value;
            var type = tag switch
            {
                "tag:yaml.org,2002:str" => ScalarType.String,
                "tag:yaml.org,2002:int" => ScalarType.Int,
                "tag:yaml.org,2002:float" => ScalarType.Float,
                "tag:yaml.org,2002:bool" => ScalarType.Bool,
                "tag:yaml.org,2002:null" => ScalarType.Null,
                _ => (ScalarType?)null,
            };
            if (type is null)
            {
                errors.Add(new Diagnostic(at, null, DiagnosticCodes.UnsupportedYaml, $"unknown tag {tag}"));
                return new YamlScalar(at, text, ScalarType.String);
            }
            if (type != ScalarType.String && Resolve(text) != type)
            {
                errors.Add(new Diagnostic(at, null, DiagnosticCodes.YamlSyntax, $"'{text}' is not a valid {tag}"));
            }
            return new YamlScalar(at, text, type.Value);
        }
        if (scalar.Style != ScalarStyle.Plain)
        {
            var layout = scalar.Style is ScalarStyle.Literal or ScalarStyle.Folded ? ScalarLayout.Block : ScalarLayout.Quoted;
            return new YamlScalar(at, text, ScalarType.String, layout);
        }
        return new YamlScalar(at, text, Resolve(text));
    }

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
