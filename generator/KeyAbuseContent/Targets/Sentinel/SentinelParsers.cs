using System.Collections.Immutable;
using KeyAbuseContent.Expressions;
using KeyAbuseContent.Rules;
using KeyAbuseContent.Targets.Kql;

namespace KeyAbuseContent.Targets.Sentinel;

/// <summary>A parser function: a saved search with a function alias, deployed before the rules that call it.</summary>
public sealed record SentinelFunction(string Name, string Parameters, string Body, string Description);

/// <summary>A custom Log Analytics table the pack creates, with its columns.</summary>
public sealed record SentinelTable(string Name, ImmutableArray<(string Name, string Type)> Columns, string Description);

/// <summary>
/// The normalization layer on Sentinel: the tables the pack writes, the parser functions the rules call,
/// and the inventory watchlist's columns. Field names come from <see cref="Sources"/>, the one mapping.
/// </summary>
public static class SentinelParsers
{
    /// <summary>The watchlist alias of the key inventory.</summary>
    public const string InventoryWatchlist = "KeyAbuseInventory";

    /// <summary>
    /// The watchlist alias of the address ranges that enrich activity (a dataset's <c>geo.csv</c>: network in CIDR
    /// notation, ISO 3166-1 alpha-2 country, AS number); ranges must not overlap.
    /// </summary>
    public const string GeoWatchlist = "KeyAbuseGeo";

    /// <summary>The columns of the address-range watchlist's CSV, in order (its search key is <c>network</c>).</summary>
    public static ImmutableArray<string> GeoWatchlistColumns => ["network", "country", "asn"];

    /// <summary>The table normalized activity events land in (Logs Ingestion API).</summary>
    public const string ActivityTable = "LlmActivity_CL";

    /// <summary>The table provider audit events land in.</summary>
    public const string AuditTable = "LlmAudit_CL";

    /// <summary>The table application and CI log lines land in.</summary>
    public const string LogsTable = "LlmLogs_CL";

    /// <summary>The columns of a table that holds a source's normalized fields as they are (tokens is derived).</summary>
    private static ImmutableArray<(string Name, string Type)> NormalizedColumns(SourceSchema source) =>
        [("TimeGenerated", "datetime"), .. source.Fields.Where(f => f.Name is not ("time" or "tokens")).Select(f => (f.Kql, KqlType(f.Type)))];

    /// <summary>A KQL column type for a language type; addresses are strings in Log Analytics.</summary>
    public static string KqlType(ExprType type) => type switch
    {
        ExprType.Long => "long",
        ExprType.Real => "real",
        ExprType.Bool => "bool",
        ExprType.DateTime => "datetime",
        ExprType.TimeSpan => "timespan",
        ExprType.StringList => "dynamic",
        _ => "string",
    };

    /// <summary>The columns of the inventory watchlist's CSV, in order: the normalized inventory field names.</summary>
    public static ImmutableArray<string> WatchlistColumns => [.. Sources.Inventory.Fields.Select(f => f.Name)];

    /// <summary>
    /// The inventory columns only the response playbooks read (the rules never do): the provider's ids of the key, and
    /// the team's automatic containment (<c>response.auto</c> as ';'-separated rule names, <c>response.action</c>, the
    /// clamp's limits).
    /// </summary>
    public static ImmutableArray<string> ResponseWatchlistColumns => ["project", "provider_key_id", "response_auto", "response_action", "clamp_rpm", "clamp_tpm", "clamp_budget_usd"];

    /// <summary>The inventory watchlist's CSV header: the rules' columns, then the response's.</summary>
    public static ImmutableArray<string> InventoryCsvColumns => [.. WatchlistColumns, .. ResponseWatchlistColumns];

    public static ImmutableArray<SentinelTable> Tables =>
    [
        new(ActivityTable, NormalizedColumns(Sources.Activity), "Normalized LLM API requests, one row a request (KeyAbuseContent)."),
        new(AuditTable, NormalizedColumns(Sources.Audit), "Normalized LLM provider audit events (KeyAbuseContent)."),
        new(LogsTable, NormalizedColumns(Sources.Logs), "Application and CI log lines searched for key material (KeyAbuseContent)."),
        .. RawSources.Tables.Where(r => r.CustomTable).Select(RawTable),
        new(HistoryTables.SentinelHourly,
            [("TimeGenerated", "datetime"), ("Rule", "string"), ("Entity", "string"), ("Value", "string"), ("Metric", "real")],
            "Hourly per-rule aggregates written by KeyAbuseContent's summary rules."),
        new(HistoryTables.SentinelBaseline,
            [("TimeGenerated", "datetime"), ("Rule", "string"), ("Entity", "string"), ("Slot", "string"), ("Value", "string"), ("Baseline", "real"), ("Samples", "long")],
            "Per-rule baselines and known values, refreshed daily by KeyAbuseContent's refresh workflows."),
    ];

