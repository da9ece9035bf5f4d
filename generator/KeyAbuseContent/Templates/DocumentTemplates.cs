using System.Globalization;
using System.Reflection;
using System.Text;
using Scriban;
using Scriban.Runtime;

namespace KeyAbuseContent.Templates;

/// <summary>
/// Renders the pack's documents from embedded Scriban templates in strict mode: a template only shapes a
/// document; values arrive already computed, and YAML escaping happens in the functions here, once.
/// </summary>
public static class DocumentTemplates
{
    private static readonly Dictionary<string, Template> Cache = new(StringComparer.Ordinal);
    private static readonly Lock Gate = new();

    /// <summary>Renders template <paramref name="name"/> (a file under Templates/) with <paramref name="model"/>.</summary>
    public static string Render(string name, object model)
    {
        var template = Load(name);
        var globals = new ScriptObject();
        globals.Import(model, renamer: member => ToSnake(member.Name));
        globals.Import("yaml", new Func<object?, string>(YamlScalar));
        globals.Import("yaml_block", new Func<string, int, string>(YamlBlock));
        globals.Import("json", new Func<object?, string>(JsonScalar));
        var context = new TemplateContext { StrictVariables = true, MemberRenamer = member => ToSnake(member.Name), LoopLimit = 0 };
        context.PushGlobal(globals);
        return template.Render(context);
    }

    /// <summary>A value as a JSON literal (strings escaped, null as null): JSON documents escape in C#, never in the template.</summary>
    public static string JsonScalar(object? value) => value switch
    {
        null => "null",
        bool b => b ? "true" : "false",
        int or long => Convert.ToString(value, CultureInfo.InvariantCulture)!,
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        _ => System.Text.Json.JsonSerializer.Serialize(Convert.ToString(value, CultureInfo.InvariantCulture), JsonText),
    };

    private static readonly System.Text.Json.JsonSerializerOptions JsonText = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static Template Load(string name)
    {
        lock (Gate)
        {
            if (Cache.TryGetValue(name, out var cached))
            {
                return cached;
            }
            var resource = "KeyAbuseContent.Templates." + name;
            using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(resource)
                ?? throw new InvalidOperationException($"template {name} is not embedded");
            using var reader = new StreamReader(stream, Encoding.UTF8);
            var template = Template.Parse(reader.ReadToEnd(), name);
            if (template.HasErrors)
            {
                throw new InvalidOperationException($"template {name}: {string.Join("; ", template.Messages)}");
            }
            Cache[name] = template;
            return template;
        }
    }

    private static string ToSnake(string name)
    {
        var sb = new StringBuilder();
        for (var i = 0; i < name.Length; i++)
        {
            if (char.IsUpper(name[i]) && i > 0)
            {
                sb.Append('_');
            }
            sb.Append(char.ToLowerInvariant(name[i]));
        }
        return sb.ToString();
    }

    /// <summary>A YAML flow scalar: numbers and booleans bare, strings double-quoted when plain would be misread.</summary>
    public static string YamlScalar(object? value) => value switch
    {
        null => "null",
        bool b => b ? "true" : "false",
        int or long => Convert.ToString(value, CultureInfo.InvariantCulture)!,
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        _ => YamlString(Convert.ToString(value, CultureInfo.InvariantCulture)!),
    };

    private static string YamlString(string s)
    {
        var plain = s.Length > 0
            && !char.IsWhiteSpace(s[0]) && !char.IsWhiteSpace(s[^1])
            && s.All(c => char.IsAsciiLetterOrDigit(c) || c is ' ' or '.' or '_' or '-' or '/' or '(' or ')' or ',')
            && !"-?:,[]{}#&*!|>'\"%@`".Contains(s[0], StringComparison.Ordinal)
            && Yaml.YamlDocumentReader.Resolve(s) == Yaml.ScalarType.String
            && !IsYaml11Special(s);
        if (plain)
        {
            return s;
        }
        return "\"" + Targets.Escapes.Backslash(s, '"', "YAML", unicodeEscapes: true) + "\"";
    }

    /// <summary>Words YAML 1.1 readers (PyYAML, Sigma tooling) take for booleans or nulls; quote them for every reader.</summary>
    private static bool IsYaml11Special(string s) =>
        s.ToLowerInvariant() is "y" or "n" or "yes" or "no" or "on" or "off" or "true" or "false" or "null" or "~";

    /// <summary>A literal block scalar (<c>|</c>) of <paramref name="text"/>, its lines indented by <paramref name="indent"/> spaces.</summary>
    public static string YamlBlock(string text, int indent)
    {
        var pad = new string(' ', indent);
        var lines = text.Replace("\r\n", "\n", StringComparison.Ordinal).TrimEnd('\n').Split('\n');
        // A block cannot hold control characters, and a first line starting with a space would need an indentation indicator.
        if (lines.Any(l => l.Any(c => char.IsControl(c) && c != '\t') || l != l.TrimEnd()) || lines[0].StartsWith(' '))
        {
            return YamlString(text);
        }
        var sb = new StringBuilder("|");
        foreach (var line in lines)
        {
            sb.Append('\n');
            if (line.Length > 0)
            {
                sb.Append(pad).Append(line);
            }
        }
        return sb.ToString();
    }
}
