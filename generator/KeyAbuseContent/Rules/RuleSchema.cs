using KeyAbuseContent.Diagnostics;
using KeyAbuseContent.Yaml;
using NJsonSchema;
using NJsonSchema.Validation;

namespace KeyAbuseContent.Rules;

/// <summary>
/// The rule file's JSON Schema (<c>detections/schema/rule.schema.json</c>), enforced with NJsonSchema
/// on the instance built from the YAML, with every error mapped back to <c>file:line:col</c>.
/// </summary>
public sealed class RuleSchema
{
    private readonly JsonSchema _schema;
    private readonly IReadOnlyList<string> _kinds;

    private RuleSchema(JsonSchema schema)
    {
        _schema = schema;
        _kinds = schema.Properties["detect"].OneOf
            .Select(s => s.ActualSchema.Properties["kind"].ActualSchema.Enumeration.Single()!.ToString()!)
            .ToList();
    }

    /// <summary>The detection kinds the schema defines, in its order.</summary>
    public IReadOnlyList<string> Kinds => _kinds;

    public static async Task<RuleSchema> LoadAsync(string path) =>
        new(await JsonSchema.FromFileAsync(path).ConfigureAwait(false));

    public static RuleSchema Parse(string json) => new(JsonSchema.FromJsonAsync(json).GetAwaiter().GetResult());

    /// <summary>Validates one rule document; adds a diagnostic per problem and returns whether there were none.</summary>
    public bool Validate(YamlNode document, string file, string? ruleName, DiagnosticBag diagnostics)
    {
        var json = YamlJson.From(document);
        var errors = _schema.Validate(json.Root);
        var before = diagnostics.Items.Count;
        foreach (var error in errors)
        {
            Report(error, json, file, ruleName, diagnostics);
        }
        return diagnostics.Items.Count == before;
    }

    private void Report(ValidationError error, YamlJson json, string file, string? rule, DiagnosticBag diagnostics)
    {
        var path = error.Path ?? "#/";
        if (error is ChildSchemaValidationError child && error.Kind == ValidationErrorKind.NotOneOf && IsDetect(path))
        {
            ReportDetect(child, json, file, rule, diagnostics);
            return;
        }
        if (error is ChildSchemaValidationError nested && nested.Errors.Count > 0)
        {
            foreach (var inner in nested.Errors.Values.SelectMany(e => e))
            {
                Report(inner, json, file, rule, diagnostics);
            }
            return;
        }
        var (at, message, code) = Describe(error, path, json, file);
        diagnostics.Add(new Diagnostic(at, rule, code, message));
    }

    private static bool IsDetect(string path) => path is "#/detect" or "detect";

    /// <summary>
    /// A oneOf over detection kinds reports every branch; only the branch of the rule's own kind is
    /// meaningful, and an unknown kind is one error naming the kinds there are.
    /// </summary>
    private void ReportDetect(ChildSchemaValidationError error, YamlJson json, string file, string? rule, DiagnosticBag diagnostics)
    {
        var kindNode = json.NodeAt("detect.kind") as YamlScalar;
        var kind = kindNode?.Text;
        var index = kind is null ? -1 : _kinds.ToList().IndexOf(kind);
        if (index < 0)
        {
            var at = kindNode?.Start ?? json.PositionOf("detect") ?? new SourcePosition(file, 0, 0);
            var what = kind is null ? "detect has no kind" : $"unknown detection kind '{kind}'";
            diagnostics.Add(new Diagnostic(at, rule, DiagnosticCodes.UnknownKind, $"{what}; expected one of {string.Join(", ", _kinds)}"));
            return;
        }
        var branch = _schema.Properties["detect"].OneOf.ElementAt(index);
        foreach (var (schema, errors) in error.Errors)
        {
            if (ReferenceEquals(schema.ActualSchema, branch.ActualSchema) || ReferenceEquals(schema, branch))
            {
                foreach (var inner in errors)
                {
                    Report(inner, json, file, rule, diagnostics);
                }
            }
        }
    }

