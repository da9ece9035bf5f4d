using System.Globalization;
using System.Text.Json.Nodes;
using KeyAbuseContent.Diagnostics;

namespace KeyAbuseContent.Yaml;

/// <summary>
/// The System.Text.Json view of a <see cref="YamlNode"/> tree, for JsonSchema.Net: core-schema ints,
/// floats, booleans and nulls keep their types, every other scalar (quoted ones and dates included) is a string.
/// </summary>
public static class YamlJsonNode
{
    /// <summary>Converts <paramref name="node"/>; a YAML null becomes a JSON null (a null reference).</summary>
    public static JsonNode? From(YamlNode node)
    {
        ArgumentNullException.ThrowIfNull(node);
        switch (node)
        {
            case YamlMapping map:
                var obj = new JsonObject();
                foreach (var entry in map.Entries)
                {
                    obj[entry.Key.Text] = From(entry.Value);
                }
                return obj;
            case YamlSequence seq:
                var arr = new JsonArray();
                foreach (var item in seq.Items)
                {
                    arr.Add(From(item));
                }
                return arr;
            case YamlScalar s:
                return s.Type switch
                {
                    ScalarType.Null => null,
                    ScalarType.Bool => JsonValue.Create(s.Text is "true" or "True" or "TRUE"),
                    ScalarType.Int => IntValue(s.Text),
                    ScalarType.Float => FloatValue(s.Text),
                    _ => JsonValue.Create(s.Text),
                };
            default:
                throw new InvalidOperationException("unknown YAML node " + node.GetType().Name);
        }
    }

    /// <summary>The node a JSON Pointer (<c>/correlation/rules/0</c>) names in <paramref name="root"/>, if there is one.</summary>
    public static YamlNode? NodeAt(YamlNode root, string pointer) => Walk(root, pointer)?.Node;

    /// <summary>
    /// Where the value a JSON Pointer names is written: the key's position for a mapping member (so a
    /// nested mapping points at its own key, not at its first child), the item's for a list item.
    /// </summary>
    public static SourcePosition? PositionOf(YamlNode root, string pointer) => Walk(root, pointer)?.At;

    private static (YamlNode Node, SourcePosition At)? Walk(YamlNode root, string pointer)
    {
        ArgumentNullException.ThrowIfNull(root);
        ArgumentNullException.ThrowIfNull(pointer);
        var node = root;
        var at = root.Start;
        if (pointer.Length == 0)
        {
            return (node, at);
        }
        foreach (var raw in pointer.Split('/').Skip(1))
        {
            var segment = raw.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal);
            switch (node)
            {
                case YamlMapping map when map.Entry(segment) is { } entry:
                    node = entry.Value;
                    at = entry.Key.Start;
                    break;
                case YamlSequence seq when int.TryParse(segment, NumberStyles.None, CultureInfo.InvariantCulture, out var i) && i < seq.Items.Length:
                    node = seq.Items[i];
                    at = node.Start;
                    break;
                default:
                    return null;
            }
        }
        return (node, at);
    }

    private static JsonValue IntValue(string text)
    {
        try
        {
            return JsonValue.Create(YamlDocumentReader.ParseInt(text));
        }
        catch (OverflowException)
        {
            return JsonValue.Create(double.Parse(text, CultureInfo.InvariantCulture));
        }
    }

    private static JsonValue FloatValue(string text)
    {
        var value = YamlDocumentReader.ParseFloat(text);
        // JSON has no infinities or NaN; the text is the most faithful thing to validate.
        return double.IsFinite(value) ? JsonValue.Create(value) : JsonValue.Create(text);
    }
}
