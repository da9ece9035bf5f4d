using System.Collections.Immutable;

namespace KeyAbuseContent.Targets.Esql;

/// <summary>An ES|QL expression node. Text only comes out of <see cref="EsqlRenderer"/>, which escapes.</summary>
public abstract record EsqlExpr;

/// <summary>A field or column name; rendered with backticks when it is not a plain dotted identifier.</summary>
public sealed record EsqlField(string Name) : EsqlExpr;

/// <summary>The literal kinds of ES|QL.</summary>
public enum EsqlLiteralKind
{
    String,
    Long,
    Double,
    Bool,
    Null,
    DateTime,
    Duration,
}

/// <summary>A literal value.</summary>
public sealed record EsqlLiteral(EsqlLiteralKind Kind, object? Value) : EsqlExpr
{
    public static EsqlLiteral Str(string value) => new(EsqlLiteralKind.String, value);

    public static EsqlLiteral Long(long value) => new(EsqlLiteralKind.Long, value);

    public static EsqlLiteral Double(double value) => new(EsqlLiteralKind.Double, value);

    public static EsqlLiteral Bool(bool value) => new(EsqlLiteralKind.Bool, value);

    public static EsqlLiteral Null() => new(EsqlLiteralKind.Null, null);

    public static EsqlLiteral Span(TimeSpan value) => new(EsqlLiteralKind.Duration, value);

    public static EsqlLiteral Time(DateTimeOffset value) => new(EsqlLiteralKind.DateTime, value);
}

/// <summary>A regular expression or LIKE pattern, rendered triple-quoted so backslashes stay single.</summary>
public sealed record EsqlPattern(string Pattern) : EsqlExpr;

/// <summary>A binary operator: <c>==</c>, <c>AND</c>, <c>+</c>, <c>LIKE</c>, <c>RLIKE</c>, ...</summary>
public sealed record EsqlBinary(string Op, EsqlExpr Left, EsqlExpr Right) : EsqlExpr;

/// <summary><c>x IN (...)</c> or <c>x NOT IN (...)</c>.</summary>
public sealed record EsqlIn(EsqlExpr Value, bool Negated, ImmutableArray<EsqlExpr> Items) : EsqlExpr;

/// <summary><c>NOT x</c>.</summary>
public sealed record EsqlNot(EsqlExpr Operand) : EsqlExpr;

/// <summary>Unary minus.</summary>
public sealed record EsqlNegate(EsqlExpr Operand) : EsqlExpr;

/// <summary><c>x IS NULL</c> or <c>x IS NOT NULL</c>.</summary>
public sealed record EsqlIsNull(EsqlExpr Operand, bool Negated) : EsqlExpr;

/// <summary>A function call; <c>COUNT(*)</c> is a call with a <see cref="EsqlStar"/> argument.</summary>
public sealed record EsqlCall(string Function, ImmutableArray<EsqlExpr> Args) : EsqlExpr;

/// <summary>The <c>*</c> of <c>COUNT(*)</c>.</summary>
public sealed record EsqlStar : EsqlExpr;

/// <summary><c>name = expr</c> in EVAL and STATS; a bare expression when Name is null.</summary>
public sealed record EsqlAssign(string? Name, EsqlExpr Value);

/// <summary>A processing command after a pipe, or the source command.</summary>
public abstract record EsqlCommand;

/// <summary><c>FROM index METADATA _id, ...</c>.</summary>
public sealed record EsqlFrom(ImmutableArray<string> Indices, ImmutableArray<string> Metadata) : EsqlCommand;

public sealed record EsqlWhere(EsqlExpr Predicate) : EsqlCommand;

public sealed record EsqlEval(ImmutableArray<EsqlAssign> Columns) : EsqlCommand;

/// <summary><c>STATS aggs BY groups</c>, or <c>INLINE STATS</c> (9.3) which keeps every row.</summary>
public sealed record EsqlStats(ImmutableArray<EsqlAssign> Aggregates, ImmutableArray<EsqlAssign> By, bool Inline = false) : EsqlCommand;

public sealed record EsqlKeep(ImmutableArray<string> Columns) : EsqlCommand;

public sealed record EsqlDrop(ImmutableArray<string> Columns) : EsqlCommand;

public sealed record EsqlRename(ImmutableArray<(string From, string To)> Columns) : EsqlCommand;

public sealed record EsqlSort(ImmutableArray<(EsqlExpr Expr, bool Descending)> Keys) : EsqlCommand;

public sealed record EsqlLimit(long Count) : EsqlCommand;

/// <summary><c>LOOKUP JOIN index ON field</c> against a lookup-mode index.</summary>
public sealed record EsqlLookupJoin(string Index, ImmutableArray<string> On) : EsqlCommand;

public sealed record EsqlMvExpand(string Column) : EsqlCommand;

/// <summary>A whole query: the source command then the processing commands.</summary>
public sealed record EsqlQuery(ImmutableArray<EsqlCommand> Commands)
{
    public EsqlQuery Then(params EsqlCommand[] commands) => this with { Commands = Commands.AddRange(commands) };
}

/// <summary>Short constructors that keep query builders readable.</summary>
public static class EsqlNodes
{
    public static EsqlField Col(string name) => new(name);

    public static EsqlCall Call(string function, params EsqlExpr[] args) => new(function, [.. args]);

    public static EsqlBinary Op(string op, EsqlExpr left, EsqlExpr right) => new(op, left, right);

    public static EsqlExpr And(IEnumerable<EsqlExpr> terms) => terms.Aggregate((a, b) => new EsqlBinary("AND", a, b));

    public static EsqlAssign As(string name, EsqlExpr value) => new(name, value);

    public static EsqlAssign Bare(EsqlExpr value) => new(null, value);
}
