using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace KeyAbuseContent.Harness.Datasets;

/// <summary>
/// Cuts an OTLP/JSON trace export request (<c>resourceSpans[].scopeSpans[].spans[]</c>) into one record a span, as a
/// collector stores spans: the span's own fields, <c>attributes</c> as an object of plain values (OTLP's typed
/// <c>{"stringValue"|"intValue"|...}</c> unwrapped, int64 strings as numbers), and <c>resource.attributes</c> alike.
/// </summary>
public static class OtlpSpans
{
    /// <summary>Each span of the line as JSON text, or the reason the line is not an export request.</summary>
    public static IEnumerable<(string? Text, string? Error)> Split(string line)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(line);
        }
        catch (JsonException e)
        {
            return [(null, "not JSON: " + e.Message)];
        }
        if (root is not JsonObject request || request["resourceSpans"] is not JsonArray resources)
        {
            return [(null, "an otel_genai line is an OTLP/JSON trace export request with a resourceSpans array")];
        }
        var spans = new List<(string?, string?)>();
        foreach (var resource in resources.OfType<JsonObject>())
        {
            var resourceAttributes = Attributes(resource["resource"]?["attributes"]);
            foreach (var scope in (resource["scopeSpans"] as JsonArray ?? []).OfType<JsonObject>())
            {
                foreach (var span in (scope["spans"] as JsonArray ?? []).OfType<JsonObject>())
                {
                    var flat = new JsonObject();
                    foreach (var (key, value) in span)
                    {
                        flat[key] = key == "attributes" ? Attributes(value) : value?.DeepClone();
                    }
                    flat["resource"] = new JsonObject { ["attributes"] = resourceAttributes.DeepClone() };
                    spans.Add((flat.ToJsonString(), null));
                }
            }
        }
        return spans;
    }

    private static JsonObject Attributes(JsonNode? list)
    {
        var result = new JsonObject();
        foreach (var item in (list as JsonArray ?? []).OfType<JsonObject>())
        {
            if (item["key"]?.GetValue<string>() is { } key)
            {
                result[key] = Value(item["value"]);
            }
        }
        return result;
    }

    private static JsonNode? Value(JsonNode? any)
    {
        if (any is not JsonObject v || v.Count == 0)
        {
            return null;
        }
        var (kind, value) = v.First();
        return kind switch
        {
            "intValue" when value is JsonValue s && s.GetValueKind() == JsonValueKind.String && long.TryParse(s.GetValue<string>(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) => JsonValue.Create(n),
            "arrayValue" => new JsonArray([.. (value?["values"] as JsonArray ?? []).Select(Value)]),
            "kvlistValue" => Attributes(value?["values"]),
            _ => value?.DeepClone(),
        };
    }
}
