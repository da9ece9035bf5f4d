using System.Collections.Immutable;

namespace KeyAbuseContent.Expressions;

/// <summary>
/// The names an expression may use where it stands (event fields, inventory fields, the columns a
/// detection computes), and whether aggregates are allowed there.
/// </summary>
public sealed class Scope
{
    private readonly ImmutableDictionary<string, FieldBinding> _names;

    public Scope(string description, IEnumerable<FieldBinding> names, bool allowAggregates = false, bool allowNow = false)
    {
        Description = description;
        _names = names.ToImmutableDictionary(n => n.Name, StringComparer.Ordinal);
        AllowAggregates = allowAggregates;
        AllowNow = allowNow;
    }

    /// <summary>What the names are, for messages: "activity event fields".</summary>
    public string Description { get; }

    public bool AllowAggregates { get; }

    /// <summary>Whether functions of the run time (days_since) may be used.</summary>
    public bool AllowNow { get; }

    public IEnumerable<string> Names => _names.Keys.Order(StringComparer.Ordinal);

    public FieldBinding? Lookup(string name) => _names.GetValueOrDefault(name);

    /// <summary>This scope with more names (a detection's computed columns), later ones winning.</summary>
    public Scope With(string description, IEnumerable<FieldBinding> names, bool? allowAggregates = null) =>
        new(description, _names.Values.Where(v => !names.Any(n => n.Name == v.Name)).Concat(names), allowAggregates ?? AllowAggregates, AllowNow);
}
