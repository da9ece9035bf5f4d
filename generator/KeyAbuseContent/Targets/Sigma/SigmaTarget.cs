using System.Collections.Immutable;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using KeyAbuseContent.Expressions;
using KeyAbuseContent.Expressions.Regex;
using KeyAbuseContent.Rules;
using KeyAbuseContent.Templates;

namespace KeyAbuseContent.Targets.Sigma;

/// <summary>A rule as Sigma: one YAML stream (base rules, then the correlation), or why Sigma cannot say it.</summary>
public sealed record SigmaArtifact(string? Yaml, string? WhyNot);

/// <summary>A construct Sigma cannot express; the message says which and why.</summary>
public sealed class SigmaNotExpressibleException(string message) : Exception(message);

/// <summary>
/// Expresses rules in Sigma where the specification can: a threshold as a base rule and an
/// <c>event_count</c>, <c>value_count</c>, <c>value_sum</c> or <c>value_avg</c> correlation; a sequence
/// as base rules and a <c>temporal_ordered</c> correlation. Baselines, new values, declared profiles and
/// inventory audits need history or a lookup Sigma does not have; the build report says so.
/// </summary>
public static class SigmaTarget
{
    /// <summary>The log source product of the pack's normalized sources; pySigma pipelines map it to each backend.</summary>
    public const string Product = "keyabuse";

    /// <summary>The log source category of each normalized source; fields keep the normalized names.</summary>
    public static string Category(RuleSource source) => source switch
    {
        RuleSource.ControlPlane => "cloud_control_plane",
        RuleSource.Audit => "llm_audit",
        RuleSource.Logs => "application_logs",
        _ => "llm_activity",
    };

    public static SigmaArtifact Build(AnalyzedRule analyzed)
    {
        try
        {
            var yaml = analyzed.Detection switch
            {
                BoundThresholdDetection t => Threshold(analyzed, t),
                BoundSequenceDetection s => Sequence(analyzed, s),
                BoundBaselineDetection => throw new SigmaNotExpressibleException("a baseline compares with the entity's own history, which Sigma correlations do not keep"),
                BoundNewValueDetection => throw new SigmaNotExpressibleException("a new value needs the values seen in the history, which Sigma has no construct for"),
                BoundProfileDetection => throw new SigmaNotExpressibleException("a declared profile joins the key inventory, and Sigma has no lookup"),
                BoundInventoryDetection => throw new SigmaNotExpressibleException("the inventory is not a log source"),
                _ => throw new SigmaNotExpressibleException("unknown kind"),
            };
            return new SigmaArtifact(yaml, null);
        }
        catch (SigmaNotExpressibleException e)
        {
            return new SigmaArtifact(null, e.Message);
        }
    }

    private sealed record Field(string Key, List<string> Values);

    private sealed record Selection(string Name, List<Field> Fields);

    private static string Threshold(AnalyzedRule analyzed, BoundThresholdDetection t)
    {
        if (!t.Inventory.IsEmpty)
        {
            throw new SigmaNotExpressibleException("the threshold joins the key inventory, and Sigma has no lookup");
        }
        if (t.Aggregates.Length != 1)
        {
            throw new SigmaNotExpressibleException("a Sigma correlation tests one aggregate; this threshold has " + t.Aggregates.Length);
        }
        var aggregate = t.Aggregates[0];
        var (type, field) = aggregate.Aggregate.Function switch
        {
            AggregateFn.Count => ("event_count", null),
            AggregateFn.DistinctCount => ("value_count", FieldName(aggregate.Aggregate.Argument!)),
            AggregateFn.Sum => ("value_sum", FieldName(aggregate.Aggregate.Argument!)),
            AggregateFn.Avg => ("value_avg", FieldName(aggregate.Aggregate.Argument!)),
            _ => throw new SigmaNotExpressibleException($"Sigma correlations have no {aggregate.Aggregate.Function.ToString().ToLowerInvariant()} aggregate"),
        };
        var (op, value) = Condition(t.Condition, aggregate.Column);
        var rule = analyzed.Rule;
        var baseName = rule.Name + "-events";
        var baseRule = BaseRule(analyzed, Derive(rule.Id, "events"), baseName, rule.Title + " (events)", t.Where);
        var correlation = Correlation(analyzed, type, [baseName], t.By, t.Syntax.Window, (op, value, field));
        return baseRule + "---\n" + correlation;
    }

