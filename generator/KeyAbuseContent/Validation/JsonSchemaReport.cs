using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Pointer;
using Json.Schema;

namespace KeyAbuseContent.Validation;

/// <summary>One schema violation: where in the instance (a JSON Pointer, "" for the root) and what is wrong.</summary>
internal sealed record SchemaProblem(string Path, string Message)
{
    /// <summary>The path as messages show it: the pointer, or <c>/</c> for the document itself.</summary>
    public string DisplayPath => Path.Length == 0 ? "/" : Path;
}

/// <summary>
/// Turns JsonSchema.Net's list output into problems a detection engineer can read: only failures that
/// decide the result (not those of a oneOf branch that another branch made good, nor of an <c>if</c>),
/// one line per missing or unknown field, and enum and const values spelled out from the schema.
/// </summary>
internal sealed class JsonSchemaReport
{
    private static readonly JsonSerializerOptions ValueJson = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly JsonSchema _schema;
    private readonly JsonNode _schemaDocument;
    private readonly bool _requireFormats;

    /// <summary>Reads a schema from its JSON text; <paramref name="requireFormats"/> makes <c>format</c> an assertion.</summary>
    public JsonSchemaReport(string schemaText, bool requireFormats)
    {
        _schema = JsonSchema.FromText(schemaText);
        _schemaDocument = JsonNode.Parse(schemaText) ?? throw new ArgumentException("the schema is JSON null", nameof(schemaText));
        _requireFormats = requireFormats;
    }

    private sealed record Failure(EvaluationResults Node, string Keyword, string Message);

    public IReadOnlyList<SchemaProblem> Evaluate(JsonNode? instance)
    {
        var options = new EvaluationOptions { OutputFormat = OutputFormat.List, RequireFormatValidation = _requireFormats };
        var results = _schema.Evaluate(instance, options);
        if (results.IsValid)
        {
            return [];
        }

        var nodes = new List<EvaluationResults> { results };
        nodes.AddRange(results.Details.Where(d => !ReferenceEquals(d, results)));
        var passed = nodes.Where(n => n.IsValid).ToList();

        // A failure counts only when every schema above it on the way to the root failed as well.
        var failures = nodes
            .Where(n => !n.IsValid && n.HasErrors && !passed.Any(p => Encloses(p, n)))
            .SelectMany(n => n.Errors!.Select(e => new Failure(n, e.Key, e.Value)))
            .ToList();

        // The failures of the branches of one anyOf/oneOf at one value, when each branch is a bare
        // const or type, say one thing: the value is none of these.
        var branchGroups = failures
            .Select(f => (Failure: f, Branch: BranchOf(f)))
            .Where(x => x.Branch is not null)
            .GroupBy(x => x.Branch!, x => x.Failure)
            .ToDictionary(g => g.Key, g => g.ToList());

        var problems = new List<SchemaProblem>();
        var consumed = new HashSet<Failure>();
        foreach (var failure in failures)
        {
            if (consumed.Contains(failure))
            {
                continue;
            }
            if (failure.Keyword is "oneOf" or "anyOf")
            {
                var branchPrefix = failure.Node.EvaluationPath.ToString() + "/" + failure.Keyword + "/";
                if (!failures.Any(f => f.Node.EvaluationPath.ToString().StartsWith(branchPrefix, StringComparison.Ordinal)))
                {
                    // No branch failed, so several matched (a oneOf), or the library gave no detail.
                    problems.Add(new SchemaProblem(Location(failure.Node), LowerFirst(failure.Message)));
                }
                // Otherwise the branches' own failures say what is wrong.
                continue;
            }
            var branch = BranchOf(failure);
            if (branch is not null && branchGroups[branch] is { Count: > 1 } group && Fold(group, instance) is { } folded)
            {
                problems.Add(folded);
                consumed.UnionWith(group);
                continue;
            }
            problems.AddRange(Describe(failure, instance));
        }
        return problems;
    }

    /// <summary>The anyOf/oneOf (its path and the value's location) whose branch root <paramref name="failure"/> is on, if it is.</summary>
    private static string? BranchOf(Failure failure)
    {
        var path = failure.Node.EvaluationPath.ToString();
        var last = path.LastIndexOf('/');
        if (last < 0 || !int.TryParse(path.AsSpan(last + 1), out _))
        {
            return null;
        }
        var parent = path[..last];
        return parent.EndsWith("/anyOf", StringComparison.Ordinal) || parent.EndsWith("/oneOf", StringComparison.Ordinal)
            ? parent + "@" + Location(failure.Node)
            : null;
    }

    private SchemaProblem? Fold(List<Failure> group, JsonNode? instance)
    {
        var first = group[0].Node;
        if (group.All(f => f.Keyword == "const"))
        {
            // A oneOf of consts is how the Sigma schemas write an enumeration.
            var allowed = group.Select(f => Show(SchemaValue(f.Node, "const")));
            return new SchemaProblem(Location(first), $"{ShowInstance(instance, first)} is not one of {string.Join(", ", allowed)}");
        }
        if (group.All(f => f.Keyword == "type"))
        {
            var allowed = group.SelectMany(f => TypeNames(SchemaValue(f.Node, "type"))).Distinct();
            return new SchemaProblem(Location(first), $"{ShowInstance(instance, first)} is {KindOf(Resolve(instance, Location(first)))}, not {string.Join(" or ", allowed)}");
        }
        return null;
    }