    private static KqlAssign TotalTokens() => KqlNodes.As("TotalTokens", KqlNodes.Op("+",
        KqlNodes.Call("coalesce", KqlNodes.Col("InputTokens"), KqlLiteral.Long(0)),
        KqlNodes.Call("coalesce", KqlNodes.Col("OutputTokens"), KqlLiteral.Long(0))));

    /// <summary>
    /// The activity parser: the normalized view every activity rule reads — the pack's own table, unioned with the
    /// parser of each vendor format that feeds activity.
    /// </summary>
    public static SentinelFunction Activity()
    {
        var fields = Sources.Activity.Fields;
        var own = KqlNodes.From(ActivityTable).Then(
            new KqlExtend([TotalTokens()]),
            new KqlProject([.. fields.Select(f => KqlNodes.Bare(KqlNodes.Col(f.Kql)))]));
        var view = WithRawSources(RuleSource.Activity, own);
        return new SentinelFunction(Sources.Activity.KqlFunction, "", KqlRenderer.Render(WithGeo(view, Sources.Activity)), "Normalized LLM API activity for KeyAbuseContent rules, country and AS filled from the KeyAbuseGeo watchlist where the source lacks them.");
    }

    /// <summary>
    /// A view's rows (activity, control plane or audit: the three name the columns alike) with <c>SrcGeoCountry</c> and
    /// <c>SrcAsn</c> filled where empty from the address ranges of the <see cref="GeoWatchlist"/> (vendor logs carry an
    /// address only): <c>evaluate ipv4_lookup</c> over the ranges, then
    /// <c>evaluate ipv6_lookup</c> over the IPv6 ones (their own column names, so the two lookups' columns do not
    /// collide), both keeping unmatched rows, then the looked-up columns dropped. <c>ipv4_lookup</c> passes an IPv6
    /// address by and the IPv6 ranges hold no IPv4 address, so each address matches in one lookup at most. Azure
    /// OpenAI's masked address (the .0 of its /24) matches the range that holds it.
    /// </summary>
    private static KqlQuery WithGeo(KqlQuery view, SourceSchema source)
    {
        var country = source.Field("country")!.Kql;
        var asn = source.Field("asn")!.Kql;
        var address = source.Field("client_ip")!.Kql;
        var geo = new KqlLet(GeoLet, KqlNodes.FromFunction("_GetWatchlist", KqlLiteral.Str(GeoWatchlist)).Then(new KqlProject([
            KqlNodes.As(GeoNetwork, KqlNodes.Call("tostring", KqlNodes.Col("network"))),
            KqlNodes.As(GeoCountry, KqlNodes.Call("tostring", KqlNodes.Col("country"))),
            KqlNodes.As(GeoAsn, KqlNodes.Call("tolong", KqlNodes.Col("asn")))])), null);
        var geo6 = new KqlLet(Geo6Let, new KqlTabular(new KqlTableSource(GeoLet), []).Then(
            new KqlWhere(KqlNodes.Op("contains", KqlNodes.Col(GeoNetwork), KqlLiteral.Str(":"))),
            new KqlProject([
                KqlNodes.As(Geo6Network, KqlNodes.Col(GeoNetwork)),
                KqlNodes.As(Geo6Country, KqlNodes.Col(GeoCountry)),
                KqlNodes.As(Geo6Asn, KqlNodes.Col(GeoAsn))])), null);
        var body = view.Body.Then(
            new KqlIpv4Lookup(GeoLet, address, GeoNetwork, ReturnUnmatched: true),
            new KqlIpv6Lookup(Geo6Let, address, Geo6Network, ReturnUnmatched: true),
            new KqlExtend([
                KqlNodes.As(country, KqlNodes.Call("iff", KqlNodes.Call("isempty", KqlNodes.Col(country)),
                    KqlNodes.Call("iff", KqlNodes.Call("isempty", KqlNodes.Col(GeoCountry)), KqlNodes.Col(Geo6Country), KqlNodes.Col(GeoCountry)), KqlNodes.Col(country))),
                KqlNodes.As(asn, KqlNodes.Call("iff", KqlNodes.Call("isnull", KqlNodes.Col(asn)),
                    KqlNodes.Call("iff", KqlNodes.Call("isnull", KqlNodes.Col(GeoAsn)), KqlNodes.Col(Geo6Asn), KqlNodes.Col(GeoAsn)), KqlNodes.Col(asn)))]),
            new KqlProjectAway([GeoNetwork, GeoCountry, GeoAsn, Geo6Network, Geo6Country, Geo6Asn]));
        return new KqlQuery([geo, geo6, .. view.Lets], body);
    }

