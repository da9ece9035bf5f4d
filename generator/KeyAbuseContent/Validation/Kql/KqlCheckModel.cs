namespace KeyAbuseContent.Validation.Kql;

/// <summary>A column of a table the checked queries may read; <see cref="Type"/> is a KQL scalar type name.</summary>
public sealed record KqlColumn(string Name, string Type);

/// <summary>A table the checked queries may read, with its columns in order.</summary>
public sealed record KqlTableSchema(string Name, IReadOnlyList<KqlColumn> Columns);

/// <summary>
/// A stored function the checked queries may call: <see cref="Parameters"/> is the KQL parameter
/// list with its parentheses (<c>(watchlistAlias:string)</c>), <see cref="Body"/> the body with its braces.
/// </summary>
public sealed record KqlFunctionSchema(string Name, string Parameters, string Body);

/// <summary>What a workspace declares for the checked queries: its tables and stored functions.</summary>
public sealed record KqlDatabaseSchema(IReadOnlyList<KqlTableSchema> Tables, IReadOnlyList<KqlFunctionSchema> Functions);

/// <summary>One query to check; <see cref="Id"/> names it in the findings (for example <c>rule-x/query</c>).</summary>
public sealed record KqlQueryToCheck(string Id, string Text);

/// <summary>
/// A diagnostic of the Kusto language service for one query: its severity (<c>Error</c> or
/// <c>Warning</c>), its code (<c>KS142</c>) and its span, in UTF-16 code units from the start of the query text.
/// </summary>
public sealed record KqlCheckFinding(string Id, string Severity, string Code, string Message, int Start, int Length)
{
    public bool IsError => Severity == "Error";

    /// <summary>The 1-based line and column of a character offset in a text; an offset past the end is the end.</summary>
    public static (int Line, int Column) LineColumn(string text, int offset)
    {
        ArgumentNullException.ThrowIfNull(text);
        var end = Math.Clamp(offset, 0, text.Length);
        var line = 1;
        var lineStart = 0;
        for (var i = 0; i < end; i++)
        {
            // \r\n, \n and a lone \r each end a line.
            if (text[i] == '\n' || (text[i] == '\r' && (i + 1 >= text.Length || text[i + 1] != '\n')))
            {
                line++;
                lineStart = i + 1;
            }
        }
        return (line, end - lineStart + 1);
    }
}
