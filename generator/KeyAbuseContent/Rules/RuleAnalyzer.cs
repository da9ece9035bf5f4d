using System.Collections.Immutable;
using KeyAbuseContent.Diagnostics;
using KeyAbuseContent.Expressions;

namespace KeyAbuseContent.Rules;

/// <summary>
/// Binds every expression of a rule against the scope it stands in (source fields, computed columns),
/// checks each kind's parameters, and resolves the output templates and entities to result columns.
/// </summary>
public sealed class RuleAnalyzer
{
    private readonly Rule _rule;
    private readonly DiagnosticBag _diagnostics;
    private readonly int _before;

    private RuleAnalyzer(Rule rule, DiagnosticBag diagnostics)
    {
        _rule = rule;
        _diagnostics = diagnostics;
        _before = diagnostics.Items.Count;
    }

    /// <summary>Analyzes <paramref name="rule"/>; null (with diagnostics) when something does not bind.</summary>
    public static AnalyzedRule? Analyze(Rule rule, DiagnosticBag diagnostics) => new RuleAnalyzer(rule, diagnostics).Run();

    private void Error(SourcePosition at, string message, string code = DiagnosticCodes.UnknownSourceField) =>
        _diagnostics.Error(at, _rule.Name, code, message);

    private bool Failed => _diagnostics.Items.Count > _before;

    private AnalyzedRule? Run()
    {
        var source = Sources.For(_rule.Source);
        if (_rule.Detect is InventoryDetection != (_rule.Source == RuleSource.Inventory))
        {
            Error(_rule.At("source"), "the inventory kind reads the inventory source, and only it does", DiagnosticCodes.Kind);
            return null;
        }
        var (detection, columns) = _rule.Detect switch
        {
            ThresholdDetection t => Threshold(source, t),
            BaselineDetection b => Baseline(source, b),
            NewValueDetection n => NewValue(source, n),
            ProfileDetection p => Profile(source, p),
            SequenceDetection s => Sequence(source, s),
            InventoryDetection i => Inventory(source, i),
            _ => throw new InvalidOperationException("unknown detection"),
        };
        if (detection is null || Failed)
        {
            return null;
        }
        var title = Template(_rule.Output.Title, _rule.Output.TitleAt, columns, "output.title");
        var summary = Template(_rule.Output.Summary, _rule.Output.SummaryAt, columns, "output.summary");
        var entities = Entities(columns);
        return Failed ? null : new AnalyzedRule(_rule, source, detection, columns, title, summary, entities);
    }

    private Bound? BindExpr(RuleExpression? expression, Scope scope, string path, ExprType? expected = ExprType.Bool)
    {
        if (expression is null)
        {
            return null;
        }
        var (bound, errors) = Binder.Bind(expression.Syntax, scope, expected);
        foreach (var e in errors)
        {
            var code = e.Message.Contains("is not one of", StringComparison.Ordinal) ? DiagnosticCodes.UnknownSourceField : DiagnosticCodes.ExpressionType;
            _diagnostics.Error(expression.Locate(e.Span.Start), _rule.Name, code, $"{path}: {e.Message}");
        }
        return bound;
    }

    private ImmutableArray<SourceField> By(SourceSchema source, Detection d)
    {
        var result = ImmutableArray.CreateBuilder<SourceField>();
        for (var i = 0; i < d.By.Length; i++)
        {
            var field = source.Field(d.By[i]);
            if (field is null)
            {
                Error(_rule.At($"detect.by[{i}]"), $"detect.by: '{d.By[i]}' is not one of the {source.Description} fields");
                continue;
            }
            if (field.Type is ExprType.Real or ExprType.DateTime or ExprType.StringList)
            {
                Error(_rule.At($"detect.by[{i}]"), $"detect.by: '{d.By[i]}' is {Binder.Word(field.Type)} and cannot group", DiagnosticCodes.Kind);
                continue;
            }
            result.Add(field);
        }
        return result.ToImmutable();
    }