    private const string GeoLet = "KeyAbuseGeoRanges";
    private const string GeoNetwork = "GeoNetwork";
    private const string GeoCountry = "GeoCountry";
    private const string GeoAsn = "GeoAsn";
    private const string Geo6Let = "KeyAbuseGeoRanges6";
    private const string Geo6Network = "Geo6Network";
    private const string Geo6Country = "Geo6Country";
    private const string Geo6Asn = "Geo6Asn";

    /// <summary>A view's own rows unioned with the parsers of the raw sources that feed it (each bound by a let).</summary>
    private static KqlQuery WithRawSources(RuleSource feeds, KqlTabular own)
    {
        var lets = RawLets(feeds);
        return lets.Count == 0 ? new KqlQuery([], own) : new KqlQuery([.. lets], own.Then(new KqlUnion([.. lets.Select(l => l.Name)])));
    }

    /// <summary>
    /// A let for each raw source feeding a view: its parser function, or, for a source whose parser is the view
    /// itself (the control plane's native tables), its parser body.
    /// </summary>
    private static List<KqlLet> RawLets(RuleSource feeds) =>
        [.. RawSources.All.Where(r => r.Feeds == feeds).Select(r => new KqlLet(LetName(r),
            r.SentinelParser == Sources.For(feeds).KqlFunction ? RawParser(r) : KqlNodes.FromFunction(r.SentinelParser), null))];

    private static string LetName(RawSource r) => string.Concat(r.Name.Split('_').Select(p => char.ToUpperInvariant(p[0]) + p[1..]));

    /// <summary>The custom table a raw source lands in: TimeGenerated and the record's top-level fields as columns.</summary>
    private static SentinelTable RawTable(RawSource r) =>
        new(r.SentinelTable, [("TimeGenerated", "datetime"), .. r.Columns.Select(c => (c.Column, c.KqlType))], $"{r.Description} (KeyAbuseContent, raw source {r.Name}).");

    /// <summary>
    /// A raw source's parser body: its Sentinel table projected onto the normalized source's columns, in the
    /// source's order, each from the mapping of <see cref="RawSources"/> (<see cref="SentinelRawMapping"/>).
    /// </summary>
    public static KqlTabular RawParser(RawSource raw)
    {
        var target = raw.Target;
        var computed = target.Fields.Where(f => f.Name is not ("time" or "tokens"))
            .Select(f => SentinelRawMapping.Value(raw, f) is KqlName n && n.Name == f.Kql ? KqlNodes.Bare(n) : KqlNodes.As(f.Kql, SentinelRawMapping.Value(raw, f)));
        var body = KqlNodes.From(raw.SentinelTable);
        if (raw.SentinelFilters.Any())
        {
            // A native table holding other rows too (AzureDiagnostics of every resource type and category).
            body = body.Then(new KqlWhere(KqlNodes.And(raw.SentinelFilters.Select(m => KqlNodes.Op("==", KqlNodes.Col(m.Path), KqlLiteral.Str(m.Value))))));
        }
        if (raw.Join is { } join)
        {
            body = body.Then(Join(join));
        }
        body = body.Then(new KqlProject([KqlNodes.Bare(KqlNodes.Col("TimeGenerated")), .. computed]));
        if (target.Field("tokens") is not null)
        {
            body = body.Then(new KqlExtend([TotalTokens()]), new KqlProject([.. target.Fields.Select(f => KqlNodes.Bare(KqlNodes.Col(f.Kql)))]));
        }
        return body;
    }

