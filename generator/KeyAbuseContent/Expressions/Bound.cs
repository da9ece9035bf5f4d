using System.Collections.Immutable;
using KeyAbuseContent.Expressions.Regex;

namespace KeyAbuseContent.Expressions;

/// <summary>The value types of the rule language.</summary>
public enum ExprType
{
    String,
    Long,
    Real,
    Bool,
    DateTime,
    TimeSpan,
    Ip,
    StringList,
    Null,
}

/// <summary>A name a scope resolves: its type and what it is called on each target.</summary>
public sealed record FieldBinding(string Name, ExprType Type, string KqlName, string EsqlName, string? SigmaName = null);

/// <summary>A bound, typed expression: the binder's output and every emitter's input.</summary>
public abstract record Bound(ExprType Type, TextSpan Span);

public sealed record BoundField(FieldBinding Field, TextSpan Span) : Bound(Field.Type, Span);

public sealed record BoundLiteral(ExprType LiteralType, object? Value, TextSpan Span) : Bound(LiteralType, Span);

/// <summary>The comparison operators after binding; ignore-case variants are string only.</summary>
public enum CompareOp
{
    Equal,
    NotEqual,
    EqualIgnoreCase,
    NotEqualIgnoreCase,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
}

public sealed record BoundCompare(CompareOp Op, Bound Left, Bound Right, TextSpan Span) : Bound(ExprType.Bool, Span);

/// <summary>Arithmetic; division is always real division (see the operator table).</summary>
public sealed record BoundArithmetic(BinaryOp Op, Bound Left, Bound Right, ExprType ResultType, TextSpan Span) : Bound(ResultType, Span);

public sealed record BoundNegate(Bound Operand, TextSpan Span) : Bound(Operand.Type, Span);

public sealed record BoundLogical(bool IsAnd, Bound Left, Bound Right, TextSpan Span) : Bound(ExprType.Bool, Span);

public sealed record BoundNot(Bound Operand, TextSpan Span) : Bound(ExprType.Bool, Span);

public sealed record BoundIn(Bound Value, ImmutableArray<BoundLiteral> Items, bool Negated, bool IgnoreCase, TextSpan Span) : Bound(ExprType.Bool, Span);

/// <summary>The string operators whose right side is a literal: case-sensitive prefix and suffix, case-insensitive substring.</summary>
public enum StringOp
{
    StartsWith,
    EndsWith,
    Contains,
}

public sealed record BoundStringTest(StringOp Op, Bound Value, string Literal, bool Negated, TextSpan Span) : Bound(ExprType.Bool, Span);

public sealed record BoundMatches(Bound Value, RegexPattern Pattern, bool Negated, TextSpan Span) : Bound(ExprType.Bool, Span);

/// <summary>A scalar function of the language (isempty, lower, cidr_match, days_since, ...).</summary>
public sealed record BoundCall(string Function, ImmutableArray<Bound> Args, ExprType ResultType, TextSpan Span) : Bound(ResultType, Span);

/// <summary>The aggregate functions of the language.</summary>
public enum AggregateFn
{
    Count,
    Sum,
    DistinctCount,
    Min,
    Max,
    Avg,
}

/// <summary>An aggregation, only in an <c>aggregate</c> block.</summary>
public sealed record BoundAggregate(AggregateFn Function, Bound? Argument, ExprType ResultType, TextSpan Span) : Bound(ResultType, Span);