    private ImmutableArray<BoundNamedAggregate> Aggregates(SourceSchema source, ImmutableArray<NamedAggregate> aggregates)
    {
        var scope = source.Scope().With(source.Scope().Description, [], allowAggregates: true);
        var result = ImmutableArray.CreateBuilder<BoundNamedAggregate>();
        foreach (var a in aggregates)
        {
            var bound = BindExpr(a.Expression, scope, "detect.aggregate." + a.Name, expected: null);
            if (bound is null)
            {
                continue;
            }
            if (bound is not BoundAggregate agg)
            {
                _diagnostics.Error(a.Expression.Locate(0), _rule.Name, DiagnosticCodes.ExpressionType, $"detect.aggregate.{a.Name}: an aggregate is one of count(), sum(f), dcount(f), min(f), max(f), avg(f)");
                continue;
            }
            result.Add(new BoundNamedAggregate(Computed.Column(a.Name, agg.Type), agg));
        }
        return result.ToImmutable();
    }

    private static readonly FieldBinding FirstSeen = Computed.Column("first_seen", ExprType.DateTime);
    private static readonly FieldBinding LastSeen = Computed.Column("last_seen", ExprType.DateTime);

    private static Scope Columns(string kind, IReadOnlyCollection<FieldBinding> columns) =>
        new($"result columns of this {kind} rule", columns);

    private (BoundDetection?, ImmutableArray<FieldBinding>) Threshold(SourceSchema source, ThresholdDetection t)
    {
        var where = BindExpr(t.Where, source.Scope(), "detect.where");
        var by = By(source, t);
        var aggregates = Aggregates(source, t.Aggregates);
        if (t.Window > _rule.Schedule.Lookback)
        {
            Error(_rule.At("detect.window"), $"detect.window ({t.Window}) is longer than schedule.lookback ({_rule.Schedule.Lookback}); a run would never see a whole window", DiagnosticCodes.Kind);
        }
        var inventory = InventoryJoin(source, t, by, aggregates);
        var columns = by.Select(b => b.Binding).Concat(aggregates.Select(a => a.Column)).Append(FirstSeen).Append(LastSeen)
            .Concat(inventory.Select(f => f.Binding)).ToImmutableArray();
        var condition = BindExpr(t.Condition, Columns("threshold", columns), "detect.condition");
        return (condition is null ? null : new BoundThresholdDetection(where, by, t, aggregates, condition) { Inventory = inventory }, columns);
    }

    /// <summary>The inventory fields a threshold joins by key: scalar fields only, each a new column name.</summary>
    private ImmutableArray<SourceField> InventoryJoin(SourceSchema source, ThresholdDetection t, ImmutableArray<SourceField> by, ImmutableArray<BoundNamedAggregate> aggregates)
    {
        if (t.Inventory.IsEmpty)
        {
            return [];
        }
        if (source.Source != RuleSource.Activity || !by.Any(b => b.Name == "key_id"))
        {
            Error(_rule.At("detect.inventory"), "detect.inventory joins the key inventory by key: the source is activity and detect.by includes key_id", DiagnosticCodes.Kind);
            return [];
        }
        var taken = by.Select(b => b.Name).Concat(aggregates.Select(a => a.Column.Name)).Append("first_seen").Append("last_seen").ToHashSet(StringComparer.Ordinal);
        var result = ImmutableArray.CreateBuilder<SourceField>();
        for (var i = 0; i < t.Inventory.Length; i++)
        {
            var field = Sources.Inventory.Field(t.Inventory[i]);
            if (field is null || field.Name == "key_id" || field.Type == ExprType.StringList)
            {
                Error(_rule.At($"detect.inventory[{i}]"), $"detect.inventory: '{t.Inventory[i]}' is not a scalar inventory field other than key_id ({string.Join(", ", Sources.Inventory.Fields.Where(f => f.Name != "key_id" && f.Type != ExprType.StringList).Select(f => f.Name))})");
                continue;
            }
            if (!taken.Add(field.Name))
            {
                Error(_rule.At($"detect.inventory[{i}]"), $"detect.inventory: '{field.Name}' is already a result column (a grouping field or an aggregate)", DiagnosticCodes.Kind);
                continue;
            }
            result.Add(field);
        }
        return result.ToImmutable();
    }