    private static string Sequence(AnalyzedRule analyzed, BoundSequenceDetection s)
    {
        if (s.Steps.Any(st => st.Min > 1))
        {
            throw new SigmaNotExpressibleException("a temporal_ordered correlation matches one event a step; a step with min > 1 needs counts Sigma cannot chain");
        }
        var rule = analyzed.Rule;
        var docs = new StringBuilder();
        var names = new List<string>();
        foreach (var step in s.Steps)
        {
            var name = $"{rule.Name}-{step.Name.Replace('_', '-')}";
            names.Add(name);
            docs.Append(BaseRule(analyzed, Derive(rule.Id, step.Name), name, $"{rule.Title} (step {step.Name})", step.Where)).Append("---\n");
        }
        return docs + Correlation(analyzed, "temporal_ordered", names, s.By, s.Syntax.Within, null);
    }

    private static string FieldName(Bound b) => b is BoundField f ? f.Field.Name : throw new SigmaNotExpressibleException("a correlation aggregates a field");

    private static (string Op, string Value) Condition(Bound condition, FieldBinding column)
    {
        if (condition is not BoundCompare c || c.Left is not BoundField f || f.Field.Name != column.Name || c.Right is not BoundLiteral { Value: long or double } literal)
        {
            throw new SigmaNotExpressibleException("a Sigma correlation condition compares its aggregate with a number (count >= 20)");
        }
        var op = c.Op switch
        {
            CompareOp.Greater => "gt",
            CompareOp.GreaterOrEqual => "gte",
            CompareOp.Less => "lt",
            CompareOp.LessOrEqual => "lte",
            CompareOp.Equal => "eq",
            CompareOp.NotEqual => "neq",
            _ => throw new SigmaNotExpressibleException("a Sigma correlation condition is a numeric comparison"),
        };
        return (op, Number(literal.Value!));
    }

    private static string Number(object value) => System.Convert.ToString(value, CultureInfo.InvariantCulture)!;

    private static string Status(RuleStatus s) => s.ToString().ToLowerInvariant();

    private static string Level(Severity s) => s.ToString().ToLowerInvariant();

    private static List<string> Tags(Rule rule) => [.. rule.Tags.Select(t => t.Text)];

    private static string BaseRule(AnalyzedRule analyzed, Guid id, string name, string title, Bound? where)
    {
        var rule = analyzed.Rule;
        var selections = new List<Selection>();
        var condition = where is null ? Select(selections, new Field("key_id", ["'*'"])) : Convert(where, selections, negated: false);
        return DocumentTemplates.Render("sigma-rule.yaml.scriban", new
        {
            Title = title,
            Id = id,
            Name = name,
            Status = Status(rule.Status),
            Description = rule.Description.Trim(),
            References = rule.References,
            rule.Author,
            Date = rule.Created.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            Modified = rule.Modified.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            Tags = Tags(rule),
            Product,
            Category = Category(rule.Source),
            Selections = selections.Select(s => new { s.Name, Fields = s.Fields.Select(f => new { f.Key, f.Values }).ToList() }).ToList(),
            Condition = condition,
            Falsepositives = rule.FalsePositives,
            Level = Level(rule.Severity),
        });
    }

    private static string Correlation(AnalyzedRule analyzed, string type, List<string> rules, ImmutableArray<SourceField> by, TimeSpan timespan, (string Op, string Value, string? Field)? condition)
    {
        var rule = analyzed.Rule;
        return DocumentTemplates.Render("sigma-correlation.yaml.scriban", new
        {
            rule.Title,
            rule.Id,
            Status = Status(rule.Status),
            Description = rule.Description.Trim(),
            rule.Author,
            Date = rule.Created.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            Modified = rule.Modified.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            Tags = Tags(rule),
            Type = type,
            Rules = rules,
            GroupBy = by.Select(b => b.Name).ToList(),
            Timespan = Kql.KqlRenderer.Span(timespan),
            HasCondition = condition is not null,
            ConditionOperator = condition?.Op ?? "",
            ConditionValue = condition?.Value ?? "",
            ConditionField = condition?.Field ?? "",
            Falsepositives = rule.FalsePositives,
            Level = Level(rule.Severity),
        });
    }

    private static string Select(List<Selection> selections, Field field)
    {
        var name = "selection_" + (selections.Count + 1).ToString(CultureInfo.InvariantCulture);
        selections.Add(new Selection(name, [field]));
        return name;
    }

