using System.Collections.Immutable;
using KeyAbuseContent.Diagnostics;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace KeyAbuseContent.Yaml;

/// <summary>
/// Reads every document of a YAML stream (documents separated by <c>---</c>, as a Sigma correlation
/// file holds its correlation and the rules it names) into <see cref="YamlNode"/>s with positions.
/// Scalars resolve as <see cref="YamlDocumentReader"/> resolves them (YAML 1.2 core schema), duplicate
/// keys are errors, and nothing throws: problems come back as diagnostics.
/// </summary>
public static class YamlStreamReader
{
    /// <summary>
    /// The documents of <paramref name="text"/> in order; an empty document reads as a null scalar.
    /// On a syntax error, the documents before it are returned and a diagnostic is added.
    /// </summary>
    public static ImmutableArray<YamlNode> ReadAll(string file, string text, DiagnosticBag diagnostics)
    {
        ArgumentNullException.ThrowIfNull(diagnostics);
        var parser = new Parser(new StringReader(text));
        var documents = ImmutableArray.CreateBuilder<YamlNode>();
        var errors = new List<Diagnostic>();
        try
        {
            parser.Consume<StreamStart>();
            while (parser.TryConsume<DocumentStart>(out _))
            {
                // Anchors do not reach across documents.
                var anchors = new Dictionary<string, YamlNode>(StringComparer.Ordinal);
                documents.Add(ReadNode(parser, file, anchors, errors));
                parser.Consume<DocumentEnd>();
            }
            parser.Consume<StreamEnd>();
        }
        catch (YamlException e)
        {
            errors.Add(new Diagnostic(YamlDocumentReader.At(file, e.Start), null, DiagnosticCodes.YamlSyntax, SyntaxMessage(e)));
        }
        catch (InvalidOperationException)
        {
            // YamlDotNet's scanner throws this on some malformed input (an unclosed flow collection, for one).
            var at = parser.Current is { } current ? YamlDocumentReader.At(file, current.Start) : new SourcePosition(file, 1, 1);
            errors.Add(new Diagnostic(at, null, DiagnosticCodes.YamlSyntax, "YAML syntax: the document is malformed after this point (an unclosed bracket or quote?)"));
        }
        diagnostics.AddRange(errors);
        return documents.ToImmutable();
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

    private static YamlNode ReadNode(IParser parser, string file, Dictionary<string, YamlNode> anchors, List<Diagnostic> errors)
    {
        if (parser.TryConsume<AnchorAlias>(out var alias))
        {
            if (anchors.TryGetValue(alias.Value.Value, out var target))
            {
                return target;
            }
            errors.Add(new Diagnostic(YamlDocumentReader.At(file, alias.Start), null, DiagnosticCodes.YamlSyntax, $"alias *{alias.Value.Value} names no anchor"));
            return new YamlScalar(YamlDocumentReader.At(file, alias.Start), "", ScalarType.Null);
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
            node = new YamlSequence(YamlDocumentReader.At(file, seqStart.Start), items.ToImmutable());
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
                errors.Add(new Diagnostic(YamlDocumentReader.At(file, keyStart), null, DiagnosticCodes.UnsupportedYaml,
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
        return new YamlMapping(YamlDocumentReader.At(file, mapStart.Start), entries.ToImmutable());
    }

    private static YamlScalar ReadScalar(string file, Scalar scalar, List<Diagnostic> errors)
    {
        var at = YamlDocumentReader.At(file, scalar.Start);
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
            if (type != ScalarType.String && YamlDocumentReader.Resolve(text) != type)
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
        return new YamlScalar(at, text, YamlDocumentReader.Resolve(text));
    }
}
