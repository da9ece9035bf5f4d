using System.Collections.Immutable;
using KeyAbuseContent.Diagnostics;
using KeyAbuseContent.Expressions;

namespace KeyAbuseContent.Rules;

public enum RuleStatus
{
    Experimental,
    Test,
    Stable,
    Deprecated,
}

public enum Severity
{
    Informational,
    Low,
    Medium,
    High,
    Critical,
}

/// <summary>A tag of the rule: an ATT&amp;CK or ATLAS technique, or an OWASP LLM Top 10 2025 id.</summary>
public sealed record RuleTag(TagFramework Framework, string Id, string Text)
{
    /// <summary>The form alerts carry: <c>attack:T1496.004</c>, <c>atlas:AML.T0034</c>, <c>owasp:LLM10</c>.</summary>
    public string AlertForm => Framework switch
    {
        TagFramework.Attack => "attack:" + Id,
        TagFramework.Atlas => "atlas:" + Id,
        _ => "owasp:" + Id[..5],
    };
}

public enum TagFramework
{
    Attack,
    Atlas,
    Owasp,
}

/// <summary>How often a rule runs and how far back each run reads.</summary>
public sealed record Schedule(TimeSpan Every, TimeSpan Lookback);

/// <summary>A named expression source text with where it stands, bound later per scope.</summary>
public sealed record RuleExpression(string Text, Expr Syntax, SourceLocator Locate);

/// <summary>Maps an offset of an expression's text to a file position.</summary>
public delegate SourcePosition SourceLocator(int offset);

/// <summary>A named aggregate of a threshold or window: <c>tokens: sum(tokens)</c>.</summary>
public sealed record NamedAggregate(string Name, RuleExpression Expression);

/// <summary>The detection of a rule; one record type per kind, each with its own parameters.</summary>
public abstract record Detection(RuleExpression? Where, ImmutableArray<string> By)
{
    public abstract string Kind { get; }
}

public sealed record ThresholdDetection(RuleExpression? Where, ImmutableArray<string> By, TimeSpan Window, ImmutableArray<NamedAggregate> Aggregates, RuleExpression Condition)
    : Detection(Where, By)
{
    public override string Kind => "threshold";

    /// <summary>Inventory fields joined to each group by its key (expires, rotated, ...), for the condition and the output.</summary>
    public ImmutableArray<string> Inventory { get; init; } = [];
}

public enum Seasonality
{
    None,
    HourOfDay,
    DayTypeHour,
    HourOfWeek,
}

public enum Fallback
{
    None,
    HourOfDay,
    DayTypeHour,
    Overall,
}

public enum Statistic
{
    Mean,
    Median,
    P90,
    P95,
    P99,
    Max,

    /// <summary>The mean of the samples without the highest one: robust to one earlier burst, and exact on every target.</summary>
    TrimmedMean,
}

/// <summary>What a baseline measures: events counted, or a numeric field summed, per time bucket.</summary>
public sealed record Metric(string? Count, string? Sum, TimeSpan Per)
{
    public string Label => Count ?? Sum!;

    /// <summary>
    /// Which events a count counts (<c>when</c>); null counts every event under <c>where</c>. Buckets with events
    /// but none matching count 0, so a key that never does it still has a history (of zeros) to compare with.
    /// </summary>
    public RuleExpression? When { get; init; }
}

public sealed record BaselineHistory(TimeSpan Length, Statistic Statistic, Seasonality Seasonality, int MinSamples, Fallback Fallback)
{
    /// <summary>
    /// Hours either side of a bucket's slot whose baselines also count (the highest is used): a job that starts an
    /// hour early or late is what its neighbouring slot expects. 0: the slot alone.
    /// </summary>
    public int Neighbours { get; init; }
}

public sealed record BaselineDetection(RuleExpression? Where, ImmutableArray<string> By, Metric Metric, BaselineHistory History, double Floor, RuleExpression Condition)
    : Detection(Where, By)
{
    public override string Kind => "baseline";
}

public sealed record NewValueDetection(RuleExpression? Where, ImmutableArray<string> By, string Field, TimeSpan History, TimeSpan? Window, ImmutableArray<NamedAggregate> Aggregates, RuleExpression? Condition)
    : Detection(Where, By)
{
    public override string Kind => "new_value";

    /// <summary>
    /// Which new values may alert: only a window's events matching it are aggregated. History, known values and
    /// the entity's history still count every event under <c>where</c>. Null: every new value may alert.
    /// </summary>
    public RuleExpression? NewWhere { get; init; }
}

public sealed record ProfileDetection(RuleExpression? Where, ImmutableArray<string> By, string Field, string Declared, TimeSpan? Learned, ImmutableArray<NamedAggregate> Aggregates, RuleExpression? Condition)
    : Detection(Where, By)
{
    public override string Kind => "profile";
}

public sealed record SequenceStep(string Name, RuleExpression Where, int Min);

public sealed record SequenceDetection(ImmutableArray<string> By, TimeSpan Within, ImmutableArray<SequenceStep> Steps)
    : Detection(null, By)
{
    public override string Kind => "sequence";
}

public sealed record InventoryDetection(RuleExpression Where) : Detection(Where, [])
{
    public override string Kind => "inventory";
}

/// <summary>One expected alert of a test: the key and the time range its first alert must fall in.</summary>
public sealed record Expectation(string KeyId, DateTimeOffset From, DateTimeOffset To, int Min, int? Max)
{
    /// <summary>For a rule whose alerts name no key (an address, a host): a value of the alert's result row; KeyId is then empty.</summary>
    public string? Entity { get; init; }
}

/// <summary>A test of a rule: a dataset and the alerts it must (or must not) raise.</summary>
public sealed record RuleTest(string Dataset, ImmutableArray<string> Targets, ImmutableArray<Expectation> Expect, SourcePosition Position);

public sealed record RuleOutput(string Title, string Summary, SourcePosition TitleAt, SourcePosition SummaryAt);

/// <summary>
/// A rule as the generator sees it: metadata, a typed detection, and where each part came from.
/// Immutable; targets read it and never change it.
/// </summary>
public sealed record Rule
{
    public required Guid Id { get; init; }
    public required string Name { get; init; }
    public required Version Version { get; init; }
    public required string Title { get; init; }
    public required string Description { get; init; }
    public required RuleStatus Status { get; init; }
    public required Severity Severity { get; init; }
    public required string Author { get; init; }
    public required DateOnly Created { get; init; }
    public required DateOnly Modified { get; init; }
    public required ImmutableArray<string> References { get; init; }
    public required ImmutableArray<RuleTag> Tags { get; init; }
    public required ImmutableArray<string> Threats { get; init; }
    public required RuleSource Source { get; init; }
    public required Schedule Schedule { get; init; }
    public required Detection Detect { get; init; }
    public required ImmutableDictionary<string, string> Entities { get; init; }
    public required RuleOutput Output { get; init; }
    public required ImmutableArray<string> FalsePositives { get; init; }
    public string? Note { get; init; }
    public required ImmutableArray<RuleTest> Tests { get; init; }

    /// <summary>The file the rule was read from, relative to the rules folder's parent.</summary>
    public required string File { get; init; }

    /// <summary>Where the rule's parts start, for diagnostics found after loading (by field path).</summary>
    public required ImmutableDictionary<string, SourcePosition> Positions { get; init; }

    public SourcePosition At(string path) =>
        Positions.TryGetValue(path, out var p) ? p : Positions.GetValueOrDefault("", new SourcePosition(File, 1, 1));
}
