using System.Collections.Immutable;

namespace KeyAbuseContent.Targets.Kql;

/// <summary>A KQL scalar expression node. Text only comes out of <see cref="KqlRenderer"/>, which escapes.</summary>
public abstract record KqlExpr;

/// <summary>A column, variable or function parameter name; rendered as <c>['x']</c> when it is not a plain identifier.</summary>
public sealed record KqlName(string Name) : KqlExpr;

/// <summary>The literal kinds KQL has.</summary>
public enum KqlLiteralKind
{
    String,
    Long,
    Real,
    Bool,
    DateTime,
    TimeSpan,
    NullLong,
    NullReal,
    NullString,
    NullDateTime,
}

/// <summary>A literal value of a given kind.</summary>
public sealed record KqlLiteral(KqlLiteralKind Kind, object? Value) : KqlExpr
{
    public static KqlLiteral Str(string value) => new(KqlLiteralKind.String, value);

    public static KqlLiteral Long(long value) => new(KqlLiteralKind.Long, value);

    public static KqlLiteral Real(double value) => new(KqlLiteralKind.Real, value);

    public static KqlLiteral Bool(bool value) => new(KqlLiteralKind.Bool, value);

    public static KqlLiteral Span(TimeSpan value) => new(KqlLiteralKind.TimeSpan, value);

    public static KqlLiteral Time(DateTimeOffset value) => new(KqlLiteralKind.DateTime, value);
}

/// <summary>A regular expression literal, rendered verbatim (<c>@"..."</c>) so backslashes stay single.</summary>
public sealed record KqlRegexLiteral(string Pattern) : KqlExpr;

/// <summary>A binary operator with its KQL spelling: <c>==</c>, <c>and</c>, <c>startswith_cs</c>, <c>matches regex</c>, ...</summary>
public sealed record KqlBinary(string Op, KqlExpr Left, KqlExpr Right) : KqlExpr;

/// <summary><c>x in (...)</c> and its variants <c>!in</c>, <c>in~</c>, <c>!in~</c>; the list may be a subquery column.</summary>
public sealed record KqlIn(KqlExpr Value, string Op, ImmutableArray<KqlExpr> Items) : KqlExpr;

/// <summary>A function call, <c>not()</c> included.</summary>
public sealed record KqlCall(string Function, ImmutableArray<KqlExpr> Args) : KqlExpr;

/// <summary>Unary minus.</summary>
public sealed record KqlNegate(KqlExpr Operand) : KqlExpr;

/// <summary>Member access on a dynamic value: <c>x.name</c> or <c>x["name"]</c>.</summary>
public sealed record KqlMember(KqlExpr Target, string Member) : KqlExpr;

/// <summary><c>name = expr</c> in extend, summarize, project; a bare expression when Name is null.</summary>
public sealed record KqlAssign(string? Name, KqlExpr Value);

/// <summary>A tabular operator after a pipe.</summary>
public abstract record KqlOperator;

public sealed record KqlWhere(KqlExpr Predicate) : KqlOperator;

public sealed record KqlExtend(ImmutableArray<KqlAssign> Columns) : KqlOperator;

public sealed record KqlProject(ImmutableArray<KqlAssign> Columns) : KqlOperator;

public sealed record KqlProjectAway(ImmutableArray<string> Columns) : KqlOperator;

public sealed record KqlSummarize(ImmutableArray<KqlAssign> Aggregates, ImmutableArray<KqlAssign> By) : KqlOperator;

/// <summary><c>join kind=K (right) on a, $left.b == $right.c</c>.</summary>
public sealed record KqlJoin(string Kind, KqlTabular Right, ImmutableArray<KqlJoinKey> On) : KqlOperator;

/// <summary><c>lookup kind=K (right) on a</c>.</summary>
public sealed record KqlLookup(string Kind, KqlTabular Right, ImmutableArray<KqlJoinKey> On) : KqlOperator;

/// <summary>A join key: the same column on both sides, or <c>$left.L == $right.R</c>.</summary>
public sealed record KqlJoinKey(string Left, string Right);

/// <summary><c>evaluate ipv4_lookup(Lookup, SourceKey, LookupKey, return_unmatched = true|false)</c>: a let-bound lookup table joined on IPv4 ranges.</summary>
public sealed record KqlIpv4Lookup(string Lookup, string SourceKey, string LookupKey, bool ReturnUnmatched) : KqlOperator;

/// <summary><c>evaluate ipv6_lookup(Lookup, SourceKey, LookupKey, return_unmatched = true|false)</c>: a let-bound lookup table joined on IPv6 ranges.</summary>
public sealed record KqlIpv6Lookup(string Lookup, string SourceKey, string LookupKey, bool ReturnUnmatched) : KqlOperator;

public sealed record KqlSort(ImmutableArray<(KqlExpr Expr, bool Descending)> Keys) : KqlOperator;

public sealed record KqlTake(long Count) : KqlOperator;

public sealed record KqlMvExpand(string Column, string? Type) : KqlOperator;

/// <summary><c>union T1, T2</c> after a pipe: the input and the named tables.</summary>
public sealed record KqlUnion(ImmutableArray<string> Tables) : KqlOperator;

/// <summary><c>distinct a, b</c>.</summary>
public sealed record KqlDistinct(ImmutableArray<string> Columns) : KqlOperator;

/// <summary>A tabular expression used as a scalar list, as in <c>x in (T | distinct c)</c>.</summary>
public sealed record KqlSubquery(KqlTabular Tabular) : KqlExpr;

/// <summary>A tabular expression: a source and its operators.</summary>
public sealed record KqlTabular(KqlSource Source, ImmutableArray<KqlOperator> Operators)
{
    public KqlTabular Then(params KqlOperator[] operators) => this with { Operators = Operators.AddRange(operators) };
}

/// <summary>Where rows come from.</summary>
public abstract record KqlSource;

/// <summary>A table or a let-bound tabular variable.</summary>
public sealed record KqlTableSource(string Name) : KqlSource;

/// <summary>A stored or built-in tabular function call, such as a parser or <c>_GetWatchlist('x')</c>.</summary>
public sealed record KqlFunctionSource(string Name, ImmutableArray<KqlExpr> Args) : KqlSource;

/// <summary><c>let name = ...;</c>: a scalar or a tabular value, optionally materialized.</summary>
public sealed record KqlLet(string Name, KqlTabular? Tabular, KqlExpr? Scalar, bool Materialize = false);

/// <summary>A whole query: let statements then the tabular expression that is its result.</summary>
public sealed record KqlQuery(ImmutableArray<KqlLet> Lets, KqlTabular Body);

/// <summary>Short constructors that keep query builders readable.</summary>
public static class KqlNodes
{
    public static KqlName Col(string name) => new(name);

    public static KqlCall Call(string function, params KqlExpr[] args) => new(function, [.. args]);

    public static KqlBinary Op(string op, KqlExpr left, KqlExpr right) => new(op, left, right);

    public static KqlExpr And(IEnumerable<KqlExpr> terms) => terms.Aggregate((a, b) => new KqlBinary("and", a, b));

    public static KqlAssign As(string name, KqlExpr value) => new(name, value);

    public static KqlAssign Bare(KqlExpr value) => new(null, value);

    public static KqlTabular From(string table) => new(new KqlTableSource(table), []);

    public static KqlTabular FromFunction(string function, params KqlExpr[] args) => new(new KqlFunctionSource(function, [.. args]), []);
}
