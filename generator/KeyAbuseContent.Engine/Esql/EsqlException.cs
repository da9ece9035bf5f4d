namespace KeyAbuseContent.Engine.Esql;

/// <summary>
/// A query the executor refuses: a parse error, an unknown index, column or function, a type error, or a
/// construct outside the supported subset. The message names the construct and starts with its position.
/// </summary>
public sealed class EsqlException : Exception
{
    public EsqlException()
    {
    }

    public EsqlException(string message)
        : base(message)
    {
    }

    public EsqlException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public EsqlException(int line, int column, string message)
        : base($"line {line}:{column}: {message}")
    {
        Line = line;
        Column = column;
        Reason = message;
    }

    /// <summary>The 1-based line of the construct, or 0 when the error has no position (a bad input table).</summary>
    public int Line { get; }

    /// <summary>The 1-based column of the construct, or 0.</summary>
    public int Column { get; }

    /// <summary>The message without its position.</summary>
    public string Reason { get; } = "";
}
