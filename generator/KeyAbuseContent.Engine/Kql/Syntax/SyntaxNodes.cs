using System.Collections.Immutable;

namespace KeyAbuseContent.Engine.Kql.Syntax;

// The syntax tree of the KQL subset. Every node keeps the offset where it starts in its source text,
// which the binder turns into a line and column. Scalar and tabular expressions share one tree, as in
// KQL itself: whether a name is a table or a value is decided by the binder.

/// <summary>A parsed query or function body: its let statements, then the expression that is its value.</summary>
internal sealed record QuerySyntax(SourceText Source, ImmutableArray<StatementSyntax> Statements, ExprSyntax Body);

internal abstract record StatementSyntax(int Position);

/// <summary><c>let Name = Value;</c></summary>
internal sealed record LetSyntax(int Position, string Name, ExprSyntax Value) : StatementSyntax(Position);

/// <summary><c>let Name = (a:long, b:string) { statements; value };</c></summary>
internal sealed record LetFunctionSyntax(int Position, string Name, ImmutableArray<ParameterSyntax> Parameters, ImmutableArray<StatementSyntax> Statements, ExprSyntax Body)
    : StatementSyntax(Position);

/// <summary>A scalar parameter of a let function; <see cref="Default"/> is its default value, if any.</summary>
internal sealed record ParameterSyntax(int Position, string Name, KqlType Type, ExprSyntax? Default);

internal abstract record ExprSyntax(int Position);

internal sealed record NameSyntax(int Position, string Name) : ExprSyntax(Position);

/// <summary>A literal; <see cref="Value"/> is null for a typed null such as <c>long(null)</c>.</summary>
internal sealed record LiteralSyntax(int Position, KqlType Type, object? Value) : ExprSyntax(Position);

internal sealed record CallSyntax(int Position, string Name, ImmutableArray<ExprSyntax> Arguments) : ExprSyntax(Position);

/// <summary><c>*</c> as an argument (<c>arg_max(t, *)</c>) or a distinct list.</summary>
internal sealed record StarSyntax(int Position) : ExprSyntax(Position);

/// <summary><c>Target.Member</c>.</summary>
internal sealed record MemberSyntax(int Position, ExprSyntax Target, string Member) : ExprSyntax(Position);

/// <summary><c>Target[Index]</c>.</summary>
internal sealed record IndexSyntax(int Position, ExprSyntax Target, ExprSyntax Index) : ExprSyntax(Position);

internal sealed record UnarySyntax(int Position, string Operator, ExprSyntax Operand) : ExprSyntax(Position);

/// <summary>A binary operator in its KQL spelling, lower case: <c>+</c>, <c>==</c>, <c>and</c>, <c>!has</c>, <c>matches regex</c>.</summary>
internal sealed record BinarySyntax(int Position, string Operator, ExprSyntax Left, ExprSyntax Right) : ExprSyntax(Position);

/// <summary><c>Left in (a, b)</c> and its kin (<c>!in</c>, <c>in~</c>, <c>!in~</c>, <c>has_any</c>, <c>has_all</c>); an item may be a subquery.</summary>
internal sealed record ListOperatorSyntax(int Position, string Operator, ExprSyntax Left, ImmutableArray<ExprSyntax> Items) : ExprSyntax(Position);

/// <summary><c>Value between (Low .. High)</c> or <c>!between</c>.</summary>
internal sealed record BetweenSyntax(int Position, bool Negated, ExprSyntax Value, ExprSyntax Low, ExprSyntax High) : ExprSyntax(Position);

internal sealed record ParenthesizedSyntax(int Position, ExprSyntax Inner) : ExprSyntax(Position);

/// <summary><c>typeof(string)</c>.</summary>
internal sealed record TypeofSyntax(int Position, KqlType Type) : ExprSyntax(Position);

/// <summary><c>Name = Value</c>, or <c>(a, b) = Value</c> for functions with several results.</summary>
internal sealed record NamedSyntax(int Position, ImmutableArray<string> Names, ExprSyntax Value) : ExprSyntax(Position);

/// <summary>A sort key: <c>Expr [asc|desc] [nulls first|last]</c>; null when not written.</summary>
internal sealed record OrderedSyntax(int Position, ExprSyntax Expr, bool? Descending, bool? NullsFirst) : ExprSyntax(Position);

/// <summary>A tabular operator applied to what precedes the pipe.</summary>
internal sealed record PipeSyntax(int Position, ExprSyntax Source, OperatorSyntax Operator) : ExprSyntax(Position);

/// <summary><c>datatable(a:string, b:long) [values]</c>.</summary>
internal sealed record DatatableSyntax(int Position, ImmutableArray<(string Name, KqlType Type)> Columns, ImmutableArray<ExprSyntax> Values) : ExprSyntax(Position);

