using System.Collections.Immutable;
using KeyAbuseContent.Expressions;
using KeyAbuseContent.Rules;

namespace KeyAbuseContent.Targets.Kql;

/// <summary>A summary rule: a KQL query Sentinel runs on a fixed bin, writing its rows to a table.</summary>
public sealed record KqlSummaryRule(string Name, string Description, TimeSpan BinSize, string DestinationTable, KqlQuery Query);

/// <summary>A daily refresh: a query over up to 90 days that a Logic App runs and writes back through the Logs Ingestion API.</summary>
public sealed record KqlRefresh(string Name, TimeSpan Every, string DestinationTable, KqlQuery Query);

/// <summary>Everything a rule needs on Sentinel: its detection query, and the history pieces behind it.</summary>
public sealed record KqlRulePlan(KqlQuery Detection, TimeSpan QueryPeriod, ImmutableArray<string> ResultColumns, ImmutableArray<KqlSummaryRule> SummaryRules, ImmutableArray<KqlRefresh> Refreshes);

/// <summary>
/// Compiles an analyzed rule to KQL, one method per detection kind. Queries are trees; text comes
/// only from <see cref="KqlRenderer"/>. Every time filter is explicit (<c>ago()</c>), because a rule
/// that reads a history table has a query period longer than its lookback.
/// </summary>
public static class KqlRuleCompiler
{
    private const string Title = "AlertTitle";
    private const string Summary = "AlertSummary";
    private const string Entity = "Entity";

    public static KqlRulePlan Compile(AnalyzedRule rule) => rule.Detection switch
    {
        BoundThresholdDetection t => Threshold(rule, t),
        BoundBaselineDetection b => Baseline(rule, b),
        BoundNewValueDetection n => NewValue(rule, n),
        BoundProfileDetection p => Profile(rule, p),
        BoundSequenceDetection s => Sequence(rule, s),
        BoundInventoryDetection i => Inventory(rule, i),
        _ => throw new InvalidOperationException("unknown detection"),
    };

    private static KqlExpr E(Bound b) => KqlExpressionEmitter.Emit(b);

    private static KqlTabular Activity(AnalyzedRule rule) => Kql.FromFunction(rule.Source.KqlFunction);

    private static KqlWhere Since(TimeSpan span) => new(Kql.Op(">", Kql.Col("TimeGenerated"), Kql.Call("ago", KqlLiteral.Span(span))));

    private static IEnumerable<KqlOperator> Filter(Bound? where) => where is null ? [] : [new KqlWhere(E(where))];

    private static ImmutableArray<KqlAssign> ByColumns(IEnumerable<SourceField> by) => [.. by.Select(f => Kql.Bare(Kql.Col(f.Kql)))];

    /// <summary>The entity key of history rows: the by fields joined with '|'.</summary>
    private static KqlExpr EntityKey(ImmutableArray<SourceField> by) => by.Length == 1
        ? Kql.Call("tostring", Kql.Col(by[0].Kql))
        : Kql.Call("strcat_delim", [KqlLiteral.Str("|"), .. by.Select(f => Kql.Col(f.Kql))]);

    private static KqlAssign Aggregate(BoundNamedAggregate a) => Kql.As(a.Column.KqlName, E(a.Aggregate));

    /// <summary>The title and summary columns, built from the output templates.</summary>
    private static KqlExtend Texts(AnalyzedRule rule) => new([Kql.As(Title, Text(rule.Title)), Kql.As(Summary, Text(rule.Summary))]);

    private static KqlExpr Text(ImmutableArray<TemplatePart> parts) =>
        Kql.Call("strcat", [.. parts.Select(p => p switch
        {
            TemplateText t => KqlLiteral.Str(t.Text),
            TemplateColumn c => Format(c.Column),
            _ => throw new InvalidOperationException(),
        })]);

    private static KqlExpr Format(FieldBinding column) => column.Type switch
    {
        ExprType.String => Kql.Col(column.KqlName),
        ExprType.Real => Kql.Call("tostring", Kql.Call("round", Kql.Col(column.KqlName), KqlLiteral.Long(1))),
        ExprType.DateTime => Kql.Call("format_datetime", Kql.Col(column.KqlName), KqlLiteral.Str("yyyy-MM-dd HH:mm")),
        ExprType.StringList => Kql.Call("strcat_array", Kql.Col(column.KqlName), KqlLiteral.Str(", ")),
        _ => Kql.Call("tostring", Kql.Col(column.KqlName)),
    };