    private static (SourcePosition At, string Message, string Code) Describe(ValidationError error, string path, YamlJson json, string file)
    {
        var fallback = new SourcePosition(file, 1, 1);
        var display = Display(path);
        switch (error.Kind)
        {
            case ValidationErrorKind.PropertyRequired:
                {
                    // Reported on the mapping that lacks the field.
                    var parent = YamlJson.Parent(path);
                    var at = json.PositionOf(parent) ?? fallback;
                    var where = parent.Length == 0 ? "the rule" : $"'{Display(parent)}'";
                    return (at, $"{where} lacks the required field '{error.Property}'", DiagnosticCodes.MissingField);
                }
            case ValidationErrorKind.NoAdditionalPropertiesAllowed:
                {
                    var at = json.PositionOf(path, onKey: true) ?? fallback;
                    var parent = YamlJson.Parent(path);
                    var where = parent.Length == 0 ? "a rule" : $"'{Display(parent)}'";
                    return (at, $"unknown field '{error.Property}' in {where}", DiagnosticCodes.UnknownField);
                }
        }
        var node = json.NodeAt(path);
        var position = json.PositionOf(path) ?? fallback;
        var actual = node is null ? "" : $", not {node.Describe()}";
        var expected = error.Schema is { } s ? Expectation(s) : null;
        var message = error.Kind switch
        {
            ValidationErrorKind.StringExpected or ValidationErrorKind.NumberExpected or ValidationErrorKind.IntegerExpected
                or ValidationErrorKind.BooleanExpected or ValidationErrorKind.ObjectExpected or ValidationErrorKind.ArrayExpected
                => $"'{display}' must be {TypeWord(error.Kind)}{actual}",
            ValidationErrorKind.NotInEnumeration => $"'{display}' is {Quote(node)}; expected one of {expected}",
            ValidationErrorKind.PatternMismatch => $"'{display}' is {Quote(node)}, which does not match {PatternHint(display, error.Schema)}",
            ValidationErrorKind.StringTooShort => $"'{display}' is too short (at least {error.Schema?.MinLength} characters)",
            ValidationErrorKind.StringTooLong => $"'{display}' is too long (at most {error.Schema?.MaxLength} characters)",
            ValidationErrorKind.TooFewItems => $"'{display}' needs at least {error.Schema?.MinItems} item(s)",
            ValidationErrorKind.TooManyItems => $"'{display}' allows at most {error.Schema?.MaxItems} item(s)",
            ValidationErrorKind.ItemsNotUnique => $"'{display}' lists an item twice",
            ValidationErrorKind.NumberTooSmall => $"'{display}' is below its minimum {error.Schema?.Minimum}",
            ValidationErrorKind.NumberTooBig => $"'{display}' is above its maximum {error.Schema?.Maximum}",
            ValidationErrorKind.TooFewProperties => $"'{display}' needs at least {error.Schema?.MinProperties} entr(y/ies)",
            ValidationErrorKind.TooManyProperties => $"'{display}' allows at most {error.Schema?.MaxProperties} entries",
            _ => $"'{display}': {error.Kind}",
        };
        return (position, message, DiagnosticCodes.Schema);
    }

    private static string Display(string path)
    {
        var p = path.StartsWith("#/", StringComparison.Ordinal) ? path[2..] : path.TrimStart('#');
        return p.Length == 0 ? "rule" : p;
    }

    private static string Quote(YamlNode? node) => node is YamlScalar s ? $"'{s.Text}'" : node?.Describe() ?? "missing";

    private static string TypeWord(ValidationErrorKind kind) => kind switch
    {
        ValidationErrorKind.StringExpected => "a string",
        ValidationErrorKind.NumberExpected => "a number",
        ValidationErrorKind.IntegerExpected => "an integer",
        ValidationErrorKind.BooleanExpected => "true or false",
        ValidationErrorKind.ObjectExpected => "a mapping",
        _ => "a list",
    };

    private static string? Expectation(JsonSchema schema)
    {
        var values = schema.ActualSchema.Enumeration;
        return values.Count == 0 ? null : string.Join(", ", values);
    }

    private static string PatternHint(string display, JsonSchema? schema)
    {
        var pattern = schema?.ActualSchema.Pattern;
        var description = schema?.ActualSchema.Description;
        return description is { Length: > 0 } ? $"its form ({description})" : $"the pattern {pattern}";
    }
}