    private static bool Encloses(EvaluationResults outer, EvaluationResults inner)
    {
        var outerPath = outer.EvaluationPath.ToString();
        var innerPath = inner.EvaluationPath.ToString();
        return innerPath.Length > outerPath.Length
            && innerPath.StartsWith(outerPath + "/", StringComparison.Ordinal)
            && IsPrefix(outer.InstanceLocation.ToString(), inner.InstanceLocation.ToString());
    }

    private static bool IsPrefix(string outer, string inner) =>
        outer.Length == 0 || inner == outer || inner.StartsWith(outer + "/", StringComparison.Ordinal);

    private static string Location(EvaluationResults node) => node.InstanceLocation.ToString();

    private IEnumerable<SchemaProblem> Describe(Failure failure, JsonNode? instance)
    {
        var node = failure.Node;
        var at = Location(node);
        switch (failure.Keyword)
        {
            case "" when node.EvaluationPath.ToString().EndsWith("/additionalProperties", StringComparison.Ordinal):
                yield return new SchemaProblem(at, "unknown field");
                break;
            case "required":
                var present = Resolve(instance, at) as JsonObject;
                var required = SchemaValue(node, "required") as JsonArray ?? [];
                var missing = required.Select(r => r?.GetValue<string>()).OfType<string>().Where(r => present is null || !present.ContainsKey(r)).ToList();
                if (missing.Count == 0)
                {
                    yield return new SchemaProblem(at, failure.Message);
                }
                foreach (var name in missing)
                {
                    yield return new SchemaProblem(at + "/" + EscapeSegment(name), "required field is missing");
                }
                break;
            case "enum":
                var values = SchemaValue(node, "enum") as JsonArray ?? [];
                yield return new SchemaProblem(at, $"{ShowInstance(instance, node)} is not one of {string.Join(", ", values.Select(Show))}");
                break;
            case "const":
                yield return new SchemaProblem(at, $"{ShowInstance(instance, node)} should be {Show(SchemaValue(node, "const"))}");
                break;
            case "pattern":
                yield return new SchemaProblem(at, $"{ShowInstance(instance, node)} does not match the pattern {SchemaValue(node, "pattern")}");
                break;
            case "type":
                yield return new SchemaProblem(at, $"{ShowInstance(instance, node)} is {KindOf(Resolve(instance, at))}, not {string.Join(" or ", TypeNames(SchemaValue(node, "type")))}");
                break;
            case "uniqueItems":
                yield return new SchemaProblem(at, "has an item more than once; each must appear once");
                break;
            case "format":
                yield return new SchemaProblem(at, $"{ShowInstance(instance, node)} is not a valid {SchemaValue(node, "format")}");
                break;
            default:
                yield return new SchemaProblem(at, LowerFirst(failure.Message));
                break;
        }
    }

    /// <summary>The value of <paramref name="keyword"/> in the (sub)schema that produced <paramref name="node"/>.</summary>
    private JsonNode? SchemaValue(EvaluationResults node, string keyword)
    {
        var fragment = Uri.UnescapeDataString(node.SchemaLocation.Fragment.TrimStart('#'));
        if (!JsonPointer.TryParse(fragment, out var pointer) || !pointer.TryEvaluate(_schemaDocument, out var subschema))
        {
            return null;
        }
        return subschema is JsonObject obj && obj.TryGetPropertyValue(keyword, out var value) ? value : null;
    }

    private static JsonNode? Resolve(JsonNode? instance, string pointer) =>
        JsonPointer.TryParse(pointer, out var p) && p.TryEvaluate(instance, out var found) ? found : null;

    private static string ShowInstance(JsonNode? instance, EvaluationResults node)
    {
        var value = Resolve(instance, Location(node));
        return value switch
        {
            JsonObject => "the value",
            JsonArray => "the value",
            _ => "value " + Show(value),
        };
    }

    /// <summary>The JSON Schema type names in <paramref name="type"/> (a name or a list of names), in words.</summary>
    private static IEnumerable<string> TypeNames(JsonNode? type) => type switch
    {
        JsonArray names => names.Select(n => TypeWord(n?.GetValue<string>())),
        JsonValue name => [TypeWord(name.GetValue<string>())],
        _ => ["the type the schema asks for"],
    };

    private static string TypeWord(string? type) => type switch
    {
        "string" => "a string",
        "integer" => "an integer",
        "number" => "a number",
        "boolean" => "a boolean",
        "array" => "a list",
        "object" => "a mapping",
        "null" => "null",
        _ => type ?? "?",
    };

    private static string KindOf(JsonNode? value) => value switch
    {
        null => "null",
        JsonObject => "a mapping",
        JsonArray => "a list",
        JsonValue v => v.GetValueKind() switch
        {
            JsonValueKind.String => "a string",
            JsonValueKind.True or JsonValueKind.False => "a boolean",
            JsonValueKind.Number => v.TryGetValue<long>(out _) ? "an integer" : "a number",
            _ => "a value",
        },
        _ => "a value",
    };

    private static string Show(JsonNode? value)
    {
        var text = value is null ? "null" : value.ToJsonString(ValueJson);
        return text.Length <= 80 ? text : text[..77] + "...";
    }

    private static string EscapeSegment(string name) => name.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal);

    private static string LowerFirst(string message) =>
        message.Length > 0 && char.IsUpper(message[0]) && (message.Length == 1 || !char.IsUpper(message[1]))
            ? char.ToLowerInvariant(message[0]) + message[1..]
            : message;
}