    private static KqlProject Output(AnalyzedRule rule) =>
        new([.. rule.ResultColumns.Select(c => Kql.Bare(Kql.Col(c.KqlName))), Kql.Bare(Kql.Col(Title)), Kql.Bare(Kql.Col(Summary))]);

    private static ImmutableArray<string> Columns(AnalyzedRule rule) => [.. rule.ResultColumns.Select(c => c.KqlName), Title, Summary];

    private static KqlRulePlan Simple(AnalyzedRule rule, KqlQuery query) =>
        new(query, rule.Rule.Schedule.Lookback, Columns(rule), [], []);

    private static KqlRulePlan Threshold(AnalyzedRule rule, BoundThresholdDetection t)
    {
        var lookback = rule.Rule.Schedule.Lookback;
        var by = ByColumns(t.By);
        if (t.Syntax.Window < lookback)
        {
            by = by.Add(Kql.As("Window", Kql.Call("bin", Kql.Col("TimeGenerated"), KqlLiteral.Span(t.Syntax.Window))));
        }
        var body = Activity(rule).Then(Since(lookback)).Then([.. Filter(t.Where)]).Then(
            new KqlSummarize([.. t.Aggregates.Select(Aggregate), FirstLast("min", "FirstSeen"), FirstLast("max", "LastSeen")], by),
            new KqlWhere(E(t.Condition)),
            Texts(rule),
            Output(rule));
        return Simple(rule, new KqlQuery([], body));
    }

    private static KqlAssign FirstLast(string fn, string name) => Kql.As(name, Kql.Call(fn, Kql.Col("TimeGenerated")));

    /// <summary>The hour-of-week slot of a time, counted from a Monday (1970-01-05) so both dialects agree.</summary>
    private static KqlExpr HourOfWeek(KqlExpr time) =>
        Kql.Op("%", Kql.Call("tolong", Kql.Op("/", Kql.Op("-", time, KqlLiteral.Time(HistoryTables.WeekOrigin)), KqlLiteral.Span(TimeSpan.FromHours(1)))), KqlLiteral.Long(168));

    /// <summary>The slot key of a time in a seasonality scheme: "hour_of_week:37", "day_type_hour:13", "overall:0".</summary>
    public static string SchemeName(Seasonality s) => s switch
    {
        Seasonality.HourOfWeek => "hour_of_week",
        Seasonality.DayTypeHour => "day_type_hour",
        Seasonality.HourOfDay => "hour_of_day",
        _ => "overall",
    };

    public static Seasonality AsSeasonality(Fallback f) => f switch
    {
        Fallback.DayTypeHour => Seasonality.DayTypeHour,
        Fallback.HourOfDay => Seasonality.HourOfDay,
        _ => Seasonality.None,
    };

    private static KqlExpr SlotKey(Seasonality scheme, KqlExpr hourOfWeek)
    {
        KqlExpr slot = scheme switch
        {
            Seasonality.HourOfWeek => hourOfWeek,
            Seasonality.DayTypeHour => Kql.Op("+", Kql.Call("iff", Kql.Op(">=", hourOfWeek, KqlLiteral.Long(120)), KqlLiteral.Long(24), KqlLiteral.Long(0)), Kql.Op("%", hourOfWeek, KqlLiteral.Long(24))),
            Seasonality.HourOfDay => Kql.Op("%", hourOfWeek, KqlLiteral.Long(24)),
            _ => KqlLiteral.Long(0),
        };
        return Kql.Call("strcat", KqlLiteral.Str(SchemeName(scheme) + ":"), slot);
    }

    private static KqlExpr MetricAggregate(BoundBaselineDetection b) => b.SumField is { } f
        ? Kql.Call("sum", Kql.Col(f.Kql))
        : Kql.Call("count");

    private static KqlExpr Statistic(Statistic s, KqlExpr value) => s switch
    {
        Rules.Statistic.Mean => Kql.Call("avg", value),
        Rules.Statistic.Median => Kql.Call("percentile", value, KqlLiteral.Long(50)),
        Rules.Statistic.P90 => Kql.Call("percentile", value, KqlLiteral.Long(90)),
        Rules.Statistic.P95 => Kql.Call("percentile", value, KqlLiteral.Long(95)),
        Rules.Statistic.P99 => Kql.Call("percentile", value, KqlLiteral.Long(99)),
        _ => Kql.Call("max", value),
    };