    /// <summary>
    /// <c>lookup kind=leftouter (Table | where Filter == value | project On, PrefixColumn = Column, ...) on On</c>: the
    /// joined table's matching rows (for API Management's LLM log, only SequenceNumber 0, the row with the tokens).
    /// </summary>
    private static KqlLookup Join(RawJoin join)
    {
        var filter = join.Table.Columns.First(c => c.Path == join.FilterPath);
        KqlExpr value = filter.KqlType is "int" or "long"
            ? KqlLiteral.Long(long.Parse(join.FilterValue, System.Globalization.CultureInfo.InvariantCulture))
            : KqlLiteral.Str(join.FilterValue);
        var right = KqlNodes.From(join.Table.SentinelTable).Then(
            new KqlWhere(KqlNodes.Op("==", KqlNodes.Col(filter.Column), value)),
            new KqlProject([KqlNodes.Bare(KqlNodes.Col(join.On)), .. join.Table.Columns.Where(c => c.Column != join.On)
                .Select(c => KqlNodes.As(join.Prefix + c.Column, KqlNodes.Col(c.Column)))]));
        return new KqlLookup("leftouter", right, [new KqlJoinKey(join.On, join.On)]);
    }

    /// <summary>The parser functions of the raw sources that have their own (the others are part of a view's body).</summary>
    private static IEnumerable<SentinelFunction> RawFunctions() =>
        RawSources.All.Where(r => r.SentinelParser != Sources.For(r.Feeds).KqlFunction)
            .Select(r => new SentinelFunction(r.SentinelParser, "", KqlRenderer.Render(RawParser(r)), $"{r.Description}, normalized as KeyAbuseContent {Sources.Name(r.Feeds)} events."));

    /// <summary>The inventory parser: the watchlist with typed columns (dates as datetime, lists as arrays).</summary>
    public static SentinelFunction Inventory()
    {
        var columns = Sources.Inventory.Fields.Select(f =>
        {
            KqlExpr raw = f.Name == "key_id" ? KqlNodes.Col("SearchKey") : KqlNodes.Col(f.Name);
            KqlExpr value = f.Type switch
            {
                ExprType.DateTime => KqlNodes.Call("todatetime", raw),
                ExprType.Real => KqlNodes.Call("todouble", raw),
                ExprType.StringList => KqlNodes.Call("iff", KqlNodes.Call("isempty", KqlNodes.Call("tostring", raw)), KqlNodes.Call("parse_json", KqlLiteral.Str("[]")), KqlNodes.Call("split", KqlNodes.Call("tostring", raw), KqlLiteral.Str(";"))),
                _ => KqlNodes.Call("tostring", raw),
            };
            return KqlNodes.As(f.Kql, value);
        });
        var body = KqlNodes.FromFunction("_GetWatchlist", KqlLiteral.Str(InventoryWatchlist)).Then(new KqlProject([.. columns]));
        return new SentinelFunction(Sources.Inventory.KqlFunction, "", KqlRenderer.Render(body), "The KeyAbuseContent key inventory watchlist, typed.");
    }

    /// <summary>A parser that projects a normalized table's columns, in the source's order, with the raw sources that feed it.</summary>
    private static SentinelFunction Normalized(SourceSchema source, string table, string description)
    {
        var body = KqlNodes.From(table).Then(new KqlProject([.. source.Fields.Select(f => KqlNodes.Bare(KqlNodes.Col(f.Kql)))]));
        var view = WithRawSources(source.Source, body);
        return new SentinelFunction(source.KqlFunction, "", KqlRenderer.Render(source.Enriched ? WithGeo(view, source) : view), description);
    }

    /// <summary>The control-plane parser: AWS CloudTrail and Azure Activity in one shape, each a raw source read in the view's body.</summary>
    public static SentinelFunction ControlPlane()
    {
        var lets = RawLets(RuleSource.ControlPlane);
        var query = new KqlQuery([.. lets], new KqlTabular(new KqlTableSource(lets[0].Name), [new KqlUnion([.. lets.Skip(1).Select(l => l.Name)])]));
        return new SentinelFunction(Sources.ControlPlane.KqlFunction, "", KqlRenderer.Render(WithGeo(query, Sources.ControlPlane)),
            "AWS CloudTrail and Azure Activity as KeyAbuseContent control-plane events, country and AS filled from the KeyAbuseGeo watchlist.");
    }

    public static ImmutableArray<SentinelFunction> Functions =>
    [
        .. RawFunctions(),
        Activity(),
        Inventory(),
        ControlPlane(),
        Normalized(Sources.Audit, AuditTable, "LLM provider audit events for KeyAbuseContent rules, country and AS filled from the KeyAbuseGeo watchlist where the source lacks them."),
        Normalized(Sources.Logs, LogsTable, "Application and CI log lines for KeyAbuseContent rules."),
    ];
}
