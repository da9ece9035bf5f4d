using System.Collections.Immutable;
using KeyAbuseContent.Expressions;
using KeyAbuseContent.Rules;

namespace KeyAbuseContent.Targets.Esql;

/// <summary>A lookup-mode index a rule joins, with the pieces that keep it up to date.</summary>
public sealed record EsqlLookup(string Index, string JoinField, string Purpose);

/// <summary>
/// The ES|QL equivalents of a rule's transforms, for the harness: the hourly peaks (stored as
/// <paramref name="HourlyIndex"/>), one slot-baseline query a seasonality scheme over them, and the keyed
/// events whose first and last sightings the known-values transforms keep.
/// </summary>
public sealed record EsqlHistoryQueries(EsqlQuery? HourlyPeaks, string? HourlyIndex, ImmutableArray<EsqlQuery> SlotBaselines, EsqlQuery? KeyedValues);

/// <summary>Everything a rule needs on Elastic: its query, whether it aggregates, and the lookup indices it joins.</summary>
public sealed record EsqlRulePlan(EsqlQuery Query, bool Aggregates, ImmutableArray<string> ResultColumns, ImmutableArray<EsqlLookup> Lookups);

/// <summary>
/// Compiles an analyzed rule to ES|QL, one method per detection kind. The window comes from the rule's
/// <c>from</c> and <c>interval</c>, never from NOW(); history comes from lookup-mode indices.
/// </summary>
public static class EsqlRuleCompiler
{
    private const string Title = "keyabuse.alert.title";
    private const string Summary = "keyabuse.alert.summary";
    private const string Timestamp = "@timestamp";
    private const string LookupKey = "keyabuse.lookup_key";
    private const string EntityKeyField = "keyabuse.entity_key";