    private (BoundDetection?, ImmutableArray<FieldBinding>) Baseline(SourceSchema source, BaselineDetection b)
    {
        var where = BindExpr(b.Where, source.Scope(), "detect.where");
        var by = By(source, b);
        SourceField? sum = null;
        if (b.Metric.Sum is { } sumName)
        {
            sum = source.Field(sumName);
            if (sum is null || sum.Type is not (ExprType.Long or ExprType.Real))
            {
                Error(_rule.At("detect.metric.sum"), $"detect.metric.sum: '{sumName}' is not a numeric {source.Description} field");
            }
        }
        var when = BindExpr(b.Metric.When, source.Scope(), "detect.metric.when");
        if (b.Metric.When is not null && b.Metric.Sum is not null)
        {
            Error(_rule.At("detect.metric.when"), "detect.metric.when goes with count: it says which events are counted", DiagnosticCodes.Kind);
        }
        var h = b.History;
        if (h.Neighbours > 0 && h.Seasonality is not (Seasonality.HourOfWeek or Seasonality.DayTypeHour or Seasonality.HourOfDay))
        {
            Error(_rule.At("detect.history.neighbours"), "detect.history.neighbours needs an hourly seasonality: the neighbours are the slots of the hours around a bucket's", DiagnosticCodes.Kind);
        }
        if (b.Metric.Per > TimeSpan.FromHours(1) || TimeSpan.FromHours(1).Ticks % b.Metric.Per.Ticks != 0)
        {
            Error(_rule.At("detect.metric.per"), "detect.metric.per must divide an hour (1m, 5m, 10m, 15m, 30m, 1h): the baseline is kept per hour slot", DiagnosticCodes.Kind);
        }
        if (b.Metric.Per > _rule.Schedule.Lookback)
        {
            Error(_rule.At("detect.metric.per"), "detect.metric.per is longer than schedule.lookback; a run would never see a whole bucket", DiagnosticCodes.Kind);
        }
        var needed = h.Seasonality switch
        {
            Seasonality.HourOfWeek or Seasonality.DayTypeHour => TimeSpan.FromDays(14),
            Seasonality.HourOfDay => TimeSpan.FromDays(2),
            _ => TimeSpan.FromDays(1),
        };
        if (h.Length < needed)
        {
            Error(_rule.At("detect.history.length"), $"detect.history.length {h.Length.TotalDays:0}d is too short for {h.Seasonality} seasonality (at least {needed.TotalDays:0}d)", DiagnosticCodes.Kind);
        }
        if (h.Length > TimeSpan.FromDays(90))
        {
            Error(_rule.At("detect.history.length"), "detect.history.length is at most 90d", DiagnosticCodes.Kind);
        }
        if (h.Statistic == Statistic.TrimmedMean && h.MinSamples < 2)
        {
            Error(_rule.At("detect.history.min_samples"), "detect.history.min_samples must be 2 or more for trimmed_mean: it drops a slot's highest sample", DiagnosticCodes.Kind);
        }
        if (h.Fallback != Fallback.None && Coarseness(h.Fallback) <= Coarseness(h.Seasonality))
        {
            Error(_rule.At("detect.history.fallback"), $"the fallback ({h.Fallback}) must be coarser than the seasonality ({h.Seasonality})", DiagnosticCodes.Kind);
        }
        var columns = by.Select(x => x.Binding).Concat(
        [
            Computed.Column("value", ExprType.Real),
            Computed.Column("baseline", ExprType.Real),
            Computed.Column("ratio", ExprType.Real),
            Computed.Column("samples", ExprType.Long),
            Computed.Column("slot", ExprType.String),
            FirstSeen,
        ]).ToImmutableArray();
        var condition = BindExpr(b.Condition, Columns("baseline", columns), "detect.condition");
        return (condition is null ? null : new BoundBaselineDetection(where, by, b, sum, condition) { When = when }, columns);
    }

    private static int Coarseness(Seasonality s) => s switch
    {
        Seasonality.HourOfWeek => 0,
        Seasonality.DayTypeHour => 1,
        Seasonality.HourOfDay => 2,
        _ => 3,
    };

    private static int Coarseness(Fallback f) => f switch
    {
        Fallback.DayTypeHour => 1,
        Fallback.HourOfDay => 2,
        _ => 3,
    };