    private static KqlWhere RuleRows(string ruleName, TimeSpan reach) => new(Kql.Op("and",
        Kql.Op(">", Kql.Col("TimeGenerated"), Kql.Call("ago", KqlLiteral.Span(reach))),
        Kql.Op("==", Kql.Col("Rule"), KqlLiteral.Str(ruleName))));

    private static KqlRulePlan Baseline(AnalyzedRule rule, BoundBaselineDetection b)
    {
        var name = rule.Rule.Name;
        var h = b.Syntax.History;
        var per = b.Syntax.Metric.Per;
        var by = ByColumns(b.By);

        // Hourly summary: the busiest bucket of each hour, per entity.
        var hourly = Activity(rule).Then([.. Filter(b.Where)]).Then(
            new KqlSummarize([Kql.As("Value", MetricAggregate(b))], by.Add(Kql.As("Bucket", Kql.Call("bin", Kql.Col("TimeGenerated"), KqlLiteral.Span(per))))),
            new KqlSummarize([Kql.As("Metric", Kql.Call("todouble", Kql.Call("max", Kql.Col("Value"))))], by.Add(Kql.As("Hour", Kql.Call("bin", Kql.Col("Bucket"), KqlLiteral.Span(TimeSpan.FromHours(1)))))),
            new KqlProject([Kql.As("TimeGenerated", Kql.Col("Hour")), Kql.As("Rule", KqlLiteral.Str(name)), Kql.As(Entity, EntityKey(b.By)), Kql.As("Value", KqlLiteral.Str("")), Kql.Bare(Kql.Col("Metric"))]));
        var summary = new KqlSummaryRule($"{name}-hourly", $"Hourly busiest {KqlRenderer.Span(per)} bucket per entity for {name}", TimeSpan.FromHours(1), HistoryTables.SentinelHourly, new KqlQuery([], hourly));

        // Daily refresh: the statistic of the hourly peaks per slot, for the seasonality and its fallback.
        var schemes = new List<Seasonality> { h.Seasonality };
        if (h.Fallback != Fallback.None)
        {
            schemes.Add(AsSeasonality(h.Fallback));
        }
        var refreshBody = Kql.From(HistoryTables.SentinelHourly).Then(
            RuleRows(name, h.Length),
            new KqlExtend([Kql.As("HourOfWeek", HourOfWeek(Kql.Col("TimeGenerated")))]),
            new KqlExtend([Kql.As("Slots", Kql.Call("pack_array", [.. schemes.Select(s => SlotKey(s, Kql.Col("HourOfWeek")))]))]),
            new KqlMvExpand("Slots", "string"),
            new KqlSummarize([Kql.As("Baseline", Statistic(h.Statistic, Kql.Col("Metric"))), Kql.As("Samples", Kql.Call("count"))], [Kql.Bare(Kql.Col(Entity)), Kql.As("Slot", Kql.Col("Slots"))]),
            new KqlExtend([Kql.As("Rule", KqlLiteral.Str(name)), Kql.As("Value", KqlLiteral.Str(""))]));
        var refresh = new KqlRefresh($"{name}-refresh", TimeSpan.FromDays(1), HistoryTables.SentinelBaseline, new KqlQuery([], refreshBody));

        // Detection: each bucket of the lookback against its entity's baseline for the bucket's slot.
        var baselines = new KqlLet("Baselines", Kql.From(HistoryTables.SentinelBaseline).Then(
            RuleRows(name, HistoryTables.BaselineReach),
            new KqlSummarize([Kql.Bare(Kql.Call("arg_max", Kql.Col("TimeGenerated"), Kql.Col("Baseline"), Kql.Col("Samples")))], [Kql.Bare(Kql.Col(Entity)), Kql.Bare(Kql.Col("Slot"))])), null);
        var min = KqlLiteral.Long(h.MinSamples);
        var ops = new List<KqlOperator>
        {
            Since(rule.Rule.Schedule.Lookback),
        };
        ops.AddRange(Filter(b.Where));
        ops.Add(new KqlSummarize([Kql.As("Value", MetricAggregate(b))], by.Add(Kql.As("Bucket", Kql.Call("bin", Kql.Col("TimeGenerated"), KqlLiteral.Span(per))))));
        ops.Add(new KqlExtend([Kql.As("Value", Kql.Call("todouble", Kql.Col("Value"))), Kql.As(Entity, EntityKey(b.By)), Kql.As("HourOfWeek", HourOfWeek(Kql.Col("Bucket")))]));
        ops.Add(new KqlExtend([Kql.As("PrimarySlot", SlotKey(h.Seasonality, Kql.Col("HourOfWeek")))]));
        ops.Add(new KqlLookup("leftouter", new KqlTabular(new KqlTableSource("Baselines"), [new KqlProject([Kql.Bare(Kql.Col(Entity)), Kql.As("PrimarySlot", Kql.Col("Slot")), Kql.As("PrimaryBaseline", Kql.Col("Baseline")), Kql.As("PrimarySamples", Kql.Col("Samples"))])]), [new(Entity, Entity), new("PrimarySlot", "PrimarySlot")]));
        KqlExpr usePrimary = Kql.Op(">=", Kql.Col("PrimarySamples"), min);
        if (h.Fallback != Fallback.None)
        {
            ops.Add(new KqlExtend([Kql.As("FallbackSlot", SlotKey(AsSeasonality(h.Fallback), Kql.Col("HourOfWeek")))]));
            ops.Add(new KqlLookup("leftouter", new KqlTabular(new KqlTableSource("Baselines"), [new KqlProject([Kql.Bare(Kql.Col(Entity)), Kql.As("FallbackSlot", Kql.Col("Slot")), Kql.As("FallbackBaseline", Kql.Col("Baseline")), Kql.As("FallbackSamples", Kql.Col("Samples"))])]), [new(Entity, Entity), new("FallbackSlot", "FallbackSlot")]));
            ops.Add(new KqlExtend([Kql.As("UsePrimary", Kql.Call("coalesce", usePrimary, KqlLiteral.Bool(false)))]));
            ops.Add(new KqlExtend([
                Kql.As("Baseline", Kql.Call("iff", Kql.Col("UsePrimary"), Kql.Col("PrimaryBaseline"), Kql.Col("FallbackBaseline"))),
                Kql.As("Samples", Kql.Call("iff", Kql.Col("UsePrimary"), Kql.Col("PrimarySamples"), Kql.Col("FallbackSamples"))),
                Kql.As("Slot", Kql.Call("iff", Kql.Col("UsePrimary"), Kql.Col("PrimarySlot"), Kql.Col("FallbackSlot")))]));
        }
        else
        {
            ops.Add(new KqlExtend([Kql.As("Baseline", Kql.Col("PrimaryBaseline")), Kql.As("Samples", Kql.Col("PrimarySamples")), Kql.As("Slot", Kql.Col("PrimarySlot"))]));
        }
        // No baseline (a new key, a slot never seen) is no alert: other rules judge keys without history.
        ops.Add(new KqlWhere(Kql.Op(">=", Kql.Col("Samples"), min)));
        ops.Add(new KqlExtend([Kql.As("Ratio", Kql.Op("/", Kql.Col("Value"), Kql.Call("max_of", Kql.Col("Baseline"), KqlLiteral.Real(1.0))))]));
        ops.Add(new KqlWhere(Kql.Op("and", Kql.Op(">=", Kql.Col("Value"), KqlLiteral.Real(b.Syntax.Floor)), E(b.Condition))));
        // The earliest bucket over its baseline speaks for the run: its time is when the anomaly began.
        ops.Add(new KqlSummarize([Kql.Bare(Kql.Call("arg_min", Kql.Col("Bucket"), Kql.Col("Value"), Kql.Col("Baseline"), Kql.Col("Ratio"), Kql.Col("Samples"), Kql.Col("Slot")))], ByColumns(b.By)));
        ops.Add(new KqlExtend([Kql.As("FirstSeen", Kql.Col("Bucket"))]));
        ops.Add(Texts(rule));
        ops.Add(Output(rule));
        var detection = new KqlQuery([baselines], Activity(rule).Then([.. ops]));
        return new KqlRulePlan(detection, HistoryTables.BaselineReach, Columns(rule), [summary], [refresh]);
    }

