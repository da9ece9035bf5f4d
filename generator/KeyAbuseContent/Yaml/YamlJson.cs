using System.Globalization;
using KeyAbuseContent.Diagnostics;
using Newtonsoft.Json.Linq;

namespace KeyAbuseContent.Yaml;

/// <summary>
/// Builds the JSON instance NJsonSchema validates from a <see cref="YamlNode"/> tree, and keeps,
/// for every JSON path NJsonSchema reports (<c>#/detect.history.length</c>, <c>#/tags[2]</c>),
/// the node and key it came from, so schema errors point at the YAML.
/// </summary>
public sealed class YamlJson
{
    private readonly Dictionary<string, (YamlNode Node, YamlScalar? Key)> _paths = new(StringComparer.Ordinal);

    private YamlJson(JToken root) => Root = root;

    public JToken Root { get; private set; }

    public static YamlJson From(YamlNode root)
    {
        var result = new YamlJson(JValue.CreateNull());
        result.Root = result.Convert(root, "", null);
        return result;
    }

    /// <summary>The position of the value at <paramref name="path"/>, or of its key when <paramref name="onKey"/>.</summary>
    public SourcePosition? PositionOf(string path, bool onKey = false)
    {
        var normalized = Normalize(path);
        if (_paths.TryGetValue(normalized, out var found))
        {
            return onKey && found.Key is not null ? found.Key.Start : found.Node.Start;
        }
        return null;
    }

    /// <summary>The node at <paramref name="path"/>, if the instance has one.</summary>
    public YamlNode? NodeAt(string path) => _paths.TryGetValue(Normalize(path), out var found) ? found.Node : null;

    /// <summary>The parent path of a NJsonSchema path: <c>detect.history.length</c> gives <c>detect.history</c>.</summary>
    public static string Parent(string path)
    {
        var p = Normalize(path);
        var cut = Math.Max(p.LastIndexOf('.'), p.LastIndexOf('['));
        return cut < 0 ? "" : p[..cut];
    }

    private static string Normalize(string path)
    {
        var p = path.StartsWith("#/", StringComparison.Ordinal) ? path[2..] : path.TrimStart('#');
        return p;
    }

    private JToken Convert(YamlNode node, string path, YamlScalar? key)
    {
        _paths[path] = (node, key);
        switch (node)
        {
            case YamlMapping map:
                var obj = new JObject();
                foreach (var entry in map.Entries)
                {
                    var childPath = path.Length == 0 ? entry.Key.Text : path + "." + entry.Key.Text;
                    obj[entry.Key.Text] = Convert(entry.Value, childPath, entry.Key);
                }
                return obj;
            case YamlSequence seq:
                var arr = new JArray();
                for (var i = 0; i < seq.Items.Length; i++)
                {
                    arr.Add(Convert(seq.Items[i], $"{path}[{i}]", null));
                }
                return arr;
            case YamlScalar s:
                return s.Type switch
                {
                    ScalarType.Null => JValue.CreateNull(),
                    ScalarType.Bool => new JValue(s.Text is "true" or "True" or "TRUE"),
                    ScalarType.Int => IntValue(s.Text),
                    ScalarType.Float => new JValue(YamlDocumentReader.ParseFloat(s.Text)),
                    _ => new JValue(s.Text),
                };
            default:
                throw new InvalidOperationException("unknown YAML node " + node.GetType().Name);
        }
    }

    private static JValue IntValue(string text)
    {
        try
        {
            return new JValue(YamlDocumentReader.ParseInt(text));
        }
        catch (OverflowException)
        {
            return new JValue(double.Parse(text, CultureInfo.InvariantCulture));
        }
    }
}
