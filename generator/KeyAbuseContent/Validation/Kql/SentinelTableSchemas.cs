using System.Text.Json;

namespace KeyAbuseContent.Validation.Kql;

/// <summary>
/// Reads the Sentinel table files of <c>detections/reference/sentinel-tables</c>, in the format of
/// Azure-Sentinel's KQL validation (<c>{"Name": "T", "Properties": [{"Name": "c", "Type": "String"}]}</c>), into KQL tables.
/// </summary>
public static class SentinelTableSchemas
{
    // Upstream type names come in mixed case and in a few dialects: Log Analytics' "bigint" and
    // the ingestion API's "object" appear beside the KQL names.
    private static readonly Dictionary<string, string> KqlTypes = new(StringComparer.OrdinalIgnoreCase)
    {
        ["string"] = "string",
        ["int"] = "int",
        ["long"] = "long",
        ["bigint"] = "long",
        ["real"] = "real",
        ["double"] = "real",
        ["bool"] = "bool",
        ["boolean"] = "bool",
        ["datetime"] = "datetime",
        ["timespan"] = "timespan",
        ["dynamic"] = "dynamic",
        ["object"] = "dynamic",
        ["guid"] = "guid",
    };

    /// <summary>
    /// Every <c>*.json</c> table file of <paramref name="dir"/>, ordered by table name; throws
    /// <see cref="InvalidDataException"/> listing every unreadable file, column and type at once.
    /// </summary>
    public static IReadOnlyList<KqlTableSchema> Load(string dir)
    {
        var files = Directory.GetFiles(dir, "*.json").Order(StringComparer.Ordinal).ToList();
        if (files.Count == 0)
        {
            throw new InvalidDataException($"{dir} holds no *.json table files");
        }

        var problems = new List<string>();
        var tables = new List<KqlTableSchema>();
        foreach (var file in files)
        {
            var table = Read(file, problems);
            if (table is null)
            {
                continue;
            }
            if (tables.Exists(t => string.Equals(t.Name, table.Name, StringComparison.OrdinalIgnoreCase)))
            {
                problems.Add($"{file}: table '{table.Name}' is declared by another file too");
                continue;
            }
            tables.Add(table);
        }
        if (problems.Count > 0)
        {
            throw new InvalidDataException("The Sentinel table schemas cannot be read:\n- " + string.Join("\n- ", problems));
        }
        return [.. tables.OrderBy(t => t.Name, StringComparer.Ordinal)];
    }

    /// <summary>The KQL scalar type for a type name of the table files, whatever its case; null when there is none.</summary>
    public static string? KqlType(string sentinelType) =>
        KqlTypes.TryGetValue(sentinelType, out var kql) ? kql : null;

    private static KqlTableSchema? Read(string file, List<string> problems)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(File.ReadAllText(file));
        }
        catch (JsonException e)
        {
            problems.Add($"{file}: not JSON ({e.Message})");
            return null;
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || Text(root, "Name") is not { } name
                || Member(root, "Properties") is not { ValueKind: JsonValueKind.Array } properties)
            {
                problems.Add($"{file}: expected an object with a \"Name\" and a \"Properties\" array");
                return null;
            }

            var columns = new List<KqlColumn>();
            var index = 0;
            foreach (var property in properties.EnumerateArray())
            {
                var at = $"{file}: Properties[{index++}]";
                if (property.ValueKind != JsonValueKind.Object
                    || Text(property, "Name") is not { } column
                    || Text(property, "Type") is not { } type)
                {
                    problems.Add($"{at}: expected an object with a \"Name\" and a \"Type\"");
                    continue;
                }
                if (KqlType(type) is not { } kql)
                {
                    problems.Add($"{at}: column '{column}' has type '{type}', which is not one of {string.Join(", ", KqlTypes.Keys)}");
                    continue;
                }
                if (columns.Exists(c => c.Name == column))
                {
                    problems.Add($"{at}: column '{column}' is listed twice");
                    continue;
                }
                columns.Add(new KqlColumn(column, kql));
            }
            return new KqlTableSchema(name, columns);
        }
    }

    // The files were normalised to "Name"/"Type", but upstream writes some in lower case.
    private static JsonElement? Member(JsonElement element, string name)
    {
        foreach (var member in element.EnumerateObject())
        {
            if (string.Equals(member.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                return member.Value;
            }
        }
        return null;
    }

    private static string? Text(JsonElement element, string name) =>
        Member(element, name) is { ValueKind: JsonValueKind.String } value && value.GetString() is { Length: > 0 } text ? text : null;
}