    private static KqlRulePlan NewValue(AnalyzedRule rule, BoundNewValueDetection n)
    {
        var name = rule.Rule.Name;
        var lookback = rule.Rule.Schedule.Lookback;
        var field = n.Field;
        var by = ByColumns(n.By);
        var valueFilter = new KqlWhere(Kql.Call("isnotempty", Kql.Col(field.Kql)));
        var keys = new KqlExtend([Kql.As(Entity, EntityKey(n.By)), Kql.As("Value", Kql.Call("tostring", Kql.Col(field.Kql)))]);

        // Hourly summary: each value seen per entity and hour.
        var hourly = Activity(rule).Then([.. Filter(n.Where)]).Then(
            valueFilter,
            keys,
            new KqlSummarize([Kql.As("Metric", Kql.Call("todouble", Kql.Call("count")))], [Kql.Bare(Kql.Col(Entity)), Kql.Bare(Kql.Col("Value")), Kql.As("Hour", Kql.Call("bin", Kql.Col("TimeGenerated"), KqlLiteral.Span(TimeSpan.FromHours(1))))]),
            new KqlProject([Kql.As("TimeGenerated", Kql.Col("Hour")), Kql.As("Rule", KqlLiteral.Str(name)), Kql.Bare(Kql.Col(Entity)), Kql.Bare(Kql.Col("Value")), Kql.Bare(Kql.Col("Metric"))]));
        var summary = new KqlSummaryRule($"{name}-hourly", $"Hourly values of {field.Name} per entity for {name}", TimeSpan.FromHours(1), HistoryTables.SentinelHourly, new KqlQuery([], hourly));

        // Daily refresh: the values seen per entity over the history.
        var refreshBody = Kql.From(HistoryTables.SentinelHourly).Then(
            RuleRows(name, n.Syntax.History),
            new KqlSummarize([Kql.As("Samples", Kql.Call("count")), Kql.As("Baseline", Kql.Call("sum", Kql.Col("Metric")))], [Kql.Bare(Kql.Col(Entity)), Kql.Bare(Kql.Col("Value"))]),
            new KqlExtend([Kql.As("Rule", KqlLiteral.Str(name)), Kql.As("Slot", KqlLiteral.Str(""))]));
        var refresh = new KqlRefresh($"{name}-refresh", TimeSpan.FromDays(1), HistoryTables.SentinelBaseline, new KqlQuery([], refreshBody));

        // Known: the refreshed history, the hourly rows since, and the raw events the summary has not reached.
        var unsummarized = Activity(rule).Then(new KqlWhere(Kql.Op("and",
            Kql.Op(">", Kql.Col("TimeGenerated"), Kql.Call("ago", KqlLiteral.Span(HistoryTables.UnsummarizedReach))),
            Kql.Op("<=", Kql.Col("TimeGenerated"), Kql.Call("ago", KqlLiteral.Span(lookback)))))).Then([.. Filter(n.Where)]).Then(
            valueFilter, keys, new KqlProject([Kql.Bare(Kql.Col(Entity)), Kql.Bare(Kql.Col("Value"))]));
        var known = new KqlLet("Known", new KqlTabular(new KqlTableSource(HistoryTables.SentinelBaseline), []).Then(
            RuleRows(name, HistoryTables.BaselineReach),
            new KqlProject([Kql.Bare(Kql.Col(Entity)), Kql.Bare(Kql.Col("Value"))])), null, Materialize: true);
        var recent = new KqlLet("Recent", Kql.From(HistoryTables.SentinelHourly).Then(
            RuleRows(name, HistoryTables.BaselineReach),
            new KqlProject([Kql.Bare(Kql.Col(Entity)), Kql.Bare(Kql.Col("Value"))])), null);
        var raw = new KqlLet("Unsummarized", unsummarized, null);
        var history = new KqlLet("History", new KqlTabular(new KqlTableSource("Known"), []).Then(
            new KqlUnion(["Recent", "Unsummarized"]),
            new KqlDistinct([Entity, "Value"])), null, Materialize: true);

        var scoped = new KqlLet("Scoped", Activity(rule).Then(Since(lookback)).Then([.. Filter(n.Where)]).Then(valueFilter, keys), null, Materialize: true);
        // An entity is judged only once it has a history: before the lookback, or earlier in it than the new value.
        var historyEntities = new KqlLet("HistoryEntities", new KqlTabular(new KqlTableSource("History"), [
            new KqlDistinct([Entity]),
            new KqlExtend([Kql.As("Since", KqlLiteral.Time(DateTimeOffset.UnixEpoch))])]), null);
        var scopedEntities = new KqlLet("ScopedEntities", new KqlTabular(new KqlTableSource("Scoped"), [
            new KqlSummarize([Kql.As("Since", Kql.Call("min", Kql.Col("TimeGenerated")))], [Kql.Bare(Kql.Col(Entity))])]), null);
        var entitySince = new KqlLet("EntitySince", new KqlTabular(new KqlTableSource("HistoryEntities"), [
            new KqlUnion(["ScopedEntities"]),
            new KqlSummarize([Kql.As("EntitySince", Kql.Call("min", Kql.Col("Since")))], [Kql.Bare(Kql.Col(Entity))])]), null);
        var ops = new List<KqlOperator>
        {
            new KqlJoin("leftanti", new KqlTabular(new KqlTableSource("History"), []), [new(Entity, Entity), new("Value", "Value")]),
        };
        if (n.Syntax.Window is { } window)
        {
            // Aggregates count the events within the window from the value's first appearance.
            ops.Add(new KqlLookup("inner", new KqlTabular(new KqlTableSource("Scoped"), [new KqlSummarize([Kql.As("Since", Kql.Call("min", Kql.Col("TimeGenerated")))], [Kql.Bare(Kql.Col(Entity)), Kql.Bare(Kql.Col("Value"))])]), [new(Entity, Entity), new("Value", "Value")]));
            ops.Add(new KqlWhere(Kql.Op("<", Kql.Col("TimeGenerated"), Kql.Op("+", Kql.Col("Since"), KqlLiteral.Span(window)))));
        }
        ops.Add(new KqlSummarize([.. n.Aggregates.Select(Aggregate), FirstLast("min", "FirstSeen"), FirstLast("max", "LastSeen")], by.Add(Kql.Bare(Kql.Col(field.Kql))).Add(Kql.Bare(Kql.Col(Entity)))));
        ops.Add(new KqlLookup("inner", new KqlTabular(new KqlTableSource("EntitySince"), []), [new(Entity, Entity)]));
        ops.Add(new KqlWhere(Kql.Op("<", Kql.Col("EntitySince"), Kql.Col("FirstSeen"))));
        if (n.Condition is not null)
        {
            ops.Add(new KqlWhere(E(n.Condition)));
        }
        ops.Add(Texts(rule));
        ops.Add(Output(rule));
        var detection = new KqlQuery([known, recent, raw, history, scoped, historyEntities, scopedEntities, entitySince], new KqlTabular(new KqlTableSource("Scoped"), [.. ops]));
        return new KqlRulePlan(detection, HistoryTables.BaselineReach, Columns(rule), [summary], [refresh]);
    }

