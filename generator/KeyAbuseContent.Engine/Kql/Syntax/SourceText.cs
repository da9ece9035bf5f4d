namespace KeyAbuseContent.Engine.Kql.Syntax;

/// <summary>
/// A KQL text being parsed: the query, or the body of a stored function called from it. Errors inside a
/// function body are reported at the call in the query, naming the function and the place in its body.
/// </summary>
internal sealed class SourceText
{
    public SourceText(string text, string? functionName, SourceLocation? callSite)
    {
        Text = text;
        FunctionName = functionName;
        CallSite = callSite;
    }

    public string Text { get; }

    /// <summary>The stored function this text is the body of; null for the query itself.</summary>
    public string? FunctionName { get; }

    /// <summary>Where the function was called; null for the query itself.</summary>
    public SourceLocation? CallSite { get; }

    /// <summary>The 1-based line and column of an offset.</summary>
    public (int Line, int Column) LineColumn(int offset)
    {
        var end = Math.Clamp(offset, 0, Text.Length);
        var line = 1;
        var lineStart = 0;
        for (var i = 0; i < end; i++)
        {
            if (Text[i] == '\n')
            {
                line++;
                lineStart = i + 1;
            }
        }
        return (line, end - lineStart + 1);
    }

    /// <summary>An error at an offset of this text, positioned in the outermost query.</summary>
    public KqlException Error(KqlErrorKind kind, int offset, string message)
    {
        if (CallSite is { } call)
        {
            var (line, column) = LineColumn(offset);
            return call.Source.Error(kind, call.Offset, $"in function {FunctionName} (its line {line}, column {column}): {message}");
        }
        var (l, c) = LineColumn(offset);
        return new KqlException(kind, message, l, c);
    }
}

/// <summary>An offset in a source text.</summary>
internal readonly record struct SourceLocation(SourceText Source, int Offset);