    /// <summary>Turns a bound filter into selections and a Sigma condition; negation is "not" around a selection.</summary>
    private static string Convert(Bound b, List<Selection> selections, bool negated)
    {
        string Leaf(Field f) => negated ? "not " + Select(selections, f) : Select(selections, f);
        switch (b)
        {
            case BoundLogical l:
                var op = l.IsAnd != negated ? "and" : "or";
                return $"({Convert(l.Left, selections, negated)} {op} {Convert(l.Right, selections, negated)})";
            case BoundNot n:
                return Convert(n.Operand, selections, !negated);
            case BoundCompare c when c.Left is BoundField f && c.Right is BoundLiteral lit:
                return c.Op switch
                {
                    CompareOp.Equal => Leaf(Equality(f, lit, cased: true)),
                    CompareOp.NotEqual => Convert(c with { Op = CompareOp.Equal }, selections, !negated),
                    CompareOp.EqualIgnoreCase => Leaf(Equality(f, lit, cased: false)),
                    CompareOp.NotEqualIgnoreCase => Convert(c with { Op = CompareOp.EqualIgnoreCase }, selections, !negated),
                    _ => Leaf(Ordering(f, c.Op, lit)),
                };
            case BoundIn i when i.Value is BoundField f:
                var values = i.Items.Select(item => Value(item, escape: true)).ToList();
                var key = f.Field.Name + (f.Field.Type == ExprType.String && !i.IgnoreCase ? "|cased" : "");
                return i.Negated != negated ? "not " + Select(selections, new Field(key, values)) : Select(selections, new Field(key, values));
            case BoundStringTest s when s.Value is BoundField f:
                var modifier = s.Op switch
                {
                    StringOp.StartsWith => "|startswith|cased",
                    StringOp.EndsWith => "|endswith|cased",
                    _ => "|contains",
                };
                var field = new Field(f.Field.Name + modifier, [DocumentTemplates.YamlScalar(Escapes.Wildcards(s.Literal))]);
                return s.Negated != negated ? "not " + Select(selections, field) : Select(selections, field);
            case BoundMatches m when m.Value is BoundField f:
                var re = RegexRenderer.ToRe2(m.Pattern)["(?s)".Length..];
                var reField = new Field(f.Field.Name + "|re|s", [DocumentTemplates.YamlScalar(re)]);
                return m.Negated != negated ? "not " + Select(selections, reField) : Select(selections, reField);
            case BoundCall { Function: "isempty" or "isnotempty" } call when call.Args[0] is BoundField f:
                var empty = (call.Function == "isempty") != negated;
                var missing = Select(selections, new Field(f.Field.Name, ["null"]));
                var blank = Select(selections, new Field(f.Field.Name, ["''"]));
                return empty ? $"({missing} or {blank})" : $"not ({missing} or {blank})";
            case BoundCall { Function: "cidr_match" } call when call.Args[0] is BoundField f:
                var cidrs = call.Args.Skip(1).Select(a => DocumentTemplates.YamlScalar(((BoundLiteral)a).Value)).ToList();
                return Leaf(new Field(f.Field.Name + "|cidr", cidrs));
            default:
                throw new SigmaNotExpressibleException("Sigma detections compare fields with constants; this filter computes or calls " + Describe(b));
        }
    }

    private static string Describe(Bound b) => b switch
    {
        BoundCall c => c.Function + "()",
        BoundArithmetic => "arithmetic",
        _ => b.GetType().Name.Replace("Bound", "", StringComparison.Ordinal).ToLowerInvariant(),
    };

    private static Field Equality(BoundField f, BoundLiteral lit, bool cased)
    {
        var key = f.Field.Name + (cased && f.Field.Type == ExprType.String ? "|cased" : "");
        return new Field(key, [Value(lit, escape: true)]);
    }

    private static Field Ordering(BoundField f, CompareOp op, BoundLiteral lit)
    {
        if (lit.Value is not (long or double))
        {
            throw new SigmaNotExpressibleException("Sigma's lt/gt modifiers compare numbers");
        }
        var modifier = op switch
        {
            CompareOp.Less => "|lt",
            CompareOp.LessOrEqual => "|lte",
            CompareOp.Greater => "|gt",
            _ => "|gte",
        };
        return new Field(f.Field.Name + modifier, [Number(lit.Value)]);
    }

    private static string Value(BoundLiteral lit, bool escape) => lit.Value switch
    {
        string s => DocumentTemplates.YamlScalar(escape ? Escapes.Wildcards(s) : s),
        long or double => Number(lit.Value),
        bool b => b ? "true" : "false",
        _ => "null",
    };

    /// <summary>A name-based (v5) UUID under the rule's id, so derived Sigma ids never change.</summary>
    public static Guid Derive(Guid parent, string name)
    {
        var ns = parent.ToByteArray(bigEndian: true);
        var input = ns.Concat(Encoding.UTF8.GetBytes(name)).ToArray();
#pragma warning disable CA5350 // RFC 4122 name-based UUIDs are defined with SHA-1; nothing here is secret.
        var hash = SHA1.HashData(input);
#pragma warning restore CA5350
        var bytes = hash[..16];
        bytes[6] = (byte)((bytes[6] & 0x0F) | 0x50);
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        return new Guid(bytes, bigEndian: true);
    }
}
