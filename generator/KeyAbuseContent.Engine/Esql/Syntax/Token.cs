namespace KeyAbuseContent.Engine.Esql.Syntax;

/// <summary>The kinds of token of ES|QL's expression mode.</summary>
internal enum TokenKind
{
    End,
    Pipe,
    Comma,
    Dot,
    LeftParen,
    RightParen,
    LeftBracket,
    RightBracket,
    Identifier,
    QuotedIdentifier,
    Integer,
    Decimal,
    String,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    Assign,
    Equal,
    NotEqual,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
    CaseInsensitiveEqual,
    CastOperator,
    Colon,
    Parameter,
    LeftBrace,
    RightBrace,
}

/// <summary>A token: its kind, span and text (a string's value without quotes or escapes).</summary>
internal readonly record struct Token(TokenKind Kind, TextSpan Span, string Text)
{
    /// <summary>Whether the token is the unquoted word <paramref name="word"/>, in any case.</summary>
    public bool Is(string word) => Kind == TokenKind.Identifier && string.Equals(Text, word, StringComparison.OrdinalIgnoreCase);
}