    private (BoundDetection?, ImmutableArray<FieldBinding>) NewValue(SourceSchema source, NewValueDetection n)
    {
        var where = BindExpr(n.Where, source.Scope(), "detect.where");
        var newWhere = BindExpr(n.NewWhere, source.Scope(), "detect.new_where");
        var by = By(source, n);
        var field = source.Field(n.Field);
        if (field is null)
        {
            Error(_rule.At("detect.field"), $"detect.field: '{n.Field}' is not one of the {source.Description} fields");
            return (null, []);
        }
        if (field.Type is ExprType.Real or ExprType.DateTime or ExprType.StringList || by.Contains(field))
        {
            Error(_rule.At("detect.field"), $"detect.field: '{n.Field}' cannot be a new value (it is {Binder.Word(field.Type)} or a grouping field)", DiagnosticCodes.Kind);
        }
        if (n.History < TimeSpan.FromDays(1) || n.History > TimeSpan.FromDays(90))
        {
            Error(_rule.At("detect.history.length"), "detect.history.length is between 1d and 90d", DiagnosticCodes.Kind);
        }
        if (n.Window is { } w && w > _rule.Schedule.Lookback)
        {
            Error(_rule.At("detect.window"), $"detect.window ({w}) is longer than schedule.lookback ({_rule.Schedule.Lookback})", DiagnosticCodes.Kind);
        }
        if ((n.Condition is null) != n.Aggregates.IsEmpty)
        {
            Error(_rule.At("detect"), "a condition on the window needs aggregates to test, and aggregates need a condition", DiagnosticCodes.Kind);
        }
        var aggregates = Aggregates(source, n.Aggregates);
        var columns = by.Select(x => x.Binding).Append(field.Binding).Concat(aggregates.Select(a => a.Column)).Append(FirstSeen).Append(LastSeen).ToImmutableArray();
        var condition = BindExpr(n.Condition, Columns("new_value", columns), "detect.condition");
        return (new BoundNewValueDetection(where, by, n, field, aggregates, condition) { NewWhere = newWhere }, columns);
    }

    private static readonly Dictionary<string, string[]> DeclaredFor = new(StringComparer.Ordinal)
    {
        ["models"] = ["model"],
        ["operations"] = ["operation"],
        ["countries"] = ["country"],
        ["cidrs"] = ["client_ip"],
    };

    private (BoundDetection?, ImmutableArray<FieldBinding>) Profile(SourceSchema source, ProfileDetection p)
    {
        var where = BindExpr(p.Where, source.Scope(), "detect.where");
        var by = By(source, p);
        var field = source.Field(p.Field);
        if (field is null)
        {
            Error(_rule.At("detect.field"), $"detect.field: '{p.Field}' is not one of the {source.Description} fields");
            return (null, []);
        }
        if (!DeclaredFor[p.Declared].Contains(p.Field))
        {
            Error(_rule.At("detect.profile.declared"), $"detect.profile.declared: the inventory's '{p.Declared}' lists values of {string.Join(" or ", DeclaredFor[p.Declared])}, not of '{p.Field}'", DiagnosticCodes.Kind);
        }
        if (!by.Any(b => b.Name == "key_id"))
        {
            Error(_rule.At("detect.by"), "a declared profile is the key's: detect.by must include key_id", DiagnosticCodes.Kind);
        }
        if (p.Learned is { } learned && (learned < TimeSpan.FromDays(1) || learned > TimeSpan.FromDays(90)))
        {
            Error(_rule.At("detect.profile.learned"), "detect.profile.learned.length is between 1d and 90d", DiagnosticCodes.Kind);
        }
        var declared = Sources.Inventory.Field(p.Declared)!;
        var aggregates = Aggregates(source, p.Aggregates);
        var allowed = Computed.Column("allowed", ExprType.StringList);
        var requests = Computed.Column("requests", ExprType.Long);
        var columns = by.Select(x => x.Binding).Append(field.Binding).Append(allowed).Append(requests)
            .Concat(aggregates.Where(a => a.Column.Name != "requests").Select(a => a.Column)).Append(FirstSeen).Append(LastSeen).ToImmutableArray();
        var condition = BindExpr(p.Condition, Columns("profile", columns), "detect.condition");
        return (new BoundProfileDetection(where, by, p, field, declared, aggregates, condition), columns);
    }

