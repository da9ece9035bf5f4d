using KeyAbuseContent.Targets.Elastic;

namespace KeyAbuseContent.Validation;

/// <summary>
/// Checks an Elastic ES|QL rule against <c>Schemas/elastic-esql-rule.schema.json</c>: the fields and
/// bounds of Kibana's detection rule schema for the rules this pack writes, unknown fields refused.
/// </summary>
public static class ElasticRuleSchema
{
    /// <summary>The manifest name of the embedded schema.</summary>
    public const string ResourceName = "KeyAbuseContent.Validation.Schemas.elastic-esql-rule.schema.json";

    private static readonly Lazy<JsonSchemaReport> Report = new(() => new JsonSchemaReport(SchemaText, requireFormats: true));

    /// <summary>The schema's JSON text, as embedded in the assembly.</summary>
    public static string SchemaText
    {
        get
        {
            using var stream = typeof(ElasticRuleSchema).Assembly.GetManifestResourceStream(ResourceName)
                ?? throw new InvalidOperationException($"the assembly has no embedded resource {ResourceName}");
            using var reader = new StreamReader(stream);
            return reader.ReadToEnd();
        }
    }

    /// <summary>Every way <paramref name="rule"/>'s document breaks the schema, each naming its JSON path; empty when valid.</summary>
    public static IReadOnlyList<string> Check(ElasticRule rule)
    {
        ArgumentNullException.ThrowIfNull(rule);
        return Report.Value.Evaluate(rule.Document)
            .Select(p => $"{p.DisplayPath}: {p.Message}")
            .ToList();
    }
}
