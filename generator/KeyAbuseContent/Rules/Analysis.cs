using System.Collections.Immutable;
using KeyAbuseContent.Diagnostics;
using KeyAbuseContent.Expressions;

namespace KeyAbuseContent.Rules;

/// <summary>A column a detection computes, named per target: PascalCase in KQL, under <c>keyabuse.</c> in ES|QL.</summary>
public static class Computed
{
    public static FieldBinding Column(string name, ExprType type) => new(name, type, Pascal(name), "keyabuse." + name, name);

    public static string Pascal(string snake) =>
        string.Concat(snake.Split('_', StringSplitOptions.RemoveEmptyEntries).Select(p => char.ToUpperInvariant(p[0]) + p[1..]));
}

/// <summary>A named aggregate after binding.</summary>
public sealed record BoundNamedAggregate(FieldBinding Column, BoundAggregate Aggregate);

/// <summary>The bound form of a rule's detection: every expression typed against its scope.</summary>
public abstract record BoundDetection(Bound? Where, ImmutableArray<SourceField> By);

public sealed record BoundThresholdDetection(Bound? Where, ImmutableArray<SourceField> By, ThresholdDetection Syntax, ImmutableArray<BoundNamedAggregate> Aggregates, Bound Condition)
    : BoundDetection(Where, By)
{
    /// <summary>The inventory fields joined by key_id after aggregation (empty: no join).</summary>
    public ImmutableArray<SourceField> Inventory { get; init; } = [];
}

public sealed record BoundBaselineDetection(Bound? Where, ImmutableArray<SourceField> By, BaselineDetection Syntax, SourceField? SumField, Bound Condition)
    : BoundDetection(Where, By)
{
    /// <summary>Which events the count counts (<c>metric.when</c>); null: every event under where.</summary>
    public Bound? When { get; init; }
}

public sealed record BoundNewValueDetection(Bound? Where, ImmutableArray<SourceField> By, NewValueDetection Syntax, SourceField Field, ImmutableArray<BoundNamedAggregate> Aggregates, Bound? Condition)
    : BoundDetection(Where, By)
{
    /// <summary>The filter on the new values' window events (<c>new_where</c>); null when every new value may alert.</summary>
    public Bound? NewWhere { get; init; }
}

public sealed record BoundProfileDetection(Bound? Where, ImmutableArray<SourceField> By, ProfileDetection Syntax, SourceField Field, SourceField Declared, ImmutableArray<BoundNamedAggregate> Aggregates, Bound? Condition)
    : BoundDetection(Where, By);

public sealed record BoundSequenceStep(string Name, Bound Where, int Min, FieldBinding Count, FieldBinding First);

public sealed record BoundSequenceDetection(ImmutableArray<SourceField> By, SequenceDetection Syntax, ImmutableArray<BoundSequenceStep> Steps)
    : BoundDetection(null, By);

public sealed record BoundInventoryDetection(Bound Where) : BoundDetection(Where, []);

/// <summary>A piece of an output text: literal text or a result column.</summary>
public abstract record TemplatePart;

public sealed record TemplateText(string Text) : TemplatePart;

public sealed record TemplateColumn(FieldBinding Column) : TemplatePart;

/// <summary>A rule after analysis: its source, bound detection, result columns and output templates.</summary>
public sealed record AnalyzedRule(
    Rule Rule,
    SourceSchema Source,
    BoundDetection Detection,
    ImmutableArray<FieldBinding> ResultColumns,
    ImmutableArray<TemplatePart> Title,
    ImmutableArray<TemplatePart> Summary,
    ImmutableDictionary<string, FieldBinding> Entities)
{
    /// <summary>The result columns under their normalized names.</summary>
    public FieldBinding? Column(string name) => ResultColumns.FirstOrDefault(c => c.Name == name);
}