    public static EsqlRulePlan Compile(AnalyzedRule rule) => WithRoute(rule, rule.Detection switch
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
    /// The fields every alert carries from the inventory (the inventory index's own names, documented in
    /// <see cref="Sources.Inventory"/>): the key's owner, team, service and on-call route name.
    /// </summary>
    public static readonly ImmutableArray<string> RouteFields =
        [.. Kql.KqlRuleCompiler.RouteColumns.Select(r => Sources.Inventory.Field(r.Field)!.Esql)];

    /// <summary>
    /// The one place alerts get their routing. An aggregating ES|QL rule's alert keeps only the query's columns,
    /// so the result joins the inventory by its key and keeps the route fields; a key the inventory lacks keeps
    /// them null, so it still alerts and goes to the default route.
    /// </summary>
    private static EsqlRulePlan WithRoute(AnalyzedRule rule, EsqlRulePlan plan)
    {
        var commands = plan.Query.Commands.ToList();
        var keep = (EsqlKeep)commands[^1];
        commands.RemoveAt(commands.Count - 1);
        var inventoryKey = Sources.Inventory.Field("key_id")!.Esql;
        var keyColumn = rule.Entities.TryGetValue("key", out var key) ? key.EsqlName
            : rule.ResultColumns.FirstOrDefault(c => c.Name == "key_id")?.EsqlName;
        var lookups = plan.Lookups;
        if (keyColumn is null)
        {
            commands.Add(new EsqlEval([.. RouteFields.Select(f => EsqlNodes.As(f, EsqlNodes.Call("TO_STRING", EsqlLiteral.Null())))]));
        }
        else
        {
            if (keyColumn != inventoryKey)
            {
                commands.Add(new EsqlEval([EsqlNodes.As(inventoryKey, EsqlNodes.Call("TO_STRING", Col(keyColumn)))]));
            }
            commands.Add(new EsqlLookupJoin(Sources.Inventory.EsqlIndex, [inventoryKey]));
            if (!lookups.Any(l => l.Index == Sources.Inventory.EsqlIndex))
            {
                lookups = lookups.Add(new EsqlLookup(Sources.Inventory.EsqlIndex, inventoryKey, "the key inventory"));
            }
        }
        commands.Add(new EsqlKeep([.. keep.Columns.Where(c => !RouteFields.Contains(c)), .. RouteFields]));
        return plan with
        {
            Query = new EsqlQuery([.. commands]),
            ResultColumns = [.. plan.ResultColumns.Where(c => !RouteFields.Contains(c)), .. RouteFields],
            Lookups = lookups,
        };
    }

    private static readonly EsqlExpressionEmitter Emitter = new();

    private static EsqlExpr E(Bound b) => Emitter.Emit(b);

    private static EsqlField Col(string name) => EsqlNodes.Col(name);

    private static EsqlField Col(FieldBinding f) => EsqlNodes.Col(f.EsqlName);

    /// <summary>FROM the source, with the derived total-tokens column when the rule reads it.</summary>
    private static List<EsqlCommand> From(AnalyzedRule rule, bool metadata = false)
    {
        var commands = new List<EsqlCommand> { new EsqlFrom([.. rule.Source.EsqlIndex.Split(',')], metadata ? ["_id", "_index", "_version"] : []) };
        if (rule.Source == Sources.Activity && ReadsTokens(rule))
        {
            commands.Add(new EsqlEval([EsqlNodes.As(Sources.Activity.Field("tokens")!.Esql, EsqlNodes.Op("+",
                EsqlNodes.Call("COALESCE", Col("gen_ai.usage.input_tokens"), EsqlLiteral.Long(0)),
                EsqlNodes.Call("COALESCE", Col("gen_ai.usage.output_tokens"), EsqlLiteral.Long(0))))]));
        }
        return commands;
    }

    private static bool ReadsTokens(AnalyzedRule rule)
    {
        var d = rule.Detection;
        IEnumerable<Bound?> trees = d switch
        {
            BoundThresholdDetection t => [t.Where, .. t.Aggregates.Select(a => (Bound)a.Aggregate)],
            BoundBaselineDetection b => [b.Where, b.When, b.SumField is { Name: "tokens" } ? new BoundField(b.SumField.Binding, default) : null],
            BoundNewValueDetection n => [n.Where, n.NewWhere, .. n.Aggregates.Select(a => (Bound)a.Aggregate)],
            BoundProfileDetection p => [p.Where, .. p.Aggregates.Select(a => (Bound)a.Aggregate)],
            BoundSequenceDetection s => s.Steps.Select(st => (Bound?)st.Where),
            _ => [],
        };
        return trees.Any(t => t is not null && Mentions(t, "tokens"));
    }

    private static bool Mentions(Bound b, string field) => b switch
    {
        BoundField f => f.Field.Name == field,
        BoundCompare c => Mentions(c.Left, field) || Mentions(c.Right, field),
        BoundArithmetic a => Mentions(a.Left, field) || Mentions(a.Right, field),
        BoundNegate n => Mentions(n.Operand, field),
        BoundLogical l => Mentions(l.Left, field) || Mentions(l.Right, field),
        BoundNot n => Mentions(n.Operand, field),
        BoundIn i => Mentions(i.Value, field),
        BoundStringTest s => Mentions(s.Value, field),
        BoundMatches m => Mentions(m.Value, field),
        BoundCall c => c.Args.Any(a => Mentions(a, field)),
        BoundAggregate a => a.Argument is not null && Mentions(a.Argument, field),
        _ => false,
    };

    private static IEnumerable<EsqlCommand> Filter(Bound? where) => where is null ? [] : [new EsqlWhere(E(where))];

    private static ImmutableArray<EsqlAssign> ByColumns(IEnumerable<SourceField> by) => [.. by.Select(f => EsqlNodes.Bare(Col(f.Esql)))];

    private static EsqlExpr EntityKey(ImmutableArray<SourceField> by) => by.Length == 1
        ? EsqlNodes.Call("TO_STRING", Col(by[0].Esql))
        : EsqlNodes.Call("CONCAT", [.. by.SelectMany((f, i) => i == 0 ? new EsqlExpr[] { EsqlNodes.Call("TO_STRING", Col(f.Esql)) } : [EsqlLiteral.Str("|"), EsqlNodes.Call("TO_STRING", Col(f.Esql))])]);

    private static EsqlAssign Aggregate(BoundNamedAggregate a) => EsqlNodes.As(a.Column.EsqlName, E(a.Aggregate));

    private static EsqlAssign FirstLast(string fn, string name) => EsqlNodes.As(name, EsqlNodes.Call(fn, Col(Timestamp)));

    private static EsqlEval Texts(AnalyzedRule rule) => new([EsqlNodes.As(Title, Text(rule.Title)), EsqlNodes.As(Summary, Text(rule.Summary))]);

    private static EsqlExpr Text(ImmutableArray<TemplatePart> parts)
    {
        var pieces = parts.Select(p => p switch
        {
            TemplateText t => (EsqlExpr)EsqlLiteral.Str(t.Text),
            TemplateColumn c => EsqlNodes.Call("COALESCE", Format(c.Column), EsqlLiteral.Str("")),
            _ => throw new InvalidOperationException(),
        }).ToArray();
        return pieces.Length == 1 ? pieces[0] : EsqlNodes.Call("CONCAT", pieces);
    }

    private static EsqlExpr Format(FieldBinding column) => column.Type switch
    {
        ExprType.String => Col(column),
        ExprType.Real => EsqlNodes.Call("TO_STRING", EsqlNodes.Call("ROUND", Col(column), EsqlLiteral.Long(1))),
        ExprType.DateTime => EsqlNodes.Call("DATE_FORMAT", EsqlLiteral.Str("yyyy-MM-dd HH:mm"), Col(column)),
        ExprType.StringList => EsqlNodes.Call("MV_CONCAT", Col(column), EsqlLiteral.Str(", ")),
        _ => EsqlNodes.Call("TO_STRING", Col(column)),
    };

    private static EsqlKeep Keep(AnalyzedRule rule, bool withId = false) =>
        new([.. withId ? ["_id", "_index", "_version"] : Array.Empty<string>(), .. rule.ResultColumns.Select(c => c.EsqlName), Title, Summary]);

    private static ImmutableArray<string> Columns(AnalyzedRule rule) => [.. rule.ResultColumns.Select(c => c.EsqlName), Title, Summary];

    private static EsqlRulePlan Plan(AnalyzedRule rule, List<EsqlCommand> commands, bool aggregates = true, params EsqlLookup[] lookups) =>
        new(new EsqlQuery([.. commands]), aggregates, Columns(rule), [.. lookups]);

    private static EsqlRulePlan Threshold(AnalyzedRule rule, BoundThresholdDetection t)
    {
        var commands = From(rule);
        commands.AddRange(Filter(t.Where));
        var by = ByColumns(t.By);
        if (t.Syntax.Window < rule.Rule.Schedule.Lookback)
        {
            commands.Add(new EsqlEval([EsqlNodes.As("keyabuse.window", EsqlNodes.Call("DATE_TRUNC", EsqlLiteral.Span(t.Syntax.Window), Col(Timestamp)))]));
            by = by.Add(EsqlNodes.Bare(Col("keyabuse.window")));
        }
        commands.Add(new EsqlStats([.. t.Aggregates.Select(Aggregate), FirstLast("MIN", "keyabuse.first_seen"), FirstLast("MAX", "keyabuse.last_seen")], by));
        var lookups = new List<EsqlLookup>();
        if (!t.Inventory.IsEmpty)
        {
            commands.Add(new EsqlLookupJoin(Sources.Inventory.EsqlIndex, [Sources.Inventory.Field("key_id")!.Esql]));
            lookups.Add(new(Sources.Inventory.EsqlIndex, Sources.Inventory.Field("key_id")!.Esql, "the key inventory"));
        }
        commands.Add(new EsqlWhere(E(t.Condition)));
        commands.Add(Texts(rule));
        commands.Add(Keep(rule));
        return Plan(rule, commands, true, [.. lookups]);
    }

    /// <summary>The hour-of-week slot of a time, counted from Monday 1970-01-05 (ES|QL's day of week is ISO; KQL's week starts on Sunday).</summary>
    private static EsqlExpr HourOfWeek(EsqlExpr time) =>
        EsqlNodes.Op("%", EsqlNodes.Call("DATE_DIFF", EsqlLiteral.Str("hour"), EsqlLiteral.Time(HistoryTables.WeekOrigin), time), EsqlLiteral.Long(168));

    private static EsqlExpr SlotKey(Seasonality scheme, EsqlExpr hourOfWeek)
    {
        EsqlExpr slot = scheme switch
        {
            Seasonality.HourOfWeek => hourOfWeek,
            Seasonality.DayTypeHour => EsqlNodes.Op("+", EsqlNodes.Call("CASE", EsqlNodes.Op(">=", hourOfWeek, EsqlLiteral.Long(120)), EsqlLiteral.Long(24), EsqlLiteral.Long(0)), EsqlNodes.Op("%", hourOfWeek, EsqlLiteral.Long(24))),
            Seasonality.HourOfDay => EsqlNodes.Op("%", hourOfWeek, EsqlLiteral.Long(24)),
            _ => EsqlLiteral.Long(0),
        };
        return EsqlNodes.Call("CONCAT", EsqlLiteral.Str(Kql.KqlRuleCompiler.SchemeName(scheme) + ":"), EsqlNodes.Call("TO_STRING", slot));
    }

    /// <summary>The metric of a bucket: a field's sum, the events' count, or the count of those matching <c>when</c> (0 when none does).</summary>
    private static EsqlExpr Metric(BoundBaselineDetection b) => b.SumField is { } f
        ? EsqlNodes.Call("SUM", Col(f.Esql))
        : b.When is { } when
            ? EsqlNodes.Call("SUM", EsqlNodes.Call("CASE", E(when), EsqlLiteral.Long(1), EsqlLiteral.Long(0)))
            : EsqlNodes.Call("COUNT", new EsqlStar());

    /// <summary>
    /// The slot's baseline and samples for one seasonality (keyabuse.<paramref name="prefix"/>_slot, _baseline,
    /// _samples), and with neighbours the highest baseline among the slots of the hours around it that have enough samples.
    /// </summary>
    private static IEnumerable<EsqlCommand> SlotLookups(string name, string prefix, Seasonality scheme, int neighbours, EsqlExpr min)
    {
        var p = "keyabuse." + prefix;
        IEnumerable<EsqlCommand> Lookup(string tag, EsqlExpr hour)
        {
            yield return new EsqlEval([EsqlNodes.As(p + "_slot" + tag, SlotKey(scheme, hour))]);
            yield return new EsqlEval([EsqlNodes.As(LookupKey, EsqlNodes.Call("CONCAT", EsqlLiteral.Str(name + "|"), Col("keyabuse.entity"), EsqlLiteral.Str("|"), Col(p + "_slot" + tag)))]);
            yield return new EsqlLookupJoin(HistoryTables.ElasticBaseline(name), [LookupKey]);
            // The last lookup of a rule without neighbours is read where it landed (keyabuse.history.*).
            if (prefix == "primary" || neighbours > 0)
            {
                yield return new EsqlRename([("keyabuse.history.value", p + "_baseline" + tag), ("keyabuse.history.samples", p + "_samples" + tag)]);
            }
        }
        foreach (var c in Lookup("", Col("keyabuse.hour_of_week")))
        {
            yield return c;
        }
        if (neighbours == 0)
        {
            yield break;
        }
        var offsets = Enumerable.Range(-neighbours, (2 * neighbours) + 1).Where(d => d != 0).ToList();
        foreach (var d in offsets)
        {
            var tag = "_" + Kql.KqlRuleCompiler.NeighbourTag(d).ToLowerInvariant();
            foreach (var c in Lookup(tag, EsqlNodes.Op("%", EsqlNodes.Op("+", Col("keyabuse.hour_of_week"), EsqlLiteral.Long(168 + d)), EsqlLiteral.Long(168))))
            {
                yield return c;
            }
        }
        // A neighbour counts only with enough samples of its own; the slot's own samples decide whether it is used.
        var candidates = new List<EsqlExpr> { Col(p + "_baseline") };
        candidates.AddRange(offsets.Select(d => "_" + Kql.KqlRuleCompiler.NeighbourTag(d).ToLowerInvariant()).Select(tag => (EsqlExpr)EsqlNodes.Call("CASE",
            EsqlNodes.Call("COALESCE", EsqlNodes.Op(">=", Col(p + "_samples" + tag), min), EsqlLiteral.Bool(false)),
            Col(p + "_baseline" + tag), Col(p + "_baseline"))));
        yield return new EsqlEval([EsqlNodes.As(p + "_baseline", EsqlNodes.Call("GREATEST", [.. candidates]))]);
    }

    private static EsqlRulePlan Baseline(AnalyzedRule rule, BoundBaselineDetection b)
    {
        var name = rule.Rule.Name;
        var h = b.Syntax.History;
        var min = EsqlLiteral.Long(h.MinSamples);
        var commands = From(rule);
        commands.AddRange(Filter(b.Where));
        commands.Add(new EsqlEval([EsqlNodes.As("keyabuse.bucket", EsqlNodes.Call("DATE_TRUNC", EsqlLiteral.Span(b.Syntax.Metric.Per), Col(Timestamp)))]));
        commands.Add(new EsqlStats([EsqlNodes.As("keyabuse.value", Metric(b))], ByColumns(b.By).Add(EsqlNodes.Bare(Col("keyabuse.bucket")))));
        commands.Add(new EsqlEval([
            EsqlNodes.As("keyabuse.value", EsqlNodes.Call("TO_DOUBLE", Col("keyabuse.value"))),
            EsqlNodes.As("keyabuse.entity", EntityKey(b.By)),
            EsqlNodes.As("keyabuse.hour_of_week", HourOfWeek(Col("keyabuse.bucket")))]));
        commands.AddRange(SlotLookups(name, "primary", h.Seasonality, h.Neighbours, min));
        if (h.Fallback != Fallback.None)
        {
            var fallbackNeighbours = h.Fallback == Fallback.Overall ? 0 : h.Neighbours;
            commands.AddRange(SlotLookups(name, "fallback", Kql.KqlRuleCompiler.AsSeasonality(h.Fallback), fallbackNeighbours, min));
            var fallback = fallbackNeighbours > 0 ? "keyabuse.fallback_" : "keyabuse.history.";
            commands.Add(new EsqlEval([EsqlNodes.As("keyabuse.use_primary", EsqlNodes.Call("COALESCE", EsqlNodes.Op(">=", Col("keyabuse.primary_samples"), min), EsqlLiteral.Bool(false)))]));
            commands.Add(new EsqlEval([
                EsqlNodes.As("keyabuse.baseline", EsqlNodes.Call("CASE", Col("keyabuse.use_primary"), Col("keyabuse.primary_baseline"), Col(fallback + (fallbackNeighbours > 0 ? "baseline" : "value")))),
                EsqlNodes.As("keyabuse.samples", EsqlNodes.Call("CASE", Col("keyabuse.use_primary"), Col("keyabuse.primary_samples"), Col(fallback + "samples"))),
                EsqlNodes.As("keyabuse.slot", EsqlNodes.Call("CASE", Col("keyabuse.use_primary"), Col("keyabuse.primary_slot"), Col("keyabuse.fallback_slot")))]));
        }
        else
        {
            commands.Add(new EsqlEval([
                EsqlNodes.As("keyabuse.baseline", Col("keyabuse.primary_baseline")),
                EsqlNodes.As("keyabuse.samples", Col("keyabuse.primary_samples")),
                EsqlNodes.As("keyabuse.slot", Col("keyabuse.primary_slot"))]));
        }
        commands.Add(new EsqlWhere(EsqlNodes.Op(">=", Col("keyabuse.samples"), min)));
        commands.Add(new EsqlEval([EsqlNodes.As("keyabuse.ratio", EsqlNodes.Op("/", Col("keyabuse.value"), EsqlNodes.Call("GREATEST", Col("keyabuse.baseline"), EsqlLiteral.Double(1.0))))]));
        var tuned = b.By.Any(f => f.Name == "key_id");
        if (tuned)
        {
            // Tuning is data: the key's inventory entry (its service's tuning) may scale the floor and ask for a higher multiple.
            commands.Add(new EsqlLookupJoin(Sources.Inventory.EsqlIndex, [Sources.Inventory.Field("key_id")!.Esql]));
            commands.Add(new EsqlWhere(EsqlNodes.Op("AND", EsqlNodes.Op("AND",
                EsqlNodes.Op(">=", Col("keyabuse.value"), EsqlNodes.Op("*", EsqlLiteral.Double(b.Syntax.Floor), EsqlNodes.Call("COALESCE", Col(Sources.Inventory.Field("floor_scale")!.Esql), EsqlLiteral.Double(1.0)))),
                EsqlNodes.Op(">", Col("keyabuse.value"), EsqlNodes.Op("*", EsqlNodes.Call("COALESCE", Col(Sources.Inventory.Field("min_ratio")!.Esql), EsqlLiteral.Double(0.0)), Col("keyabuse.baseline")))), E(b.Condition))));
        }
        else
        {
            commands.Add(new EsqlWhere(EsqlNodes.Op("AND", EsqlNodes.Op(">=", Col("keyabuse.value"), EsqlLiteral.Double(b.Syntax.Floor)), E(b.Condition))));
        }
        // The earliest bucket over its baseline speaks for the run, as on Sentinel.
        commands.Add(new EsqlStats([EsqlNodes.As("keyabuse.first_bucket", EsqlNodes.Call("MIN", Col("keyabuse.bucket")))], ByColumns(b.By), Inline: true));
        commands.Add(new EsqlWhere(EsqlNodes.Op("==", Col("keyabuse.bucket"), Col("keyabuse.first_bucket"))));
        commands.Add(new EsqlEval([EsqlNodes.As("keyabuse.first_seen", Col("keyabuse.bucket"))]));
        commands.Add(Texts(rule));
        commands.Add(Keep(rule));
        var baselineLookup = new EsqlLookup(HistoryTables.ElasticBaseline(name), LookupKey, $"{name}: the statistic of hourly peaks per entity and slot");
        return tuned
            ? Plan(rule, commands, true, baselineLookup, new EsqlLookup(Sources.Inventory.EsqlIndex, Sources.Inventory.Field("key_id")!.Esql, "the key inventory"))
            : Plan(rule, commands, true, baselineLookup);
    }

    private static EsqlRulePlan NewValue(AnalyzedRule rule, BoundNewValueDetection n)
    {
        var name = rule.Rule.Name;
        var field = Col(n.Field.Esql);
        var commands = From(rule);
        commands.AddRange(Filter(n.Where));
        commands.Add(new EsqlWhere(E(new BoundCall("isnotempty", [new BoundField(n.Field.Binding, default)], ExprType.Bool, default))));
        var group = ByColumns(n.By).Add(EsqlNodes.Bare(field));
        if (n.Syntax.Window is not null || n.NewWhere is not null)
        {
            // The value's first appearance under the rule's where: the window starts there, and with new_where
            // the known-value and entity checks are made against it, whichever of the value's events new_where keeps.
            commands.Add(new EsqlStats([EsqlNodes.As("keyabuse.since", EsqlNodes.Call("MIN", Col(Timestamp)))], group, Inline: true));
        }
        if (n.Syntax.Window is { } window)
        {
            commands.Add(new EsqlWhere(EsqlNodes.Op("<", Col(Timestamp), EsqlNodes.Op("+", Col("keyabuse.since"), EsqlLiteral.Span(window)))));
        }
        List<EsqlAssign> aggregates = [.. n.Aggregates.Select(Aggregate), FirstLast("MIN", "keyabuse.first_seen"), FirstLast("MAX", "keyabuse.last_seen")];
        var valueSince = "keyabuse.first_seen";
        if (n.NewWhere is { } newWhere)
        {
            // Only the new value's events that new_where keeps are aggregated; a value none of them match cannot alert.
            commands.Add(new EsqlWhere(E(newWhere)));
            aggregates.Add(EsqlNodes.As("keyabuse.since", EsqlNodes.Call("MIN", Col("keyabuse.since"))));
            valueSince = "keyabuse.since";
        }
        commands.Add(new EsqlStats([.. aggregates], group));
        commands.Add(new EsqlEval([EsqlNodes.As(EntityKeyField, EsqlNodes.Call("CONCAT", EsqlLiteral.Str(name + "|"), EntityKey(n.By)))]));
        commands.Add(new EsqlEval([EsqlNodes.As(LookupKey, EsqlNodes.Call("CONCAT", Col(EntityKeyField), EsqlLiteral.Str("|"), EsqlNodes.Call("TO_STRING", field)))]));
        commands.Add(new EsqlLookupJoin(HistoryTables.ElasticKnownValues(name), [LookupKey]));
        // New: never seen for the entity before the value's first event of this window.
        commands.Add(new EsqlWhere(EsqlNodes.Op("OR", new EsqlIsNull(Col("keyabuse.history.first_seen"), false), EsqlNodes.Op(">=", Col("keyabuse.history.first_seen"), Col(valueSince)))));
        commands.Add(new EsqlLookupJoin(HistoryTables.ElasticKnownEntities(name), [EntityKeyField]));
        commands.Add(new EsqlWhere(EsqlNodes.Op("<", Col("keyabuse.entity_history.first_seen"), Col(valueSince))));
        if (n.Condition is not null)
        {
            commands.Add(new EsqlWhere(E(n.Condition)));
        }
        commands.Add(Texts(rule));
        commands.Add(Keep(rule));
        return Plan(rule, commands, true,
            new EsqlLookup(HistoryTables.ElasticKnownValues(name), LookupKey, $"{name}: when each {n.Field.Name} was first and last seen per entity"),
            new EsqlLookup(HistoryTables.ElasticKnownEntities(name), EntityKeyField, $"{name}: when each entity was first seen"));
    }

    /// <summary>Use outside the key's declared list, or (learned) outside the values of its history; decided per key and value.</summary>
    private static EsqlRulePlan Profile(AnalyzedRule rule, BoundProfileDetection p)
    {
        var name = rule.Rule.Name;
        var field = Col(p.Field.Esql);
        var declared = Col(p.Declared.Esql);
        var commands = From(rule);
        commands.AddRange(Filter(p.Where));
        commands.Add(new EsqlWhere(E(new BoundCall("isnotempty", [new BoundField(p.Field.Binding, default)], ExprType.Bool, default))));
        commands.Add(new EsqlStats(
            [EsqlNodes.As("keyabuse.requests", EsqlNodes.Call("COUNT", new EsqlStar())), .. p.Aggregates.Where(a => a.Column.Name != "requests").Select(Aggregate),
             FirstLast("MIN", "keyabuse.first_seen"), FirstLast("MAX", "keyabuse.last_seen")],
            ByColumns(p.By).Add(EsqlNodes.Bare(field))));
        var lookups = new List<EsqlLookup> { new(Sources.Inventory.EsqlIndex, Sources.Inventory.Field("key_id")!.Esql, "the key inventory") };
        commands.Add(new EsqlLookupJoin(Sources.Inventory.EsqlIndex, [Sources.Inventory.Field("key_id")!.Esql]));
        EsqlExpr inside = p.Declared.Name == "cidrs"
            ? EsqlNodes.Call("CIDR_MATCH", field, declared)
            : EsqlNodes.Call("MV_CONTAINS", declared, field);
        EsqlExpr outside = EsqlNodes.Op("AND", new EsqlIsNull(declared, true), new EsqlNot(inside));
        if (p.Syntax.Learned is not null)
        {
            commands.Add(new EsqlEval([EsqlNodes.As(EntityKeyField, EsqlNodes.Call("CONCAT", EsqlLiteral.Str(name + "|"), EntityKey(p.By)))]));
            commands.Add(new EsqlEval([EsqlNodes.As(LookupKey, EsqlNodes.Call("CONCAT", Col(EntityKeyField), EsqlLiteral.Str("|"), EsqlNodes.Call("TO_STRING", field)))]));
            commands.Add(new EsqlLookupJoin(HistoryTables.ElasticKnownValues(name), [LookupKey]));
            commands.Add(new EsqlLookupJoin(HistoryTables.ElasticKnownEntities(name), [EntityKeyField]));
            var unseen = EsqlNodes.Op("OR", new EsqlIsNull(Col("keyabuse.history.first_seen"), false), EsqlNodes.Op(">=", Col("keyabuse.history.first_seen"), Col("keyabuse.first_seen")));
            var established = EsqlNodes.Op("<", Col("keyabuse.entity_history.first_seen"), Col("keyabuse.first_seen"));
            outside = EsqlNodes.Op("OR", outside, EsqlNodes.Op("AND", new EsqlIsNull(declared, false), EsqlNodes.Op("AND", unseen, established)));
            lookups.Add(new(HistoryTables.ElasticKnownValues(name), LookupKey, $"{name}: when each {p.Field.Name} was first and last seen per entity"));
            lookups.Add(new(HistoryTables.ElasticKnownEntities(name), EntityKeyField, $"{name}: when each entity was first seen"));
        }
        commands.Add(new EsqlWhere(outside));
        commands.Add(new EsqlEval([EsqlNodes.As("keyabuse.allowed", declared)]));
        if (p.Condition is not null)
        {
            commands.Add(new EsqlWhere(E(p.Condition)));
        }
        commands.Add(Texts(rule));
        commands.Add(Keep(rule));
        return Plan(rule, commands, true, [.. lookups]);
    }

    private static EsqlRulePlan Sequence(AnalyzedRule rule, BoundSequenceDetection s)
    {
        var steps = s.Steps;
        var by = ByColumns(s.By);
        var commands = From(rule);
        commands.Add(new EsqlEval([.. steps.Select(st => EsqlNodes.As("keyabuse.step_" + st.Name, EsqlNodes.Call("COALESCE", E(st.Where), EsqlLiteral.Bool(false))))]));
        commands.Add(new EsqlWhere(steps.Select(st => (EsqlExpr)Col("keyabuse.step_" + st.Name)).Aggregate((a, b) => EsqlNodes.Op("OR", a, b))));
        var first = steps[0];
        commands.Add(new EsqlStats([EsqlNodes.As(first.First.EsqlName, EsqlNodes.Call("MIN", EsqlNodes.Call("CASE", Col("keyabuse.step_" + first.Name), Col(Timestamp), EsqlLiteral.Null())))], by, Inline: true));
        commands.Add(new EsqlWhere(EsqlNodes.Op("AND",
            EsqlNodes.Op(">=", Col(Timestamp), Col(first.First.EsqlName)),
            EsqlNodes.Op("<=", Col(Timestamp), EsqlNodes.Op("+", Col(first.First.EsqlName), EsqlLiteral.Span(s.Syntax.Within))))));
        for (var i = 1; i < steps.Length; i++)
        {
            var step = steps[i];
            var prev = steps[i - 1];
            var after = EsqlNodes.Op("AND", Col("keyabuse.step_" + step.Name), EsqlNodes.Op(">=", Col(Timestamp), Col(prev.First.EsqlName)));
            commands.Add(new EsqlStats([EsqlNodes.As(step.First.EsqlName, EsqlNodes.Call("MIN", EsqlNodes.Call("CASE", after, Col(Timestamp), EsqlLiteral.Null())))], by, Inline: true));
            commands.Add(new EsqlWhere(new EsqlIsNull(Col(step.First.EsqlName), true)));
        }
        var counts = steps.Select((st, i) => EsqlNodes.As(st.Count.EsqlName, EsqlNodes.Call("SUM", EsqlNodes.Call("CASE",
            EsqlNodes.Op("AND", Col("keyabuse.step_" + st.Name), EsqlNodes.Op(">=", Col(Timestamp), Col((i == 0 ? st : steps[i - 1]).First.EsqlName))),
            EsqlLiteral.Long(1), EsqlLiteral.Long(0)))));
        var firsts = steps.Select(st => EsqlNodes.As(st.First.EsqlName, EsqlNodes.Call("MIN", Col(st.First.EsqlName))));
        commands.Add(new EsqlStats([.. counts, .. firsts, FirstLast("MIN", "keyabuse.first_seen"), FirstLast("MAX", "keyabuse.last_seen")], by));
        commands.Add(new EsqlWhere(EsqlNodes.And(steps.Select(st => (EsqlExpr)EsqlNodes.Op(">=", Col(st.Count.EsqlName), EsqlLiteral.Long(st.Min))))));
        commands.Add(Texts(rule));
        commands.Add(Keep(rule));
        return Plan(rule, commands);
    }

    /// <summary>
    /// The ES|QL a test harness runs in place of a rule's transforms, computing what they keep: the busiest
    /// bucket of each hour per entity (baselines), the baseline of each slot from those hourly peaks over the
    /// whole days of history before the run's day, and the keyed events of known values. Never published as
    /// rules (these call NOW() for the run time); they exist so the transforms' logic is executed too.
    /// </summary>
    /// <summary>The LIMIT of the harness's history queries: every row, since they stand for transforms, not rules.</summary>
    public const long HarnessLimit = 100_000_000;

    public static EsqlHistoryQueries HistoryQueries(AnalyzedRule rule)
    {
        switch (rule.Detection)
        {
            case BoundBaselineDetection b:
                {
                    var name = rule.Rule.Name;
                    var h = b.Syntax.History;
                    var hourly = From(rule);
                    hourly.AddRange(Filter(b.Where));
                    var metric = Metric(b);
                    hourly.Add(new EsqlEval([EsqlNodes.As("keyabuse.entity", EntityKey(b.By)), EsqlNodes.As("keyabuse.bucket", EsqlNodes.Call("DATE_TRUNC", EsqlLiteral.Span(b.Syntax.Metric.Per), Col(Timestamp)))]));
                    hourly.Add(new EsqlStats([EsqlNodes.As("keyabuse.value", metric)], [EsqlNodes.Bare(Col("keyabuse.entity")), EsqlNodes.Bare(Col("keyabuse.bucket"))]));
                    hourly.Add(new EsqlEval([EsqlNodes.As("keyabuse.hour", EsqlNodes.Call("DATE_TRUNC", EsqlLiteral.Span(TimeSpan.FromHours(1)), Col("keyabuse.bucket")))]));
                    hourly.Add(new EsqlStats([EsqlNodes.As("keyabuse.metric", EsqlNodes.Call("TO_DOUBLE", EsqlNodes.Call("MAX", Col("keyabuse.value"))))], [EsqlNodes.Bare(Col("keyabuse.entity")), EsqlNodes.Bare(Col("keyabuse.hour"))]));
                    hourly.Add(new EsqlLimit(HarnessLimit));
                    var hourlyIndex = $"keyabuse-hourly-{name}";
                    var schemes = new List<Seasonality> { h.Seasonality };
                    if (h.Fallback != Fallback.None)
                    {
                        schemes.Add(Kql.KqlRuleCompiler.AsSeasonality(h.Fallback));
                    }
                    var today = EsqlNodes.Call("DATE_TRUNC", EsqlLiteral.Span(TimeSpan.FromDays(1)), EsqlNodes.Call("NOW"));
                    EsqlExpr statistic = h.Statistic switch
                    {
                        Statistic.Mean => EsqlNodes.Call("AVG", Col("keyabuse.metric")),
                        Statistic.Median => EsqlNodes.Call("PERCENTILE", Col("keyabuse.metric"), EsqlLiteral.Long(50)),
                        Statistic.P90 => EsqlNodes.Call("PERCENTILE", Col("keyabuse.metric"), EsqlLiteral.Long(90)),
                        Statistic.P95 => EsqlNodes.Call("PERCENTILE", Col("keyabuse.metric"), EsqlLiteral.Long(95)),
                        Statistic.P99 => EsqlNodes.Call("PERCENTILE", Col("keyabuse.metric"), EsqlLiteral.Long(99)),
                        // The mean without the highest sample; one sample divides by zero, which ES|QL makes null.
                        Statistic.TrimmedMean => EsqlNodes.Op("/", EsqlNodes.Op("-", EsqlNodes.Call("SUM", Col("keyabuse.metric")), EsqlNodes.Call("MAX", Col("keyabuse.metric"))),
                            EsqlNodes.Call("TO_DOUBLE", EsqlNodes.Op("-", EsqlNodes.Call("COUNT", new EsqlStar()), EsqlLiteral.Long(1)))),
                        _ => EsqlNodes.Call("MAX", Col("keyabuse.metric")),
                    };
                    var slots = schemes.Select(scheme => new EsqlQuery([
                        new EsqlFrom([hourlyIndex], []),
                        new EsqlWhere(EsqlNodes.Op("AND",
                            EsqlNodes.Op(">", Col("keyabuse.hour"), EsqlNodes.Op("-", today, EsqlLiteral.Span(h.Length))),
                            EsqlNodes.Op("<", Col("keyabuse.hour"), today))),
                        new EsqlEval([EsqlNodes.As("keyabuse.hour_of_week", HourOfWeek(Col("keyabuse.hour")))]),
                        new EsqlEval([EsqlNodes.As(LookupKey, EsqlNodes.Call("CONCAT", EsqlLiteral.Str(name + "|"), Col("keyabuse.entity"), EsqlLiteral.Str("|"), SlotKey(scheme, Col("keyabuse.hour_of_week"))))]),
                        new EsqlStats([EsqlNodes.As("keyabuse.history.value", statistic), EsqlNodes.As("keyabuse.history.samples", EsqlNodes.Call("COUNT", new EsqlStar()))], [EsqlNodes.Bare(Col(LookupKey))]),
                        new EsqlLimit(HarnessLimit)])).ToImmutableArray();
                    return new EsqlHistoryQueries(new EsqlQuery([.. hourly]), hourlyIndex, slots, null);
                }
            case BoundNewValueDetection n:
                return new EsqlHistoryQueries(null, null, [], KeyedValues(rule, n.Where, n.By, n.Field));
            case BoundProfileDetection { Syntax.Learned: not null } p:
                return new EsqlHistoryQueries(null, null, [], KeyedValues(rule, p.Where, p.By, p.Field));
            default:
                return new EsqlHistoryQueries(null, null, [], null);
        }
    }

    private static EsqlQuery KeyedValues(AnalyzedRule rule, Bound? where, ImmutableArray<SourceField> by, SourceField field)
    {
        var commands = From(rule);
        commands.AddRange(Filter(where));
        commands.Add(new EsqlWhere(E(new BoundCall("isnotempty", [new BoundField(field.Binding, default)], ExprType.Bool, default))));
        commands.Add(new EsqlEval([EsqlNodes.As(EntityKeyField, EsqlNodes.Call("CONCAT", EsqlLiteral.Str(rule.Rule.Name + "|"), EntityKey(by)))]));
        commands.Add(new EsqlEval([EsqlNodes.As(LookupKey, EsqlNodes.Call("CONCAT", Col(EntityKeyField), EsqlLiteral.Str("|"), EsqlNodes.Call("TO_STRING", Col(field.Esql))))]));
        commands.Add(new EsqlKeep([Timestamp, EntityKeyField, LookupKey]));
        commands.Add(new EsqlLimit(HarnessLimit));
        return new EsqlQuery([.. commands]);
    }

    private static EsqlRulePlan Inventory(AnalyzedRule rule, BoundInventoryDetection i)
    {
        // The inventory snapshot's @timestamp is the run time of days_since(): ES|QL rules never call NOW().
        var emitter = new EsqlExpressionEmitter(Col(Timestamp));
        var commands = From(rule, metadata: true);
        commands.Add(new EsqlWhere(emitter.Emit(i.Where!)));
        commands.Add(Texts(rule));
        commands.Add(Keep(rule, withId: true));
        return Plan(rule, commands, aggregates: false);
    }
}
