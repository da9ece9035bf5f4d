using System.Text.Json;
using System.Text.Json.Nodes;
using KeyAbuseContent.Engine.Kql.Storage;

namespace KeyAbuseContent.Engine.Kql.Functions;

/// <summary>Dynamic values: JSON text to nodes, and arrays of a dynamic argument.</summary>
internal static class DynamicValues
{
    private static readonly JsonNodeOptions NodeOptions = new() { PropertyNameCaseInsensitive = false };

    /// <summary>JSON text as a dynamic value; text that is not JSON stays a string.</summary>
    public static JsonNode? Parse(string text)
    {
        try
        {
            return JsonNode.Parse(text, NodeOptions);
        }
        catch (JsonException)
        {
            return JsonValue.Create(text);
        }
    }

    /// <summary>The elements of a dynamic array; null when the value is not an array.</summary>
    public static JsonArray? Array(object? value) => value as JsonArray;

    /// <summary>A new array holding copies of the values.</summary>
    public static JsonArray NewArray(IEnumerable<object?> values)
    {
        var array = new JsonArray();
        foreach (var v in values)
        {
            array.Add(Scalars.Detached(Scalars.ToDynamic(v)));
        }
        return array;
    }
}