    private static KqlRulePlan Profile(AnalyzedRule rule, BoundProfileDetection p)
    {
        var field = Kql.Col(p.Field.Kql);
        var declared = p.Declared;
        var inventory = Kql.FromFunction(Sources.Inventory.KqlFunction).Then(
            new KqlWhere(Kql.Op(">", Kql.Call("array_length", Kql.Col(declared.Kql)), KqlLiteral.Long(0))),
            new KqlProject([Kql.Bare(Kql.Col("KeyId")), Kql.As("Allowed", Kql.Col(declared.Kql))]));
        KqlExpr outside = declared.Name == "cidrs"
            ? Kql.Call("not", Kql.Call("ipv4_is_in_any_range", field, Kql.Col("Allowed")))
            : Kql.Call("not", Kql.Call("set_has_element", Kql.Col("Allowed"), field));
        var ops = new List<KqlOperator> { Since(rule.Rule.Schedule.Lookback) };
        ops.AddRange(Filter(p.Where));
        ops.Add(new KqlWhere(Kql.Call("isnotempty", field)));
        ops.Add(new KqlLookup("inner", inventory, [new("KeyId", "KeyId")]));
        ops.Add(new KqlWhere(outside));
        ops.Add(new KqlSummarize(
            [Kql.As("Requests", Kql.Call("count")), .. p.Aggregates.Where(a => a.Column.Name != "requests").Select(Aggregate),
             Kql.As("Allowed", Kql.Call("take_any", Kql.Col("Allowed"))), FirstLast("min", "FirstSeen"), FirstLast("max", "LastSeen")],
            ByColumns(p.By).Add(Kql.Bare(field))));
        if (p.Condition is not null)
        {
            ops.Add(new KqlWhere(E(p.Condition)));
        }
        ops.Add(Texts(rule));
        ops.Add(Output(rule));
        return Simple(rule, new KqlQuery([], Activity(rule).Then([.. ops])));
    }

