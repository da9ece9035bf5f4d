using System.Collections.Immutable;
using KeyAbuseContent.Expressions;
using KeyAbuseContent.Rules;

namespace KeyAbuseContent.Targets.Kql;

/// <summary>A summary rule: a KQL query Sentinel runs on a fixed bin, writing its rows to a table.</summary>
public sealed record KqlSummaryRule(string Name, string Description, TimeSpan BinSize, string DestinationTable, KqlQuery Query);

/// <summary>A daily refresh: a query over up to 90 days that a Logic App runs and writes back through the Logs Ingestion API.</summary>
public sealed record KqlRefresh(string Name, TimeSpan Every, string DestinationTable, KqlQuery Query);

/// <summary>Everything a rule needs on Sentinel: its detection query, and the history pieces behind it.</summary>
public sealed record KqlRulePlan(KqlQuery Detection, TimeSpan QueryPeriod, ImmutableArray<string> ResultColumns, ImmutableArray<KqlSummaryRule> SummaryRules, ImmutableArray<KqlRefresh> Refreshes)
{
    /// <summary>
    /// How far back the detection reads the rule's source table: its explicit <c>ago()</c> filters end there,
    /// however long the query period (which the history tables set). A harness may hand it no older rows.
    /// </summary>
    public TimeSpan SourceReach { get; init; } = QueryPeriod;
}

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

    public static KqlRulePlan Compile(AnalyzedRule rule) => WithRoute(rule, rule.Detection switch
    {
        BoundThresholdDetection t => Threshold(rule, t),
        BoundBaselineDetection b => Baseline(rule, b),
        BoundNewValueDetection n => NewValue(rule, n),
        BoundProfileDetection p => Profile(rule, p),
        BoundSequenceDetection s => Sequence(rule, s),
        BoundInventoryDetection i => Inventory(rule, i),
        _ => throw new InvalidOperationException("unknown detection"),
    });

    /// <summary>
    /// The columns every alert carries from the inventory, as column and the inventory field it comes from:
    /// who owns the key and the name of the on-call route (a name the responder resolves, never an address).
    /// </summary>
    public static readonly ImmutableArray<(string Column, string Field)> RouteColumns =
        [("KeyOwner", "owner"), ("KeyTeam", "team"), ("KeyService", "service"), ("OncallRoute", "oncall")];

    /// <summary>
    /// The one place alerts get their routing: the result row is looked up in the inventory by its key column;
    /// a key the inventory lacks keeps empty columns, so it still alerts and goes to the default route.
    /// </summary>
    private static KqlRulePlan WithRoute(AnalyzedRule rule, KqlRulePlan plan)
    {
        var keyColumn = KeyColumn(rule);
        var inventoryKey = Sources.Inventory.Field("key_id")!.Kql;
        KqlOperator route = keyColumn is null
            ? new KqlExtend([.. RouteColumns.Select(r => KqlNodes.As(r.Column, KqlLiteral.Str("")))])
            : new KqlLookup("leftouter", KqlNodes.FromFunction(Sources.Inventory.KqlFunction).Then(
                new KqlProject([keyColumn == inventoryKey ? KqlNodes.Bare(KqlNodes.Col(inventoryKey)) : KqlNodes.As(keyColumn, KqlNodes.Col(inventoryKey)),
                    .. RouteColumns.Select(r => Sources.Inventory.Field(r.Field)!.Kql is var c && c == r.Column ? KqlNodes.Bare(KqlNodes.Col(c)) : KqlNodes.As(r.Column, KqlNodes.Col(c)))])),
                [new(keyColumn, keyColumn)]);
        var detection = plan.Detection with { Body = plan.Detection.Body.Then(route) };
        return plan with { Detection = detection, ResultColumns = [.. plan.ResultColumns, .. RouteColumns.Select(r => r.Column)] };
    }

    /// <summary>The result column holding the key: the rule's key entity, else a key_id column; null when the rule names no key.</summary>
    public static string? KeyColumn(AnalyzedRule rule) =>
        rule.Entities.TryGetValue("key", out var key) ? key.KqlName
        : rule.ResultColumns.FirstOrDefault(c => c.Name == "key_id")?.KqlName;

    private static KqlExpr E(Bound b) => KqlExpressionEmitter.Emit(b);

    private static KqlTabular Activity(AnalyzedRule rule) => KqlNodes.FromFunction(rule.Source.KqlFunction);

    /// <summary>The run's lookback, its start included as Elastic's <c>from</c> (a range's <c>gte</c>) includes it.</summary>
    private static KqlWhere Since(TimeSpan span) => new(KqlNodes.Op(">=", KqlNodes.Col("TimeGenerated"), KqlNodes.Call("ago", KqlLiteral.Span(span))));

    private static IEnumerable<KqlOperator> Filter(Bound? where) => where is null ? [] : [new KqlWhere(E(where))];

    private static ImmutableArray<KqlAssign> ByColumns(IEnumerable<SourceField> by) => [.. by.Select(f => KqlNodes.Bare(KqlNodes.Col(f.Kql)))];

    /// <summary>The entity key of history rows: the by fields joined with '|'.</summary>
    private static KqlExpr EntityKey(ImmutableArray<SourceField> by) => by.Length == 1
        ? KqlNodes.Call("tostring", KqlNodes.Col(by[0].Kql))
        : KqlNodes.Call("strcat_delim", [KqlLiteral.Str("|"), .. by.Select(f => KqlNodes.Col(f.Kql))]);

    private static KqlAssign Aggregate(BoundNamedAggregate a) => KqlNodes.As(a.Column.KqlName, E(a.Aggregate));

    /// <summary>The title and summary columns, built from the output templates.</summary>
    private static KqlExtend Texts(AnalyzedRule rule) => new([KqlNodes.As(Title, Text(rule.Title)), KqlNodes.As(Summary, Text(rule.Summary))]);

    private static KqlExpr Text(ImmutableArray<TemplatePart> parts) =>
        KqlNodes.Call("strcat", [.. parts.Select(p => p switch
        {
            TemplateText t => KqlLiteral.Str(t.Text),
            TemplateColumn c => Format(c.Column),
            _ => throw new InvalidOperationException(),
        })]);

    private static KqlExpr Format(FieldBinding column) => column.Type switch
    {
        ExprType.String => KqlNodes.Col(column.KqlName),
        ExprType.Real => KqlNodes.Call("tostring", KqlNodes.Call("round", KqlNodes.Col(column.KqlName), KqlLiteral.Long(1))),
        ExprType.DateTime => KqlNodes.Call("format_datetime", KqlNodes.Col(column.KqlName), KqlLiteral.Str("yyyy-MM-dd HH:mm")),
        ExprType.StringList => KqlNodes.Call("strcat_array", KqlNodes.Col(column.KqlName), KqlLiteral.Str(", ")),
        _ => KqlNodes.Call("tostring", KqlNodes.Col(column.KqlName)),
    };

    private static KqlProject Output(AnalyzedRule rule) =>
        new([.. rule.ResultColumns.Select(c => KqlNodes.Bare(KqlNodes.Col(c.KqlName))), KqlNodes.Bare(KqlNodes.Col(Title)), KqlNodes.Bare(KqlNodes.Col(Summary))]);

    private static ImmutableArray<string> Columns(AnalyzedRule rule) => [.. rule.ResultColumns.Select(c => c.KqlName), Title, Summary];

    private static KqlRulePlan Simple(AnalyzedRule rule, KqlQuery query) =>
        new(query, rule.Rule.Schedule.Lookback, Columns(rule), [], []);

    private static KqlRulePlan Threshold(AnalyzedRule rule, BoundThresholdDetection t)
    {
        var lookback = rule.Rule.Schedule.Lookback;
        var by = ByColumns(t.By);
        if (t.Syntax.Window < lookback)
        {
            by = by.Add(KqlNodes.As("Window", KqlNodes.Call("bin", KqlNodes.Col("TimeGenerated"), KqlLiteral.Span(t.Syntax.Window))));
        }
        var ops = new List<KqlOperator> { new KqlSummarize([.. t.Aggregates.Select(Aggregate), FirstLast("min", "FirstSeen"), FirstLast("max", "LastSeen")], by) };
        if (!t.Inventory.IsEmpty)
        {
            // The key's inventory entry; a key the inventory lacks keeps empty fields, as ES|QL's LOOKUP JOIN leaves them null.
            ops.Add(new KqlLookup("leftouter", KqlNodes.FromFunction(Sources.Inventory.KqlFunction).Then(
                new KqlProject([KqlNodes.Bare(KqlNodes.Col("KeyId")), .. t.Inventory.Select(f => KqlNodes.Bare(KqlNodes.Col(f.Kql)))])), [new("KeyId", "KeyId")]));
        }
        ops.Add(new KqlWhere(E(t.Condition)));
        ops.Add(Texts(rule));
        ops.Add(Output(rule));
        var body = Activity(rule).Then(Since(lookback)).Then([.. Filter(t.Where)]).Then([.. ops]);
        return Simple(rule, new KqlQuery([], body));
    }

    private static KqlAssign FirstLast(string fn, string name) => KqlNodes.As(name, KqlNodes.Call(fn, KqlNodes.Col("TimeGenerated")));

    /// <summary>The hour-of-week slot of a time, counted from a Monday (1970-01-05) so both dialects agree.</summary>
    private static KqlExpr HourOfWeek(KqlExpr time) =>
        KqlNodes.Op("%", KqlNodes.Call("tolong", KqlNodes.Op("/", KqlNodes.Op("-", time, KqlLiteral.Time(HistoryTables.WeekOrigin)), KqlLiteral.Span(TimeSpan.FromHours(1)))), KqlLiteral.Long(168));

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
            Seasonality.DayTypeHour => KqlNodes.Op("+", KqlNodes.Call("iff", KqlNodes.Op(">=", hourOfWeek, KqlLiteral.Long(120)), KqlLiteral.Long(24), KqlLiteral.Long(0)), KqlNodes.Op("%", hourOfWeek, KqlLiteral.Long(24))),
            Seasonality.HourOfDay => KqlNodes.Op("%", hourOfWeek, KqlLiteral.Long(24)),
            _ => KqlLiteral.Long(0),
        };
        return KqlNodes.Call("strcat", KqlLiteral.Str(SchemeName(scheme) + ":"), slot);
    }

    private static KqlExpr MetricAggregate(BoundBaselineDetection b) => b.SumField is { } f
        ? KqlNodes.Call("sum", KqlNodes.Col(f.Kql))
        : b.When is { } when ? KqlNodes.Call("countif", E(when)) : KqlNodes.Call("count");

    /// <summary>
    /// The slot's baseline and samples for one seasonality (<paramref name="prefix"/>Slot, ...Baseline, ...Samples),
    /// and with neighbours the highest baseline among the slots of the hours around it that have enough samples.
    /// </summary>
    private static IEnumerable<KqlOperator> SlotLookups(string prefix, Seasonality scheme, int neighbours, KqlExpr min)
    {
        KqlLookup Lookup(string slot, string baseline, string samples) => new("leftouter", new KqlTabular(new KqlTableSource("Baselines"), [new KqlProject([KqlNodes.Bare(KqlNodes.Col(Entity)), KqlNodes.As(slot, KqlNodes.Col("Slot")), KqlNodes.As(baseline, KqlNodes.Col("Baseline")), KqlNodes.As(samples, KqlNodes.Col("Samples"))])]), [new(Entity, Entity), new(slot, slot)]);
        yield return new KqlExtend([KqlNodes.As(prefix + "Slot", SlotKey(scheme, KqlNodes.Col("HourOfWeek")))]);
        yield return Lookup(prefix + "Slot", prefix + "Baseline", prefix + "Samples");
        if (neighbours == 0)
        {
            yield break;
        }
        var offsets = Enumerable.Range(-neighbours, (2 * neighbours) + 1).Where(d => d != 0).ToList();
        foreach (var d in offsets)
        {
            var tag = NeighbourTag(d);
            var hour = KqlNodes.Op("%", KqlNodes.Op("+", KqlNodes.Col("HourOfWeek"), KqlLiteral.Long(168 + d)), KqlLiteral.Long(168));
            yield return new KqlExtend([KqlNodes.As(prefix + "Slot" + tag, SlotKey(scheme, hour))]);
            yield return Lookup(prefix + "Slot" + tag, prefix + "Baseline" + tag, prefix + "Samples" + tag);
        }
        // A neighbour counts only with enough samples of its own; the slot's own samples decide whether it is used.
        var candidates = new List<KqlExpr> { KqlNodes.Col(prefix + "Baseline") };
        candidates.AddRange(offsets.Select(d => (KqlExpr)KqlNodes.Call("iff",
            KqlNodes.Call("coalesce", KqlNodes.Op(">=", KqlNodes.Col(prefix + "Samples" + NeighbourTag(d)), min), KqlLiteral.Bool(false)),
            KqlNodes.Col(prefix + "Baseline" + NeighbourTag(d)), KqlNodes.Col(prefix + "Baseline"))));
        yield return new KqlExtend([KqlNodes.As(prefix + "Baseline", KqlNodes.Call("max_of", [.. candidates]))]);
    }

    /// <summary>The column suffix of the neighbouring slot <paramref name="offset"/> hours away: M1 before, P1 after.</summary>
    public static string NeighbourTag(int offset) => (offset < 0 ? "M" : "P") + Math.Abs(offset).ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static KqlExpr Statistic(Statistic s, KqlExpr value) => s switch
    {
        Rules.Statistic.Mean => KqlNodes.Call("avg", value),
        Rules.Statistic.Median => KqlNodes.Call("percentile", value, KqlLiteral.Long(50)),
        Rules.Statistic.P90 => KqlNodes.Call("percentile", value, KqlLiteral.Long(90)),
        Rules.Statistic.P95 => KqlNodes.Call("percentile", value, KqlLiteral.Long(95)),
        Rules.Statistic.P99 => KqlNodes.Call("percentile", value, KqlLiteral.Long(99)),
        // The mean without the highest sample; one sample gives no baseline (min_samples is at least 2).
        Rules.Statistic.TrimmedMean => KqlNodes.Op("/", KqlNodes.Op("-", KqlNodes.Call("sum", value), KqlNodes.Call("max", value)), KqlNodes.Call("todouble", KqlNodes.Op("-", KqlNodes.Call("count"), KqlLiteral.Long(1)))),
        _ => KqlNodes.Call("max", value),
    };

    private static KqlWhere RuleRows(string ruleName, TimeSpan reach) => new(KqlNodes.Op("and",
        KqlNodes.Op(">", KqlNodes.Col("TimeGenerated"), KqlNodes.Call("ago", KqlLiteral.Span(reach))),
        KqlNodes.Op("==", KqlNodes.Col("Rule"), KqlLiteral.Str(ruleName))));

    private static KqlRulePlan Baseline(AnalyzedRule rule, BoundBaselineDetection b)
    {
        var name = rule.Rule.Name;
        var h = b.Syntax.History;
        var per = b.Syntax.Metric.Per;
        var by = ByColumns(b.By);

        // Hourly summary: the busiest bucket of each hour, per entity.
        var hourly = Activity(rule).Then([.. Filter(b.Where)]).Then(
            new KqlSummarize([KqlNodes.As("Value", MetricAggregate(b))], by.Add(KqlNodes.As("Bucket", KqlNodes.Call("bin", KqlNodes.Col("TimeGenerated"), KqlLiteral.Span(per))))),
            new KqlSummarize([KqlNodes.As("Metric", KqlNodes.Call("todouble", KqlNodes.Call("max", KqlNodes.Col("Value"))))], by.Add(KqlNodes.As("Hour", KqlNodes.Call("bin", KqlNodes.Col("Bucket"), KqlLiteral.Span(TimeSpan.FromHours(1)))))),
            new KqlProject([KqlNodes.As("TimeGenerated", KqlNodes.Col("Hour")), KqlNodes.As("Rule", KqlLiteral.Str(name)), KqlNodes.As(Entity, EntityKey(b.By)), KqlNodes.As("Value", KqlLiteral.Str("")), KqlNodes.Bare(KqlNodes.Col("Metric"))]));
        var summary = new KqlSummaryRule($"{name}-hourly", $"Hourly busiest {KqlRenderer.Span(per)} bucket per entity for {name}", TimeSpan.FromHours(1), HistoryTables.SentinelHourly, new KqlQuery([], hourly));

        // Daily refresh: the statistic of the hourly peaks per slot, for the seasonality and its fallback.
        var schemes = new List<Seasonality> { h.Seasonality };
        if (h.Fallback != Fallback.None)
        {
            schemes.Add(AsSeasonality(h.Fallback));
        }
        var refreshBody = KqlNodes.From(HistoryTables.SentinelHourly).Then(
            RuleRows(name, h.Length),
            new KqlExtend([KqlNodes.As("HourOfWeek", HourOfWeek(KqlNodes.Col("TimeGenerated")))]),
            new KqlExtend([KqlNodes.As("Slots", KqlNodes.Call("pack_array", [.. schemes.Select(s => SlotKey(s, KqlNodes.Col("HourOfWeek")))]))]),
            new KqlMvExpand("Slots", "string"),
            new KqlSummarize([KqlNodes.As("Baseline", Statistic(h.Statistic, KqlNodes.Col("Metric"))), KqlNodes.As("Samples", KqlNodes.Call("count"))], [KqlNodes.Bare(KqlNodes.Col(Entity)), KqlNodes.As("Slot", KqlNodes.Col("Slots"))]),
            new KqlExtend([KqlNodes.As("Rule", KqlLiteral.Str(name)), KqlNodes.As("Value", KqlLiteral.Str(""))]),
            RefreshColumns);
        var refresh = new KqlRefresh($"{name}-refresh", TimeSpan.FromDays(1), HistoryTables.SentinelBaseline, new KqlQuery([], refreshBody));

        // Detection: each bucket of the lookback against its entity's baseline for the bucket's slot.
        var baselines = new KqlLet("Baselines", KqlNodes.From(HistoryTables.SentinelBaseline).Then(
            RuleRows(name, HistoryTables.BaselineReach),
            new KqlSummarize([KqlNodes.Bare(KqlNodes.Call("arg_max", KqlNodes.Col("TimeGenerated"), KqlNodes.Col("Baseline"), KqlNodes.Col("Samples")))], [KqlNodes.Bare(KqlNodes.Col(Entity)), KqlNodes.Bare(KqlNodes.Col("Slot"))])), null);
        var min = KqlLiteral.Long(h.MinSamples);
        var ops = new List<KqlOperator>
        {
            Since(rule.Rule.Schedule.Lookback),
        };
        ops.AddRange(Filter(b.Where));
        ops.Add(new KqlSummarize([KqlNodes.As("Value", MetricAggregate(b))], by.Add(KqlNodes.As("Bucket", KqlNodes.Call("bin", KqlNodes.Col("TimeGenerated"), KqlLiteral.Span(per))))));
        ops.Add(new KqlExtend([KqlNodes.As("Value", KqlNodes.Call("todouble", KqlNodes.Col("Value"))), KqlNodes.As(Entity, EntityKey(b.By)), KqlNodes.As("HourOfWeek", HourOfWeek(KqlNodes.Col("Bucket")))]));
        ops.AddRange(SlotLookups("Primary", h.Seasonality, h.Neighbours, min));
        KqlExpr usePrimary = KqlNodes.Op(">=", KqlNodes.Col("PrimarySamples"), min);
        if (h.Fallback != Fallback.None)
        {
            ops.AddRange(SlotLookups("Fallback", AsSeasonality(h.Fallback), h.Fallback == Fallback.Overall ? 0 : h.Neighbours, min));
            ops.Add(new KqlExtend([KqlNodes.As("UsePrimary", KqlNodes.Call("coalesce", usePrimary, KqlLiteral.Bool(false)))]));
            ops.Add(new KqlExtend([
                KqlNodes.As("Baseline", KqlNodes.Call("iff", KqlNodes.Col("UsePrimary"), KqlNodes.Col("PrimaryBaseline"), KqlNodes.Col("FallbackBaseline"))),
                KqlNodes.As("Samples", KqlNodes.Call("iff", KqlNodes.Col("UsePrimary"), KqlNodes.Col("PrimarySamples"), KqlNodes.Col("FallbackSamples"))),
                KqlNodes.As("Slot", KqlNodes.Call("iff", KqlNodes.Col("UsePrimary"), KqlNodes.Col("PrimarySlot"), KqlNodes.Col("FallbackSlot")))]));
        }
        else
        {
            ops.Add(new KqlExtend([KqlNodes.As("Baseline", KqlNodes.Col("PrimaryBaseline")), KqlNodes.As("Samples", KqlNodes.Col("PrimarySamples")), KqlNodes.As("Slot", KqlNodes.Col("PrimarySlot"))]));
        }
        // No baseline (a new key, a slot never seen) is no alert: other rules judge keys without history.
        ops.Add(new KqlWhere(KqlNodes.Op(">=", KqlNodes.Col("Samples"), min)));
        ops.Add(new KqlExtend([KqlNodes.As("Ratio", KqlNodes.Op("/", KqlNodes.Col("Value"), KqlNodes.Call("max_of", KqlNodes.Col("Baseline"), KqlLiteral.Real(1.0))))]));
        KqlExpr floor = KqlLiteral.Real(b.Syntax.Floor);
        if (b.By.Any(f => f.Name == "key_id"))
        {
            // Tuning is data: the key's inventory entry (its service's tuning) may scale the floor and ask for a higher multiple.
            ops.Add(new KqlLookup("leftouter", KqlNodes.FromFunction(Sources.Inventory.KqlFunction).Then(
                new KqlProject([KqlNodes.Bare(KqlNodes.Col("KeyId")), KqlNodes.As("TuningFloorScale", KqlNodes.Col("FloorScale")), KqlNodes.As("TuningMinRatio", KqlNodes.Col("MinRatio"))])), [new("KeyId", "KeyId")]));
            floor = KqlNodes.Op("*", floor, KqlNodes.Call("coalesce", KqlNodes.Col("TuningFloorScale"), KqlLiteral.Real(1.0)));
            ops.Add(new KqlWhere(KqlNodes.Op("and", KqlNodes.Op("and", KqlNodes.Op(">=", KqlNodes.Col("Value"), floor),
                KqlNodes.Op(">", KqlNodes.Col("Value"), KqlNodes.Op("*", KqlNodes.Call("coalesce", KqlNodes.Col("TuningMinRatio"), KqlLiteral.Real(0.0)), KqlNodes.Col("Baseline")))), E(b.Condition))));
        }
        else
        {
            ops.Add(new KqlWhere(KqlNodes.Op("and", KqlNodes.Op(">=", KqlNodes.Col("Value"), floor), E(b.Condition))));
        }
        // The earliest bucket over its baseline speaks for the run: its time is when the anomaly began.
        ops.Add(new KqlSummarize([KqlNodes.Bare(KqlNodes.Call("arg_min", KqlNodes.Col("Bucket"), KqlNodes.Col("Value"), KqlNodes.Col("Baseline"), KqlNodes.Col("Ratio"), KqlNodes.Col("Samples"), KqlNodes.Col("Slot")))], ByColumns(b.By)));
        ops.Add(new KqlExtend([KqlNodes.As("FirstSeen", KqlNodes.Col("Bucket"))]));
        ops.Add(Texts(rule));
        ops.Add(Output(rule));
        var detection = new KqlQuery([baselines], Activity(rule).Then([.. ops]));
        return new KqlRulePlan(detection, HistoryTables.BaselineReach, Columns(rule), [summary], [refresh]) { SourceReach = rule.Rule.Schedule.Lookback };
    }

    /// <summary>The columns a refresh returns, in the order the refresh workflow writes them to the baseline table.</summary>
    public static readonly ImmutableArray<string> RefreshColumnNames = ["Rule", "Entity", "Slot", "Value", "Baseline", "Samples"];

    private static readonly KqlProject RefreshColumns = new([.. RefreshColumnNames.Select(c => KqlNodes.Bare(KqlNodes.Col(c)))]);

    /// <summary>
    /// The values an entity has used, for new values and learned profiles: an hourly summary rule, a daily
    /// refresh over the history, and the lets a detection reads (<c>History</c> of entity and value,
    /// <c>Scoped</c> events of the lookback, <c>EntitySince</c> when each entity was first seen).
    /// </summary>
    private sealed record KnownValues(KqlSummaryRule Summary, KqlRefresh Refresh, ImmutableArray<KqlLet> Lets);

    /// <summary>The known-values summary rule's bin: one hour.</summary>
    private static readonly TimeSpan KnownHour = TimeSpan.FromHours(1);

    /// <summary>A known-values detection's period: the hourly rows since the refresh before last, whose last hour that refresh leaves out.</summary>
    private static readonly TimeSpan KnownPeriod = HistoryTables.BaselineReach + KnownHour;

    private static KnownValues Known(AnalyzedRule rule, Bound? where, ImmutableArray<SourceField> by, SourceField field, TimeSpan historyLength)
    {
        var name = rule.Rule.Name;
        var lookback = rule.Rule.Schedule.Lookback;
        var valueFilter = new KqlWhere(KqlNodes.Call("isnotempty", KqlNodes.Col(field.Kql)));
        var keys = new KqlExtend([KqlNodes.As(Entity, EntityKey(by)), KqlNodes.As("Value", KqlNodes.Call("tostring", KqlNodes.Col(field.Kql)))]);

        // Hourly summary: each value seen per entity and hour.
        var hourly = Activity(rule).Then([.. Filter(where)]).Then(
            valueFilter,
            keys,
            new KqlSummarize([KqlNodes.As("Metric", KqlNodes.Call("todouble", KqlNodes.Call("count")))], [KqlNodes.Bare(KqlNodes.Col(Entity)), KqlNodes.Bare(KqlNodes.Col("Value")), KqlNodes.As("Hour", KqlNodes.Call("bin", KqlNodes.Col("TimeGenerated"), KqlLiteral.Span(KnownHour)))]),
            new KqlProject([KqlNodes.As("TimeGenerated", KqlNodes.Col("Hour")), KqlNodes.As("Rule", KqlLiteral.Str(name)), KqlNodes.Bare(KqlNodes.Col(Entity)), KqlNodes.Bare(KqlNodes.Col("Value")), KqlNodes.Bare(KqlNodes.Col("Metric"))]));
        var summary = new KqlSummaryRule($"{name}-hourly", $"Hourly values of {field.Name} per entity for {name}", KnownHour, HistoryTables.SentinelHourly, new KqlQuery([], hourly));

        // History holds only hours that ended before a run's lookback starts: a value first used in the lookback
        // is still new once the summary rule has written its hour (Elastic's known values say when a value was
        // first seen, so the run there tells them apart). The raw events cover the hours in between.
        var summarizedBefore = new KqlWhere(KqlNodes.Op("<=", KqlNodes.Col("TimeGenerated"), KqlNodes.Call("ago", KqlLiteral.Span(lookback + KnownHour))));

        // Daily refresh: the values seen per entity over the history.
        var refreshBody = KqlNodes.From(HistoryTables.SentinelHourly).Then(
            RuleRows(name, historyLength),
            summarizedBefore,
            new KqlSummarize([KqlNodes.As("Samples", KqlNodes.Call("count")), KqlNodes.As("Baseline", KqlNodes.Call("sum", KqlNodes.Col("Metric")))], [KqlNodes.Bare(KqlNodes.Col(Entity)), KqlNodes.Bare(KqlNodes.Col("Value"))]),
            new KqlExtend([KqlNodes.As("Rule", KqlLiteral.Str(name)), KqlNodes.As("Slot", KqlLiteral.Str(""))]),
            RefreshColumns);
        var refresh = new KqlRefresh($"{name}-refresh", TimeSpan.FromDays(1), HistoryTables.SentinelBaseline, new KqlQuery([], refreshBody));

        // Known: the refreshed history, the hourly rows since, and the raw events the summary has not reached.
        var unsummarized = Activity(rule).Then(new KqlWhere(KqlNodes.Op("and",
            KqlNodes.Op(">", KqlNodes.Col("TimeGenerated"), KqlNodes.Call("ago", KqlLiteral.Span(HistoryTables.UnsummarizedReach))),
            KqlNodes.Op("<", KqlNodes.Col("TimeGenerated"), KqlNodes.Call("ago", KqlLiteral.Span(lookback)))))).Then([.. Filter(where)]).Then(
            valueFilter, keys, new KqlProject([KqlNodes.Bare(KqlNodes.Col(Entity)), KqlNodes.Bare(KqlNodes.Col("Value"))]));
        var known = new KqlLet("Known", new KqlTabular(new KqlTableSource(HistoryTables.SentinelBaseline), []).Then(
            RuleRows(name, HistoryTables.BaselineReach),
            new KqlProject([KqlNodes.Bare(KqlNodes.Col(Entity)), KqlNodes.Bare(KqlNodes.Col("Value"))])), null, Materialize: true);
        var recent = new KqlLet("Recent", KqlNodes.From(HistoryTables.SentinelHourly).Then(
            RuleRows(name, KnownPeriod),
            summarizedBefore,
            new KqlProject([KqlNodes.Bare(KqlNodes.Col(Entity)), KqlNodes.Bare(KqlNodes.Col("Value"))])), null);
        var raw = new KqlLet("Unsummarized", unsummarized, null);
        var history = new KqlLet("History", new KqlTabular(new KqlTableSource("Known"), []).Then(
            new KqlUnion(["Recent", "Unsummarized"]),
            new KqlDistinct([Entity, "Value"])), null, Materialize: true);
        var scoped = new KqlLet("Scoped", Activity(rule).Then(Since(lookback)).Then([.. Filter(where)]).Then(valueFilter, keys), null, Materialize: true);
        // An entity is judged only once it has a history: before the lookback, or earlier in it than the value.
        var historyEntities = new KqlLet("HistoryEntities", new KqlTabular(new KqlTableSource("History"), [
            new KqlDistinct([Entity]),
            new KqlExtend([KqlNodes.As("Since", KqlLiteral.Time(DateTimeOffset.UnixEpoch))])]), null);
        var scopedEntities = new KqlLet("ScopedEntities", new KqlTabular(new KqlTableSource("Scoped"), [
            new KqlSummarize([KqlNodes.As("Since", KqlNodes.Call("min", KqlNodes.Col("TimeGenerated")))], [KqlNodes.Bare(KqlNodes.Col(Entity))])]), null);
        var entitySince = new KqlLet("EntitySince", new KqlTabular(new KqlTableSource("HistoryEntities"), [
            new KqlUnion(["ScopedEntities"]),
            new KqlSummarize([KqlNodes.As("EntitySince", KqlNodes.Call("min", KqlNodes.Col("Since")))], [KqlNodes.Bare(KqlNodes.Col(Entity))])]), null);
        return new KnownValues(summary, refresh, [known, recent, raw, history, scoped, historyEntities, scopedEntities, entitySince]);
    }

    /// <summary>A known-values detection reads the lookback and the raw events the summary has not reached.</summary>
    private static TimeSpan KnownReach(AnalyzedRule rule) =>
        rule.Rule.Schedule.Lookback > HistoryTables.UnsummarizedReach ? rule.Rule.Schedule.Lookback : HistoryTables.UnsummarizedReach;

    private static KqlRulePlan NewValue(AnalyzedRule rule, BoundNewValueDetection n)
    {
        var field = n.Field;
        var known = Known(rule, n.Where, n.By, field, n.Syntax.History);
        var ops = new List<KqlOperator>
        {
            new KqlJoin("leftanti", new KqlTabular(new KqlTableSource("History"), []), [new(Entity, Entity), new("Value", "Value")]),
        };
        if (n.Syntax.Window is not null || n.NewWhere is not null)
        {
            // The value's first appearance under the rule's where: the window starts there, and with new_where
            // the entity must be older than it, whichever of the value's events new_where keeps.
            ops.Add(new KqlLookup("inner", new KqlTabular(new KqlTableSource("Scoped"), [new KqlSummarize([KqlNodes.As("Since", KqlNodes.Call("min", KqlNodes.Col("TimeGenerated")))], [KqlNodes.Bare(KqlNodes.Col(Entity)), KqlNodes.Bare(KqlNodes.Col("Value"))])]), [new(Entity, Entity), new("Value", "Value")]));
        }
        if (n.Syntax.Window is { } window)
        {
            // Aggregates count the events within the window from the value's first appearance.
            ops.Add(new KqlWhere(KqlNodes.Op("<", KqlNodes.Col("TimeGenerated"), KqlNodes.Op("+", KqlNodes.Col("Since"), KqlLiteral.Span(window)))));
        }
        List<KqlAssign> aggregates = [.. n.Aggregates.Select(Aggregate), FirstLast("min", "FirstSeen"), FirstLast("max", "LastSeen")];
        var valueSince = "FirstSeen";
        if (n.NewWhere is { } newWhere)
        {
            // Only the new value's events that new_where keeps are aggregated; a value none of them match cannot alert.
            ops.Add(new KqlWhere(E(newWhere)));
            aggregates.Add(KqlNodes.As("Since", KqlNodes.Call("min", KqlNodes.Col("Since"))));
            valueSince = "Since";
        }
        ops.Add(new KqlSummarize([.. aggregates], ByColumns(n.By).Add(KqlNodes.Bare(KqlNodes.Col(field.Kql))).Add(KqlNodes.Bare(KqlNodes.Col(Entity)))));
        ops.Add(new KqlLookup("inner", new KqlTabular(new KqlTableSource("EntitySince"), []), [new(Entity, Entity)]));
        ops.Add(new KqlWhere(KqlNodes.Op("<", KqlNodes.Col("EntitySince"), KqlNodes.Col(valueSince))));
        if (n.Condition is not null)
        {
            ops.Add(new KqlWhere(E(n.Condition)));
        }
        ops.Add(Texts(rule));
        ops.Add(Output(rule));
        var detection = new KqlQuery(known.Lets, new KqlTabular(new KqlTableSource("Scoped"), [.. ops]));
        return new KqlRulePlan(detection, KnownPeriod, Columns(rule), [known.Summary], [known.Refresh]) { SourceReach = KnownReach(rule) };
    }

    /// <summary>
    /// Use outside the key's profile: its declared list when the inventory has one, else (with
    /// <c>learned</c>) the values it used in its history. Decided per key and value, after aggregation.
    /// </summary>
    private static KqlRulePlan Profile(AnalyzedRule rule, BoundProfileDetection p)
    {
        var field = KqlNodes.Col(p.Field.Kql);
        var declared = p.Declared;
        var inventory = KqlNodes.FromFunction(Sources.Inventory.KqlFunction).Then(
            new KqlWhere(KqlNodes.Op(">", KqlNodes.Call("array_length", KqlNodes.Col(declared.Kql)), KqlLiteral.Long(0))),
            new KqlProject([KqlNodes.Bare(KqlNodes.Col("KeyId")), KqlNodes.As("Allowed", KqlNodes.Col(declared.Kql))]));
        KqlExpr outsideDeclared = KqlNodes.Op("and", KqlNodes.Call("isnotnull", KqlNodes.Col("Allowed")), declared.Name == "cidrs"
            // The inventory may declare IPv6 ranges and a request may come from an IPv6 address: ipv6_is_in_any_range
            // reads both families (IPv4 as IPv4-mapped), where ipv4_is_in_any_range gives null and flags nothing.
            ? KqlNodes.Call("not", KqlNodes.Call("ipv6_is_in_any_range", field, KqlNodes.Col("Allowed")))
            : KqlNodes.Call("not", KqlNodes.Call("set_has_element", KqlNodes.Col("Allowed"), field)));
        var aggregates = new List<KqlAssign> { KqlNodes.As("Requests", KqlNodes.Call("count")) };
        aggregates.AddRange(p.Aggregates.Where(a => a.Column.Name != "requests").Select(Aggregate));
        aggregates.Add(FirstLast("min", "FirstSeen"));
        aggregates.Add(FirstLast("max", "LastSeen"));
        var group = ByColumns(p.By).Add(KqlNodes.Bare(field));
        var ops = new List<KqlOperator>();
        if (p.Syntax.Learned is { } length)
        {
            var known = Known(rule, p.Where, p.By, p.Field, length);
            KqlExpr outsideLearned = KqlNodes.Op("and", KqlNodes.Call("isnull", KqlNodes.Col("Allowed")), KqlNodes.Op("and",
                KqlNodes.Call("isnull", KqlNodes.Col("Known")),
                KqlNodes.Op("<", KqlNodes.Col("EntitySince"), KqlNodes.Col("FirstSeen"))));
            ops.Add(new KqlSummarize([.. aggregates], group.Add(KqlNodes.Bare(KqlNodes.Col(Entity))).Add(KqlNodes.Bare(KqlNodes.Col("Value")))));
            ops.Add(new KqlLookup("leftouter", inventory, [new("KeyId", "KeyId")]));
            ops.Add(new KqlLookup("leftouter", new KqlTabular(new KqlTableSource("History"), [new KqlExtend([KqlNodes.As("Known", KqlLiteral.Bool(true))])]), [new(Entity, Entity), new("Value", "Value")]));
            ops.Add(new KqlLookup("leftouter", new KqlTabular(new KqlTableSource("EntitySince"), []), [new(Entity, Entity)]));
            ops.Add(new KqlWhere(KqlNodes.Op("or", outsideDeclared, outsideLearned)));
            AddTail(rule, p.Condition, ops);
            var learned = new KqlQuery(known.Lets, new KqlTabular(new KqlTableSource("Scoped"), [.. ops]));
            return new KqlRulePlan(learned, KnownPeriod, Columns(rule), [known.Summary], [known.Refresh]) { SourceReach = KnownReach(rule) };
        }
        ops.Add(Since(rule.Rule.Schedule.Lookback));
        ops.AddRange(Filter(p.Where));
        ops.Add(new KqlWhere(KqlNodes.Call("isnotempty", field)));
        ops.Add(new KqlSummarize([.. aggregates], group));
        ops.Add(new KqlLookup("inner", inventory, [new("KeyId", "KeyId")]));
        ops.Add(new KqlWhere(outsideDeclared));
        AddTail(rule, p.Condition, ops);
        return Simple(rule, new KqlQuery([], Activity(rule).Then([.. ops])));
    }

    /// <summary>The end every query shares: the rule's condition, then the alert texts and the result columns.</summary>
    private static void AddTail(AnalyzedRule rule, Bound? condition, List<KqlOperator> ops)
    {
        if (condition is not null)
        {
            ops.Add(new KqlWhere(E(condition)));
        }
        ops.Add(Texts(rule));
        ops.Add(Output(rule));
    }

    private static KqlRulePlan Sequence(AnalyzedRule rule, BoundSequenceDetection s)
    {
        var steps = s.Steps;
        var flags = steps.Select(st => KqlNodes.As("Step_" + st.Name, KqlNodes.Call("coalesce", E(st.Where), KqlLiteral.Bool(false)))).ToImmutableArray();
        var events = new KqlLet("Events", Activity(rule).Then(Since(rule.Rule.Schedule.Lookback), new KqlExtend(flags),
            new KqlWhere(steps.Select(st => (KqlExpr)KqlNodes.Col("Step_" + st.Name)).Aggregate((a, b) => KqlNodes.Op("or", a, b)))), null, Materialize: true);
        var by = ByColumns(s.By);
        var keys = s.By.Select(f => new KqlJoinKey(f.Kql, f.Kql)).ToImmutableArray();
        var first = steps[0];
        // The sequence starts at the earliest first-step event of the lookback; each later step is looked for
        // after the previous one, each link a materialized let so the query grows linearly with the steps.
        var lets = new List<KqlLet> { events };
        var chainName = "Chain_" + first.Name;
        lets.Add(new KqlLet(chainName, new KqlTabular(new KqlTableSource("Events"), []).Then(
            new KqlLookup("inner", new KqlTabular(new KqlTableSource("Events"), [new KqlWhere(KqlNodes.Col("Step_" + first.Name)), new KqlSummarize([KqlNodes.As(first.First.KqlName, KqlNodes.Call("min", KqlNodes.Col("TimeGenerated")))], by)]), keys),
            new KqlWhere(KqlNodes.Op("and",
                KqlNodes.Op(">=", KqlNodes.Col("TimeGenerated"), KqlNodes.Col(first.First.KqlName)),
                KqlNodes.Op("<=", KqlNodes.Col("TimeGenerated"), KqlNodes.Op("+", KqlNodes.Col(first.First.KqlName), KqlLiteral.Span(s.Syntax.Within)))))), null, Materialize: true));
        for (var i = 1; i < steps.Length; i++)
        {
            var step = steps[i];
            var prev = steps[i - 1];
            var previous = chainName;
            chainName = "Chain_" + step.Name;
            lets.Add(new KqlLet(chainName, new KqlTabular(new KqlTableSource(previous), []).Then(
                new KqlLookup("inner", new KqlTabular(new KqlTableSource(previous), []).Then(
                    new KqlWhere(KqlNodes.Op("and", KqlNodes.Col("Step_" + step.Name), KqlNodes.Op(">=", KqlNodes.Col("TimeGenerated"), KqlNodes.Col(prev.First.KqlName)))),
                    new KqlSummarize([KqlNodes.As(step.First.KqlName, KqlNodes.Call("min", KqlNodes.Col("TimeGenerated")))], by)), keys)), null, Materialize: i < steps.Length - 1));
        }
        var chain = new KqlTabular(new KqlTableSource(chainName), []);
        var counts = steps.Select((st, i) => KqlNodes.As(st.Count.KqlName, KqlNodes.Call("countif", KqlNodes.Op("and", KqlNodes.Col("Step_" + st.Name),
            KqlNodes.Op(">=", KqlNodes.Col("TimeGenerated"), KqlNodes.Col((i == 0 ? st : steps[i - 1]).First.KqlName))))));
        var firsts = steps.Select(st => KqlNodes.As(st.First.KqlName, KqlNodes.Call("take_any", KqlNodes.Col(st.First.KqlName))));
        var mins = steps.Select(st => (KqlExpr)KqlNodes.Op(">=", KqlNodes.Col(st.Count.KqlName), KqlLiteral.Long(st.Min)));
        var body = chain.Then(
            new KqlSummarize([.. counts, .. firsts, FirstLast("min", "FirstSeen"), FirstLast("max", "LastSeen")], by),
            new KqlWhere(KqlNodes.And(mins)),
            Texts(rule),
            Output(rule));
        return Simple(rule, new KqlQuery([.. lets], body));
    }

    private static KqlRulePlan Inventory(AnalyzedRule rule, BoundInventoryDetection i)
    {
        var body = KqlNodes.FromFunction(Sources.Inventory.KqlFunction).Then(new KqlWhere(E(i.Where!)), Texts(rule), Output(rule));
        return Simple(rule, new KqlQuery([], body));
    }
}
