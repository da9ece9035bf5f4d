using System.Collections.Immutable;

namespace KeyAbuseContent.Expressions;

/// <summary>A span of an expression's text: where a node or an error is.</summary>
public readonly record struct TextSpan(int Start, int Length);

/// <summary>A node of the rule expression language's syntax tree; immutable, with its span.</summary>
public abstract record Expr(TextSpan Span);

/// <summary>The operators of binary expressions.</summary>
public enum BinaryOp
{
    And,
    Or,
    Equal,
    NotEqual,
    EqualIgnoreCase,
    NotEqualIgnoreCase,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
    Add,
    Subtract,
    Multiply,
    Divide,
    StartsWith,
    EndsWith,
    Contains,
}

/// <summary>The operators of unary expressions.</summary>
public enum UnaryOp
{
    Not,
    Negate,
}

/// <summary>The literal kinds of the language.</summary>
public enum LiteralKind
{
    String,
    Long,
    Real,
    Bool,
    Null,
    Duration,
}

/// <summary>A literal: its kind and value (string, long, double, bool, null or TimeSpan).</summary>
public sealed record LiteralExpr(TextSpan Span, LiteralKind Kind, object? Value) : Expr(Span);

/// <summary>A name: an event field, an inventory field or a column the detection computes.</summary>
public sealed record NameExpr(TextSpan Span, string Name) : Expr(Span);

/// <summary>A unary operation.</summary>
public sealed record UnaryExpr(TextSpan Span, UnaryOp Op, Expr Operand) : Expr(Span);

/// <summary>A binary operation.</summary>
public sealed record BinaryExpr(TextSpan Span, BinaryOp Op, Expr Left, Expr Right) : Expr(Span);

/// <summary><c>x in (a, b)</c>, <c>x not in (...)</c>, <c>x in~ (...)</c>.</summary>
public sealed record InExpr(TextSpan Span, Expr Value, ImmutableArray<Expr> Items, bool Negated, bool IgnoreCase) : Expr(Span);

/// <summary><c>x matches "regex"</c>: a search for the pattern anywhere in x unless it is anchored.</summary>
public sealed record MatchesExpr(TextSpan Span, Expr Value, Regex.RegexNode Pattern, string Source) : Expr(Span);

/// <summary>A function call: a scalar function or, in aggregates, an aggregation.</summary>
public sealed record CallExpr(TextSpan Span, string Function, ImmutableArray<Expr> Args) : Expr(Span);