/// <summary><c>print a = 1, 2</c>.</summary>
internal sealed record PrintSyntax(int Position, ImmutableArray<ExprSyntax> Items) : ExprSyntax(Position);

/// <summary><c>range Column from From to To step Step</c>.</summary>
internal sealed record RangeSyntax(int Position, string Column, ExprSyntax From, ExprSyntax To, ExprSyntax Step) : ExprSyntax(Position);

/// <summary><c>union [kind=inner|outer] [withsource=Name] T1, T2</c> as a source.</summary>
internal sealed record UnionSourceSyntax(int Position, UnionOptions Options, ImmutableArray<ExprSyntax> Tables) : ExprSyntax(Position);

internal sealed record UnionOptions(bool Inner, string? WithSource);

internal abstract record OperatorSyntax(int Position);

internal sealed record WhereSyntax(int Position, ExprSyntax Predicate) : OperatorSyntax(Position);

internal sealed record ExtendSyntax(int Position, ImmutableArray<ExprSyntax> Items) : OperatorSyntax(Position);

internal sealed record ProjectSyntax(int Position, ImmutableArray<ExprSyntax> Items) : OperatorSyntax(Position);

/// <summary><c>project-away</c> (<see cref="Keep"/> false) or <c>project-keep</c>, with wildcard patterns.</summary>
internal sealed record ProjectAwaySyntax(int Position, ImmutableArray<NameSyntax> Patterns, bool Keep) : OperatorSyntax(Position);

internal sealed record ProjectRenameSyntax(int Position, ImmutableArray<(int Position, string NewName, string OldName)> Renames) : OperatorSyntax(Position);

internal sealed record ProjectReorderSyntax(int Position, ImmutableArray<OrderedSyntax> Patterns) : OperatorSyntax(Position);

internal sealed record SummarizeSyntax(int Position, ImmutableArray<ExprSyntax> Aggregates, ImmutableArray<ExprSyntax> By) : OperatorSyntax(Position);

/// <summary><c>join kind=K (Right) on ...</c>; an <see cref="On"/> item is a column name or <c>$left.a == $right.b</c>.</summary>
internal sealed record JoinSyntax(int Position, string? Kind, ExprSyntax Right, ImmutableArray<ExprSyntax> On) : OperatorSyntax(Position);

internal sealed record LookupSyntax(int Position, string? Kind, ExprSyntax Right, ImmutableArray<ExprSyntax> On) : OperatorSyntax(Position);

internal sealed record UnionSyntax(int Position, UnionOptions Options, ImmutableArray<ExprSyntax> Tables) : OperatorSyntax(Position);

/// <summary><c>distinct a, b</c> or <c>distinct *</c> (empty <see cref="Items"/>).</summary>
internal sealed record DistinctSyntax(int Position, ImmutableArray<ExprSyntax> Items) : OperatorSyntax(Position);

internal sealed record SortSyntax(int Position, ImmutableArray<OrderedSyntax> Keys) : OperatorSyntax(Position);

internal sealed record TopSyntax(int Position, ExprSyntax Count, OrderedSyntax Key) : OperatorSyntax(Position);

internal sealed record TakeSyntax(int Position, ExprSyntax Count) : OperatorSyntax(Position);

internal sealed record CountSyntax(int Position) : OperatorSyntax(Position);

/// <summary>One expanded column of mv-expand: <c>[Name =] Expr [to typeof(T)]</c>.</summary>
internal sealed record MvExpandItem(int Position, string? Name, ExprSyntax Expr, KqlType? To);

/// <summary><c>mv-expand</c>; <see cref="ArrayKind"/> is kind=array (a bag's properties become [key, value] pairs).</summary>
internal sealed record MvExpandSyntax(int Position, ImmutableArray<MvExpandItem> Items, string? ItemIndex, ExprSyntax? Limit, bool ArrayKind) : OperatorSyntax(Position);

/// <summary>A piece of a parse pattern: a string to match, a column to capture (with its type), or <c>*</c>.</summary>
internal sealed record ParsePart(int Position, string? Literal, string? Column, KqlType Type, bool Star);

/// <summary><c>parse [kind=simple|regex|relaxed] [flags=...] Source with pattern</c>.</summary>
internal sealed record ParseSyntax(int Position, string Kind, string? Flags, ExprSyntax Source, ImmutableArray<ParsePart> Parts) : OperatorSyntax(Position);

/// <summary><c>serialize [Name = Expr, ...]</c>.</summary>
internal sealed record SerializeSyntax(int Position, ImmutableArray<ExprSyntax> Items) : OperatorSyntax(Position);

/// <summary><c>evaluate ipv4_lookup(...)</c>, the plugin in the subset, or <c>bag_unpack(...)</c>, parsed and refused when bound.</summary>
internal sealed record EvaluateSyntax(int Position, CallSyntax Plugin) : OperatorSyntax(Position);
