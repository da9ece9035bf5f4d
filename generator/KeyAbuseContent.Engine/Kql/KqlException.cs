namespace KeyAbuseContent.Engine.Kql;

/// <summary>What went wrong with a query: it does not parse, uses a construct outside the subset, does not bind, or failed while running.</summary>
public enum KqlErrorKind
{
    Syntax,
    Unsupported,
    Binding,
    Runtime,
}

/// <summary>A query the executor refuses or cannot run; the message names the construct and <see cref="Line"/>/<see cref="Column"/> its place in the query (1-based).</summary>
public sealed class KqlException : Exception
{
    public KqlException()
    {
    }

    public KqlException(string message)
        : base(message)
    {
    }

    public KqlException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public KqlException(KqlErrorKind kind, string message, int line, int column)
        : base($"line {line}, column {column}: {message}")
    {
        Kind = kind;
        Line = line;
        Column = column;
        Reason = message;
    }

    public KqlErrorKind Kind { get; }

    public int Line { get; }

    public int Column { get; }

    /// <summary>The message without its position.</summary>
    public string Reason { get; } = "";
}
