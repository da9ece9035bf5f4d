using KeyAbuseContent.Diagnostics;
using KeyAbuseContent.Yaml;

namespace KeyAbuseContent.Validation;

/// <summary>
/// Checks Sigma YAML against the Sigma specification's JSON Schemas (draft 2020-12, with if/then):
/// each document of a file against the rule schema, the correlation schema when it has a top-level
/// <c>correlation</c>, or the global filter schema when it has a top-level <c>filter</c>.
/// </summary>
public sealed class SigmaSchemaValidator
{
    public const string RuleSchemaFile = "sigma-detection-rule-schema.json";
    public const string CorrelationSchemaFile = "sigma-correlation-rules-schema.json";
    public const string FilterSchemaFile = "sigma-filters-schema.json";

    private readonly JsonSchemaReport _rule;
    private readonly JsonSchemaReport _correlation;
    private readonly JsonSchemaReport? _filter;

    private SigmaSchemaValidator(JsonSchemaReport rule, JsonSchemaReport correlation, JsonSchemaReport? filter)
    {
        _rule = rule;
        _correlation = correlation;
        _filter = filter;
    }

    /// <summary>Reads the schemas from <paramref name="sigmaSchemaDir"/> (<c>detections/reference/sigma-schema</c>).</summary>
    public static SigmaSchemaValidator Load(string sigmaSchemaDir)
    {
        // format stays an annotation: the schemas mark id "uuid" while Sigma only recommends UUIDs,
        // and their dates are checked by pattern.
        static JsonSchemaReport Read(string path) => new(File.ReadAllText(path), requireFormats: false);

        var filterPath = Path.Combine(sigmaSchemaDir, FilterSchemaFile);
        return new SigmaSchemaValidator(
            Read(Path.Combine(sigmaSchemaDir, RuleSchemaFile)),
            Read(Path.Combine(sigmaSchemaDir, CorrelationSchemaFile)),
            File.Exists(filterPath) ? Read(filterPath) : null);
    }

    /// <summary>
    /// Every schema problem of every document in <paramref name="yamlText"/>, each naming the document
    /// (1-based, in file order), its line and the JSON path; empty when all documents are valid.
    /// </summary>
    public IReadOnlyList<string> Check(string yamlText)
    {
        ArgumentNullException.ThrowIfNull(yamlText);
        var diagnostics = new DiagnosticBag();
        var documents = YamlStreamReader.ReadAll("sigma", yamlText, diagnostics);
        var problems = diagnostics.Items
            .Select(d => $"line {d.Position.Line}:{d.Position.Column}: {d.Message}")
            .ToList();
        if (diagnostics.HasErrors)
        {
            return problems;
        }

        var checkedAny = false;
        for (var i = 0; i < documents.Length; i++)
        {
            var document = documents[i];
            var label = $"document {i + 1}";
            if (document is YamlScalar { Type: ScalarType.Null })
            {
                // An empty document, as a trailing --- makes.
                continue;
            }
            checkedAny = true;
            if (document is not YamlMapping mapping)
            {
                problems.Add($"{label} (line {document.Start.Line}): a Sigma document is a mapping, not {document.Describe()}");
                continue;
            }
            var schema = SchemaFor(mapping);
            var found = schema.Evaluate(YamlJsonNode.From(mapping))
                .Select(p => (Line: LineOf(mapping, p.Path), Problem: p))
                .OrderBy(p => p.Line);
            foreach (var (line, problem) in found)
            {
                problems.Add($"{label} (line {line}): {problem.DisplayPath}: {problem.Message}");
            }
        }
        if (!checkedAny)
        {
            problems.Add("the file holds no Sigma document");
        }
        return problems;
    }

    private JsonSchemaReport SchemaFor(YamlMapping document)
    {
        if (document["correlation"] is not null)
        {
            return _correlation;
        }
        if (document["filter"] is not null && document["detection"] is null && _filter is not null)
        {
            return _filter;
        }
        return _rule;
    }

    /// <summary>The line of the value at <paramref name="pointer"/>, or of its nearest existing parent (a missing field's mapping).</summary>
    private static int LineOf(YamlNode document, string pointer)
    {
        var path = pointer;
        while (true)
        {
            if (YamlJsonNode.PositionOf(document, path) is { } at)
            {
                return at.Line;
            }
            var cut = path.LastIndexOf('/');
            if (cut < 0)
            {
                return document.Start.Line;
            }
            path = path[..cut];
        }
    }
}
