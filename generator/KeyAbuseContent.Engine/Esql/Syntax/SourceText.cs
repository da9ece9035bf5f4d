namespace KeyAbuseContent.Engine.Esql.Syntax;

/// <summary>A range of the query text, by character offsets.</summary>
internal readonly record struct TextSpan(int Start, int End)
{
    public int Length => End - Start;

    public static TextSpan Between(TextSpan first, TextSpan last) => new(first.Start, last.End);
}

/// <summary>The query text with its line starts, so that offsets become ES|QL's <c>line L:C</c> positions.</summary>
internal sealed class SourceText
{
    private readonly int[] lineStarts;

    public SourceText(string text)
    {
        Text = text;
        var starts = new List<int> { 0 };
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '\n')
            {
                starts.Add(i + 1);
            }
        }
        lineStarts = [.. starts];
    }

    public string Text { get; }

    /// <summary>The 1-based line and column of an offset.</summary>
    public (int Line, int Column) Position(int offset)
    {
        var index = Array.BinarySearch(lineStarts, offset);
        if (index < 0)
        {
            index = ~index - 1;
        }
        return (index + 1, offset - lineStarts[index] + 1);
    }

    /// <summary>The text of a span, as ES|QL names an unnamed EVAL or STATS column after its source.</summary>
    public string Slice(TextSpan span) => Text[span.Start..span.End];

    public EsqlException Error(TextSpan span, string message)
    {
        var (line, column) = Position(span.Start);
        return new EsqlException(line, column, message);
    }

    public EsqlException Error(int offset, string message) => Error(new TextSpan(offset, offset), message);
}
