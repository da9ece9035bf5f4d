using System.Collections.Immutable;

namespace KeyAbuseContent.Engine.Esql.Syntax;

/// <summary>A node of an ES|QL syntax tree; every node keeps the span of the text it came from.</summary>
internal abstract record SyntaxNode(TextSpan Span);

/// <summary>An expression.</summary>
internal abstract record Expr(TextSpan Span) : SyntaxNode(Span);

/// <summary>The kinds of literal; time spans are <c>TimeDuration</c> (ms to hours) or <c>DatePeriod</c> (days to years).</summary>
internal enum LiteralKind
{
    Null,
    Boolean,
    Integer,
    Long,
    Double,
    String,
    TimeDuration,
    DatePeriod,
}

/// <summary>
/// A literal. Values: null, bool, int, long, double, string, <see cref="TimeSpan"/> for a time duration and
/// <see cref="Types.DatePeriod"/> for a date period.
/// </summary>
internal sealed record LiteralExpr(TextSpan Span, LiteralKind Kind, object? Value) : Expr(Span);

/// <summary>A multi-value literal, <c>[1, 2, 3]</c>.</summary>
internal sealed record ListExpr(TextSpan Span, ImmutableArray<Expr> Items) : Expr(Span);

/// <summary>A column reference; dotted names are one name (<c>keyabuse.key.id</c>).</summary>
internal sealed record FieldExpr(TextSpan Span, string Name) : Expr(Span);

/// <summary>A function call; <c>COUNT(*)</c> has <see cref="Star"/> set and no arguments.</summary>
internal sealed record CallExpr(TextSpan Span, string Name, TextSpan NameSpan, ImmutableArray<Expr> Args, bool Star) : Expr(Span);

internal enum UnaryOp
{
    Not,
    Negate,
}

internal sealed record UnaryExpr(TextSpan Span, UnaryOp Op, Expr Operand) : Expr(Span);

internal enum BinaryOp
{
    And,
    Or,
    Add,
    Subtract,
    Multiply,
    Divide,
    Modulo,
    Equal,
    NotEqual,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
    CaseInsensitiveEqual,
}

internal sealed record BinaryExpr(TextSpan Span, BinaryOp Op, Expr Left, Expr Right, TextSpan OperatorSpan) : Expr(Span);

/// <summary><c>x [NOT] IN (a, b, ...)</c>.</summary>
internal sealed record InExpr(TextSpan Span, Expr Value, ImmutableArray<Expr> Items, bool Negated) : Expr(Span);

/// <summary><c>x IS [NOT] NULL</c>.</summary>
internal sealed record IsNullExpr(TextSpan Span, Expr Value, bool Negated) : Expr(Span);

/// <summary><c>x [NOT] LIKE "pattern"</c> or <c>x [NOT] RLIKE "regex"</c>; a list of patterns matches any.</summary>
internal sealed record PatternExpr(TextSpan Span, Expr Value, ImmutableArray<LiteralExpr> Patterns, bool Regex, bool Negated) : Expr(Span);

/// <summary><c>x::type</c>.</summary>
internal sealed record CastExpr(TextSpan Span, Expr Value, string TypeName, TextSpan TypeSpan) : Expr(Span);

/// <summary>
/// An expression with the name of the column it makes: <c>name = expr</c>, or a bare expression named after
/// its own text as ES|QL does.
/// </summary>
internal sealed record NamedExpr(TextSpan Span, string Name, Expr Value);

/// <summary>An aggregate of STATS with its optional per-aggregate <c>WHERE</c>.</summary>
internal sealed record AggregateField(NamedExpr Field, Expr? Filter);

/// <summary>A name or a name pattern with <c>*</c> wildcards (KEEP, DROP, RENAME).</summary>
internal sealed record NamePattern(TextSpan Span, string Pattern)
{
    public bool HasWildcard => Pattern.Contains('*', StringComparison.Ordinal);
}

/// <summary>A processing or source command.</summary>
internal abstract record Command(TextSpan Span) : SyntaxNode(Span);

internal sealed record IndexPattern(TextSpan Span, string Pattern);

internal sealed record FromCommand(TextSpan Span, ImmutableArray<IndexPattern> Indices, ImmutableArray<NamePattern> Metadata) : Command(Span);

internal sealed record RowCommand(TextSpan Span, ImmutableArray<NamedExpr> Fields) : Command(Span);

internal sealed record WhereCommand(TextSpan Span, Expr Condition) : Command(Span);

internal sealed record EvalCommand(TextSpan Span, ImmutableArray<NamedExpr> Fields) : Command(Span);

internal sealed record StatsCommand(TextSpan Span, ImmutableArray<AggregateField> Aggregates, ImmutableArray<NamedExpr> Groupings, bool Inline) : Command(Span);

internal sealed record KeepCommand(TextSpan Span, ImmutableArray<NamePattern> Patterns) : Command(Span);

internal sealed record DropCommand(TextSpan Span, ImmutableArray<NamePattern> Patterns) : Command(Span);

internal sealed record RenameCommand(TextSpan Span, ImmutableArray<(NamePattern From, NamePattern To)> Renames) : Command(Span);

internal sealed record SortKey(TextSpan Span, Expr Value, bool Descending, bool NullsFirst);

internal sealed record SortCommand(TextSpan Span, ImmutableArray<SortKey> Keys) : Command(Span);

internal sealed record LimitCommand(TextSpan Span, int Count) : Command(Span);

internal sealed record MvExpandCommand(TextSpan Span, FieldExpr Field) : Command(Span);

internal sealed record DissectCommand(TextSpan Span, Expr Input, LiteralExpr Pattern, string? AppendSeparator) : Command(Span);

internal sealed record GrokCommand(TextSpan Span, Expr Input, LiteralExpr Pattern) : Command(Span);

internal sealed record LookupJoinCommand(TextSpan Span, IndexPattern Index, ImmutableArray<FieldExpr> On) : Command(Span);

/// <summary>A parsed query: a source command and the commands piped after it.</summary>
internal sealed record Query(SourceText Source, Command SourceCommand, ImmutableArray<Command> Commands);