    private static KqlRulePlan Sequence(AnalyzedRule rule, BoundSequenceDetection s)
    {
        var steps = s.Steps;
        var flags = steps.Select(st => Kql.As("Step_" + st.Name, Kql.Call("coalesce", E(st.Where), KqlLiteral.Bool(false)))).ToImmutableArray();
        var events = new KqlLet("Events", Activity(rule).Then(Since(rule.Rule.Schedule.Lookback), new KqlExtend(flags),
            new KqlWhere(steps.Select(st => (KqlExpr)Kql.Col("Step_" + st.Name)).Aggregate((a, b) => Kql.Op("or", a, b)))), null, Materialize: true);
        var by = ByColumns(s.By);
        var keys = s.By.Select(f => new KqlJoinKey(f.Kql, f.Kql)).ToImmutableArray();
        var first = steps[0];
        // The sequence starts at the earliest first-step event of the lookback; each later step is looked for after the previous one.
        KqlTabular chain = new KqlTabular(new KqlTableSource("Events"), []).Then(
            new KqlLookup("inner", new KqlTabular(new KqlTableSource("Events"), [new KqlWhere(Kql.Col("Step_" + first.Name)), new KqlSummarize([Kql.As(first.First.KqlName, Kql.Call("min", Kql.Col("TimeGenerated")))], by)]), keys),
            new KqlWhere(Kql.Op("and",
                Kql.Op(">=", Kql.Col("TimeGenerated"), Kql.Col(first.First.KqlName)),
                Kql.Op("<=", Kql.Col("TimeGenerated"), Kql.Op("+", Kql.Col(first.First.KqlName), KqlLiteral.Span(s.Syntax.Within))))));
        for (var i = 1; i < steps.Length; i++)
        {
            var step = steps[i];
            var prev = steps[i - 1];
            chain = chain.Then(
                new KqlLookup("inner", new KqlTabular(new KqlTableSource("Events"), []).Then(chain.Operators.ToArray()).Then(
                    new KqlWhere(Kql.Op("and", Kql.Col("Step_" + step.Name), Kql.Op(">=", Kql.Col("TimeGenerated"), Kql.Col(prev.First.KqlName)))),
                    new KqlSummarize([Kql.As(step.First.KqlName, Kql.Call("min", Kql.Col("TimeGenerated")))], by)), keys));
        }
        var counts = steps.Select((st, i) => Kql.As(st.Count.KqlName, Kql.Call("countif", Kql.Op("and", Kql.Col("Step_" + st.Name),
            Kql.Op(">=", Kql.Col("TimeGenerated"), Kql.Col((i == 0 ? st : steps[i - 1]).First.KqlName))))));
        var firsts = steps.Select(st => Kql.As(st.First.KqlName, Kql.Call("take_any", Kql.Col(st.First.KqlName))));
        var mins = steps.Select(st => (KqlExpr)Kql.Op(">=", Kql.Col(st.Count.KqlName), KqlLiteral.Long(st.Min)));
        var body = chain.Then(
            new KqlSummarize([.. counts, .. firsts, FirstLast("min", "FirstSeen"), FirstLast("max", "LastSeen")], by),
            new KqlWhere(Kql.And(mins)),
            Texts(rule),
            Output(rule));
        return Simple(rule, new KqlQuery([events], body));
    }

    private static KqlRulePlan Inventory(AnalyzedRule rule, BoundInventoryDetection i)
    {
        var body = Kql.FromFunction(Sources.Inventory.KqlFunction).Then(new KqlWhere(E(i.Where!)), Texts(rule), Output(rule));
        return Simple(rule, new KqlQuery([], body));
    }
}
