namespace KeyAbuseContent.Engine.Kql.Syntax;

/// <summary>The kinds of KQL tokens.</summary>
internal enum TokenKind
{
    EndOfText,
    Identifier,
    String,
    Long,
    Real,
    TimeSpan,
    DateTime,
    Guid,
    Punctuation,
}

/// <summary>
/// A token: its kind, its text (identifiers and punctuation), its value (literals), and where it starts and ends.
/// <see cref="Quoted"/> marks a bracketed name (<c>['x']</c>), which is never a keyword.
/// </summary>
internal sealed record Token(TokenKind Kind, string Text, object? Value, int Start, int End, bool Quoted = false)
{
    public bool Is(string punctuation) => Kind == TokenKind.Punctuation && Text == punctuation;

    /// <summary>An unquoted identifier spelled <paramref name="keyword"/>.</summary>
    public bool IsKeyword(string keyword) => Kind == TokenKind.Identifier && !Quoted && Text == keyword;

    public override string ToString() => Kind switch
    {
        TokenKind.EndOfText => "the end of the query",
        TokenKind.String => "a string literal",
        TokenKind.Long or TokenKind.Real => $"the number {Text}",
        TokenKind.TimeSpan or TokenKind.DateTime or TokenKind.Guid => $"the literal {Text}",
        _ => $"'{Text}'",
    };
}