    private (BoundDetection?, ImmutableArray<FieldBinding>) Sequence(SourceSchema source, SequenceDetection s)
    {
        var by = By(source, s);
        var steps = ImmutableArray.CreateBuilder<BoundSequenceStep>();
        for (var i = 0; i < s.Steps.Length; i++)
        {
            var step = s.Steps[i];
            var where = BindExpr(step.Where, source.Scope(), $"detect.steps[{i}].where");
            if (where is not null)
            {
                steps.Add(new BoundSequenceStep(step.Name, where, step.Min, Computed.Column(step.Name + "_count", ExprType.Long), Computed.Column(step.Name + "_first", ExprType.DateTime)));
            }
        }
        if (s.Within > _rule.Schedule.Lookback)
        {
            Error(_rule.At("detect.within"), $"detect.within ({s.Within}) is longer than schedule.lookback ({_rule.Schedule.Lookback}); a run would never see a whole sequence", DiagnosticCodes.Kind);
        }
        var columns = by.Select(x => x.Binding).Concat(steps.SelectMany(st => new[] { st.Count, st.First })).Append(FirstSeen).Append(LastSeen).ToImmutableArray();
        return (new BoundSequenceDetection(by, s, steps.ToImmutable()), columns);
    }

    private (BoundDetection?, ImmutableArray<FieldBinding>) Inventory(SourceSchema source, InventoryDetection i)
    {
        var where = BindExpr(i.Where, source.Scope(allowNow: true), "detect.where");
        var columns = source.Fields.Select(f => f.Binding).ToImmutableArray();
        return (where is null ? null : new BoundInventoryDetection(where), columns);
    }

    /// <summary>Splits an output text into literal text and <c>{column}</c> placeholders (<c>{{</c> and <c>}}</c> are braces).</summary>
    private ImmutableArray<TemplatePart> Template(string text, SourcePosition at, ImmutableArray<FieldBinding> columns, string path)
    {
        var parts = ImmutableArray.CreateBuilder<TemplatePart>();
        var literal = new System.Text.StringBuilder();
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '{' && i + 1 < text.Length && text[i + 1] == '{' || c == '}' && i + 1 < text.Length && text[i + 1] == '}')
            {
                literal.Append(c);
                i++;
                continue;
            }
            if (c == '}')
            {
                Error(at, $"{path}: a lone '}}' at offset {i}; write '}}}}' for a brace", DiagnosticCodes.Template);
                continue;
            }
            if (c != '{')
            {
                if (char.IsControl(c) && c != '\n')
                {
                    Error(at, $"{path}: control characters are not allowed", DiagnosticCodes.Template);
                }
                literal.Append(c);
                continue;
            }
            var close = text.IndexOf('}', i);
            if (close < 0)
            {
                Error(at, $"{path}: '{{' at offset {i} is not closed", DiagnosticCodes.Template);
                break;
            }
            var name = text[(i + 1)..close];
            var column = columns.FirstOrDefault(col => col.Name == name);
            if (column is null)
            {
                Error(at, $"{path}: {{{name}}} is not a result column ({string.Join(", ", columns.Select(col => col.Name))})", DiagnosticCodes.Template);
            }
            else
            {
                if (literal.Length > 0)
                {
                    parts.Add(new TemplateText(literal.ToString()));
                    literal.Clear();
                }
                parts.Add(new TemplateColumn(column));
            }
            i = close;
        }
        if (literal.Length > 0)
        {
            parts.Add(new TemplateText(literal.ToString()));
        }
        return parts.ToImmutable();
    }

    private static readonly Dictionary<string, ExprType[]> EntityTypes = new(StringComparer.Ordinal)
    {
        ["key"] = [ExprType.String],
        ["ip"] = [ExprType.Ip],
        ["service"] = [ExprType.String],
        ["owner"] = [ExprType.String],
        ["user_agent"] = [ExprType.String],
        ["host"] = [ExprType.String],
        ["account"] = [ExprType.String],
    };

    private ImmutableDictionary<string, FieldBinding> Entities(ImmutableArray<FieldBinding> columns)
    {
        var result = ImmutableDictionary.CreateBuilder<string, FieldBinding>(StringComparer.Ordinal);
        foreach (var (entity, name) in _rule.Entities)
        {
            var column = columns.FirstOrDefault(c => c.Name == name);
            if (column is null)
            {
                Error(_rule.At("entities." + entity), $"entities.{entity}: '{name}' is not a result column ({string.Join(", ", columns.Select(c => c.Name))})", DiagnosticCodes.Kind);
                continue;
            }
            if (!EntityTypes[entity].Contains(column.Type))
            {
                Error(_rule.At("entities." + entity), $"entities.{entity}: '{name}' is {Binder.Word(column.Type)}", DiagnosticCodes.Kind);
                continue;
            }
            result[entity] = column;
        }
        return result.ToImmutable();
    }
}
